r"""Batch normalization: the training forward pass, the evaluation one, running statistics (chapter 9).

In training, each feature :math:`j` of a mini-batch :math:`X` (n, d) is standardized with the
batch's own mean and (biased) variance, then scaled and shifted by learned :math:`\gamma, \beta`:

.. math::

    \mu_j = \frac{1}{n}\sum_i x_{ij}, \qquad \sigma_j^2 = \frac{1}{n}\sum_i (x_{ij} - \mu_j)^2

.. math::

    \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, \qquad
    y_{ij} = \gamma_j \hat x_{ij} + \beta_j

and the running statistics used at evaluation move towards the batch's (momentum :math:`m`,
PyTorch's convention; torch keeps the *unbiased* variance there):

.. math::

    \bar\mu \leftarrow (1 - m)\,\bar\mu + m\,\mu, \qquad
    \bar\sigma^2 \leftarrow (1 - m)\,\bar\sigma^2 + m\,\frac{n}{n-1}\sigma^2

In evaluation the batch is not used for statistics at all: :math:`\hat x = (x - \bar\mu) /
\sqrt{\bar\sigma^2 + \epsilon}`, so one sample's output no longer depends on the others in its
batch. This matches ``torch.nn.BatchNorm1d(d, eps, momentum)`` in ``train()`` and ``eval()``
mode. (Keras' ``BatchNormalization(momentum=0.99)`` names the other weight: its momentum is
:math:`1 - m`, and it keeps the biased variance.)

numpy only. Lesson: chapter 9, "Training deep networks".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit._params import (
    ArrayLike,
    Boolean,
    InstanceOf,
    Integral,
    Interval,
    Real,
    validate_fields,
    validate_params,
)

__all__ = ["BatchNormStats", "batchnorm_forward"]


@validate_fields(
    {
        "mean": [ArrayLike(numeric=True, finite=True, ndim=1)],
        "var": [ArrayLike(numeric=True, finite=True, ndim=1, low=0)],
    }
)
@dataclass(frozen=True)
class BatchNormStats:
    """The running statistics of one batch-normalization layer (one entry per feature)."""

    mean: np.ndarray
    var: np.ndarray

    @classmethod
    @validate_params({"n_features": [Interval(Integral, 1, None)]})
    def initial(cls, n_features: int) -> BatchNormStats:
        """Mean 0 and variance 1, as torch and Keras start."""
        return cls(np.zeros(n_features), np.ones(n_features))


@validate_params(
    {
        "X": [ArrayLike(numeric=True, finite=True, ndim=2)],
        "gamma": [ArrayLike(numeric=True, finite=True, ndim=1)],
        "beta": [ArrayLike(numeric=True, finite=True, ndim=1)],
        "stats": [InstanceOf(BatchNormStats, example=lambda: BatchNormStats.initial(2))],
        "training": [Boolean()],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "eps": [Interval(Real, 0, None, closed="neither")],
    }
)
def batchnorm_forward(
    X, gamma, beta, stats: BatchNormStats, training: bool, momentum: float = 0.1, eps: float = 1e-5
) -> tuple[np.ndarray, BatchNormStats]:
    r"""One batch-normalization forward pass: the output (n, d) and the new running statistics.

    ``training=True`` normalizes with the batch's statistics and returns updated running
    statistics; ``training=False`` normalizes with ``stats`` and returns them unchanged.
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    for name, v in (("gamma", gamma), ("beta", beta), ("stats.mean", stats.mean)):
        if np.shape(v) != (d,):
            raise ValueError(
                f"{name} must have shape ({d},) for X of shape {X.shape}, got {np.shape(v)}"
            )
    if training and n < 2:
        raise ValueError(f"training needs a batch of at least 2 samples, got X of shape {X.shape}")
    if training:
        mu = X.mean(axis=0)  # (d,)
        var = X.var(axis=0)  # (d,), biased: divides by n
        unbiased = var * n / (n - 1)
        new = BatchNormStats(
            (1 - momentum) * stats.mean + momentum * mu,
            (1 - momentum) * stats.var + momentum * unbiased,
        )
    else:
        mu, var, new = stats.mean, stats.var, stats
    X_hat = (X - mu) / np.sqrt(var + eps)  # (n, d)
    return np.asarray(gamma) * X_hat + np.asarray(beta), new
