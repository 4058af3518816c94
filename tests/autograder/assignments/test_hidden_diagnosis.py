"""Do the hidden checks name a mistake as precisely as the visible checks do?

For each known-wrong variant of assignments 1 and 4 the visible check (the generated
``coursecheck.py``, as students get it) and the hidden check (on the grader's hidden inputs)
must both fail with the hint of the same :class:`Mistake` member; the hidden message must say
nothing more of the hidden input than its case number, and a wrong value that equals no known
variant gets fixed words on how far off it is, never a guessed cause.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.assignments.a1_metrics import hidden as metrics
from autograder.assignments.a1_metrics.visible import Mistake as M1
from autograder.assignments.a4_mlp import hidden as mlp
from autograder.assignments.a4_mlp.visible import Mistake as M4
from tests.autograder.assignment_helpers import coursecheck, reference

A1 = reference("a1_metrics")
C1 = coursecheck("a1_metrics")


def _counts(y, p):
    return A1["confusion_counts"](y, p)


def _swapped(y, p):
    tn, fp, fn, tp = _counts(y, p)
    return tn, fn, fp, tp


def _reversed(y, p):
    return _counts(y, p)[::-1]


def _f1_arithmetic(y, p):
    return (A1["precision"](y, p) + A1["recall"](y, p)) / 2


def _mcc_no_root(y, p):
    tn, fp, fn, tp = _counts(y, p)
    den = float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    return (tp * tn - fp * fn) / den if den else 0.0


def _mcc_nan(y, p):
    tn, fp, fn, tp = _counts(y, p)
    with np.errstate(all="ignore"):
        return float(
            np.float64(tp * tn - fp * fn)
            / np.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        )


def _f1_nan(y, p):
    _tn, fp, fn, tp = _counts(y, p)
    with np.errstate(all="ignore"):
        return float(np.float64(2 * tp) / np.float64(2 * tp + fp + fn))


def _specificity_of_predictions(y, p):
    tn, _, fn, _ = _counts(y, p)
    return tn / (tn + fn) if tn + fn else 0.0


def _roc(change):
    def roc_points(y, s):
        y, s = np.asarray(y).astype(bool), np.asarray(s, dtype=float)
        thr = np.r_[np.inf, np.unique(s)[::-1]]
        return change(y, s, thr)

    return roc_points


def _points(y, s, thr, strict=False):
    above = (s[None, :] > thr[:, None]) if strict else (s[None, :] >= thr[:, None])
    return (above & ~y).sum(1) / (~y).sum(), (above & y).sum(1) / y.sum()


def _roc_strict(y, s, thr):
    return (*_points(y, s, thr, strict=True), thr)


def _roc_swapped(y, s, thr):
    fpr, tpr = _points(y, s, thr)
    return tpr, fpr, thr


def _roc_no_inf(y, s, thr):
    fpr, tpr = _points(y, s, thr)
    return fpr[1:], tpr[1:], thr[1:]


def _roc_increasing(y, s, thr):
    fpr, tpr = _points(y, s, thr)
    return fpr[::-1], tpr[::-1], thr[::-1]


def _roc_every_score(y, s, thr):
    thr = np.r_[np.inf, np.sort(s)[::-1]]  # ties not merged
    return (*_points(y, s, thr), thr)


def _auc(area):
    def auc_trapezoid(x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return float(area(x, y))

    return auc_trapezoid


#: name -> (hidden call, visible call, the Mistake member both must name)
A1_WRONG = {
    "fp and fn swapped": (
        lambda: metrics.expect_counts(_swapped),
        lambda: C1.check_counts(_swapped),
        M1.FP_FN_SWAPPED,
    ),
    "counts in reverse order": (
        lambda: metrics.expect_counts(_reversed),
        lambda: C1.check_counts(_reversed),
        M1.REVERSED,
    ),
    "precision is the recall": (
        lambda: metrics.expect_scores({"precision": A1["recall"]}),
        lambda: C1.check_rates(A1["recall"], A1["recall"], A1["specificity"]),
        M1.PRECISION_RECALL_SWAPPED,
    ),
    "specificity over the predicted negatives": (
        lambda: metrics.expect_scores({"specificity": _specificity_of_predictions}),
        lambda: C1.check_rates(A1["precision"], A1["recall"], _specificity_of_predictions),
        M1.SPECIFICITY_OF_PREDICTIONS,
    ),
    "F1 as an arithmetic mean": (
        lambda: metrics.expect_scores({"f1": _f1_arithmetic}),
        lambda: C1.check_f1_mcc(_f1_arithmetic, A1["mcc"]),
        M1.F1_ARITHMETIC,
    ),
    "MCC without the square root": (
        lambda: metrics.expect_scores({"mcc": _mcc_no_root}),
        lambda: C1.check_f1_mcc(A1["f1"], _mcc_no_root),
        M1.MCC_NO_ROOT,
    ),
    "MCC is NaN where its denominator is 0": (
        lambda: metrics.expect_scores({"mcc": _mcc_nan}),
        lambda: C1.check_f1_mcc(A1["f1"], _mcc_nan),
        M1.ZERO_DENOMINATOR,
    ),
    # the hidden cases hold labels and predictions all 0 (a stranger's F1 got 2/2 hidden)
    "F1 is NaN where its denominator is 0": (
        lambda: metrics.expect_scores({"f1": _f1_nan}),
        lambda: C1.check_f1_mcc(_f1_nan, A1["mcc"]),
        M1.ZERO_DENOMINATOR,
    ),
    "ROC positive only when score > threshold": (
        lambda: metrics.expect_roc(_roc(_roc_strict)),
        lambda: C1.check_roc(_roc(_roc_strict)),
        M1.STRICT,
    ),
    "ROC fpr and tpr swapped": (
        lambda: metrics.expect_roc(_roc(_roc_swapped)),
        lambda: C1.check_roc(_roc(_roc_swapped)),
        M1.FPR_TPR_SWAPPED,
    ),
    "ROC without the point at inf": (
        lambda: metrics.expect_roc(_roc(_roc_no_inf)),
        lambda: C1.check_roc(_roc(_roc_no_inf)),
        M1.NO_INF,
    ),
    "ROC thresholds increasing": (
        lambda: metrics.expect_roc(_roc(_roc_increasing)),
        lambda: C1.check_roc(_roc(_roc_increasing)),
        M1.INCREASING,
    ),
    "ROC one threshold per score, ties kept": (
        lambda: metrics.expect_roc(_roc(_roc_every_score)),
        lambda: C1.check_roc(_roc(_roc_every_score)),
        M1.NOT_DISTINCT,
    ),
    "AUC with x and y swapped": (
        lambda: metrics.expect_auc(
            _auc(lambda x, y: np.sum(np.diff(y) * (x[1:] + x[:-1]) / 2)), A1["roc_points"]
        ),
        lambda: C1.check_auc(
            _auc(lambda x, y: np.sum(np.diff(y) * (x[1:] + x[:-1]) / 2)), A1["roc_points"]
        ),
        M1.AXES_SWAPPED,
    ),
    "AUC without the half": (
        lambda: metrics.expect_auc(
            _auc(lambda x, y: np.sum(np.diff(x) * (y[1:] + y[:-1]))), A1["roc_points"]
        ),
        lambda: C1.check_auc(
            _auc(lambda x, y: np.sum(np.diff(x) * (y[1:] + y[:-1]))), A1["roc_points"]
        ),
        M1.NO_HALF,
    ),
    "AUC with right-hand rectangles": (
        lambda: metrics.expect_auc(_auc(lambda x, y: np.sum(np.diff(x) * y[1:])), A1["roc_points"]),
        lambda: C1.check_auc(_auc(lambda x, y: np.sum(np.diff(x) * y[1:])), A1["roc_points"]),
        M1.RIGHT_RECTANGLES,
    ),
}

#: what a hidden message may hold besides fixed words: the case's number
_HIDDEN_PLACE = re.compile(r"on (hidden case|hidden curve|the ROC curve of hidden case) \d+")


@pytest.mark.parametrize("name", sorted(A1_WRONG))
def test_assignment_1_hidden_and_visible_checks_name_the_same_mistake(name):
    hidden, visible, mistake = A1_WRONG[name]
    with pytest.raises(AssertionError) as seen_hidden:
        hidden()
    with pytest.raises(C1.CheckFailed) as seen_visible:
        visible()
    assert mistake.hint in str(seen_visible.value), str(seen_visible.value)
    message = str(seen_hidden.value)
    assert mistake.hint in message, message
    # the hidden message: its place (a case number) and fixed words, no number of the input
    rest = _HIDDEN_PLACE.sub("", message).replace(mistake.hint, "").replace("f1 ", "")
    assert not re.search(r"\d", rest.replace("1%", "")), message


def test_a_wrong_score_that_is_no_known_mistake_gets_fixed_words_not_a_guess():
    with pytest.raises(AssertionError) as seen:
        metrics.expect_scores({"recall": lambda y, p: A1["recall"](y, p) * 0.9 + 0.05})
    message = str(seen.value)
    assert re.fullmatch(
        r"recall is wrong on hidden case \d+ \(it is off by (under|more than) 1% of the "
        r"expected size\)",
        message,
    ), message


def test_counts_that_are_no_known_mistake_say_how_many_differ():
    def off_by_one(y, p):
        tn, fp, fn, tp = _counts(y, p)
        return tn, fp, fn, tp + 1

    with pytest.raises(AssertionError, match=r"one entry differs, by more than 1%"):
        metrics.expect_counts(off_by_one)


# -- assignment 4: predict_proba against the network's own weights -----------------------------


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _untrained(torch, hidden=None):
    """A build_and_train that returns the spec's network untrained (fast: nothing learns)."""

    def build_and_train(X, y, Xv, yv, epochs):
        torch.manual_seed(0)
        act = hidden or torch.nn.ReLU
        return torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], 16),
            act(),
            torch.nn.Linear(16, 8),
            act(),
            torch.nn.Linear(8, 1),
        )

    return build_and_train


