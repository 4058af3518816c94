"""Scores computed from the confusion counts (chapter 1, "Evaluating classifiers").

Every ``*_score`` is higher-is-better. Undefined cases (a zero denominator) follow
scikit-learn: the value ``zero_division`` is returned, with an
:class:`~coursekit.metrics.UndefinedMetricWarning` when ``zero_division="warn"`` (value 0).
"""

from __future__ import annotations

import math

from coursekit.metrics._validation import check_zero_division, warn_undefined
from coursekit.metrics.confusion import counts

__all__ = [
    "accuracy_score",
    "f1_score",
    "matthews_corrcoef",
    "precision_score",
    "recall_score",
    "sensitivity_score",
    "specificity_score",
]


def _ratio(numerator: int, denominator: int, zero_division, what: str) -> float:
    zero_division = check_zero_division(zero_division)
    if denominator:
        return numerator / denominator
    if zero_division == "warn":
        warn_undefined(f"{what}; set to 0.0. Use the zero_division parameter to choose.")
        return 0.0
    return zero_division


def accuracy_score(y_true, y_pred, *, normalize=True) -> float:
    r"""Accuracy :math:`(TP + TN) / (P + N)`; the count of correct predictions if not ``normalize``.

    Lesson: chapter 1, "Evaluating classifiers".

    >>> accuracy_score([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    tn, fp, fn, tp = counts(y_true, y_pred)
    correct = tp + tn
    return correct / (tn + fp + fn + tp) if normalize else float(correct)


def precision_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Precision (positive predictive value) :math:`TP / (TP + FP)`.

    Undefined with no predicted positive: returns ``zero_division``.

    Lesson: chapter 1, "Evaluating classifiers".

    >>> precision_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    _, fp, _, tp = counts(y_true, y_pred, pos_label)
    return _ratio(tp, tp + fp, zero_division, "Precision is ill-defined: no predicted positives")


def recall_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Recall (sensitivity, hit rate, true positive rate) :math:`TP / P = TP / (TP + FN)`.

    Undefined with no actual positive: returns ``zero_division``.

    Lesson: chapter 1, "Evaluating classifiers".

    >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    _, _, fn, tp = counts(y_true, y_pred, pos_label)
    return _ratio(tp, tp + fn, zero_division, "Recall is ill-defined: no true positives samples")


def sensitivity_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Sensitivity, the same as recall: :math:`TP / (TP + FN)`.

    Lesson: chapter 1, "Evaluating classifiers".
    """
    return recall_score(y_true, y_pred, pos_label=pos_label, zero_division=zero_division)


def specificity_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Specificity (true negative rate) :math:`TN / N = TN / (TN + FP) = 1 - FPR`.

    scikit-learn has no such function; it equals ``recall_score`` with the classes swapped,
    and follows recall's ``zero_division`` convention (undefined with no actual negative).

    Lesson: chapter 1, "Evaluating classifiers".

    >>> specificity_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    tn, fp, _, _ = counts(y_true, y_pred, pos_label)
    return _ratio(
        tn, tn + fp, zero_division, "Specificity is ill-defined: no true negatives samples"
    )


def f1_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""F1 score, the harmonic mean of precision and recall: :math:`2TP / (2TP + FP + FN)`.

    Undefined when there is no positive at all (neither actual nor predicted).

    Lesson: chapter 1, "Evaluating classifiers".

    >>> f1_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    _, fp, fn, tp = counts(y_true, y_pred, pos_label)
    return _ratio(
        2 * tp,
        2 * tp + fp + fn,
        zero_division,
        "F-score is ill-defined: no true nor predicted positives",
    )


def matthews_corrcoef(y_true, y_pred) -> float:
    r"""Matthews correlation coefficient, in [-1, 1] (0 = no better than chance).

    .. math::

        \mathrm{MCC} = \frac{TP\,TN - FP\,FN}{\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}

    When a factor of the denominator is 0 (a class never occurs or is never predicted) MCC is
    undefined; as scikit-learn, 0.0 is returned, here with an ``UndefinedMetricWarning``.

    Lesson: chapter 1, "Evaluating classifiers".

    >>> matthews_corrcoef([0, 1, 1, 0], [0, 1, 1, 0])
    1.0
    """
    tn, fp, fn, tp = counts(y_true, y_pred)
    denominator = math.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    if denominator == 0:
        warn_undefined(
            "MCC is ill-defined: a class is never present or never predicted; set to 0.0"
        )
        return 0.0
    return (float(tp) * tn - float(fp) * fn) / denominator
