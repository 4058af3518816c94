"""Visible checks of assignment 1 (classification metrics from scratch).

Public cases only, with their expected values written out. A wrong value gets the hint of the
known-wrong variant it equals (:class:`Mistake`: fp and fn swapped, precision and recall
swapped, F1 as an arithmetic mean, ``score > threshold``, ...), computed by the functions below
from the right value; the hidden checks diagnose with the same functions on their inputs.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from autograder.assignments.rules import (
    CheckFailed,
    as_array,
    as_ints,
    as_number,
    close,
    differs,
    hint_for,
)
from autograder.assignments.runner import call, check, lessons

A1 = "a1_metrics"
lessons({"01_evaluating_classifiers": "lesson 1, Evaluating classifiers"})
_A1_HINTS = {
    "zero": "a denominator is 0 for these labels: return 0.0 then (scikit-learn's zero_division=0)",
    "signature": "each function takes (y_true, y_pred) lists or arrays of 0s and 1s",
}


class Mistake(Enum):
    """A classic mistake of assignment 1; its value is the hint that names it."""

    FP_FN_SWAPPED = "fp and fn are swapped: fp counts predicted 1 where the truth is 0"
    REVERSED = "the order is reversed: return (tn, fp, fn, tp)"
    ZERO_DENOMINATOR = "a denominator is 0 here: return 0.0 (scikit-learn's zero_division=0)"
    PRECISION_RECALL_SWAPPED = (
        "precision and recall are swapped: precision divides by the predicted positives, "
        "TP + FP; recall by the actual positives, TP + FN"
    )
    SPECIFICITY_OF_PREDICTIONS = (
        "that is TN / (TN + FN), over the predicted negatives: specificity is TN / (TN + FP), "
        "over the actual negatives"
    )
    F1_ARITHMETIC = (
        "that is the arithmetic mean of precision and recall: F1 is their harmonic mean, "
        "2 TP / (2 TP + FP + FN)"
    )
    MCC_NO_ROOT = "the square root is missing: MCC divides by sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))"
    STRICT = "positive when score >= threshold: a score equal to the threshold counts, not only >"
    FPR_TPR_SWAPPED = "fpr and tpr are swapped: return (fpr, tpr, thresholds)"
    NO_INF = "the first threshold must be np.inf, the point (0, 0) where nothing is positive"
    INCREASING = "the thresholds must be in decreasing order, from np.inf down"
    NOT_DISTINCT = "one threshold per distinct score: tied scores share one (np.unique)"
    AXES_SWAPPED = "x and y are swapped: x runs along the horizontal axis"
    NO_HALF = "each trapezoid is (x[i+1] - x[i]) * (y[i] + y[i+1]) / 2: the / 2 is missing"
    RECTANGLES = (
        "these are rectangles, (x[i+1] - x[i]) * y[i]: a trapezoid averages the two heights, "
        "(y[i] + y[i+1]) / 2"
    )
    RIGHT_RECTANGLES = (
        "these are rectangles, (x[i+1] - x[i]) * y[i+1]: a trapezoid averages the two "
        "heights, (y[i] + y[i+1]) / 2"
    )

    @property
    def hint(self) -> str:
        return self.value


# -- the known-wrong variants (the hidden checks use the same) -------------------------------


def counts_variants(want: tuple) -> dict:
    """{mistake: the (tn, fp, fn, tp) it gives}, from the right counts ``want``."""
    tn, fp, fn, tp = want
    return {Mistake.FP_FN_SWAPPED: (tn, fn, fp, tp), Mistake.REVERSED: (tp, fn, fp, tn)}


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


#: score -> its denominator, from the counts (tn, fp, fn, tp)
DENOMINATORS = {
    "precision": lambda tn, fp, fn, tp: tp + fp,
    "recall": lambda tn, fp, fn, tp: tp + fn,
    "specificity": lambda tn, fp, fn, tp: tn + fp,
    "f1": lambda tn, fp, fn, tp: 2 * tp + fp + fn,
    "mcc": lambda tn, fp, fn, tp: float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn),
}


def score_variants(name: str, counts: tuple) -> dict:
    """{mistake: the score it gives}, from the labels' counts ``(tn, fp, fn, tp)``."""
    tn, fp, fn, tp = counts
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    if name == "precision":
        return {Mistake.PRECISION_RECALL_SWAPPED: recall}
    if name == "recall":
        return {Mistake.PRECISION_RECALL_SWAPPED: precision}
    if name == "specificity":
        return {Mistake.SPECIFICITY_OF_PREDICTIONS: _ratio(tn, tn + fn)}
    if name == "f1":
        return {Mistake.F1_ARITHMETIC: (precision + recall) / 2}
    if name == "mcc":
        return {Mistake.MCC_NO_ROOT: _ratio(tp * tn - fp * fn, DENOMINATORS["mcc"](*counts))}
    return {}


