"""Binary classification metrics and curves, with scikit-learn's signatures and results (chapter 1).

numpy only. Counts: :func:`confusion_matrix` ``[[TN, FP], [FN, TP]]``.
Scores: :func:`accuracy_score`, :func:`precision_score`, :func:`recall_score`,
:func:`sensitivity_score` (= recall), :func:`specificity_score`, :func:`f1_score`,
:func:`matthews_corrcoef`. Curves: :func:`roc_curve`, :func:`precision_recall_curve`,
:func:`auc`, :func:`roc_auc_score`, :func:`average_precision_score`.

Bad input (different lengths, non-binary labels, NaN or infinite scores, empty input) raises
``ValueError`` naming the problem; undefined cases follow scikit-learn's convention and warn
with :class:`UndefinedMetricWarning`.
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
