"""coursekit.metrics against sklearn.metrics (property-based, with tied scores), against a
brute-force count of ranked pairs, and against the lecture's worked check.

scikit-learn is imported here only: the package itself is numpy only.
"""

import doctest
import inspect
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning as SklearnUndefinedMetricWarning

from coursekit import metrics as ckm
from coursekit.metrics import UndefinedMetricWarning, confusion, curves, scores

PROPERTY = settings(deadline=None, max_examples=150)
DEFAULT = object()  # "leave the keyword out"

# (negative, positive) as a user may write them; str labels need pos_label
ENCODINGS = [(0, 1), (False, True), (-1, 1), ("ham", "spam")]


@st.composite
def cases(draw):
    """Labels in a random encoding, hard predictions, and scores with frequent ties."""
    n = draw(st.integers(1, 30))
    bits = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    neg, pos = draw(st.sampled_from(ENCODINGS))
    classes = np.array([neg, pos])
    y_true, y_pred = classes[draw(bits)], classes[draw(bits)]
    ticks = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    y_score = (np.array(ticks) / 5).astype(dtype)  # 6 distinct values: ties are frequent
    return y_true, y_pred, y_score, (neg, pos)


def _outcome(fn, *args, **kwargs):
    """What a call does: ("ValueError", None, False) or ("value", result, warned)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except ValueError:
            return "ValueError", None, False
    # UndefinedMetricWarning is a UserWarning; sklearn's own confusion-matrix shape hint is not
    # about the metric's value
    warned = any(
        issubclass(w.category, UserWarning) and "single label" not in str(w.message) for w in caught
    )
    return "value", result, warned


def _assert_same_outcome(got, expected, compare_warnings=True):
    """Both raise ValueError, or both return the same value (and both warn or neither)."""
    assert got[0] == expected[0], (got, expected)
    _assert_same(got[1], expected[1])
    if compare_warnings:
        assert got[2] == expected[2], f"warned: ours {got[2]}, sklearn {expected[2]}"


def _assert_same(got, expected):
    if got is None or expected is None:
        assert got is expected
        return
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _assert_same(g, e)
        return
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert np.shape(got) == np.shape(expected)


def _keywords(draw, fn, neg, pos):
    """Random keyword arguments among those ``fn`` takes (sklearn takes them too)."""
    choices = {
        "pos_label": [DEFAULT, neg, pos, 2],  # 2: not a label (an error when both occur)
        "zero_division": [DEFAULT, "warn", 0.0, 1.0, np.nan],
        "normalize": [DEFAULT, True, False],
        "drop_intermediate": [DEFAULT, True, False],
        "max_fpr": [DEFAULT, None, 0.25, 0.5, 0.8, 1.0],
    }
    params = inspect.signature(fn).parameters
    drawn = {name: draw(st.sampled_from(choices[name])) for name in params if name in choices}
    return {name: value for name, value in drawn.items() if value is not DEFAULT}


# ---------------------------------------------------------------------------------------------
# Agreement with scikit-learn: value, warning and error, on random input with ties


LABEL_METRICS = {
    "accuracy_score": (ckm.accuracy_score, skm.accuracy_score),
    "precision_score": (ckm.precision_score, skm.precision_score),
    "recall_score": (ckm.recall_score, skm.recall_score),
    "sensitivity_score": (ckm.sensitivity_score, skm.recall_score),
    "f1_score": (ckm.f1_score, skm.f1_score),
    "matthews_corrcoef": (ckm.matthews_corrcoef, skm.matthews_corrcoef),
}
RANKING_METRICS = {
    "roc_curve": (ckm.roc_curve, skm.roc_curve),
    "precision_recall_curve": (ckm.precision_recall_curve, skm.precision_recall_curve),
    "roc_auc_score": (ckm.roc_auc_score, skm.roc_auc_score),
    "average_precision_score": (ckm.average_precision_score, skm.average_precision_score),
}


@pytest.mark.parametrize("name", LABEL_METRICS)
@settings(deadline=None, max_examples=100)  # sklearn's label metrics take ~5 ms a call
@given(case=cases(), data=st.data())
def test_label_metric_matches_sklearn_in_value_warning_and_error(name, case, data):
    ours, theirs = LABEL_METRICS[name]
    y_true, y_pred, _, (neg, pos) = case
    kwargs = _keywords(data.draw, ours, neg, pos)
    got, expected = (
        _outcome(ours, y_true, y_pred, **kwargs),
        _outcome(theirs, y_true, y_pred, **kwargs),
    )
    # ours warns when MCC is undefined; sklearn is silent
    _assert_same_outcome(got, expected, compare_warnings=name != "matthews_corrcoef")


@settings(deadline=None, max_examples=100)
@given(case=cases(), data=st.data())
def test_specificity_is_sklearns_recall_of_the_negative_class(case, data):
    y_true, y_pred, _, (neg, pos) = case
    positive = data.draw(st.sampled_from([neg, pos]))
    negative = neg if positive == pos else pos
    zero_division = data.draw(st.sampled_from(["warn", 0.0, 1.0, np.nan]))
    got = _outcome(
        ckm.specificity_score, y_true, y_pred, pos_label=positive, zero_division=zero_division
    )
    expected = _outcome(
        skm.recall_score, y_true, y_pred, pos_label=negative, zero_division=zero_division
    )
    assert got[0] == "value"
    _assert_same_outcome(got, expected)


@pytest.mark.parametrize("name", RANKING_METRICS)
@PROPERTY
@given(case=cases(), data=st.data())
def test_ranking_metric_matches_sklearn_with_tied_scores(name, case, data):
    ours, theirs = RANKING_METRICS[name]
    y_true, _, y_score, (neg, pos) = case
    kwargs = _keywords(data.draw, ours, neg, pos)
    got, expected = (
        _outcome(ours, y_true, y_score, **kwargs),
        _outcome(theirs, y_true, y_score, **kwargs),
    )
    _assert_same_outcome(got, expected)


@PROPERTY
@given(
    case=cases(),
    normalize=st.sampled_from([None, "true", "pred", "all"]),
    pass_labels=st.booleans(),
)
def test_confusion_matrix_matches_sklearn_and_is_always_2x2(case, normalize, pass_labels):
    y_true, y_pred, _, (neg, pos) = case
    expected = skm.confusion_matrix(y_true, y_pred, labels=[neg, pos], normalize=normalize)
    single_string_label = len(set(y_true) | set(y_pred)) == 1 and isinstance(pos, str)
    if pass_labels:
        got = ckm.confusion_matrix(y_true, y_pred, labels=[neg, pos], normalize=normalize)
    elif single_string_label:  # the other class is unknown: ask for labels
        with pytest.raises(ValueError, match="only one label"):
            ckm.confusion_matrix(y_true, y_pred, normalize=normalize)
        return
    else:
        got = ckm.confusion_matrix(y_true, y_pred, normalize=normalize)
    assert got.shape == (2, 2)
    assert got.dtype == (np.int64 if normalize is None else np.float64)
    _assert_same(got, expected)


def test_curves_match_sklearn_on_ten_thousand_tied_scores():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 10_000)
    y_score = np.round(rng.random(10_000) + 0.3 * y_true, 2)  # about 130 distinct values
    for ours, theirs in RANKING_METRICS.values():
        _assert_same(ours(y_true, y_score), theirs(y_true, y_score))


# ---------------------------------------------------------------------------------------------
# AUC against an independent, obviously correct computation


def _auc_by_counting_ranked_pairs(y_true, y_score):
    """P(a positive scores above a negative) + 1/2 P(tie), over all (positive, negative) pairs."""
    positives = [s for y, s in zip(y_true, y_score, strict=True) if y == 1]
    negatives = [s for y, s in zip(y_true, y_score, strict=True) if y == 0]
    wins = 0.0
    for sp in positives:
        for sn in negatives:
            if sp > sn:
                wins += 1.0
            elif sp == sn:
                wins += 0.5
    return wins / (len(positives) * len(negatives))


both_classes = st.lists(st.integers(0, 1), min_size=2, max_size=40).filter(
    lambda y: 0 < sum(y) < len(y)
)


@PROPERTY
@given(y_true=both_classes, data=st.data())
def test_roc_auc_score_equals_a_brute_force_count_of_ranked_pairs(y_true, data):
    n = len(y_true)
    y_score = data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n).map(np.array)) / 5
    expected = _auc_by_counting_ranked_pairs(y_true, y_score)
    assert ckm.roc_auc_score(y_true, y_score) == pytest.approx(expected, abs=1e-12)
    fpr, tpr, _ = ckm.roc_curve(y_true, y_score, drop_intermediate=False)
    assert ckm.auc(fpr, tpr) == pytest.approx(expected, abs=1e-12)


@PROPERTY
@given(
    x=st.lists(st.floats(-5, 5), min_size=2, max_size=20),
    y=st.lists(st.floats(-5, 5), min_size=2, max_size=20),
    decreasing=st.booleans(),
)
def test_auc_matches_sklearn_on_increasing_and_decreasing_x(x, y, decreasing):
    n = min(len(x), len(y))
    x, y = np.sort(x[:n]), np.array(y[:n])
    if decreasing:
        x, y = x[::-1], y[::-1]
    assert ckm.auc(x, y) == pytest.approx(skm.auc(x, y), rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# One property shared by every metric of samples (auc takes curve points, not samples)

SAMPLE_METRICS = {
    "confusion_matrix": (ckm.confusion_matrix, "labels"),
    "accuracy_score": (ckm.accuracy_score, "labels"),
    "precision_score": (ckm.precision_score, "labels"),
    "recall_score": (ckm.recall_score, "labels"),
    "sensitivity_score": (ckm.sensitivity_score, "labels"),
    "specificity_score": (ckm.specificity_score, "labels"),
    "f1_score": (ckm.f1_score, "labels"),
    "matthews_corrcoef": (ckm.matthews_corrcoef, "labels"),
    "roc_curve": (ckm.roc_curve, "scores"),
    "precision_recall_curve": (ckm.precision_recall_curve, "scores"),
    "roc_auc_score": (ckm.roc_auc_score, "scores"),
    "average_precision_score": (ckm.average_precision_score, "scores"),
}


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return fn(*args)


@settings(deadline=None, max_examples=100)
@given(data=st.data())
def test_every_metric_ignores_sample_order_and_takes_lists_arrays_or_bools(data):
    n = data.draw(st.integers(1, 30))
    y_true, y_pred, ticks = (
        np.array(data.draw(st.lists(st.integers(0, k), min_size=n, max_size=n))) for k in (1, 1, 5)
    )
    order = np.array(data.draw(st.permutations(range(n))))
    for name, (fn, second) in SAMPLE_METRICS.items():
        other = ticks / 5 if second == "scores" else y_pred  # tied scores, or 0/1 predictions
        other_bool = other if second == "scores" else other.astype(bool)
        value = _quiet(fn, y_true, other)
        for variant, args in {
            "permuted samples": (y_true[order], other[order]),
            "lists": (y_true.tolist(), other.tolist()),
            "bool labels": (y_true.astype(bool), other_bool),
        }.items():
            try:
                _assert_same(_quiet(fn, *args), value)
            except AssertionError as error:
                raise AssertionError(f"{name} changes with {variant}") from error


# ---------------------------------------------------------------------------------------------
# Edge cases: sklearn's value and sklearn's warning

S3 = [0.2, 0.4, 0.6]
EDGE_CASES = [
    # call (on either module), sklearn's warning category (None: no warning), message
    pytest.param(
        lambda m: m.roc_auc_score([1, 1, 1], S3),
        SklearnUndefinedMetricWarning,
        "Only one class is present",
        id="roc_auc_score, one class only: nan",
    ),
    pytest.param(
        lambda m: m.roc_curve([1, 1, 1], S3),
        SklearnUndefinedMetricWarning,
        "No negative samples",
        id="roc_curve, positives only: fpr nan",
    ),
    pytest.param(
        lambda m: m.roc_curve([0, 0, 0], S3),
        SklearnUndefinedMetricWarning,
        "No positive samples",
        id="roc_curve, negatives only: tpr nan",
    ),
    pytest.param(
        lambda m: m.precision_recall_curve([0, 0, 0], S3),
        UserWarning,
        "No positive class found",
        id="precision_recall_curve, negatives only: recall 1",
    ),
    pytest.param(
        lambda m: m.average_precision_score([0, 0, 0], S3),
        UserWarning,
        "No positive class found",
        id="average_precision_score, negatives only: 0",
    ),
    pytest.param(
        lambda m: m.recall_score([0, 0, 0], [0, 1, 0]),
        SklearnUndefinedMetricWarning,
        "Recall is ill-defined",
        id="recall_score, negatives only: 0",
    ),
    pytest.param(
        lambda m: m.precision_score([0, 1, 1, 0], [0, 0, 0, 0]),
        SklearnUndefinedMetricWarning,
        "Precision is ill-defined",
        id="precision_score, no predicted positives: 0",
    ),
    pytest.param(
        lambda m: m.f1_score([0, 0, 0, 0], [0, 0, 0, 0]),
        SklearnUndefinedMetricWarning,
        "F-score is ill-defined",
        id="f1_score, no positives at all: 0",
    ),
    pytest.param(
        lambda m: m.f1_score([0, 1, 1, 0], [0, 0, 0, 0]),
        None,
        None,
        id="f1_score, no predicted positives: 0, defined",
    ),
    pytest.param(
        lambda m: m.roc_curve([0, 1, 1, 0, 1], [0.3] * 5),
        None,
        None,
        id="roc_curve, all scores equal: the diagonal",
    ),
    pytest.param(
        lambda m: m.roc_auc_score([0, 1, 1, 0, 1], [0.3] * 5),
        None,
        None,
        id="roc_auc_score, all scores equal: 0.5",
    ),
    pytest.param(
        lambda m: m.precision_recall_curve([0, 1, 1, 0, 1], [0.3] * 5),
        None,
        None,
        id="precision_recall_curve, all scores equal: one threshold",
    ),
    pytest.param(
        lambda m: m.average_precision_score([0, 1, 1, 0, 1], [0.3] * 5),
        None,
        None,
        id="average_precision_score, all scores equal: P / n",
    ),
]


@pytest.mark.parametrize("call, warning, match", EDGE_CASES)
def test_edge_case_gives_sklearns_value_and_warning(call, warning, match):
    if warning is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            expected, got = call(skm), call(ckm)
    else:
        with pytest.warns(warning, match=match):
            expected = call(skm)
        with pytest.warns(UndefinedMetricWarning, match=match):  # a UserWarning too
            got = call(ckm)
    _assert_same(got, expected)


def test_edge_case_values_are_the_conventional_ones():
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(ckm.roc_auc_score([1, 1, 1], S3))
    assert ckm.roc_curve([0, 1, 1, 0, 1], [0.3] * 5)[2].tolist() == [np.inf, 0.3]
    assert ckm.roc_auc_score([0, 1, 1, 0, 1], [0.3] * 5) == 0.5
    assert ckm.average_precision_score([0, 1, 1, 0, 1], [0.3] * 5) == pytest.approx(0.6)
    assert ckm.precision_score([0, 1], [0, 0], zero_division=1.0) == 1.0
    assert np.isnan(ckm.precision_score([0, 1], [0, 0], zero_division=np.nan))
    np.testing.assert_array_equal(ckm.confusion_matrix([1, 1], [1, 1]), [[0, 0], [0, 2]])


@pytest.mark.parametrize(
    "y_true, y_pred",
    [
        pytest.param([1, 1, 1], [1, 1, 1], id="one class only"),
        pytest.param([0, 1, 1, 0], [0, 0, 0, 0], id="no predicted positives"),
        pytest.param([0, 1, 1, 0], [1, 1, 1, 1], id="no predicted negatives"),
    ],
)
def test_mcc_is_zero_as_in_sklearn_with_a_warning_when_a_class_is_missing(y_true, y_pred):
    with pytest.warns(UndefinedMetricWarning, match="MCC is ill-defined"):
        got = ckm.matthews_corrcoef(y_true, y_pred)
    assert got == _outcome(skm.matthews_corrcoef, y_true, y_pred)[1] == 0.0


def test_specificity_without_actual_negatives_follows_recalls_zero_division():
    with pytest.warns(UndefinedMetricWarning, match="Specificity is ill-defined"):
        assert ckm.specificity_score([1, 1], [1, 0]) == 0.0
    assert ckm.specificity_score([1, 1], [1, 0], zero_division=1.0) == 1.0


# ---------------------------------------------------------------------------------------------
# Bad input: a ValueError that names the problem and shows the value

BAD_INPUT = [
    pytest.param(
        lambda: ckm.confusion_matrix([0, 1, 1], [0, 1]),
        "y_true and y_pred have different lengths: 3 and 2",
        id="different lengths (labels)",
    ),
    pytest.param(
        lambda: ckm.roc_curve([0, 1, 1], [0.1, 0.2]),
        "y_true and y_score have different lengths: 3 and 2",
        id="different lengths (scores)",
    ),
    pytest.param(
        lambda: ckm.precision_score([0, 1, 2], [0, 1, 1]),
        r"labels must be binary, got 3 classes: \[0, 1, 2\]",
        id="three classes",
    ),
    pytest.param(
        lambda: ckm.roc_auc_score([0, 1, 2], [0.1, 0.2, 0.3]),
        r"labels must be binary, got 3 classes: \[0, 1, 2\]",
        id="three classes (scores)",
    ),
    pytest.param(
        lambda: ckm.precision_score(["a", "b"], ["a", "a"]),
        r"pos_label=1 is not a valid label: it should be one of \['a', 'b'\]",
        id="string labels without pos_label",
    ),
    pytest.param(
        lambda: ckm.average_precision_score([0, 1], [0.1, 0.2], pos_label=2),
        r"pos_label=2 is not a valid label: it should be one of \[0, 1\]",
        id="pos_label not a label",
    ),
    pytest.param(
        lambda: ckm.roc_curve(["a", "b"], [0.1, 0.2]),
        r"y_true takes values in \['a', 'b'\] and pos_label is not specified",
        id="curve of string labels without pos_label",
    ),
    pytest.param(
        lambda: ckm.roc_curve([0, 2, 2], [0.1, 0.2, 0.3]),
        r"y_true takes values in \[0, 2\] and pos_label is not specified",
        id="curve of labels 0, 2 without pos_label",
    ),
    pytest.param(
        lambda: ckm.roc_curve([0, 1, 1], [0.1, np.nan, 0.3]),
        r"y_score contains NaN or infinity: \[nan\]",
        id="NaN score",
    ),
    pytest.param(
        lambda: ckm.roc_auc_score([0, 1], [0.1, np.inf]),
        r"y_score contains NaN or infinity: \[inf\]",
        id="infinite score",
    ),
    pytest.param(
        lambda: ckm.roc_curve([0, 1], ["a", "b"]),
        "y_score must be numeric, got dtype <U1",
        id="string scores",
    ),
    pytest.param(
        lambda: ckm.accuracy_score([0, np.nan], [0, 1]),
        r"y_true contains NaN or infinity: \[nan\]",
        id="NaN label",
    ),
    pytest.param(
        lambda: ckm.precision_score([0, 0.5], [0, 1]),
        r"y_true must hold class labels, got continuous values such as \[0.5\]",
        id="continuous labels",
    ),
    pytest.param(
        lambda: ckm.accuracy_score(["a", "b"], [0, 1]),
        "labels mix strings and numbers",
        id="strings and numbers",
    ),
    pytest.param(lambda: ckm.accuracy_score([], []), "y_true is empty", id="empty labels"),
    pytest.param(lambda: ckm.roc_auc_score([], []), "y_true is empty", id="empty scores"),
    pytest.param(
        lambda: ckm.f1_score([[0, 1], [1, 0]], [0, 1]),
        r"y_true must be 1-D of shape \(n_samples,\), got shape \(2, 2\)",
        id="2-D labels",
    ),
    pytest.param(
        lambda: ckm.confusion_matrix(["a", "a"], ["a", "a"]),
        "only one label, 'a', occurs",
        id="one unknown label: no 2x2 matrix",
    ),
    pytest.param(
        lambda: ckm.confusion_matrix([0, 1], [0, 1], labels=[0, 2]),
        r"labels \[1\] not in labels=\[0, 2\]",
        id="a label outside labels",
    ),
    pytest.param(
        lambda: ckm.confusion_matrix([0, 1], [0, 1], normalize="rows"),
        "normalize must be one of",
        id="normalize",
    ),
    pytest.param(
        lambda: ckm.precision_score([0, 1], [0, 1], zero_division=2),
        "zero_division must be one of 'warn', 0.0, 1.0, nan, got 2",
        id="zero_division",
    ),
    pytest.param(
        lambda: ckm.roc_auc_score([0, 1], [0.1, 0.2], max_fpr=0),
        r"max_fpr must be in \(0, 1\] or None, got 0",
        id="max_fpr",
    ),
    pytest.param(
        lambda: ckm.auc([0, 1, 0.5], [0, 1, 1]),
        r"x is neither increasing nor decreasing: \[0.0, 1.0, 0.5\]",
        id="auc of non-monotonic x",
    ),
    pytest.param(
        lambda: ckm.auc([0.5], [1]), "at least 2 points are needed", id="auc of one point"
    ),
]


@pytest.mark.parametrize("call, message", BAD_INPUT)
def test_bad_input_raises_a_value_error_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# The lecture, the docstrings, the import


def test_confusion_matrix_gives_the_lectures_worked_check_0_2_1_1():
    tn, fp, fn, tp = ckm.confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0]).ravel()
    assert (tn, fp, fn, tp) == (0, 2, 1, 1)


@pytest.mark.parametrize("module", [confusion, scores, curves], ids=lambda m: m.__name__)
def test_docstring_examples_run_as_shown(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_importing_coursekit_metrics_loads_no_sklearn_scipy_or_framework():
    code = (
        "import sys, coursekit.metrics\n"
        "print([m for m in ('sklearn', 'scipy', 'tensorflow', 'torch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
