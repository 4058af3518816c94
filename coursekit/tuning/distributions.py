r"""Search-space distributions: what one hyperparameter may take and how to draw it (chapter 6).

A search space is a dict ``{name: values}``; the values are a list (choices) or one of
:class:`Choice`, :class:`IntRange`, :class:`Uniform`, :class:`LogUniform`. Each has
``sample(rng)`` for random search; :class:`Choice` and :class:`IntRange` also have the finite
``values`` that grid search needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coursekit._params import (
    Anything as _Anything,
)
from coursekit._params import (
    InstanceOf,
    Integral,
    Interval,
    Real,
    SequenceOf,
    validate_fields,
    validate_params,
)

__all__ = ["Choice", "IntRange", "LogUniform", "Uniform"]

_FINITE = Interval(Real)
_INT = Interval(Integral)
_RNG = InstanceOf(np.random.Generator, "a numpy Generator", lambda: np.random.default_rng(0))


@validate_fields(
    {"values": [SequenceOf(_Anything("any value"), min_length=1, description="a list of values")]}
)
@dataclass(frozen=True)
class Choice:
    """One of ``values``, each equally likely."""

    values: tuple

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(self.values))

    @validate_params({"rng": [_RNG]})
    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]


@validate_fields({"low": [_FINITE], "high": [_FINITE]})
@dataclass(frozen=True)
class Uniform:
    """A float uniformly in ``[low, high)`` (dropout rates, momentum)."""

    low: float
    high: float

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Uniform needs low < high, got low={self.low!r}, high={self.high!r}")

    @validate_params({"rng": [_RNG]})
    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))


@validate_fields({"low": [_FINITE], "high": [_FINITE]})
@dataclass(frozen=True)
class LogUniform:
    r"""Uniform in :math:`\log x`: each order of magnitude equally likely (learning rates).

    .. math:: x = \exp(u),\quad u \sim U(\log a, \log b), \qquad \operatorname{median} x = \sqrt{ab}
    """

    low: float
    high: float

    def __post_init__(self):
        if not 0 < self.low < self.high:
            raise ValueError(
                f"LogUniform needs 0 < low < high, got low={self.low!r}, high={self.high!r}"
            )

    @validate_params({"rng": [_RNG]})
    def sample(self, rng):
        x = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return float(min(max(x, self.low), self.high))  # exp(log(x)) may round past a bound


@validate_fields({"low": [_INT], "high": [_INT], "step": [Interval(Integral, 1, None)]})
@dataclass(frozen=True)
class IntRange:
    """An integer from ``low`` to ``high`` inclusive, in steps of ``step`` (like ``hp.Int``)."""

    low: int
    high: int
    step: int = 1

    def __post_init__(self):
        if self.high < self.low:
            raise ValueError(f"IntRange needs low <= high, got {self!r}")

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))

    @validate_params({"rng": [_RNG]})
    def sample(self, rng):
        return int(rng.choice(self.values))
