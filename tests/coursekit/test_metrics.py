"""coursekit.metrics against sklearn.metrics, a brute-force AUC, and the lecture's check."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from coursekit import metrics as ckm
from coursekit.metrics import UndefinedMetricWarning

LABEL_METRICS = {
    "accuracy_score": (ckm.accuracy_score, skm.accuracy_score),
    "precision_score": (ckm.precision_score, skm.precision_score),
    "recall_score": (ckm.recall_score, skm.recall_score),
    "sensitivity_score": (ckm.sensitivity_score, skm.recall_score),
    "f1_score": (ckm.f1_score, skm.f1_score),
    "matthews_corrcoef": (ckm.matthews_corrcoef, skm.matthews_corrcoef),
}
SCORE_METRICS = {
    "roc_auc_score": (ckm.roc_auc_score, skm.roc_auc_score),
    "average_precision_score": (ckm.average_precision_score, skm.average_precision_score),
}
CURVES = {
    "roc_curve": (ckm.roc_curve, skm.roc_curve),
    "precision_recall_curve": (ckm.precision_recall_curve, skm.precision_recall_curve),
}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


labels = st.lists(st.integers(0, 1), min_size=1, max_size=40)
# scores from a small set, so that ties are frequent
tied_scores = st.integers(0, 5).map(lambda k: k / 5)


@st.composite
def labels_and_scores(draw):
    y = draw(labels)
    s = draw(st.lists(tied_scores, min_size=len(y), max_size=len(y)))
    return np.array(y), np.array(s)


@st.composite
def two_label_vectors(draw):
    y = draw(labels)
    p = draw(st.lists(st.integers(0, 1), min_size=len(y), max_size=len(y)))
    return np.array(y), np.array(p)


def test_confusion_matrix_reproduces_the_lectures_check():
    tn, fp, fn, tp = ckm.confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0]).ravel()
    assert (tn, fp, fn, tp) == (0, 2, 1, 1)


@settings(deadline=None, max_examples=150)
@given(two_label_vectors(), st.booleans())
def test_confusion_matrix_matches_sklearn(yp, as_bool):
    y, p = yp
    if as_bool:
        y, p = y.astype(bool), p.astype(bool)
    expected = skm.confusion_matrix(y, p, labels=[False, True] if as_bool else [0, 1])
    np.testing.assert_array_equal(ckm.confusion_matrix(y, p), expected)


@pytest.mark.parametrize("name", sorted(LABEL_METRICS))
@settings(deadline=None, max_examples=120)
@given(yp=two_label_vectors(), zero_division=st.sampled_from(["warn", 0.0, 1.0]))
def test_label_metrics_match_sklearn(name, yp, zero_division):
    ours, theirs = LABEL_METRICS[name]
    y, p = yp
    kwargs = {}
    if name not in ("accuracy_score", "matthews_corrcoef"):
        kwargs["zero_division"] = zero_division
    expected = _quiet(theirs, y, p, **kwargs)
    assert _quiet(ours, y, p, **kwargs) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
@settings(deadline=None, max_examples=60)
@given(yp=two_label_vectors())
def test_pos_label_on_string_labels_matches_sklearn(name, yp):
    ours, theirs = LABEL_METRICS[name]
    y, p = (np.where(v == 1, "spam", "ham") for v in yp)
    for pos in ("spam", "ham"):
        present = set(np.unique(np.concatenate([y, p])))
        if pos not in present:
            continue
        expected = _quiet(theirs, y, p, pos_label=pos, zero_division=0.0)
        assert _quiet(ours, y, p, pos_label=pos, zero_division=0.0) == pytest.approx(expected)


@settings(deadline=None, max_examples=120)
@given(yp=two_label_vectors())
def test_specificity_is_recall_of_the_negative_class(yp):
    y, p = yp
    expected = _quiet(skm.recall_score, 1 - y, 1 - p, zero_division=0.0)
    assert _quiet(ckm.specificity_score, y, p, zero_division=0.0) == pytest.approx(expected)


@pytest.mark.parametrize("name", sorted(CURVES))
@pytest.mark.parametrize("drop_intermediate", [True, False])
@settings(deadline=None, max_examples=150)
@given(ys=labels_and_scores())
def test_curves_match_sklearn_with_tied_scores(name, drop_intermediate, ys):
    ours, theirs = CURVES[name]
    y, s = ys
    got = _quiet(ours, y, s, drop_intermediate=drop_intermediate)
    expected = _quiet(theirs, y, s, drop_intermediate=drop_intermediate)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", sorted(SCORE_METRICS))
@settings(deadline=None, max_examples=150)
@given(ys=labels_and_scores())
def test_score_metrics_match_sklearn_with_tied_scores(name, ys):
    ours, theirs = SCORE_METRICS[name]
    y, s = ys
    expected = _quiet(theirs, y, s)
    got = _quiet(ours, y, s)
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def _auc_by_counting_pairs(y, s):
    """Obviously correct: over all (positive, negative) pairs, wins + half the ties."""
    pos = [si for yi, si in zip(y, s, strict=True) if yi == 1]
    neg = [si for yi, si in zip(y, s, strict=True) if yi == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@settings(deadline=None, max_examples=200)
@given(ys=labels_and_scores())
def test_roc_auc_equals_a_brute_force_count_of_ranked_pairs(ys):
    y, s = ys
    if len(set(y.tolist())) < 2:
        return
    assert ckm.roc_auc_score(y, s) == pytest.approx(_auc_by_counting_pairs(y, s), abs=1e-12)
    fpr, tpr, _ = ckm.roc_curve(y, s)
    assert ckm.auc(fpr, tpr) == pytest.approx(_auc_by_counting_pairs(y, s), abs=1e-12)


@settings(deadline=None, max_examples=60)
@given(
    x=st.lists(st.floats(-5, 5), min_size=2, max_size=20),
    y=st.lists(st.floats(-5, 5), min_size=2, max_size=20),
)
def test_auc_matches_sklearn_on_monotonic_x(x, y):
    n = min(len(x), len(y))
    xs, ys = np.sort(np.array(x[:n])), np.array(y[:n])
    assert ckm.auc(xs, ys) == pytest.approx(skm.auc(xs, ys), abs=1e-9)
    assert ckm.auc(xs[::-1], ys[::-1]) == pytest.approx(skm.auc(xs[::-1], ys[::-1]), abs=1e-9)


ALL_LABEL_FUNCS = {**LABEL_METRICS, "specificity_score": (ckm.specificity_score, None)}
REGISTRY = [(n, f, "labels") for n, (f, _) in ALL_LABEL_FUNCS.items()] + [
    (n, f, "scores") for n, (f, _) in SCORE_METRICS.items()
]


@pytest.mark.parametrize("name, fn, kind", REGISTRY, ids=[r[0] for r in REGISTRY])
def test_shared_properties_of_every_metric(name, fn, kind):
    """Order invariance under a joint permutation; list, array and bool input agree."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 30)
    other = rng.integers(0, 2, 30) if kind == "labels" else np.round(rng.random(30), 1)
    value = fn(y, other)
    perm = rng.permutation(30)
    assert fn(y[perm], other[perm]) == pytest.approx(value)
    assert fn(y.tolist(), other.tolist()) == pytest.approx(value)
    other_bool = other.astype(bool) if kind == "labels" else other
    assert fn(y.astype(bool), other_bool) == pytest.approx(value)


