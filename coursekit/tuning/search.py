r"""Grid and random search over a search space, with any framework (chapter 6).

Grid search tries every combination: with :math:`k` hyperparameters of :math:`v` values each
that is :math:`v^k` trainings (:func:`grid_size`), it spends equal effort on parameters that do
not matter, and it only ever tries the values on the grid. Random search draws ``n_trials``
combinations, so every trial tries a new value of *every* hyperparameter; it parallelizes
as easily and can be stopped at any budget.

The objective is any callable ``objective(params) -> float`` (e.g. build an
:class:`~coursekit.mlp.MLPSpec`, fit it, return the best validation loss). A trial whose
objective raises is recorded as failed (score NaN, the error message kept) and the search goes
on. The result is a :class:`SearchResult` of :class:`Trial` records.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
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
from coursekit.tuning.distributions import Choice, IntRange

__all__ = ["SearchResult", "Trial", "grid_search", "grid_size", "random_search"]

_SPACE = InstanceOf(Mapping, "a non-empty dict of hyperparameters", lambda: {"a": [1, 2]})
_OBJECTIVE = CallableConstraint("a callable objective(params) -> float")
_MODE = Options(("min", "max"))
_SEED = Interval(Integral, 0, None)


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
    Hyperband's epochs and bracket).
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

    def _ranked(self) -> list[Trial]:
        sign = 1.0 if self.mode == "min" else -1.0
        return sorted(self.trials, key=lambda t: (not t.ok, sign * t.score if t.ok else 0.0))

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


# -- grid and random search ----------------------------------------------------------------


def _check_space(space) -> None:
    if not space:
        raise ValueError(f"space must be a non-empty dict of hyperparameters, got {space!r}")


def _grid_values(name, spec) -> tuple:
    if isinstance(spec, list | tuple):
        values = tuple(spec)
    elif isinstance(spec, Choice | IntRange):
        values = tuple(spec.values)
    else:
        raise ValueError(
            f"grid search needs a finite list of values for {name!r}, got {spec!r} "
            "(continuous ranges only make sense for random search)"
        )
    if not values:
        raise ValueError(f"hyperparameter {name!r} has no values")
    return values


@validate_params({"space": [_SPACE]})
def grid_size(space: dict) -> int:
    r"""Number of combinations grid search would train: :math:`\prod_j |V_j|`.

    >>> grid_size({"lr": [1e-3, 1e-2, 1e-1], "layers": IntRange(2, 6), "opt": ["adam", "sgd"]})
    30
    """
    _check_space(space)
    return math.prod(len(_grid_values(n, s)) for n, s in space.items())


def _evaluate(objective, params, index) -> Trial:
    start = time.perf_counter()
    try:
        score = float(objective(params))
        error = None
    except Exception as exc:  # a failing trial is recorded, the search goes on
        score, error = float("nan"), f"{type(exc).__name__}: {exc}"
    return Trial(index, params, score, time.perf_counter() - start, error)


@validate_params(
    {
        "space": [_SPACE],
        "objective": [_OBJECTIVE],
        "budget": [Interval(Integral, 1, None), None],
        "mode": [_MODE],
        "seed": [_SEED, None],
    }
)
def grid_search(
    space: dict,
    objective: Callable[[dict], float],
    budget: int | None = None,
    mode: str = "min",
    seed: int | None = None,
) -> SearchResult:
    """Try every combination of ``space`` once, or the first ``budget`` of them.

    Parameters
    ----------
    space : dict of str -> list, Choice or IntRange
    objective : callable
        ``objective(params) -> float``; ``params`` is a dict with one value per name.
    budget : int or None
        At most this many trials.
    mode : {"min", "max"}
        Lower scores are better (losses) or higher (accuracies).
    seed : int or None
        None visits the combinations in order (``itertools.product``: the *last* name varies
        fastest, so a small budget only ever sees the first values of the first names);
        an int visits them in a seeded random order, so a budget spreads over the grid.

    >>> r = grid_search({"x": [1, 2, 3], "y": [0, 1]}, lambda p: (p["x"] - 2) ** 2 + p["y"])
    >>> r.best.params, len(r.trials)
    ({'x': 2, 'y': 0}, 6)
    """
    _check_space(space)
    names = list(space)
    grids = [_grid_values(n, space[n]) for n in names]
    n_total = math.prod(len(g) for g in grids)
    n_run = n_total if budget is None else min(budget, n_total)
    if seed is None:
        combos = itertools.islice(itertools.product(*grids), n_run)
    else:
        flat = np.random.default_rng(seed).permutation(n_total)[:n_run]
        shape = tuple(len(g) for g in grids)
        combos = (
            tuple(g[i] for g, i in zip(grids, np.unravel_index(k, shape), strict=True))
            for k in flat
        )
    result = SearchResult(mode=mode)
    for index, combo in enumerate(combos):
        result.trials.append(_evaluate(objective, dict(zip(names, combo, strict=True)), index))
    return result


@validate_params(
    {
        "space": [_SPACE],
        "objective": [_OBJECTIVE],
        "n_trials": [Interval(Integral, 1, None)],
        "seed": [_SEED],
        "mode": [_MODE],
    }
)
def random_search(
    space: dict,
    objective: Callable[[dict], float],
    n_trials: int = 20,
    seed: int = 0,
    mode: str = "min",
) -> SearchResult:
    """Draw ``n_trials`` combinations independently: lists uniformly, distributions by ``sample``.

    The same ``seed`` draws the same combinations (one ``numpy.random.Generator``, names in the
    order of ``space``); the objective's own randomness is its business.
    """
    _check_space(space)
    rng = np.random.default_rng(seed)
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
    result = SearchResult(mode=mode)
    for index in range(n_trials):
        params = {name: s.sample(rng) for name, s in samplers.items()}
        result.trials.append(_evaluate(objective, params, index))
    return result
