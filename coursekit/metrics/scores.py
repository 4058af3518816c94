"""Scores computed from the four confusion counts (chapter 1, "Evaluating classifiers").

Every ``*_score`` is higher-is-better and takes hard predictions (labels, not scores).
Notation: TP, FN, FP, TN; P = TP + FN actual positives, N = FP + TN actual negatives.
A zero denominator follows scikit-learn: the value ``zero_division`` is returned, and with
``zero_division="warn"`` (the default) that value is 0.0 with an ``UndefinedMetricWarning``.
"""

from __future__ import annotations

import math

from coursekit._params import validate_params
from coursekit.metrics._validation import (
    FLAG,
    LABELS,
    POS_LABEL,
    ZERO_DIVISION,
    binary_labels,
    check_zero_division,
    warn_undefined,
)
from coursekit.metrics.confusion import confusion_counts

__all__ = [
    "accuracy_score",
    "f1_score",
    "matthews_corrcoef",
    "precision_score",
    "recall_score",
    "sensitivity_score",
    "specificity_score",
]


_LABEL_SCORE = {
    "y_true": [LABELS],
    "y_pred": [LABELS],
    "pos_label": [POS_LABEL],
    "zero_division": [ZERO_DIVISION],
}


def _counts(y_true, y_pred, pos_label=1) -> tuple[int, int, int, int]:
    return confusion_counts(*binary_labels(y_true, y_pred, pos_label))


def _ratio(numerator: int, denominator: int, zero_division, metric: str, missing: str) -> float:
    """``numerator / denominator``; for 0/0, ``zero_division`` ("warn": 0.0 and a warning)."""
    if denominator:
        return numerator / denominator
    if zero_division == "warn":
        warn_undefined(
            f"{metric} is ill-defined and being set to 0.0 due to no {missing}. "
            "Use `zero_division` parameter to control this behavior.",
            stacklevel=3,
        )
        return 0.0
    return zero_division