def test_edge_case_one_class_only():
    y, s = np.ones(5, dtype=int), np.linspace(0, 1, 5)
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(ckm.roc_auc_score(y, s))
    with pytest.warns(UndefinedMetricWarning, match="No negative samples"):
        fpr, _, _ = ckm.roc_curve(y, s)
    assert np.all(np.isnan(fpr))
    with pytest.warns(UndefinedMetricWarning, match="MCC"):
        assert ckm.matthews_corrcoef(y, y) == skm.matthews_corrcoef(y, y) == 0.0
    with pytest.warns(UserWarning, match="No positive class"):
        assert ckm.average_precision_score(1 - y, s) == 0.0


def test_edge_case_no_predicted_positives():
    y, p = [0, 1, 1, 0], [0, 0, 0, 0]
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined"):
        assert ckm.precision_score(y, p) == 0.0
    assert ckm.precision_score(y, p, zero_division=1.0) == 1.0
    assert np.isnan(ckm.precision_score(y, p, zero_division=np.nan))
    assert ckm.recall_score(y, p) == 0.0 and ckm.f1_score(y, p) == 0.0


def test_edge_case_all_scores_equal():
    y, s = [0, 1, 1, 0, 1], [0.3] * 5
    fpr, tpr, thr = ckm.roc_curve(y, s)
    assert fpr.tolist() == [0.0, 1.0] and tpr.tolist() == [0.0, 1.0]
    assert thr.tolist() == [np.inf, 0.3]
    assert ckm.roc_auc_score(y, s) == 0.5
    precision, recall, _ = ckm.precision_recall_curve(y, s)
    assert precision.tolist() == [0.6, 1.0] and recall.tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ckm.confusion_matrix([0, 1, 1], [0, 1]), "different lengths: 3 and 2"),
        (lambda: ckm.precision_score([0, 1, 2], [0, 1, 1]), r"binary, got 3 classes: \[0, 1, 2\]"),
        (lambda: ckm.roc_curve([0, 1, 1], [0.1, np.nan, 0.3]), r"NaN or infinity: \[nan\]"),
        (lambda: ckm.roc_auc_score([0, 1], [0.1, np.inf]), "NaN or infinity"),
        (lambda: ckm.accuracy_score([], []), "y_true is empty"),
        (lambda: ckm.roc_curve([], []), "empty"),
        (lambda: ckm.precision_score(["a", "b"], ["a", "a"]), "pos_label=1 is not a valid label"),
        (lambda: ckm.roc_curve([0, 2, 2], [0.1, 0.2, 0.3]), "pos_label is not specified"),
        (lambda: ckm.auc([0, 1, 0.5], [0, 1, 1]), "neither increasing nor decreasing"),
        (lambda: ckm.precision_score([0, 1], [0, 1], zero_division=2), "zero_division"),
        (lambda: ckm.f1_score([[0, 1], [1, 0]], [0, 1]), "1-D"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_importing_metrics_loads_neither_sklearn_nor_scipy():
    code = (
        "import sys, coursekit.metrics\n"
        "print([m for m in ('sklearn', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