def read_score(
    got, want: float, counts: tuple, *, name: str, where: str = "", atol=1e-12, show=False
) -> float:
    """``got`` (a score) read strictly and compared with ``want``; a wrong one gets the hint of
    a zero denominator (NaN included: 0.0 is due) or of the variant it equals."""
    zero = DENOMINATORS[name.partition("(")[0]](*counts) == 0
    if zero and type(got) in (float, np.float64) and np.isnan(got):
        raise CheckFailed(
            f"{name} returned NaN{where and ' on ' + where} ({Mistake.ZERO_DENOMINATOR.hint})"
        )
    value = as_number(got, name=name, where=where, show=show)
    if abs(value - want) <= atol:
        return value
    if zero:
        hint = f" ({Mistake.ZERO_DENOMINATOR.hint})"
    else:
        variants = score_variants(name.partition("(")[0], counts)
        hint = hint_for(value, want, variants, rtol=0.0, atol=atol)
    if show:
        raise CheckFailed(f"{name} gives {value:.6g}, not {want:.6g}{hint}")
    hint = hint or f" ({differs(value, want, values=False, rtol=0.0, atol=atol)})"
    raise CheckFailed(f"{name} is wrong{where and ' on ' + where}{hint}")


def counts_of(y_true, y_pred) -> tuple:
    """(tn, fp, fn, tp) of two label lists (public or the grader's own)."""
    t, p = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    return tuple(int(np.sum(a & b)) for a, b in ((~t, ~p), (~t, p), (t, ~p), (t, p)))


def roc_variants(y_true, scores, thresholds) -> dict:
    """{mistake: (fpr, tpr)} of the ROC mistakes, at the right ``thresholds``."""
    t, s = np.asarray(y_true).astype(bool), np.asarray(scores, dtype=float)
    thr = np.asarray(thresholds, dtype=float)
    pos, neg = max(int(t.sum()), 1), max(int((~t).sum()), 1)
    above = s[None, :] > thr[:, None]  # (thresholds, n): strictly above
    strict = ((above & ~t).sum(1) / neg, (above & t).sum(1) / pos)
    at = s[None, :] >= thr[:, None]
    right = ((at & ~t).sum(1) / neg, (at & t).sum(1) / pos)
    return {Mistake.STRICT: strict, Mistake.FPR_TPR_SWAPPED: right[::-1]}


