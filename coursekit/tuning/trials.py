r"""The trial loop every search shares: draw configurations, evaluate them, record each (chapter 6).

Grid search, random search, successive halving and Hyperband differ only in *which*
configurations they evaluate and *with what budget*; evaluating one is the same everywhere:
call the objective, time it, and record a :class:`Trial`. A trial whose objective raises is
recorded as failed (score NaN, the error message kept) and the search goes on; a failed or
non-finite trial is never the best and never promoted.

- :func:`draw_configs`: ``n`` configurations drawn from a search space (lists uniformly,
  distributions by their ``sample``), one ``numpy.random.Generator``, names in the order of
  the space;
- :func:`run_trials`: the one loop, ``configs -> SearchResult``, numbering the trials and
  adding what the search knows about each (``info``: a rung, a budget, a bracket);
- :class:`Trial` and :class:`SearchResult`: the records every search returns.

numpy only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from coursekit._params import (
    CallableConstraint,
    InstanceOf,
    Integral,
    Interval,
    Options,
    Real,
    validate_fields,
    validate_params,
)
from coursekit.tuning.distributions import Choice

__all__ = ["SearchResult", "Trial", "draw_configs", "run_trials"]

_MODE = Options(("min", "max"))
_SPACE = InstanceOf(Mapping, "a non-empty dict of hyperparameters", lambda: {"a": [1, 2]})
_RNG = InstanceOf(np.random.Generator, "a numpy Generator", lambda: np.random.default_rng(0))


@validate_fields(
    {
        "index": [Interval(Integral, 0, None)],
        "params": [InstanceOf(dict)],
        "score": [InstanceOf(Real, "a number (NaN for a failed trial)", lambda: 0.0)],
        "seconds": [Interval(Real, 0, math.inf)],
        "error": [InstanceOf(str), None],
        "info": [InstanceOf(dict)],
    }
)
@dataclass
class Trial:
    """One evaluated combination.

    ``trial.score`` and ``trial["score"]`` are the same (a trial reads like a dict, too).
    ``info`` holds what a tool adds beyond the hyperparameters (keras-tuner's trial id,
    a rung's budget, Hyperband's bracket).
    """

    index: int
    params: dict
    score: float
    seconds: float
    error: str | None = None
    info: dict = field(default_factory=dict)

    def __getitem__(self, key):
        if key not in ("index", "params", "score", "seconds", "error", "info"):
            raise KeyError(key)
        return getattr(self, key)

    @property
    def ok(self) -> bool:
        """Completed with a finite score."""
        return self.error is None and bool(np.isfinite(self.score))


@validate_fields({"trials": [InstanceOf(list)], "mode": [_MODE]})
@dataclass
class SearchResult:
    """All trials of a search, in the order they ran; ``mode`` says whether lower is better."""

    trials: list[Trial] = field(default_factory=list)
    mode: str = "min"

    @property
    def completed(self) -> list[Trial]:
        """The trials that finished with a finite score."""
        return [t for t in self.trials if t.ok]

    @property
    def best(self) -> Trial | None:
        """The completed trial with the lowest (``mode="min"``) or highest score; None if none."""
        done = self.completed
        if not done:
            return None
        pick = min if self.mode == "min" else max
        return pick(done, key=lambda t: t.score)

    def ranked(self) -> list[Trial]:
        """The completed trials, best first (what a rung of successive halving promotes)."""
        sign = 1.0 if self.mode == "min" else -1.0
        return sorted(self.completed, key=lambda t: sign * t.score)

    def _ranked(self) -> list[Trial]:
        return self.ranked() + [t for t in self.trials if not t.ok]

    def to_records(self) -> list[dict]:
        """One flat dict per trial, in run order: trial, hyperparameters, score, seconds, error."""
        return [
            {"trial": t.index, **t.params, "score": t.score, "seconds": t.seconds, "error": t.error}
            for t in self.trials
        ]

    @validate_params({"top": [Interval(Integral, 1, None), None]})
    def table(self, top: int | None = None) -> str:
        """A Markdown table (readable as plain text), best score first, failed trials last."""
        order = self._ranked()
        if top is not None:
            order = order[:top]
        names = list(dict.fromkeys(k for t in self.trials for k in t.params))
        lines = [
            "| trial | " + " | ".join(names) + " | score | seconds |",
            "|---" * (len(names) + 3) + "|",
        ]
        for t in order:
            values = [_fmt(t.params.get(n, "")) for n in names]
            score = f"{t.score:.4g}" if t.ok else f"failed: {t.error or 'no score'}"
            lines.append(f"| {t.index} | " + " | ".join(values) + f" | {score} | {t.seconds:.2f} |")
        return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


@validate_params({"space": [_SPACE], "n": [Interval(Integral, 0, None)], "rng": [_RNG]})
def draw_configs(space: Mapping, n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` configurations, each value drawn independently: lists uniformly, distributions
    by ``sample(rng)``; names in the order of ``space`` (the same ``rng`` state, the same draws).

    >>> space = {"opt": ["adam", "sgd"], "layers": [2, 3, 4]}
    >>> a = draw_configs(space, 5, np.random.default_rng(0))
    >>> a == draw_configs(space, 5, np.random.default_rng(0)), sorted(a[0])
    (True, ['layers', 'opt'])
    """
    if not space:
        raise ValueError(f"space must name at least one hyperparameter, got {space!r}")
    samplers = {}
    for name, spec in space.items():
        if isinstance(spec, list | tuple):
            if not spec:
                raise ValueError(f"hyperparameter {name!r} has no values")
            spec = Choice(tuple(spec))
        if not hasattr(spec, "sample"):
            raise ValueError(
                f"hyperparameter {name!r}: expected a list or a distribution, got {spec!r}"
            )
        samplers[name] = spec
    return [{name: s.sample(rng) for name, s in samplers.items()} for _ in range(n)]


@validate_params(
    {
        "configs": [InstanceOf(Iterable, "an iterable of dicts", lambda: [{"a": 1}])],
        "objective": [CallableConstraint("a callable objective(params) -> float")],
        "mode": [_MODE],
        "first_index": [Interval(Integral, 0, None)],
        "info": [InstanceOf(Mapping, "a dict added to every trial's info", dict), None],
    }
)
def run_trials(
    configs: Iterable[dict],
    objective: Callable[[dict], float],
    mode: str = "min",
    first_index: int = 0,
    info: Mapping | None = None,
) -> SearchResult:
    """Evaluate ``objective(params)`` for each configuration in turn: one :class:`Trial` each.

    Trials are numbered from ``first_index`` (a search of several rungs numbers on); each
    trial's ``info`` starts as a copy of ``info``. An objective that raises gives a failed
    trial (score NaN, ``error`` = the exception's type and message), and the loop goes on.

    >>> r = run_trials([{"x": 1}, {"x": 0}], lambda p: 1 / p["x"], info={"budget": 3})
    >>> [(t.index, t.score, t.error, t.info) for t in r.trials]
    [(0, 1.0, None, {'budget': 3}), (1, nan, 'ZeroDivisionError: division by zero', {'budget': 3})]
    """
    result = SearchResult(mode=mode)
    for index, params in enumerate(configs, start=first_index):
        start = time.perf_counter()
        try:
            score, error = float(objective(params)), None
        except Exception as exc:  # a failing trial is recorded, the search goes on
            score, error = float("nan"), f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
        result.trials.append(Trial(index, params, score, seconds, error, dict(info or {})))
    return result