def _proba(torch, out):
    def predict_proba(model, X):
        with torch.no_grad():
            z = model(torch.tensor(np.asarray(X), dtype=torch.float32)).numpy().astype(float)
        return out(z)

    return predict_proba


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


A4_WRONG = {
    "logits, no sigmoid": (None, lambda z: z.ravel(), M4.NO_SIGMOID),
    "the probability of class 0": (None, lambda z: 1 - _sigmoid(z).ravel(), M4.OTHER_CLASS),
    "labels, not probabilities": (
        None,
        lambda z: (_sigmoid(z).ravel() >= 0.5).astype(float),
        M4.LABELS,
    ),
    "a column (n, 1)": (None, lambda z: _sigmoid(z), M4.COLUMN),
    "tanh hidden layers": ("Tanh", lambda z: _sigmoid(z).ravel(), M4.TANH_HIDDEN),
    "sigmoid hidden layers": ("Sigmoid", lambda z: _sigmoid(z).ravel(), M4.SIGMOID_HIDDEN),
}


@pytest.mark.parametrize("name", sorted(A4_WRONG))
def test_assignment_4_hidden_and_visible_checks_name_the_same_mistake(name, torch):
    hidden_layer, out, mistake = A4_WRONG[name]
    build = _untrained(torch, getattr(torch.nn, hidden_layer) if hidden_layer else None)
    predict = _proba(torch, out)
    with pytest.raises(AssertionError) as seen_hidden:
        mlp.hidden_accuracy(build, predict)
    C4 = coursecheck("a4_mlp")
    with pytest.raises(C4.CheckFailed) as seen_visible:
        C4.check_architecture(build, predict)
    assert mistake.hint in str(seen_visible.value), str(seen_visible.value)
    message = str(seen_hidden.value)
    assert mistake.hint in message, message
    assert not re.search(r"\d", message.replace(mistake.hint, "").replace("[0, 1]", "")), message


