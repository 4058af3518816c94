"""Hidden checks of assignment 1 (classification metrics).

Every expectation is computed with ``coursekit`` before the student's function is called, from
inputs it never sees (it gets copies); every returned value is read through
:mod:`autograder.assignments.rules`. A wrong value is diagnosed as the visible checks diagnose
it, on the hidden input: the hint of the known-wrong variant it equals
(:mod:`~autograder.assignments.a1_metrics.visible`: ``counts_variants``, ``score_hint``,
``thresholds_mistake``, ``roc_variants``, ``auc_variants``), else fixed words on how far off
it is: never a hidden input, an expected value or a number the student's values chose.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments import rules
from autograder.assignments.a1_metrics import visible
from autograder.assignments.calls import call, student_rng
from autograder.assignments.rules import (
    CheckFailed,
    as_array,
    as_ints,
    as_number,
    expect_array,
    expect_sequence,
)

__all__ = ["expect_auc", "expect_counts", "expect_roc", "expect_scores"]


def _cases(rng, n_cases=6):
    """Label/prediction/score triples, including the edge cases (one class, no positives).

    The last two hold labels and predictions all 0 and all 1: every score with a zero
    denominator there (precision, recall and F1 = 2 TP / (2 TP + FP + FN) = 0 / 0 on all 0;
    specificity and MCC = (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = 0 / 0 on
    both) is due 0.0, so a score that divides by zero loses the check. They draw nothing from
    ``rng``: the random cases before them stay as they were.
    """
    cases = []
    for size in rng.integers(5, 60, size=n_cases):
        y = rng.integers(0, 2, size)
        cases.append((y, rng.integers(0, 2, size), np.round(rng.random(size), 1)))
    cases.append((np.zeros(8, int), rng.integers(0, 2, 8), np.round(rng.random(8), 1)))
    cases.append((rng.integers(0, 2, 8), np.zeros(8, int), np.round(rng.random(8), 1)))
    scores = np.round(np.linspace(0.1, 0.8, 8), 1)
    cases.append((np.zeros(8, int), np.zeros(8, int), scores))
    cases.append((np.ones(8, int), np.ones(8, int), scores))
    return cases


def _off(got, want, atol: float = 1e-12) -> str:
    """How far off a wrong value is, in fixed words."""
    return f" ({rules.differs(got, want, values=False, rtol=0.0, atol=atol)})"


def expect_counts(confusion_counts) -> None:
    from coursekit.metrics import confusion_matrix

    cases = _cases(student_rng(1))
    expected = [tuple(int(v) for v in confusion_matrix(y, p).ravel()) for y, p, _ in cases]
    for i, ((y, p, _), want) in enumerate(zip(cases, expected, strict=True)):
        got = call(confusion_counts, y.tolist(), p.tolist())
        where = f"hidden case {i + 1}{' (one class only)' if len(set(y.tolist())) == 1 else ''}"
        value = as_ints(
            got, 4, name="confusion_counts", where=where, what="(tn, fp, fn, tp) as four ints"
        )
        if value != want:
            variants = visible.counts_variants(want)
            hint = rules.hint_for(value, want, variants, rtol=0.0, atol=0.0)
            raise CheckFailed(
                f"confusion_counts is wrong on {where}{hint or _off(value, want, atol=0.0)}"
            )


def expect_scores(functions: dict) -> None:
    import warnings

    from coursekit import metrics

    reference = {
        "precision": metrics.precision_score,
        "recall": metrics.recall_score,
        "specificity": metrics.specificity_score,
        "f1": metrics.f1_score,
        "mcc": metrics.matthews_corrcoef,
    }
    cases = _cases(student_rng(2))
    expected = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in functions:
            kwargs = {} if name == "mcc" else {"zero_division": 0.0}
            expected[name] = [float(reference[name](y, p, **kwargs)) for y, p, _ in cases]
    for i, (y, p, _) in enumerate(cases):
        counts = tuple(int(v) for v in metrics.confusion_matrix(y, p).ravel())
        for name, fn in functions.items():
            want, where = expected[name][i], f"hidden case {i + 1}"
            visible.read_score(call(fn, y, p), want, counts, name=name, where=where, atol=1e-9)


def expect_roc(roc_points) -> None:
    from coursekit.metrics import roc_curve

    cases = [c for c in _cases(student_rng(3)) if 0 < c[0].sum() < len(c[0])]  # both classes
    expected = [roc_curve(y, s, drop_intermediate=False) for y, _, s in cases]
    for i, ((y, _, s), (fpr, tpr, thr)) in enumerate(zip(cases, expected, strict=True)):
        got = call(roc_points, y, s)
        where = f"hidden case {i + 1}"
        g_fpr, g_tpr, g_thr = expect_sequence(
            got, 3, name="roc_points", what="(fpr, tpr, thresholds)", where=where
        )
        mistake = visible.thresholds_mistake(g_thr, thr)
        if mistake is not None:
            raise CheckFailed(f"roc_points (thresholds) is wrong on {where} ({mistake.hint})")
        expect_array(
            g_thr,
            thr,
            name="roc_points (thresholds)",
            where=where,
            rtol=1e-12,
            atol=0.0,
            finite=False,
            hint=" (one per distinct score, decreasing, starting at inf)",
        )
        both = [
            as_array(g, name=f"roc_points ({label})", shape=fpr.shape, where=where)
            for g, label in ((g_fpr, "fpr"), (g_tpr, "tpr"))
        ]
        if not (rules.close(both[0], fpr, 1e-9, 1e-12) and rules.close(both[1], tpr, 1e-9, 1e-12)):
            variants = {m: np.r_[f, t] for m, (f, t) in visible.roc_variants(y, s, thr).items()}
            got_points, want_points = np.r_[both[0], both[1]], np.r_[fpr, tpr]
            hint = rules.hint_for(got_points, want_points, variants, rtol=1e-9, atol=1e-12)
            label = "fpr" if not rules.close(both[0], fpr, 1e-9, 1e-12) else "tpr"
            want = fpr if label == "fpr" else tpr
            got_one = both[0] if label == "fpr" else both[1]
            raise CheckFailed(
                f"roc_points ({label}) is wrong on {where}"
                + (hint or _off(got_one, want, atol=1e-12))
            )


def expect_auc(auc_trapezoid, roc_points) -> None:
    from coursekit.metrics import auc, roc_curve

    rng = student_rng(4)
    curves = []
    for _ in range(5):
        x = np.sort(rng.random(rng.integers(3, 12)))
        curves.append((x, rng.random(len(x))))
    cases = [c for c in _cases(rng) if 0 < c[0].sum() < len(c[0])]
    rocs = [roc_curve(y, s)[:2] for y, _, s in cases[:4]]
    expected = [float(auc(x, y)) for x, y in curves + rocs]
    for i, ((x, y), want) in enumerate(zip(curves + rocs, expected, strict=True)):
        where = f"hidden curve {i + 1}" if i < 5 else f"the ROC curve of hidden case {i - 4}"
        value = as_number(call(auc_trapezoid, x, y), name="auc_trapezoid", where=where)
        if not abs(value - want) <= 1e-9:
            hint = rules.hint_for(value, want, visible.auc_variants(x, y), rtol=0.0, atol=1e-9)
            raise CheckFailed(f"auc_trapezoid is wrong on {where}{hint or _off(value, want, 1e-9)}")
