"""The binary confusion matrix: the four counts every other score is built from (chapter 1)."""

from __future__ import annotations

import numpy as np

from coursekit._params import ArrayLike, Options, validate_params
from coursekit.metrics._validation import (
    LABELS,
    binary_labels,
    check_same_length,
    column,
    default_labels,
)

__all__ = ["confusion_counts", "confusion_matrix"]

_NORMALIZE = (None, "true", "pred", "all")
_BOOLS = ArrayLike(ndim=1)


@validate_params({"t": [_BOOLS], "p": [_BOOLS]})
def confusion_counts(t: np.ndarray, p: np.ndarray) -> tuple[int, int, int, int]:
    """``(tn, fp, fn, tp)`` of validated boolean labels, as Python ints (no overflow later)."""
    codes = 2 * t.view(np.uint8) + p.view(np.uint8)  # (n,) in {0: TN, 1: FP, 2: FN, 3: TP}
    tn, fp, fn, tp = np.bincount(codes, minlength=4)
    return int(tn), int(fp), int(fn), int(tp)


@validate_params(
    {
        "y_true": [LABELS],
        "y_pred": [LABELS],
        "labels": [ArrayLike(), None],
        "normalize": [Options(_NORMALIZE[1:]), None],
    }
)
def confusion_matrix(y_true, y_pred, *, labels=None, normalize=None) -> np.ndarray:
    r"""Binary confusion matrix: rows are the actual class, columns the predicted one.

    .. math::

        C = \begin{pmatrix} TN & FP \\ FN & TP \end{pmatrix},
        \qquad P = TP + FN, \quad N = FP + TN

    Always 2x2, even when only one class occurs (scikit-learn then returns 1x1 unless given
    ``labels``); ``C.ravel()`` is ``tn, fp, fn, tp``.

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Actual and predicted labels: {0, 1}, {False, True}, {-1, 1} or any two labels (sorted
        as scikit-learn does, the larger one positive).
    labels : array-like of shape (2,), optional
        ``[negative, positive]``: the order of rows and columns, as scikit-learn's ``labels``.
        Needed when a single label other than 0, 1, -1 occurs.
    normalize : {None, "true", "pred", "all"}
        Divide by the row sums (actual class), column sums (predicted class) or the total;
        a row or column with no samples gives 0, as scikit-learn.

    Returns
    -------
    C : ndarray of shape (2, 2)
        int64 counts, or float64 fractions with ``normalize``.

    Examples
    --------
    The lecture's worked check:

    >>> confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0])
    array([[0, 2],
           [1, 1]])
    >>> tn, fp, fn, tp = confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0]).ravel().tolist()
    >>> tn, fp, fn, tp
    (0, 2, 1, 1)
    """
    if labels is None:
        t, p = column(y_true, "y_true"), column(y_pred, "y_pred")
        check_same_length(t, p, "y_true", "y_pred")
        labels = default_labels(t, p)
    t, p = binary_labels(y_true, y_pred, labels=labels)  # (n,) bools, True = labels[1]
    tn, fp, fn, tp = confusion_counts(t, p)
    cm = np.array([[tn, fp], [fn, tp]], dtype=np.int64)
    if normalize is None:
        return cm
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)  # each row: a fraction of P or N
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        else:
            cm = cm / cm.sum()
    return np.nan_to_num(cm)
