r"""Grid and random search over a search space, with any framework (chapter 6).

Grid search tries every combination: with :math:`k` hyperparameters of :math:`v` values each
that is :math:`v^k` trainings (:func:`grid_size`), it spends equal effort on parameters that do
not matter, and it only ever tries the values on the grid. Random search draws ``n_trials``
combinations, so every trial tries a new value of *every* hyperparameter; it parallelizes
as easily and can be stopped at any budget.

The objective is any callable ``objective(params) -> float`` (e.g. build an
:class:`~coursekit.mlp.MLPSpec`, fit it, return the best validation loss). A trial whose
objective raises is recorded as failed (score NaN, the error message kept) and the search goes
on. The result is a :class:`SearchResult` of :class:`Trial` records; both searches run their
configurations through the one trial loop, :func:`coursekit.tuning.trials.run_trials`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

import numpy as np

from coursekit._params import (
    CallableConstraint,
    InstanceOf,
    Integral,
    Interval,
    Options,
    validate_params,
)
from coursekit.tuning.distributions import Choice, IntRange
from coursekit.tuning.trials import SearchResult, draw_configs, run_trials

__all__ = ["grid_search", "grid_size", "random_search"]

_SPACE = InstanceOf(Mapping, "a non-empty dict of hyperparameters", lambda: {"a": [1, 2]})
_OBJECTIVE = CallableConstraint("a callable objective(params) -> float")
_MODE = Options(("min", "max"))
_SEED = Interval(Integral, 0, None)


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
    configs = (dict(zip(names, combo, strict=True)) for combo in combos)
    return run_trials(configs, objective, mode=mode)


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
    return run_trials(draw_configs(space, n_trials, np.random.default_rng(seed)), objective, mode)