def thresholds_mistake(got, want) -> Mistake | None:
    """The mistake wrong thresholds show (a missing inf, increasing order, ties kept), if any.

    Only a plain 1-D array (or list) of numbers is looked at; what it is otherwise is for the
    strict reading to say."""
    if type(got) not in (np.ndarray, list, tuple):
        return None
    try:
        g = np.array(got, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    w = np.asarray(want, dtype=np.float64)
    if g.ndim != 1:
        return None
    for mistake, wrong in (
        (Mistake.NO_INF, w[1:]),
        (Mistake.INCREASING, w[::-1]),
        (Mistake.INCREASING, np.r_[w[1:][::-1], np.inf]),
    ):
        if g.shape == wrong.shape and np.array_equal(g, wrong):
            return mistake
    if len(g) > len(w) and np.array_equal(np.unique(g[np.isfinite(g)]), np.sort(w[1:])):
        return Mistake.NOT_DISTINCT
    if len(g) == len(w) - 1 and np.array_equal(np.sort(g), np.sort(w[1:])):
        return Mistake.NO_INF
    return None


def auc_variants(x, y) -> dict:
    """{mistake: the area it gives} on the curve through ``(x[i], y[i])``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx = np.diff(x)
    right = float(np.sum(dx * (y[1:] + y[:-1]) / 2))
    return {
        Mistake.AXES_SWAPPED: float(np.sum(np.diff(y) * (x[1:] + x[:-1]) / 2)),
        Mistake.NO_HALF: 2 * right,
        Mistake.RECTANGLES: float(np.sum(dx * y[:-1])),
        Mistake.RIGHT_RECTANGLES: float(np.sum(dx * y[1:])),
    }


# -- the checks -------------------------------------------------------------------------------


@check(A1, "test-counts", "01_evaluating_classifiers#the-confusion-matrix", "The confusion matrix")
def check_counts(confusion_counts):
    """The lecture's example, one with a single class, and one with no predicted positives."""
    cases = [
        (([0, 1, 0, 1], [1, 1, 1, 0]), (0, 2, 1, 1)),
        (([0, 0, 0], [0, 1, 0]), (2, 1, 0, 0)),
        (([1, 0, 1, 1], [0, 0, 0, 0]), (1, 0, 3, 0)),
    ]
    for (y_true, y_pred), want in cases:
        got = call("confusion_counts", confusion_counts, y_true, y_pred, hints=_A1_HINTS)
        shown = f"confusion_counts({y_true}, {y_pred})"
        got = as_ints(got, 4, name=shown, what="(tn, fp, fn, tp) as four ints", show=True)
        if got != want:
            hint = hint_for(got, want, counts_variants(want), rtol=0.0, atol=0.0)
            raise CheckFailed(f"{shown} gives {got}; (tn, fp, fn, tp) = {want} is expected{hint}")


def _scores(name, fn, cases):
    """``cases``: ((y_true, y_pred), expected)."""
    for (y_true, y_pred), want in cases:
        value = call(name, fn, y_true, y_pred, hints=_A1_HINTS)
        shown = f"{name}({y_true}, {y_pred})"
        read_score(value, want, counts_of(y_true, y_pred), name=shown, show=True)


@check(
    A1, "test-rates", "01_evaluating_classifiers#scores-from-the-counts", "Scores from the counts"
)
def check_rates(precision, recall, specificity):
    """Two public label sets, and the three cases where a denominator is 0."""
    a, b = ([0, 1, 1, 0, 1], [0, 1, 0, 1, 1]), ([1, 1, 1, 0, 0], [1, 0, 0, 1, 0])
    no_pred, no_pos, no_neg = ([0, 0, 1], [0, 0, 0]), ([0, 0], [1, 0]), ([1, 1], [1, 0])
    _scores("precision", precision, [(a, 2 / 3), (b, 1 / 2), (no_pred, 0.0)])
    _scores("recall", recall, [(a, 2 / 3), (b, 1 / 3), (no_pos, 0.0)])
    _scores("specificity", specificity, [(a, 1 / 2), (b, 1 / 2), (no_neg, 0.0)])


@check(
    A1, "test-f1-mcc", "01_evaluating_classifiers#scores-from-the-counts", "Scores from the counts"
)
def check_f1_mcc(f1, mcc):
    """F1 and MCC on public labels, and with a zero denominator (no division by zero)."""
    a, b = ([0, 1, 1, 0, 1], [0, 1, 0, 1, 1]), ([1, 1, 1, 0, 0], [1, 0, 0, 1, 0])
    _scores("f1", f1, [(a, 2 / 3), (b, 2 / 5), (([0, 0], [0, 0]), 0.0)])
    one_class = ([0, 0, 0, 0], [0, 1, 0, 1])  # TP + FN = 0: the denominator is 0
    _scores("mcc", mcc, [(([0, 1, 1, 0], [0, 1, 1, 0]), 1.0), (b, -1 / 6), (one_class, 0.0)])


@check(
    A1,
    "test-roc",
    "01_evaluating_classifiers#the-roc-curve-step-by-step",
    "The ROC curve, step by step",
)
def check_roc(roc_points):
    """The lecture's four scores, and scores with ties."""
    cases = [
        (
            ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
            ([0, 0, 0.5, 0.5, 1], [0, 0.5, 0.5, 1, 1], [np.inf, 0.8, 0.4, 0.35, 0.1]),
        ),
        (
            ([0, 1, 1, 0, 1], [0.3, 0.7, 0.3, 0.7, 0.9]),
            ([0, 0, 0.5, 1], [0, 1 / 3, 2 / 3, 1], [np.inf, 0.9, 0.7, 0.3]),
        ),
    ]
    for (y_true, scores), (fpr, tpr, thr) in cases:
        shown = f"roc_points({y_true}, {scores})"
        got = call("roc_points", roc_points, y_true, scores)
        if type(got) not in (tuple, list) or len(got) != 3:
            raise CheckFailed(f"{shown} must return (fpr, tpr, thresholds), got {got!r}")
        mistake = thresholds_mistake(got[2], thr)
        if mistake is not None:
            raise CheckFailed(f"{shown}: the thresholds are wrong ({mistake.hint})")
        if np.shape(got[2]) != (len(thr),):
            raise CheckFailed(
                f"{shown} gives thresholds of shape {np.shape(got[2])}; one per distinct score "
                f"plus np.inf first is ({len(thr)},)"
            )
        g_thr = as_array(
            got[2], name=f"{shown}: thresholds", shape=(len(thr),), finite=False, show=True
        )
        if not np.all(np.diff(g_thr) < 0):
            raise CheckFailed(f"{shown}: the thresholds are wrong ({Mistake.INCREASING.hint})")
        if g_thr[0] != np.inf:
            raise CheckFailed(f"{shown}: the thresholds are wrong ({Mistake.NO_INF.hint})")
        if not close(g_thr[1:], thr[1:]):
            raise CheckFailed(f"{shown}: the thresholds must be the distinct scores, {thr[1:]}")
        g_fpr = as_array(got[0], name=f"{shown}: fpr", shape=(len(thr),), show=True)
        g_tpr = as_array(got[1], name=f"{shown}: tpr", shape=(len(thr),), show=True)
        if not (close(g_fpr, fpr) and close(g_tpr, tpr)):
            variants = {m: np.r_[f, t] for m, (f, t) in roc_variants(y_true, scores, thr).items()}
            hint = hint_for(np.r_[g_fpr, g_tpr], np.r_[fpr, tpr], variants)
            raise CheckFailed(
                f"{shown}: the (fpr, tpr) points are wrong; fpr = {fpr}, tpr = "
                f"{np.round(tpr, 4).tolist()} are expected"
                + (hint or " (positive when score >= threshold)")
            )


@check(
    A1,
    "test-auc",
    "01_evaluating_classifiers#the-roc-curve-step-by-step",
    "The ROC curve, step by step",
)
def check_auc(auc_trapezoid, roc_points):
    """A small curve, and the lecture's ROC curve."""
    cases = [
        (([0, 0.5, 1], [0, 0.75, 1]), 0.625),
        (([0, 0, 0.5, 0.5, 1], [0, 0.5, 0.5, 1, 1]), 0.75),
    ]
    for (x, y), want in cases:
        got = as_number(
            call("auc_trapezoid", auc_trapezoid, x, y), name=f"auc_trapezoid({x}, {y})", show=True
        )
        if abs(got - want) > 1e-12:
            hint = hint_for(got, want, auc_variants(x, y), rtol=0.0, atol=1e-12)
            raise CheckFailed(
                f"auc_trapezoid({x}, {y}) gives {got:.6g}, not {want:.6g}"
                + (
                    hint
                    or ": each trapezoid is (x[i+1] - x[i]) * (y[i] + y[i+1]) / 2, with x along "
                    "the horizontal axis"
                )
            )
