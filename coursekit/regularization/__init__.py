"""Regularization (chapter 5): L1/L2 penalties, inverted dropout, early stopping.

- :mod:`~coursekit.regularization.penalties`: ``l1_penalty``, ``l1_grad``, ``l2_penalty``, ``l2_grad``
- :mod:`~coursekit.regularization.dropout`: ``dropout_forward``, ``dropout_backward``, ``Dropout``
- :mod:`~coursekit.regularization.early_stopping`: ``EarlyStopping``
"""

from coursekit.regularization.dropout import Dropout, dropout_backward, dropout_forward
from coursekit.regularization.early_stopping import EarlyStopping
from coursekit.regularization.penalties import l1_grad, l1_penalty, l2_grad, l2_penalty

__all__ = [
    "Dropout",
    "EarlyStopping",
    "dropout_backward",
    "dropout_forward",
    "l1_grad",
    "l1_penalty",
    "l2_grad",
    "l2_penalty",
]
