r"""Inverted dropout (chapter 5, "Regularization").

During training each unit is kept with probability :math:`1 - p` and the kept units are
scaled by :math:`1/(1-p)`, so the expected activation is unchanged:

.. math::

    m_i \sim \mathrm{Bernoulli}(1 - p),\qquad
    \tilde a_i = \frac{m_i\, a_i}{1 - p},\qquad
    \frac{\partial L}{\partial a_i} = \frac{m_i}{1 - p}\,\frac{\partial L}{\partial \tilde a_i}

A different random mask is drawn at every training step, so every step trains a different
"thinned" network. At evaluation dropout is off: the layer is the identity (no rescaling
needed, which is the point of the *inverted* form). ``p = 0.5`` is the usual starting point
between dense layers.
"""

from __future__ import annotations

import numpy as np

from coursekit._params import (
    ArrayLike,
    Boolean,
    InstanceOf,
    Integral,
    Interval,
    Real,
    validate_params,
)

_RATE = Interval(Real, 0, 1, closed="left")
_RNG = [InstanceOf(np.random.Generator, "a numpy Generator"), Interval(Integral, 0, None), None]

__all__ = ["Dropout", "dropout_backward", "dropout_forward"]


@validate_params(
    {"a": [ArrayLike(numeric=True)], "rate": [_RATE], "training": [Boolean()], "rng": _RNG}
)
def dropout_forward(a, rate: float, training: bool = True, rng=None):
    """Apply inverted dropout to activations ``a``.

    Parameters
    ----------
    a : array-like
        Activations of any shape.
    rate : float in [0, 1)
        Probability ``p`` of zeroing a unit.
    training : bool
        When False the input is returned unchanged (as a new array) with a mask of ones.
    rng : numpy.random.Generator or int or None
        Source of randomness; an int seeds a new generator.

    Returns
    -------
    out : ndarray, same shape as ``a``
    mask : ndarray, same shape as ``a``
        The scaled mask ``m / (1 - p)``, needed by :func:`dropout_backward`.
    """
    rate = float(rate)
    a = np.asarray(a)
    a = a.astype(np.result_type(a, np.float32), copy=False)
    if not training or rate == 0.0:
        mask = np.ones_like(a)
    else:
        rng = np.random.default_rng(rng)
        keep = rng.random(a.shape) >= rate  # True with probability 1 - p
        mask = keep.astype(a.dtype) / (1.0 - rate)
    return a * mask, mask


@validate_params({"dout": [ArrayLike(numeric=True)], "mask": [ArrayLike(numeric=True)]})
def dropout_backward(dout, mask) -> np.ndarray:
    """Gradient through dropout: the upstream gradient times the same scaled mask."""
    dout, mask = np.asarray(dout), np.asarray(mask)
    if dout.shape != mask.shape:
        raise ValueError(f"dout has shape {dout.shape} but mask has shape {mask.shape}")
    return dout * mask


class Dropout:
    """A dropout layer with a train/eval switch and its own seeded generator.

    Examples
    --------
    >>> layer = Dropout(0.5, seed=0)
    >>> out = layer.forward(np.ones((2, 4)))      # training mode: zeros and 2.0s
    >>> sorted(set(out.ravel().tolist())) == [0.0, 2.0]
    True
    >>> layer.eval().forward(np.ones((2, 4))).tolist() == np.ones((2, 4)).tolist()
    True
    """

    @validate_params({"rate": [_RATE], "seed": [Interval(Integral, 0, None), None]})
    def __init__(self, rate: float, seed: int | None = None):
        self.rate = float(rate)
        self.training = True
        self._rng = np.random.default_rng(seed)
        self._mask = None

    def train(self) -> Dropout:
        self.training = True
        return self

    def eval(self) -> Dropout:
        self.training = False
        return self

    @validate_params({"a": [ArrayLike(numeric=True)]})
    def forward(self, a) -> np.ndarray:
        out, self._mask = dropout_forward(a, self.rate, self.training, self._rng)
        return out

    @validate_params({"dout": [ArrayLike(numeric=True)]})
    def backward(self, dout) -> np.ndarray:
        if self._mask is None:
            raise RuntimeError("backward() called before forward()")
        return dropout_backward(dout, self._mask)

    def __repr__(self) -> str:
        mode = "train" if self.training else "eval"
        return f"Dropout(rate={self.rate}, mode={mode!r})"
