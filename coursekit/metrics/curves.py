r"""ROC and precision-recall curves, the area under a curve, ROC AUC and average precision.

Both curves sweep a threshold :math:`t` over the scores, as the lecture describes:

1. take each distinct score as a threshold, from the highest down;
2. predict positive iff score :math:`\ge t` and count :math:`TP(t)` and :math:`FP(t)`;
3. plot :math:`(FPR, TPR) = (FP/N, TP/P)` for ROC, :math:`(TP/P, TP/(TP+FP))` for PR.

Tied scores cannot be separated by any threshold, so they make one point: the results are
scikit-learn's, tie for tie (its stable descending sort gives the same counts at every
distinct score; here they are counted with two plain sorts and a binary search).

Lesson: chapter 1, "Evaluating classifiers".
"""

from __future__ import annotations

import numpy as np

from coursekit._params import ArrayLike, Interval, Real, validate_params
from coursekit.metrics._validation import (
    FLAG,
    LABELS,
    POS_LABEL,
    SCORES,
    binary_target,
    check_same_length,
    column,
    finite_scores,
    larger_label_positive,
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


@validate_params({"t": [ArrayLike(ndim=1)], "s": [ArrayLike(finite=True, ndim=1)]})
def counts_at_thresholds(t: np.ndarray, s: np.ndarray):
    """False and true positive counts at every distinct score, from the highest down.

    Parameters
    ----------
    t : ndarray of shape (n,), bool
        True for the positive class (validated).
    s : ndarray of shape (n,), float64
        Finite scores (validated).

    Returns
    -------
    fps, tps : ndarray of shape (m,), float64
        Negatives and positives scoring >= ``thresholds[i]``; both increase.
    thresholds : ndarray of shape (m,), float64
        The m distinct scores, decreasing.
    """
    ascending = np.sort(s)  # (n,)
    new_value = np.concatenate(([True], ascending[1:] != ascending[:-1]))  # (n,)
    first = np.flatnonzero(new_value)  # (m,) where each run of tied scores starts
    distinct = ascending[first]  # (m,) increasing
    at_or_above = len(s) - first  # (m,) samples scoring >= each distinct score
    positive_scores = np.sort(s[t])  # (P,)
    below = np.searchsorted(positive_scores, distinct, side="left")  # (m,) positives scoring <
    tps = len(positive_scores) - below  # (m,) positives scoring >=: TP(t)
    fps = at_or_above - tps  # (m,) negatives scoring >=: FP(t)
    return fps[::-1].astype(np.float64), tps[::-1].astype(np.float64), distinct[::-1]


def _drop_collinear(fps, tps, thresholds):
    """Keep the ends and every corner of the ROC polyline (scikit-learn's drop_intermediate)."""
    if len(fps) <= 2:
        return fps, tps, thresholds
    corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)  # (m - 2,)
    keep = np.concatenate(([True], corner, [True]))
    return fps[keep], tps[keep], thresholds[keep]


def _roc(t, s, drop_intermediate):
    fps, tps, thresholds = counts_at_thresholds(t, s)
    if drop_intermediate:
        fps, tps, thresholds = _drop_collinear(fps, tps, thresholds)
    fps = np.concatenate(([0.0], fps))  # the curve starts at (0, 0): nothing predicted positive
    tps = np.concatenate(([0.0], tps))
    thresholds = np.concatenate(([np.inf], thresholds))
    return fps, tps, thresholds