@validate_params({"y_true": [LABELS], "y_pred": [LABELS], "normalize": [FLAG]})
def accuracy_score(y_true, y_pred, *, normalize=True) -> float:
    r"""Fraction of correct predictions (their number if not ``normalize``).

    .. math:: \mathrm{accuracy} = \frac{TP + TN}{P + N}

    Misleading with imbalanced classes: always predicting "negative" scores N / (P + N).

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Any two labels.
    normalize : bool, default=True

    Returns
    -------
    float

    Examples
    --------
    >>> accuracy_score([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    tn, fp, fn, tp = _counts(y_true, y_pred, pos_label=None)
    correct = tp + tn
    return correct / (tn + fp + fn + tp) if normalize else float(correct)


@validate_params(_LABEL_SCORE)
def precision_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Precision (positive predictive value): the fraction of predicted positives that are.

    .. math:: \mathrm{precision} = \frac{TP}{TP + FP}

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        {0, 1}, {False, True}, or two labels of which ``pos_label`` is one.
    pos_label : int, bool or str, default=1
        The positive class.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Returned when there is no predicted positive (TP + FP = 0).

    Returns
    -------
    float

    Examples
    --------
    >>> precision_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    zero_division = check_zero_division(zero_division)
    _, fp, _, tp = _counts(y_true, y_pred, pos_label)
    return _ratio(tp, tp + fp, zero_division, "Precision", "predicted samples")


@validate_params(_LABEL_SCORE)
def recall_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Recall (sensitivity, true positive rate): the fraction of actual positives found.

    .. math:: \mathrm{recall} = TPR = \frac{TP}{P} = \frac{TP}{TP + FN}

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        {0, 1}, {False, True}, or two labels of which ``pos_label`` is one.
    pos_label : int, bool or str, default=1
        The positive class.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Returned when there is no actual positive (P = 0).

    Returns
    -------
    float

    Examples
    --------
    >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    zero_division = check_zero_division(zero_division)
    _, _, fn, tp = _counts(y_true, y_pred, pos_label)
    return _ratio(tp, tp + fn, zero_division, "Recall", "true samples")


@validate_params(_LABEL_SCORE)
def sensitivity_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Sensitivity, the medical name of recall.

    .. math:: \mathrm{sensitivity} = \frac{TP}{P} = \frac{TP}{TP + FN}

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    pos_label : int, bool or str, default=1
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        As :func:`recall_score`.

    Returns
    -------
    float

    Examples
    --------
    >>> sensitivity_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return recall_score(y_true, y_pred, pos_label=pos_label, zero_division=zero_division)


@validate_params(_LABEL_SCORE)
def specificity_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""Specificity (true negative rate): the fraction of actual negatives recognised.

    .. math:: \mathrm{specificity} = TNR = \frac{TN}{N} = \frac{TN}{TN + FP} = 1 - FPR

    scikit-learn has no such function: this is its ``recall_score`` of the negative class,
    with recall's ``zero_division`` convention (here: no actual negative, N = 0).

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        {0, 1}, {False, True}, or two labels of which ``pos_label`` is one.
    pos_label : int, bool or str, default=1
        The positive class; the other label is the negative one.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Returned when there is no actual negative (N = 0).

    Returns
    -------
    float

    Examples
    --------
    >>> specificity_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    zero_division = check_zero_division(zero_division)
    tn, fp, _, _ = _counts(y_true, y_pred, pos_label)
    return _ratio(tn, tn + fp, zero_division, "Specificity", "true negative samples")


@validate_params(_LABEL_SCORE)
def f1_score(y_true, y_pred, *, pos_label=1, zero_division="warn") -> float:
    r"""F1 score, the harmonic mean of precision and recall.

    .. math:: F_1 = \frac{2\,\mathrm{precision}\cdot\mathrm{recall}}{\mathrm{precision}
              + \mathrm{recall}} = \frac{2\,TP}{2\,TP + FP + FN}

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        {0, 1}, {False, True}, or two labels of which ``pos_label`` is one.
    pos_label : int, bool or str, default=1
        The positive class.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Returned when there is no positive at all, actual or predicted (TP + FP + FN = 0).

    Returns
    -------
    float

    Examples
    --------
    >>> f1_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    zero_division = check_zero_division(zero_division)
    _, fp, fn, tp = _counts(y_true, y_pred, pos_label)
    return _ratio(2 * tp, 2 * tp + fp + fn, zero_division, "F-score", "true nor predicted samples")


@validate_params({"y_true": [LABELS], "y_pred": [LABELS]})
def matthews_corrcoef(y_true, y_pred) -> float:
    r"""Matthews correlation coefficient: in [-1, 1], 1 perfect, 0 no better than chance.

    .. math::

        \mathrm{MCC} = \frac{TP\,TN - FP\,FN}{\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}

    Symmetric in the two classes, so it needs no ``pos_label``. When a factor of the
    denominator is 0 (a class never occurs or is never predicted) MCC is undefined and, as
    scikit-learn, 0.0 is returned; here with an ``UndefinedMetricWarning`` (scikit-learn is
    silent).

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Any two labels.

    Returns
    -------
    float

    Examples
    --------
    >>> matthews_corrcoef([0, 1, 1, 0], [0, 1, 1, 0])
    1.0
    >>> round(matthews_corrcoef([0, 1, 1, 0, 1], [0, 1, 0, 0, 1]), 4)
    0.6667
    """
    tn, fp, fn, tp = _counts(y_true, y_pred, pos_label=None)
    denominator = math.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    if denominator == 0:
        warn_undefined(
            "MCC is ill-defined and being set to 0.0: a class is never present or never "
            "predicted (one of TP + FP, TP + FN, TN + FP, TN + FN is 0)"
        )
        return 0.0
    return (tp * tn - fp * fn) / denominator
