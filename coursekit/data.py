"""Data sets that need no download: generated, or shipped inside scikit-learn (chapter 7).

Every loader returns a :class:`Split` of seeded, stratified (for classification)
train/validation/test parts. scikit-learn is imported inside the functions.

=================  =======  ========  =========================================
name               samples  features  what
=================  =======  ========  =========================================
``xor``            4 or n   2         the lecture's XOR, or noisy copies of it
``moons``          n        2         two interleaving half circles
``circles``        n        2         a circle inside a circle
``breast_cancer``  569      30        Wisconsin diagnostic, binary (ships with sklearn)
``digits``         1797     64        8x8 handwritten digits, 10 classes (ships with sklearn)
``diabetes``       442      10        disease progression, regression (ships with sklearn)
=================  =======  ========  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit._params import (
    ArrayLike,
    Boolean,
    Integral,
    Interval,
    Options,
    Real,
    validate_fields,
    validate_params,
)

_FRACTION = Interval(Real, 0, 1, closed="left")
_SEED = Interval(Integral, 0, None)

__all__ = ["DATASETS", "REGRESSION", "Split", "load", "split"]


_SPLIT_X = [ArrayLike(numeric=True, ndim=2)]
_SPLIT_Y = [ArrayLike(ndim=1)]


@validate_fields(
    {
        "X_train": _SPLIT_X,
        "y_train": _SPLIT_Y,
        "X_val": _SPLIT_X,
        "y_val": _SPLIT_Y,
        "X_test": _SPLIT_X,
        "y_test": _SPLIT_Y,
    }
)
@dataclass(frozen=True)
class Split:
    """Train / validation / test arrays of one data set."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(np.unique(np.concatenate([self.y_train, self.y_val, self.y_test])).size)


def _xor(n_samples: int, noise: float, seed: int):
    from coursekit import xor

    X, y = xor.dataset()
    if n_samples == 4 and noise == 0:
        return X, y
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 4, size=n_samples)
    return X[idx] + noise * rng.normal(size=(n_samples, 2)), y[idx]


def _moons(n_samples, noise, seed):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n_samples, noise=noise, random_state=seed)


def _circles(n_samples, noise, seed):
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)


def _breast_cancer(n_samples, noise, seed):
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def _digits(n_samples, noise, seed):
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _diabetes(n_samples, noise, seed):
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


#: Data sets whose target is a real number (not stratified, targets kept as float).
REGRESSION = ("diabetes",)

DATASETS = {
    "xor": _xor,
    "moons": _moons,
    "circles": _circles,
    "breast_cancer": _breast_cancer,
    "digits": _digits,
    "diabetes": _diabetes,
}


@validate_params(
    {
        "X": [ArrayLike(numeric=True)],
        "y": [ArrayLike()],
        "val_size": [_FRACTION],
        "test_size": [_FRACTION],
        "seed": [_SEED],
        "stratify": [Boolean()],
    }
)
def split(X, y, val_size=0.2, test_size=0.2, seed=0, stratify=True) -> Split:
    """Seeded train/validation/test split; fractions are of the whole data set."""
    from sklearn.model_selection import train_test_split

    if val_size + test_size >= 1:
        raise ValueError(f"val_size + test_size must be < 1, got {val_size + test_size!r}")
    X, y = np.asarray(X), np.asarray(y)
    strat = y if stratify else None
    if test_size > 0:
        X_rest, X_test, y_rest, y_test = train_test_split(
            X, y, test_size=test_size, random_state=seed, stratify=strat
        )
    else:
        X_rest, y_rest, X_test, y_test = X, y, X[:0], y[:0]
    if val_size > 0:
        X_train, X_val, y_train, y_val = train_test_split(
            X_rest,
            y_rest,
            test_size=val_size / (1 - test_size),
            random_state=seed,
            stratify=y_rest if stratify else None,
        )
    else:
        X_train, y_train, X_val, y_val = X_rest, y_rest, X_rest[:0], y_rest[:0]
    return Split(X_train, y_train, X_val, y_val, X_test, y_test)


@validate_params(
    {
        "name": [Options(tuple(DATASETS))],
        "n_samples": [Interval(Integral, 4, None)],
        "noise": [Interval(Real, 0, None, closed="left")],
        "val_size": [_FRACTION],
        "test_size": [_FRACTION],
        "seed": [_SEED],
    }
)
def load(
    name: str,
    n_samples: int = 400,
    noise: float = 0.2,
    val_size: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
) -> Split:
    """Load or generate data set ``name`` and split it (``n_samples``/``noise`` for generated ones).

    Examples
    --------
    >>> s = load("moons", n_samples=100, seed=1)
    >>> s.X_train.shape, s.X_val.shape, s.X_test.shape
    ((60, 2), (20, 2), (20, 2))
    """
    X, y = DATASETS[name](n_samples, noise, seed)
    X = np.asarray(X, dtype=np.float64)
    if name in REGRESSION:
        return split(X, np.asarray(y, dtype=np.float64), val_size, test_size, seed, stratify=False)
    y = np.asarray(y).astype(np.int64)
    if name == "xor" and n_samples == 4 and noise == 0:
        return Split(X, y, X, y, X[:0], y[:0])  # the lecture trains and checks on all four
    return split(X, y, val_size, test_size, seed)