@validate_params(
    {
        "y_true": [LABELS],
        "y_score": [SCORES],
        "pos_label": [POS_LABEL, None],
        "drop_intermediate": [FLAG],
    }
)
def roc_curve(y_true, y_score, *, pos_label=None, drop_intermediate=True):
    r"""Receiver operating characteristic: true against false positive rate, every threshold.

    .. math::

        TPR(t) = \frac{TP(t)}{P}, \qquad FPR(t) = \frac{FP(t)}{N} = 1 - \mathrm{specificity}(t)

    where :math:`TP(t)` and :math:`FP(t)` count the samples scoring :math:`\ge t`. The
    ideal classifier passes through the top-left corner (0, 1); random guessing follows the
    diagonal.

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        {0, 1}, {-1, 1}, {False, True}, or two labels with ``pos_label`` given.
    y_score : array-like of shape (n_samples,)
        Finite scores, higher meaning more likely positive (probabilities or margins).
    pos_label : int, bool or str, optional
        The positive class; 1 by default.
    drop_intermediate : bool, default=True
        Drop thresholds whose point lies on a straight segment between its neighbours; they
        change neither the plot nor the area.

    Returns
    -------
    fpr, tpr : ndarray of shape (n_points,)
        Increasing, from (0, 0) to (1, 1). All NaN, with an ``UndefinedMetricWarning``,
        when there is no negative (``fpr``) or no positive (``tpr``) sample.
    thresholds : ndarray of shape (n_points,)
        Decreasing: ``np.inf`` (predict nothing positive, as scikit-learn >= 1.3), then the
        distinct scores kept.

    Examples
    --------
    >>> fpr, tpr, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist(), thresholds.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], [inf, 0.8, 0.4, 0.35, 0.1])
    """
    t = binary_target(y_true, pos_label)  # (n,) bool
    s = finite_scores(y_score, len(t))  # (n,) float64
    fps, tps, thresholds = _roc(t, s, drop_intermediate)
    if fps[-1] <= 0:
        warn_undefined("No negative samples in y_true, false positive value should be meaningless")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]  # fps[-1] = N
    if tps[-1] <= 0:
        warn_undefined("No positive samples in y_true, true positive value should be meaningless")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]  # tps[-1] = P
    return fpr, tpr, thresholds


