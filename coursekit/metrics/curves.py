r"""ROC and precision-recall curves, AUC and average precision (chapter 1).

Both curves are built the way the lecture describes:

1. sort the predicted scores in descending order, :math:`p_1 \ge p_2 \ge \dots \ge p_n`;
2. for each distinct score :math:`t`, predict positive iff :math:`p \ge t`, count TP and FP;
3. plot :math:`(FPR(t), TPR(t))` for ROC or :math:`(recall(t), precision(t))` for PR.

Tied scores form one threshold (they cannot be separated), exactly as scikit-learn does.
"""

from __future__ import annotations

import warnings

import numpy as np

from coursekit.metrics._validation import (
    UndefinedMetricWarning,
    _as_1d,
    _same_length,
    binary_targets_and_scores,
    warn_undefined,
)

__all__ = [
    "auc",
    "average_precision_score",
    "counts_at_thresholds",
    "precision_recall_curve",
    "roc_auc_score",
    "roc_curve",
]


def counts_at_thresholds(y_true, y_score, pos_label=None):
    """False and true positive counts at every distinct score, from the highest down.

    Returns
    -------
    fps, tps : ndarray of shape (n_thresholds,), float64
        ``fps[i]``, ``tps[i]``: negatives and positives with score >= ``thresholds[i]``.
    thresholds : ndarray of shape (n_thresholds,)
        The distinct scores, decreasing.
    """
    t, s = binary_targets_and_scores(y_true, y_score, pos_label)
    order = np.argsort(s, kind="stable")[::-1]  # step 1: descending scores
    s, t = s[order], t[order]
    last_of_each_score = np.flatnonzero(s[1:] != s[:-1])  # ties share one threshold
    idx = np.append(last_of_each_score, len(s) - 1)
    tps = np.cumsum(t, dtype=np.float64)[idx]  # step 2: positives scored >= t
    fps = (idx + 1) - tps  # everything else scored >= t is a negative
    return fps, tps, s[idx]


def roc_curve(y_true, y_score, *, pos_label=None, drop_intermediate=True):
    r"""Receiver operating characteristic: TPR against FPR over all thresholds.

    .. math:: TPR(t) = \frac{TP(t)}{P},\qquad FPR(t) = \frac{FP(t)}{N} = 1 - \text{specificity}(t)

    The curve starts at (0, 0) with threshold ``inf``. With ``drop_intermediate``, points that
    lie on a straight line between their neighbours are dropped (they change neither the plot
    nor the area). The ideal point is the top-left corner (0, 1).

    Lesson: chapter 1, "Evaluating classifiers".

    Returns
    -------
    fpr, tpr, thresholds : ndarray of shape (n_points,)
        ``fpr`` is NaN (with a warning) when there is no negative sample, ``tpr`` when
        there is no positive one.

    Examples
    --------
    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    fps, tps, thresholds = counts_at_thresholds(y_true, y_score, pos_label)
    if drop_intermediate and len(fps) > 2:
        corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)
        keep = np.flatnonzero(np.concatenate(([True], corner, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.concatenate(([0.0], fps))
    tps = np.concatenate(([0.0], tps))
    thresholds = np.concatenate(([np.inf], thresholds))
    if fps[-1] <= 0:
        warn_undefined("No negative samples in y_true, false positive value should be meaningless")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warn_undefined("No positive samples in y_true, true positive value should be meaningless")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def precision_recall_curve(y_true, y_score, *, pos_label=None, drop_intermediate=False):
    r"""Precision against recall over all thresholds; the ideal point is the top-right (1, 1).

    .. math:: \text{precision}(t) = \frac{TP(t)}{TP(t) + FP(t)},\qquad
              \text{recall}(t) = \frac{TP(t)}{P}

    As scikit-learn, the arrays run from the lowest threshold to the highest, and a final
    point (recall 0, precision 1) with no threshold closes the curve. Unlike ROC, the PR
    curve ignores true negatives, so it stays informative when negatives vastly outnumber
    positives (imbalanced classes).

    Lesson: chapter 1, "Evaluating classifiers".

    Returns
    -------
    precision, recall : ndarray of shape (n_thresholds + 1,)
    thresholds : ndarray of shape (n_thresholds,), increasing
    """
    fps, tps, thresholds = counts_at_thresholds(y_true, y_score, pos_label)
    if drop_intermediate and len(fps) > 2:
        changes = (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0)
        keep = np.flatnonzero(np.concatenate(([True], changes, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    if tps[-1] == 0:
        warnings.warn(
            "No positive class found in y_true, recall is set to one for all thresholds.",
            UserWarning,
            stacklevel=2,
        )
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        thresholds[::-1],
    )


def auc(x, y) -> float:
    r"""Area under a curve by the trapezoidal rule, :math:`\sum_i (x_{i+1}-x_i)\frac{y_i+y_{i+1}}{2}`.

    ``x`` must be monotonic (increasing or decreasing). ``auc(fpr, tpr)`` is the ROC AUC:
    1 for a perfect classifier, 0.5 for random guessing.

    Lesson: chapter 1, "Evaluating classifiers".

    >>> auc([0, 0.5, 1], [0, 0.75, 1])
    0.625
    """
    x = _as_1d(x, "x").astype(np.float64)
    y = _as_1d(y, "y").astype(np.float64)
    _same_length(x, y, "x", "y")
    if len(x) < 2:
        raise ValueError(
            f"at least 2 points are needed to compute an area, got x of shape {x.shape}"
        )
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise ValueError(f"x is neither increasing nor decreasing: {x.tolist()[:20]}")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def roc_auc_score(y_true, y_score) -> float:
    r"""Area under the ROC curve: the probability that a random positive scores higher than a
    random negative (ties count one half).

    .. math:: \mathrm{AUC} = P(s^+ > s^-) + \tfrac12 P(s^+ = s^-)

    Undefined when ``y_true`` holds one class only: NaN with an ``UndefinedMetricWarning``
    (scikit-learn 1.9's convention).

    Lesson: chapter 1, "Evaluating classifiers".

    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    t, s = binary_targets_and_scores(y_true, y_score)
    n_pos = int(np.count_nonzero(t))
    if n_pos == 0 or n_pos == len(t):
        warn_undefined(
            "Only one class is present in y_true. ROC AUC score is not defined in that case."
        )
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        fpr, tpr, _ = roc_curve(t, s)
    return auc(fpr, tpr)


def average_precision_score(y_true, y_score, *, pos_label=1) -> float:
    r"""Average precision: precision at each threshold weighted by the gain in recall.

    .. math:: AP = \sum_n (R_n - R_{n-1}) P_n

    (no interpolation, as scikit-learn). With no positive sample it is 0.0 (recall is then
    set to 1 at every threshold, with a warning).

    Lesson: chapter 1, "Evaluating classifiers".

    >>> average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8333333333333333
    """
    t = _as_1d(y_true, "y_true")
    present = np.unique(t)
    if len(present) == 2 and pos_label not in present.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label: it should be one of {present.tolist()}"
        )
    precision, recall, _ = precision_recall_curve(t, y_score, pos_label=pos_label)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
