"""The binary confusion matrix (chapter 1, "Evaluating classifiers")."""

from __future__ import annotations

import numpy as np

from coursekit.metrics._validation import binary_labels

__all__ = ["confusion_matrix", "counts"]


def counts(y_true, y_pred, pos_label=1) -> tuple[int, int, int, int]:
    """``(tn, fp, fn, tp)`` of binary labels; ``pos_label`` names the positive class."""
    t, p = binary_labels(y_true, y_pred, pos_label)
    tn, fp, fn, tp = np.bincount(2 * t.view(np.uint8) + p.view(np.uint8), minlength=4)
    return int(tn), int(fp), int(fn), int(tp)


def confusion_matrix(y_true, y_pred, *, pos_label=1) -> np.ndarray:
    r"""Binary confusion matrix ``[[TN, FP], [FN, TP]]`` (rows: actual, columns: predicted).

    .. math::

        \begin{pmatrix} TN & FP \\ FN & TP \end{pmatrix},\qquad P = TP + FN,\quad N = FP + TN

    Always 2x2 for binary labels, even when only one class occurs (scikit-learn then
    returns 1x1 unless given ``labels=[0, 1]``).

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels in {0, 1}, {False, True}, or two values with ``pos_label`` naming the positive.

    Returns
    -------
    ndarray of shape (2, 2), int64

    Examples
    --------
    The lecture's check:

    >>> tn, fp, fn, tp = confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0]).ravel()
    >>> (int(tn), int(fp), int(fn), int(tp))
    (0, 2, 1, 1)
    """
    tn, fp, fn, tp = counts(y_true, y_pred, pos_label)
    return np.array([[tn, fp], [fn, tp]], dtype=np.int64)
