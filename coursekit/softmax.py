r"""Softmax, log-sum-exp and cross-entropy from logits, with its gradient (chapter 9).

For several classes a network outputs one **logit** :math:`z_k` per class; softmax turns them
into probabilities and categorical cross-entropy scores the probability of the true class:

.. math::

    \operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}, \qquad
    L = -\frac{1}{n}\sum_{i=1}^{n} \log \operatorname{softmax}(z_i)_{y_i}

Its gradient with respect to the logits is the famous difference (one row per sample):

.. math::

    \frac{\partial L}{\partial z_i} = \frac{1}{n}\left(\operatorname{softmax}(z_i)
    - \operatorname{onehot}(y_i)\right)

**The log-sum-exp trick.** :math:`e^{z}` overflows for :math:`z > 709` in float64 (88 in
float32), and :math:`\log \sum_j e^{z_j}` underflows to :math:`-\infty` when every logit is very
negative. Subtracting the largest logit :math:`m = \max_j z_j` changes nothing mathematically
and keeps every exponent :math:`\le 0`:

.. math::

    \log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m}, \qquad
    \log \operatorname{softmax}(z)_k = z_k - \log \sum_j e^{z_j}

That is why frameworks take logits: ``torch.nn.functional.cross_entropy(logits, y)``,
``keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` and, for two classes,
``torch.nn.BCEWithLogitsLoss`` compute the loss with this trick, where applying softmax (or the
sigmoid) first and then a logarithm loses every digit once a probability rounds to 0 or 1.
For one logit per sample and labels :math:`y \in \{0, 1\}`:

.. math::

    \ell(z, y) = -y \log \sigma(z) - (1-y)\log(1-\sigma(z))
               = \max(z, 0) - z y + \log\left(1 + e^{-|z|}\right)

numpy only. Lesson: chapter 9, "Training deep networks".
"""

from __future__ import annotations

import numpy as np

from coursekit._params import ArrayLike, Integral, Interval, validate_params

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "cross_entropy_grad",
    "log_softmax",
    "logsumexp",
    "softmax",
]

_LOGITS = [ArrayLike(numeric=True, finite=True, ndim=2)]
_AXIS = [Interval(Integral, None, None)]
_Y = [ArrayLike(ndim=1, example=lambda: np.array([0, 1]))]


def _labels(logits: np.ndarray, y) -> np.ndarray:
    """``y`` as integer class indices, one per row of ``logits`` (refused with the value)."""
    y = np.asarray(y)
    if y.shape != (logits.shape[0],):
        raise ValueError(
            f"y must hold one label per row of logits {logits.shape}, got shape {y.shape}"
        )
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}")
    n_classes = logits.shape[1]
    bad = (y < 0) | (y >= n_classes)
    if bad.any():
        raise ValueError(f"y must hold class indices in [0, {n_classes}), got {y[bad][0].item()!r}")
    return y


@validate_params({"z": [ArrayLike(numeric=True, finite=True)], "axis": _AXIS})
def logsumexp(z, axis: int = -1) -> np.ndarray:
    r"""log(sum(exp(z))) along ``axis``, computed as m + log(sum(exp(z - m))), m = max(z)."""
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)  # the largest logit: every exponent below is <= 0
    return np.squeeze(m, axis=axis) + np.log(np.exp(z - m).sum(axis=axis))


@validate_params({"z": [ArrayLike(numeric=True, finite=True)], "axis": _AXIS})
def log_softmax(z, axis: int = -1) -> np.ndarray:
    r""":math:`z_k - \log\sum_j e^{z_j}`: the log-probabilities, finite for any finite logits."""
    z = np.asarray(z, dtype=float)
    return z - np.expand_dims(logsumexp(z, axis=axis), axis)


@validate_params({"z": [ArrayLike(numeric=True, finite=True)], "axis": _AXIS})
def softmax(z, axis: int = -1) -> np.ndarray:
    r""":math:`e^{z_k - m} / \sum_j e^{z_j - m}` with :math:`m = \max_j z_j` (no overflow)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@validate_params({"logits": _LOGITS, "y": _Y})
def cross_entropy(logits, y) -> float:
    r"""Mean categorical cross-entropy of integer labels ``y`` (n,) from ``logits`` (n, C)."""
    logits = np.asarray(logits, dtype=float)
    y = _labels(logits, y)
    log_p = log_softmax(logits, axis=1)  # (n, C)
    return float(-log_p[np.arange(len(y)), y].mean())


@validate_params({"logits": _LOGITS, "y": _Y})
def cross_entropy_grad(logits, y) -> np.ndarray:
    r"""Gradient of the cross-entropy with respect to the logits: (softmax - onehot) / n."""
    logits = np.asarray(logits, dtype=float)
    y = _labels(logits, y)
    n, n_classes = logits.shape
    onehot = np.eye(n_classes)[y]  # (n, C)
    return (softmax(logits, axis=1) - onehot) / n


@validate_params(
    {"z": [ArrayLike(numeric=True, finite=True, ndim=1)], "y": [ArrayLike(numeric=True, ndim=1)]}
)
def binary_cross_entropy_with_logits(z, y) -> float:
    r"""Mean binary cross-entropy from logits: :math:`\max(z,0) - zy + \log(1 + e^{-|z|})`."""
    z = np.asarray(z, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.shape != z.shape:
        raise ValueError(f"y must have the shape of z {z.shape}, got {y.shape}")
    if not np.all((y >= 0) & (y <= 1)):
        raise ValueError(
            f"y must hold labels in [0, 1], got {y[~((y >= 0) & (y <= 1))][0].item()!r}"
        )
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
