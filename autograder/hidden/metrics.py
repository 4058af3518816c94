"""Hidden checks of assignment 1 (classification metrics)."""

from __future__ import annotations

import numpy as np

from autograder.hidden import call as _call
from autograder.hidden import student_rng

__all__ = ["expect_auc", "expect_counts", "expect_roc", "expect_scores"]


def _cases(rng, n_cases=6):
    """Label/prediction/score triples, including the edge cases (one class, no positives)."""
    cases = []
    for size in rng.integers(5, 60, size=n_cases):
        y = rng.integers(0, 2, size)
        cases.append((y, rng.integers(0, 2, size), np.round(rng.random(size), 1)))
    cases.append((np.zeros(8, int), rng.integers(0, 2, 8), np.round(rng.random(8), 1)))
    cases.append((rng.integers(0, 2, 8), np.zeros(8, int), np.round(rng.random(8), 1)))
    return cases


def expect_counts(confusion_counts) -> None:
    from coursekit.metrics import confusion_matrix

    for i, (y, p, _) in enumerate(_cases(student_rng(1))):
        expected = tuple(int(v) for v in confusion_matrix(y, p).ravel())
        got = _call(confusion_counts, y.tolist(), p.tolist())
        assert tuple(int(v) for v in got) == expected, (
            f"confusion_counts is wrong on hidden case {i + 1} ({len(y)} labels)"
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
    for i, (y, p, _) in enumerate(_cases(student_rng(2))):
        for name, fn in functions.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kwargs = {} if name == "mcc" else {"zero_division": 0.0}
                expected = reference[name](y, p, **kwargs)
            got = float(_call(fn, y, p))
            assert np.isfinite(got) and abs(got - expected) <= 1e-9, (
                f"{name} is wrong on hidden case {i + 1} ({len(y)} labels"
                f"{', a zero denominator' if expected == 0 else ''})"
            )


def expect_roc(roc_points) -> None:
    from coursekit.metrics import roc_curve

    cases = [c for c in _cases(student_rng(3)) if 0 < c[0].sum() < len(c[0])]  # both classes
    for i, (y, _, s) in enumerate(cases):
        fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
        got = _call(roc_points, y, s)
        assert len(got) == 3, "roc_points must return (fpr, tpr, thresholds)"
        g_fpr, g_tpr, g_thr = (np.asarray(v, dtype=float) for v in got)
        assert g_thr.shape == thr.shape and np.all(np.diff(g_thr) < 0), (
            f"roc_points: thresholds must be the distinct scores in decreasing order (hidden case {i + 1})"
        )
        assert np.allclose(g_fpr, fpr) and np.allclose(g_tpr, tpr), (
            f"roc_points: the (fpr, tpr) points are wrong on hidden case {i + 1}"
        )


def expect_auc(auc_trapezoid, roc_points) -> None:
    from coursekit.metrics import auc, roc_curve

    rng = student_rng(4)
    for i in range(5):
        x = np.sort(rng.random(rng.integers(3, 12)))
        y = rng.random(len(x))
        assert abs(float(_call(auc_trapezoid, x, y)) - auc(x, y)) <= 1e-9, (
            f"auc_trapezoid is wrong on hidden curve {i + 1}"
        )
    cases = [c for c in _cases(rng) if 0 < c[0].sum() < len(c[0])]
    for i, (y, _, s) in enumerate(cases[:4]):
        fpr, tpr, _ = roc_curve(y, s)
        assert abs(float(_call(auc_trapezoid, fpr, tpr)) - auc(fpr, tpr)) <= 1e-9, (
            f"auc_trapezoid is wrong on the ROC curve of hidden case {i + 1}"
        )
