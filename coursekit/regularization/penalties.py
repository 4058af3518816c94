r"""L1 and L2 weight penalties and their gradients (chapter 5, "Regularization").

The regularized loss is :math:`L' = L + \lambda R(w)` with

.. math::

    R_{L1}(w) = \sum_i |w_i|, \quad \frac{\partial R_{L1}}{\partial w_i} = \operatorname{sign}(w_i)

    R_{L2}(w) = \sum_i w_i^2, \quad \frac{\partial R_{L2}}{\partial w_i} = 2 w_i

(:math:`\operatorname{sign}(0) = 0`, the subgradient frameworks use). These match Keras'
``kernel_regularizer=keras.regularizers.l1(λ)`` / ``l2(λ)``. PyTorch's ``weight_decay=wd``
instead adds :math:`wd\cdot w` to the gradient, which is the L2 penalty with
:math:`\lambda = wd / 2`.

Biases are usually not penalized (a bias does not make the function wiggle, it shifts it):
with ``include_biases=False`` (the default) every 1-D array in ``params`` is treated as a
bias and skipped, every array of 2 or more dimensions is a weight matrix.

A NaN or infinite weight raises a ``ValueError`` naming it (a penalty of NaN would only
surface later, as a NaN loss).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from coursekit._params import ArrayDict, Boolean, Interval, Real, validate_params

_PENALTY = {
    "params": [ArrayDict(finite=True)],
    "lam": [Interval(Real, 0, None, closed="left")],
    "include_biases": [Boolean()],
}

__all__ = ["l1_grad", "l1_penalty", "l2_grad", "l2_penalty"]


@validate_params(_PENALTY)
def l1_penalty(params: Mapping[str, np.ndarray], lam: float, include_biases: bool = False) -> float:
    r""":math:`\lambda \sum |w|` over the penalized arrays of ``params``."""
    return lam * sum(float(np.abs(w).sum()) for w in _penalized(params, lam, include_biases))


@validate_params(_PENALTY)
def l2_penalty(params: Mapping[str, np.ndarray], lam: float, include_biases: bool = False) -> float:
    r""":math:`\lambda \sum w^2` over the penalized arrays of ``params``."""
    return lam * sum(float(np.square(w).sum()) for w in _penalized(params, lam, include_biases))


@validate_params(_PENALTY)
def l1_grad(
    params: Mapping[str, np.ndarray], lam: float, include_biases: bool = False
) -> dict[str, np.ndarray]:
    r"""Gradient of :func:`l1_penalty`: :math:`\lambda\,\operatorname{sign}(w)`, zeros for skipped arrays."""
    return _grad(params, lam, include_biases, lambda w: lam * np.sign(w))


@validate_params(_PENALTY)
def l2_grad(
    params: Mapping[str, np.ndarray], lam: float, include_biases: bool = False
) -> dict[str, np.ndarray]:
    r"""Gradient of :func:`l2_penalty`: :math:`2\lambda w`, zeros for skipped arrays."""
    return _grad(params, lam, include_biases, lambda w: 2.0 * lam * w)


def _is_penalized(value: np.ndarray, include_biases: bool) -> bool:
    return include_biases or np.ndim(value) >= 2


def _penalized(params, lam, include_biases):
    return [np.asarray(v) for v in params.values() if _is_penalized(np.asarray(v), include_biases)]


def _grad(params, lam, include_biases, fn):
    out = {}
    for name, value in params.items():
        value = np.asarray(value, dtype=np.result_type(value, np.float32))
        out[name] = fn(value) if _is_penalized(value, include_biases) else np.zeros_like(value)
    return out
