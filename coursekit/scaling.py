r"""Standardizing features and regression targets with training statistics only (chapter 7).

.. math:: \tilde x = \frac{x - \mu_{train}}{\sigma_{train}}, \qquad x = \tilde x\,\sigma_{train} + \mu_{train}

Fit on the training split, then apply the *same* :math:`\mu, \sigma` to validation and test.
Why: inputs and targets of order 1 keep gradients and the loss balanced and numerically safe
(a target in the thousands makes the MSE and its gradients huge), and statistics computed on
validation or test data would leak information about them into training.
"""

from __future__ import annotations

import numpy as np

from coursekit._params import ArrayLike, validate_params

_DATA = {"X": [ArrayLike(finite=True)]}

__all__ = ["Standardizer"]


class Standardizer:
    """Zero mean, unit variance per column, like ``sklearn.preprocessing.StandardScaler``.

    A column with zero variance is left centred but unscaled (:math:`\\sigma` taken as 1).
    A 1-D input (a target vector) is treated as one column and returned 1-D.
    """

    def __init__(self):
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    @validate_params(_DATA)
    def fit(self, X) -> Standardizer:
        X = self._2d(X, "fit")
        if len(X) == 0:
            raise ValueError("cannot fit a Standardizer on an empty array")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std == 0, 1.0, std)
        return self

    @validate_params(_DATA)
    def transform(self, X) -> np.ndarray:
        self._check_fitted()
        X0 = np.asarray(X, dtype=np.float64)
        out = (self._2d(X0, "transform") - self.mean_) / self.scale_
        return out.reshape(X0.shape)

    @validate_params(_DATA)
    def inverse_transform(self, X) -> np.ndarray:
        self._check_fitted()
        X0 = np.asarray(X, dtype=np.float64)
        out = self._2d(X0, "inverse_transform") * self.scale_ + self.mean_
        return out.reshape(X0.shape)

    @validate_params(_DATA)
    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def _2d(self, X, where) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if X.ndim != 2:
            raise ValueError(f"{where}: expected a 1-D or 2-D array, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{where}: input contains NaN or infinity")
        if self.mean_ is not None and where != "fit" and X.shape[1] != self.mean_.size:
            raise ValueError(
                f"{where}: expected {self.mean_.size} columns (as in fit), got {X.shape[1]}"
            )
        return X

    def _check_fitted(self):
        if self.mean_ is None:
            raise RuntimeError("Standardizer is not fitted: call fit() on the training data first")