def _precision_recall(t, s, drop_intermediate):
    fps, tps, thresholds = counts_at_thresholds(t, s)
    if drop_intermediate and len(fps) > 2:
        # keep the first and last point of each run of equal TP (a vertical segment of the plot)
        changes = (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0)  # (m - 2,)
        keep = np.concatenate(([True], changes, [True]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    if tps[-1] == 0:
        warn_undefined(
            "No positive class found in y_true, recall is set to one for all thresholds.", 3
        )
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    # increasing thresholds, then the point (recall 0, precision 1) that has no threshold
    precision = np.concatenate((precision[::-1], [1.0]))
    recall = np.concatenate((recall[::-1], [0.0]))
    return precision, recall, thresholds[::-1]


@validate_params(
    {
        "y_true": [LABELS],
        "y_score": [SCORES],
        "pos_label": [POS_LABEL, None],
        "drop_intermediate": [FLAG],
    }
)
def precision_recall_curve(y_true, y_score, *, pos_label=None, drop_intermediate=False):
    r"""Precision against recall, every threshold; the ideal point is the top-right (1, 1).

    .. math::

        \mathrm{precision}(t) = \frac{TP(t)}{TP(t) + FP(t)}, \qquad
        \mathrm{recall}(t) = \frac{TP(t)}{P}

    Unlike ROC, the curve ignores true negatives: it stays informative when negatives vastly
    outnumber positives.

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        {0, 1}, {-1, 1}, {False, True}, or two labels with ``pos_label`` given.
    y_score : array-like of shape (n_samples,)
        Finite scores, higher meaning more likely positive.
    pos_label : int, bool or str, optional
        The positive class; 1 by default.
    drop_intermediate : bool, default=False
        Drop thresholds inside a run of equal recall (keeping its first and last point).

    Returns
    -------
    precision, recall : ndarray of shape (n_thresholds + 1,)
        In scikit-learn's order: from the lowest threshold up, then a last point
        (precision 1, recall 0) with no threshold. Precision is 0 where nothing is predicted
        positive. With no positive sample, recall is 1 everywhere (with a warning).
    thresholds : ndarray of shape (n_thresholds,)
        The distinct scores kept, increasing.

    Examples
    --------
    >>> precision, recall, thresholds = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> precision.round(3).tolist(), recall.tolist(), thresholds.tolist()
    ([0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8])
    """
    t = binary_target(y_true, pos_label)  # (n,) bool
    s = finite_scores(y_score, len(t))  # (n,) float64
    return _precision_recall(t, s, drop_intermediate)


@validate_params({"x": [ArrayLike()], "y": [ArrayLike()]})
def auc(x, y) -> float:
    r"""Area under a curve through the points ``(x, y)``, by the trapezoidal rule.

    .. math:: A = \sum_{i=1}^{n-1} (x_{i+1} - x_i)\,\frac{y_i + y_{i+1}}{2}

    ``x`` must be monotonic: increasing, or decreasing (then the sign is flipped so that the
    area is positive). ``auc(fpr, tpr)`` of :func:`roc_curve` is the ROC AUC.

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    x, y : array-like of shape (n_points,)
        At least 2 points; finite numbers (NaN or infinity raise a ``ValueError``).

    Returns
    -------
    float

    Examples
    --------
    >>> auc([0, 0.5, 1], [0, 0.75, 1])
    0.625
    """
    x, y = _points(x, "x"), _points(y, "y")
    check_same_length(x, y, "x", "y")
    if len(x) < 2:
        raise ValueError(f"at least 2 points are needed to compute an area, got x = {x.tolist()}")
    dx = np.diff(x)  # (n - 1,)
    direction = 1.0
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError(f"x is neither increasing nor decreasing: {x.tolist()[:20]}")
        direction = -1.0
    return float(direction * (dx * (y[1:] + y[:-1]) / 2.0).sum())


def _points(values, name: str) -> np.ndarray:
    """Coordinates of a curve: numeric, finite, 1-D, as float64."""
    arr = column(values, name)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}: {arr.tolist()[:5]}")
    arr = arr.astype(np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValueError(f"{name} contains NaN or infinity: {arr[~finite].tolist()[:5]}")
    return arr


@validate_params(
    {
        "y_true": [LABELS],
        "y_score": [SCORES],
        "max_fpr": [Interval(Real, 0, 1, closed="right"), None],
    }
)
def roc_auc_score(y_true, y_score, *, max_fpr=None) -> float:
    r"""Area under the ROC curve: how well the scores rank positives above negatives.

    .. math:: \mathrm{AUC} = P(s^+ > s^-) + \tfrac{1}{2} P(s^+ = s^-)

    for the score :math:`s^+` of a random positive and :math:`s^-` of a random negative:
    1 for a perfect ranking, 0.5 for random guessing. As scikit-learn, the larger of the two
    labels is the positive class, and with ``max_fpr`` the partial area up to that FPR is
    standardized (McClish) so that 0.5 is still chance and 1 perfect.

    Undefined when ``y_true`` holds one class only: NaN with an ``UndefinedMetricWarning``,
    as scikit-learn 1.9 (which no longer raises).

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Two labels; the larger one is positive.
    y_score : array-like of shape (n_samples,)
        Finite scores, higher meaning more likely positive.
    max_fpr : float in (0, 1], optional
        Standardized partial AUC over ``FPR <= max_fpr``.

    Returns
    -------
    float

    Examples
    --------
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    t = larger_label_positive(y_true)  # (n,) bool
    s = finite_scores(y_score, len(t))  # (n,) float64
    n_pos = int(np.count_nonzero(t))
    if n_pos in (0, len(t)):
        warn_undefined(
            "Only one class is present in y_true. ROC AUC score is not defined in that case."
        )
        return float("nan")
    fps, tps, _ = _roc(t, s, drop_intermediate=True)
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    if max_fpr is None or max_fpr == 1:
        return auc(fpr, tpr)
    # cut the curve at FPR = max_fpr, with a point interpolated on the segment crossing it
    stop = np.searchsorted(fpr, max_fpr, side="right")
    tpr_cut = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    partial = auc(np.append(fpr[:stop], max_fpr), np.append(tpr[:stop], tpr_cut))
    chance, perfect = max_fpr**2 / 2, max_fpr  # the partial areas of the diagonal and the corner
    return float(0.5 * (1 + (partial - chance) / (perfect - chance)))


@validate_params({"y_true": [LABELS], "y_score": [SCORES], "pos_label": [POS_LABEL]})
def average_precision_score(y_true, y_score, *, pos_label=1) -> float:
    r"""Average precision: the precision at each threshold, weighted by the recall it adds.

    .. math:: AP = \sum_n (R_n - R_{n-1})\, P_n

    over the thresholds from the highest down (:math:`R_0 = 0`); no interpolation, as
    scikit-learn. It summarizes the PR curve; a random ranking scores about :math:`P/(P+N)`.
    With no positive sample it is 0.0 (recall is then set to 1, with a warning).

    Lesson: chapter 1, "Evaluating classifiers".

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        {0, 1}, {-1, 1}, {False, True}, or two labels with ``pos_label`` one of them.
    y_score : array-like of shape (n_samples,)
        Finite scores, higher meaning more likely positive.
    pos_label : int, bool or str, default=1
        The positive class.

    Returns
    -------
    float

    Examples
    --------
    >>> round(average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    t = binary_target(y_true, pos_label, strict=True)  # (n,) bool
    s = finite_scores(y_score, len(t))  # (n,) float64
    precision, recall, _ = _precision_recall(t, s, drop_intermediate=False)
    # recall decreases along the arrays: -diff(recall) are the gains R_n - R_{n-1}
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
