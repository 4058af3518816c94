r"""Successive halving: many configurations on a small budget, the best few on a large one (chapter 6).

Grid and random search train every configuration fully. Most configurations are visibly bad
after a few epochs, so **successive halving** (Jamieson and Talwalkar, 2016) spends the budget
where it matters: draw :math:`n` configurations, train each with a budget :math:`r` (epochs),
keep the best :math:`1/\eta`, multiply the budget by :math:`\eta`, and repeat until one is left:

.. math::

    n_k = \left\lfloor n / \eta^k \right\rfloor, \qquad r_k = r\,\eta^k, \qquad
    \text{cost} = \sum_k n_k r_k \approx (\log_\eta n + 1)\, n\, r

against :math:`n\,R` for random search training all :math:`n` to the full budget
:math:`R = r\,\eta^{K}`. With :math:`n = 27, \eta = 3` the rungs are 27, 9, 3, 1
configurations. Its risk: a configuration that starts slowly but ends best (a small learning
rate) is dropped early. **Hyperband** (Li et al., 2018; keras-tuner's ``Hyperband``) hedges
that by running several such brackets, from "many configurations, small budget" to "few,
full budget".

The objective is ``objective(params, budget) -> float`` (e.g. train ``budget`` epochs and
return the validation loss). Each evaluation is a :class:`~coursekit.tuning.search.Trial`
with ``info = {"rung": k, "budget": r_k}``; a failing configuration scores NaN and is never
promoted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from coursekit._params import (
    CallableConstraint,
    InstanceOf,
    Integral,
    Interval,
    Options,
    validate_params,
)
from coursekit.tuning.distributions import Choice
from coursekit.tuning.search import SearchResult, Trial, _evaluate

__all__ = ["HalvingResult", "successive_halving"]


@dataclass
class HalvingResult:
    """Every rung of one successive-halving run; ``best`` is the last rung's winner."""

    rungs: list[SearchResult] = field(default_factory=list)

    @property
    def trials(self) -> list[Trial]:
        """Every evaluation, rung after rung."""
        return [t for rung in self.rungs for t in rung.trials]

    @property
    def best(self) -> Trial | None:
        """The best trial of the last rung (the configuration trained longest)."""
        return self.rungs[-1].best if self.rungs else None

    @property
    def total_budget(self) -> float:
        """The sum of the budgets of every evaluation (epochs spent in all)."""
        return float(sum(t.info["budget"] for t in self.trials))


def _sample(space: Mapping, n: int, rng: np.random.Generator) -> list[dict]:
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
        "space": [
            InstanceOf(Mapping, "a non-empty dict of hyperparameters", lambda: {"a": [1, 2]})
        ],
        "objective": [CallableConstraint("a callable objective(params, budget) -> float")],
        "n_configs": [Interval(Integral, 1, None)],
        "min_budget": [Interval(Integral, 1, None)],
        "eta": [Interval(Integral, 2, None)],
        "seed": [Interval(Integral, 0, None)],
        "mode": [Options(("min", "max"))],
    }
)
def successive_halving(
    space: dict,
    objective: Callable[[dict, int], float],
    n_configs: int = 27,
    min_budget: int = 1,
    eta: int = 3,
    seed: int = 0,
    mode: str = "min",
) -> HalvingResult:
    """Draw ``n_configs`` configurations; train, keep the best ``1/eta``, multiply the budget.

    >>> r = successive_halving({"x": [0, 1, 2, 3, 4, 5]}, lambda p, b: abs(p["x"] - 2) / b,
    ...                        n_configs=9, eta=3, seed=0)
    >>> [len(rung.trials) for rung in r.rungs], r.total_budget
    ([9, 3, 1], 27.0)
    """
    if not space:
        raise ValueError(f"space must name at least one hyperparameter, got {space!r}")
    configs = _sample(space, n_configs, np.random.default_rng(seed))
    result = HalvingResult()
    budget, rung, index = min_budget, 0, 0
    while True:
        trials = SearchResult(mode=mode)
        for params in configs:
            trial = _evaluate(lambda p, b=budget: objective(p, b), params, index)
            trial.info.update(rung=rung, budget=budget)
            trials.trials.append(trial)
            index += 1
        result.rungs.append(trials)
        if len(configs) == 1:
            return result
        keep = max(1, len(configs) // eta)
        survivors = [t for t in trials._ranked() if t.ok][:keep]
        if not survivors:  # every configuration failed: nothing to promote
            return result
        configs = [t.params for t in survivors]
        budget, rung = budget * eta, rung + 1
