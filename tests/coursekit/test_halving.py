"""Successive halving: the rungs' sizes and budgets, promotion of the best, failures never
promoted, and that it finds what random search at full budget finds for a fraction of the cost."""

import math

import numpy as np
import pytest

from coursekit.tuning import LogUniform, random_search, successive_halving


def test_rungs_shrink_by_eta_and_budgets_grow_by_eta():
    seen = []

    def objective(params, budget):
        seen.append(budget)
        return (params["x"] - 0.3) ** 2

    r = successive_halving({"x": LogUniform(1e-3, 1.0)}, objective, n_configs=27, eta=3, seed=0)
    assert [len(rung.trials) for rung in r.rungs] == [27, 9, 3, 1]
    assert [rung.trials[0].info["budget"] for rung in r.rungs] == [1, 3, 9, 27]
    assert r.total_budget == sum(seen) == 27 + 27 + 27 + 27


def test_each_rung_promotes_exactly_its_best_configurations():
    r = successive_halving({"x": list(range(20))}, lambda p, b: abs(p["x"] - 7), n_configs=9)
    for lower, upper in zip(r.rungs, r.rungs[1:], strict=False):
        ranked = sorted(t.score for t in lower.trials)
        promoted = sorted(abs(t.params["x"] - 7) for t in upper.trials)
        assert promoted == ranked[: len(upper.trials)]


def test_a_failing_configuration_is_recorded_and_never_promoted():
    def objective(params, budget):
        if params["x"] % 2:
            raise RuntimeError(f"odd x={params['x']}")
        return params["x"]

    r = successive_halving({"x": list(range(10))}, objective, n_configs=9, eta=3, seed=1)
    assert any(t.error for t in r.rungs[0].trials)
    assert all(t.error is None for rung in r.rungs[1:] for t in rung.trials)


def test_it_finds_a_configuration_as_good_as_full_random_search_for_less_budget():
    """The learning curve: loss(budget) = distance to the optimum + a term that decays with
    budget. Configurations keep their order at every budget, so halving keeps the best."""

    def curve(params, budget):
        return abs(math.log10(params["lr"]) + 2) + 1.0 / budget

    space = {"lr": LogUniform(1e-5, 1.0)}
    halving = successive_halving(space, curve, n_configs=27, eta=3, seed=0)
    full = random_search(space, lambda p: curve(p, 27), n_trials=27, seed=0)
    assert halving.best.params == full.best.params
    assert halving.total_budget == 108 < 27 * 27


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="eta must be"):
        successive_halving({"x": [1]}, lambda p, b: 0.0, eta=1)
    with pytest.raises(ValueError, match="space must name"):
        successive_halving({}, lambda p, b: 0.0)
    assert np.isnan(
        successive_halving({"x": [1]}, lambda p, b: 1 / 0, n_configs=1).rungs[0].trials[0].score
    )
