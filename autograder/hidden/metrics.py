"""Hidden checks of assignment 1 (classification metrics).

Every expectation is computed with ``coursekit`` before the student's function is called, from
inputs it never sees (it gets copies); every returned value is read through
:mod:`autograder.hidden.strict`.
"""

from __future__ import annotations

import numpy as np

from autograder.hidden import call, student_rng
from autograder.hidden.strict import expect_array, expect_equal, expect_scalar, expect_sequence

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

    cases = _cases(student_rng(1))
    expected = [tuple(int(v) for v in confusion_matrix(y, p).ravel()) for y, p, _ in cases]
    for i, ((y, p, _), want) in enumerate(zip(cases, expected, strict=True)):
        got = call(confusion_counts, y.tolist(), p.tolist())
        expect_equal(
            got,
            want,
            name="confusion_counts",
            where=f"hidden case {i + 1}{' (one class only)' if len(set(y.tolist())) == 1 else ''}",
            what="(tn, fp, fn, tp) as four ints",
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
        for name, fn in functions.items():
            want = expected[name][i]
            expect_scalar(
                call(fn, y, p),
                want,
                name=name,
                where=f"hidden case {i + 1}{' (a zero denominator?)' if want == 0 else ''}",
            )


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
        expect_array(g_fpr, fpr, name="roc_points (fpr)", where=where)
        expect_array(g_tpr, tpr, name="roc_points (tpr)", where=where)


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
        expect_scalar(call(auc_trapezoid, x, y), want, name="auc_trapezoid", where=where)
