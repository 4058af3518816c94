"""Two-dimensional loss surfaces and the paths optimizers take on them (chapters 3 and 4).

- :data:`ILL_CONDITIONED`: the quadratic ``f(x, y) = 0.1 x^2 + 2 y^2``, 20 times steeper
  across its valley than along it (the example of d2l's optimization chapter): one learning
  rate cannot suit both directions.
- :data:`SADDLE`: ``f(x, y) = x^2 - y^2 + y^4 / 4``, a saddle point at the origin and two
  minima at ``(0, +-sqrt(2))``, where the loss is -1.
- :func:`trajectory`: the points a :mod:`coursekit.optim` optimizer visits from a start.
- :func:`plot_landscape`: filled contours of a surface on ``ax`` (matplotlib, imported there).

Lesson: chapter 3 (saddle points) and chapter 4 (optimizers). numpy only at import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coursekit._params import (
    Anything,
    ArrayLike,
    CallableConstraint,
    InstanceOf,
    Integral,
    Interval,
    Real,
    SequenceOf,
    validate_fields,
    validate_params,
)

_NUMBER = Interval(Real)
_WINDOW = [SequenceOf(_NUMBER, length=2, description="a pair (low, high) of finite numbers")]
_POINT = ArrayLike(finite=True, ndim=1, example=lambda: np.zeros(2))

__all__ = ["ILL_CONDITIONED", "LANDSCAPES", "SADDLE", "Landscape", "plot_landscape", "trajectory"]


@validate_fields(
    {
        "name": [InstanceOf(str, "a name (str)")],
        "f": [CallableConstraint("a callable f(x, y)")],
        "grad": [CallableConstraint("a callable grad(w) -> array of shape (2,)")],
        "minima": [SequenceOf(SequenceOf(_NUMBER, length=2), description="a tuple of points")],
        "xlim": _WINDOW,
        "ylim": _WINDOW,
    }
)
@dataclass(frozen=True)
class Landscape:
    """A 2-D test function with its gradient, its minima and a window to draw it in.

    ``f`` takes ``(x, y)`` (numbers or arrays of one shape, so a meshgrid works) and
    ``grad`` a point ``w = (x, y)``, returning the gradient as an array of shape (2,).
    """

    name: str
    f: Callable
    grad: Callable
    minima: tuple[tuple[float, float], ...]
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    @validate_params({"w": [ArrayLike(numeric=True, ndim=1, example=lambda: np.zeros(2))]})
    def __call__(self, w) -> float:
        x, y = np.asarray(w, dtype=float)
        return float(self.f(x, y))


def _quadratic(x, y):
    return 0.1 * x**2 + 2.0 * y**2


def _quadratic_grad(w):
    x, y = np.asarray(w, dtype=float)
    return np.array([0.2 * x, 4.0 * y])


def _saddle(x, y):
    return x**2 - y**2 + y**4 / 4


def _saddle_grad(w):
    x, y = np.asarray(w, dtype=float)
    return np.array([2.0 * x, -2.0 * y + y**3])


ILL_CONDITIONED = Landscape(
    "ill-conditioned quadratic",
    _quadratic,
    _quadratic_grad,
    ((0.0, 0.0),),
    (-5.5, 1.5),
    (-2.5, 2.5),
)
SADDLE = Landscape(
    "saddle",
    _saddle,
    _saddle_grad,
    ((0.0, np.sqrt(2)), (0.0, -np.sqrt(2))),
    (-2.0, 2.0),
    (-2.2, 2.2),
)
LANDSCAPES = {"ill_conditioned": ILL_CONDITIONED, "saddle": SADDLE}


_LANDSCAPE = [InstanceOf(Landscape, "a Landscape", lambda: SADDLE)]


@validate_params(
    {
        "optimizer": [Anything("a coursekit.optim optimizer (its step method)")],
        "landscape": _LANDSCAPE,
        "start": [_POINT],
        "steps": [Interval(Integral, 0, None)],
    }
)
def trajectory(optimizer, landscape: Landscape, start, steps: int = 50) -> np.ndarray:
    """The points ``optimizer`` visits on ``landscape`` from ``start``: shape ``(steps + 1, 2)``.

    ``optimizer`` is a fresh :class:`coursekit.optim.Optimizer` (it keeps its own state, so
    reuse one only to continue a path). Row 0 is ``start``. A rate too large for the
    landscape makes the path diverge: its rows grow to inf (then NaN), with no error or
    warning, and the first non-finite row says at which step
    (:func:`coursekit.divergence.first_non_finite`).
    """
    w = np.asarray(start, dtype=float)
    if w.shape != (2,):
        raise ValueError(f"start must be a finite point (x, y), got {start!r}")
    path = [w]
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging path is a result
        for _ in range(steps):
            w = optimizer.step({"w": w}, {"w": landscape.grad(w)})["w"]
            path.append(w)
    return np.array(path)


@validate_params(
    {
        "landscape": _LANDSCAPE,
        "ax": [Anything("a matplotlib Axes or None")],
        "levels": [Interval(Integral, 1, None)],
        "resolution": [Interval(Integral, 2, None)],
    }
)
def plot_landscape(landscape: Landscape, ax=None, levels: int = 30, resolution: int = 200):
    """Filled contours of ``landscape`` over its window, minima marked with a star."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    xs, ys = np.meshgrid(
        np.linspace(*landscape.xlim, resolution), np.linspace(*landscape.ylim, resolution)
    )
    ax.contourf(xs, ys, landscape.f(xs, ys), levels=levels, cmap="viridis", alpha=0.85)
    for x, y in landscape.minima:
        ax.scatter([x], [y], marker="*", s=120, color="white", edgecolor="black", zorder=3)
    ax.set_xlim(landscape.xlim)
    ax.set_ylim(landscape.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return ax
