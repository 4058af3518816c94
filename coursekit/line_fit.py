r"""Gradient descent on a line: the lecture's first worked example (chapters 2 and 9).

A linear model :math:`f(x) = \phi_0 + \phi_1 x` with the squared loss summed over the samples:

.. math:: L(\phi) = \sum_i (\phi_0 + \phi_1 x_i - y_i)^2

.. math::

    \frac{\partial L}{\partial \phi_0} = \sum_i 2(\phi_0 + \phi_1 x_i - y_i), \qquad
    \frac{\partial L}{\partial \phi_1} = \sum_i 2x_i(\phi_0 + \phi_1 x_i - y_i)

:func:`descent_path` returns every point gradient descent visits, so a page can draw the path
on the loss surface. numpy only.
"""

from __future__ import annotations

import numpy as np

from coursekit._params import ArrayLike, Integral, Interval, Real, validate_params

__all__ = ["descent_path", "line_grad", "line_loss"]

_PHI = [ArrayLike(numeric=True, finite=True, ndim=1, example=lambda: np.zeros(2))]
_XY = [ArrayLike(numeric=True, finite=True, ndim=1)]


def _xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    return x, y


def _phi(phi) -> np.ndarray:
    phi = np.asarray(phi, dtype=float)
    if phi.shape != (2,):
        raise ValueError(f"phi must be (phi0, phi1), got shape {phi.shape}")
    return phi


@validate_params({"phi": _PHI, "x": _XY, "y": _XY})
def line_loss(phi, x, y) -> float:
    r""":math:`\sum_i (\phi_0 + \phi_1 x_i - y_i)^2`."""
    (phi0, phi1), (x, y) = _phi(phi), _xy(x, y)
    return float(np.sum((phi0 + phi1 * x - y) ** 2))


@validate_params({"phi": _PHI, "x": _XY, "y": _XY})
def line_grad(phi, x, y) -> np.ndarray:
    r"""The gradient :math:`(\partial L/\partial\phi_0, \partial L/\partial\phi_1)`."""
    return _grad(_phi(phi), *_xy(x, y))


def _grad(phi: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    phi0, phi1 = phi
    residual = phi0 + phi1 * x - y  # (n,)
    return np.array([np.sum(2 * residual), np.sum(2 * x * residual)])


@validate_params(
    {
        "x": _XY,
        "y": _XY,
        "lr": [Interval(Real, 0, None, closed="neither")],
        "steps": [Interval(Integral, 0, None)],
        "start": _PHI,
    }
)
def descent_path(x, y, lr: float, steps: int, start=(0.0, 0.0)) -> np.ndarray:
    r"""Every point gradient descent visits from ``start``: an array of shape (steps + 1, 2).

    A rate too large for the data makes the path diverge: its points grow to inf, then NaN,
    with no error or warning, and :func:`coursekit.divergence.first_non_finite` of the path
    is the step where it overflowed.
    """
    x, y = _xy(x, y)
    phi = _phi(start).copy()
    path = [phi.copy()]
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging path is a result
        for _ in range(steps):
            phi = phi - lr * _grad(phi, x, y)
            path.append(phi.copy())
    return np.array(path)
