"""Regularization (chapter 5): L1/L2 penalties, inverted dropout, early stopping.

- :mod:`~coursekit.regularization.penalties`: ``l1_penalty``, ``l1_grad``, ``l2_penalty``, ``l2_grad``
- :mod:`~coursekit.regularization.proximal`: ``soft_threshold``, ``l1_proximal`` (L1 by proximal steps)
- :mod:`~coursekit.regularization.dropout`: ``dropout_forward``, ``dropout_backward``, ``Dropout``
- :mod:`~coursekit.regularization.early_stopping`: ``EarlyStopping``
"""

from coursekit.regularization.dropout import Dropout, dropout_backward, dropout_forward
from coursekit.regularization.early_stopping import EarlyStopping
from coursekit.regularization.penalties import l1_grad, l1_penalty, l2_grad, l2_penalty
from coursekit.regularization.proximal import l1_proximal, soft_threshold

__all__ = [
    "Dropout",
    "EarlyStopping",
    "dropout_backward",
    "dropout_forward",
    "l1_grad",
    "l1_penalty",
    "l1_proximal",
    "l2_grad",
    "l2_penalty",
    "soft_threshold",
]
