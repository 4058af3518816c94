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
return the validation loss). Each evaluation is a :class:`~coursekit.tuning.trials.Trial`
with ``info = {"rung": k, "budget": r_k}``; a failing configuration scores NaN and is never
promoted. The rungs are :func:`run_rungs`, which Hyperband's brackets
(:mod:`coursekit.tuning.hyperband`) run too; each rung is the trial loop every search shares
(:func:`~coursekit.tuning.trials.run_trials`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from coursekit._params import (
    CallableConstraint,
    InstanceOf,
    Integral,
    Interval,
    Options,
    SequenceOf,
    result_record,
    validate_params,
)
from coursekit.tuning.trials import SearchResult, Trial, draw_configs, run_trials

__all__ = ["HalvingResult", "run_rungs", "successive_halving"]

_MODE = Options(("min", "max"))


@result_record
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


@validate_params(
    {
        "configs": [InstanceOf(list, "a list of configurations (dicts)", lambda: [{"a": 1}])],
        "objective": [CallableConstraint("a callable objective(params, budget) -> float")],
        "budgets": [SequenceOf(Interval(Integral, 1, None), min_length=1)],
        "keep": [CallableConstraint("a callable keep(rung, n) -> int")],
        "mode": [_MODE],
        "first_index": [Interval(Integral, 0, None)],
        "info": [InstanceOf(Mapping, "a dict added to every trial's info", dict), None],
    }
)
def run_rungs(
    configs: list[dict],
    objective: Callable[[dict, int], float],
    budgets: Sequence[int],
    keep: Callable[[int, int], int],
    mode: str = "min",
    first_index: int = 0,
    info: Mapping | None = None,
) -> HalvingResult:
    """The rungs of successive halving: evaluate, promote the best, raise the budget.

    Rung ``k`` evaluates every configuration with ``budgets[k]`` (one
    :func:`~coursekit.tuning.trials.run_trials`, ``info = {"rung": k, "budget": budgets[k]}``
    plus ``info``); the best ``keep(k, n)`` of its ``n`` configurations that completed go on to
    rung ``k + 1``. It stops after the last budget, or when no configuration goes on
    (``keep`` gave 0, or every one failed). Trials are numbered on from ``first_index``.

    >>> r = run_rungs([{"x": x} for x in range(4)], lambda p, b: abs(p["x"] - 1) / b,
    ...               budgets=[1, 2], keep=lambda k, n: n // 2)
    >>> [[t.params["x"] for t in rung.trials] for rung in r.rungs]
    [[0, 1, 2, 3], [1, 0]]
    """
    result = HalvingResult()
    index = first_index
    for k, budget in enumerate(budgets):
        rung = run_trials(
            configs,
            lambda p, b=budget: objective(p, b),
            mode=mode,
            first_index=index,
            info={**(info or {}), "rung": k, "budget": budget},
        )
        result.rungs.append(rung)
        index += len(configs)
        if k == len(budgets) - 1:
            break
        configs = [t.params for t in rung.ranked()[: keep(k, len(configs))]]
        if not configs:
            break
    return result


def _halving_budgets(n_configs: int, min_budget: int, eta: int) -> list[int]:
    r""":math:`r_k = r\,\eta^k` for every rung until one configuration is left."""
    budgets, n = [min_budget], n_configs
    while n > 1:
        n = max(1, n // eta)
        budgets.append(budgets[-1] * eta)
    return budgets


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
        "mode": [_MODE],
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
    configs = draw_configs(space, n_configs, np.random.default_rng(seed))
    return run_rungs(
        configs,
        objective,
        _halving_budgets(n_configs, min_budget, eta),
        keep=lambda k, n: max(1, n // eta) if n > 1 else 0,  # one left: it has won
        mode=mode,
    )