def test_assignment_4_an_unknown_disagreement_names_no_cause(torch):
    """predict_proba off by a small constant is no known mistake: the generic words only."""
    build = _untrained(torch)
    predict = _proba(torch, lambda z: np.clip(_sigmoid(z).ravel() * 0.9 + 0.05, 0, 1))
    with pytest.raises(AssertionError) as seen:
        mlp.hidden_accuracy(build, predict)
    assert str(seen.value) == (
        "predict_proba does not match the network's own weights (ReLU hidden layers and a "
        "sigmoid output are asked for)"
    )


def test_a_score_that_divides_by_zero_loses_the_hidden_check_the_reference_keeps_it():
    """The hidden cases hold labels and predictions all 0 (F1, precision, recall: 0 / 0) and
    all 1 (specificity, MCC: 0 / 0): an F1 or MCC that divides by zero fails there, the
    course's reference passes every case."""

    def f1_divides(y, p):
        _tn, fp, fn, tp = _counts(y, p)
        return 2 * tp / (2 * tp + fp + fn)

    def mcc_divides(y, p):
        tn, fp, fn, tp = _counts(y, p)
        return (tp * tn - fp * fn) / ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) ** 0.5

    for name, wrong in (("f1", f1_divides), ("mcc", mcc_divides)):
        with pytest.raises(AssertionError, match=rf"^{name}"):
            metrics.expect_scores({name: wrong})
    metrics.expect_scores({n: A1[n] for n in ("precision", "recall", "specificity", "f1", "mcc")})
