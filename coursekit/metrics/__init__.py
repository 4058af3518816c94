"""Binary classification metrics with scikit-learn's signatures and results (chapter 1).

numpy only: neither scikit-learn nor scipy is imported. Notation of the lesson: TP, FN, FP,
TN; P = TP + FN actual positives, N = FP + TN actual negatives.

Counts
    :func:`confusion_matrix` -- ``[[TN, FP], [FN, TP]]``, always 2x2.
Scores from labels (higher is better)
    :func:`accuracy_score`, :func:`precision_score`, :func:`recall_score`,
    :func:`sensitivity_score` (= recall), :func:`specificity_score` (TN / N),
    :func:`f1_score`, :func:`matthews_corrcoef`.
Curves and scores from ranking scores
    :func:`roc_curve`, :func:`precision_recall_curve`, :func:`auc` (trapezoidal rule),
    :func:`roc_auc_score`, :func:`average_precision_score`.
Warning
    :class:`UndefinedMetricWarning` -- a metric was undefined (a zero denominator, one
    class only) and set by scikit-learn's convention.

Bad input (different lengths, non-binary labels, labels that mix strings and numbers, NaN or
infinite scores or curve points, empty input, a flag that is not a bool, an option that is
not one of the options) raises ``ValueError`` naming the parameter and showing the value.
"""

from coursekit.metrics._validation import UndefinedMetricWarning
from coursekit.metrics.confusion import confusion_matrix
from coursekit.metrics.curves import (
    auc,
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from coursekit.metrics.scores import (
    accuracy_score,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    sensitivity_score,
    specificity_score,
)

__all__ = [
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "average_precision_score",
    "confusion_matrix",
    "f1_score",
    "matthews_corrcoef",
    "precision_recall_curve",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
    "sensitivity_score",
    "specificity_score",
]
