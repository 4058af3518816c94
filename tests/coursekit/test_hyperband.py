"""Hyperband: its bracket schedule against the paper's table, an exact-fraction computation of
the paper's pseudocode and keras-tuner's Hyperband; the search runs exactly that schedule,
promotes the best of each round and never a failure."""

import math
from fractions import Fraction

import numpy as np
import pytest

from coursekit.tuning import (
    Bracket,
    LogUniform,
    hyperband_schedule,
    hyperband_search,
    random_search,
)

#: Li et al. (JMLR 2018), Table 1: R = 81, eta = 3; per bracket s, the rounds' (n_i, r_i).
PAPER_TABLE_1 = {
    4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    3: [(34, 3), (11, 9), (3, 27), (1, 81)],
    2: [(15, 9), (5, 27), (1, 81)],
    1: [(8, 27), (2, 81)],
    0: [(5, 81)],
}

CASES = [(R, eta) for eta in (2, 3, 4, 5) for R in range(1, 130)]


def _paper_pseudocode(R, eta):
    """The paper's Algorithm 1 in exact fractions (no float logarithm), rounds as (n_i, r_i).

    s_max is found by counting how often R can be divided by eta and stay >= 1; r_i is
    rounded up to a whole unit (the module's stated convention)."""
    s_max, rest = -1, Fraction(R)
    while rest >= 1:
        s_max, rest = s_max + 1, rest / eta
    B = (s_max + 1) * R
    table = {}
    for s in range(s_max, -1, -1):
        n = math.ceil(Fraction(B, R) * Fraction(eta**s, s + 1))
        r = Fraction(R) / eta**s
        table[s] = [(math.floor(Fraction(n) / eta**i), math.ceil(r * eta**i)) for i in range(s + 1)]
    return table


def _as_table(schedule):
    return {b.s: list(zip(b.sizes, b.budgets, strict=True)) for b in schedule}


def test_the_schedule_for_r_81_eta_3_is_the_papers_table_1():
    assert _as_table(hyperband_schedule(81, eta=3)) == PAPER_TABLE_1
    assert [b.s for b in hyperband_schedule(81, eta=3)] == [4, 3, 2, 1, 0]


def test_the_schedule_is_the_papers_pseudocode_computed_in_exact_fractions():
    for R, eta in CASES:
        assert _as_table(hyperband_schedule(R, eta)) == _paper_pseudocode(R, eta), (R, eta)


def test_s_max_is_exact_where_a_float_logarithm_rounds_down():
    assert math.floor(math.log(243, 3)) == 4  # the trap: 3**5 == 243
    assert hyperband_schedule(243, 3)[0].s == 5
    assert hyperband_schedule(242, 3)[0].s == 4


def test_each_bracket_spends_about_b_and_bracket_0_is_random_search_at_full_budget():
    for R, eta in [(27, 3), (81, 3), (64, 4), (32, 2)]:
        schedule = hyperband_schedule(R, eta)
        s_max = schedule[0].s
        B = (s_max + 1) * R
        for b in schedule:
            # every round spends at most n * r = ceil(B/R * eta^s/(s+1)) * R/eta^s
            assert b.cost <= (s_max + 1) * math.ceil(B / R * eta**b.s / (b.s + 1)) * R / eta**b.s
            assert b.cost >= B / 2
        last = schedule[-1]
        assert (last.s, last.sizes, last.budgets) == (0, (s_max + 1,), (R,))


def test_keras_tuner_starts_the_same_brackets_with_the_same_budgets():
    """keras-tuner's HyperbandOracle (max_epochs=R, factor=eta): same number of brackets and
    epochs per round for every R; the same first-round sizes where R is a power of eta (its
    bracket sizes come from ceil(1 + log R), not s_max + 1, otherwise); later rounds it keeps
    ceil(...) >= our floor(n eta^-i) configurations."""
    pytest.importorskip("keras_tuner")
    from keras_tuner.src.tuners.hyperband import HyperbandOracle

    for R, eta in CASES:
        oracle = HyperbandOracle(objective="val_loss", max_epochs=R, factor=eta)
        ours = hyperband_schedule(R, eta)
        assert oracle._get_num_brackets() == len(ours), (R, eta)
        for b in ours:
            rounds = range(b.s + 1)
            assert tuple(oracle._get_epochs(b.s, i) for i in rounds) == b.budgets, (R, eta, b)
            sizes = [oracle._get_size(b.s, i) for i in rounds]
            assert all(k >= n for k, n in zip(sizes, b.sizes, strict=True)), (R, eta, b, sizes)
            if eta ** ours[0].s == R:
                assert sizes[0] == b.n_configs, (R, eta, b, sizes)


def test_the_search_evaluates_exactly_the_schedule():
    seen = []

    def objective(params, budget):
        seen.append(budget)
        return abs(math.log10(params["lr"]) + 2) + 1.0 / budget

    r = hyperband_search({"lr": LogUniform(1e-5, 1.0)}, objective, max_budget=27, eta=3)
    for bracket, planned in zip(r.brackets, hyperband_schedule(27, 3), strict=True):
        assert [len(rung.trials) for rung in bracket.rungs] == list(planned.sizes)
        assert [rung.trials[0].info["budget"] for rung in bracket.rungs] == list(planned.budgets)
        assert {t.info["bracket"] for t in bracket.trials} == {planned.s}
    assert r.total_budget == sum(seen) == sum(b.cost for b in r.schedule)
    assert [t.index for t in r.trials] == list(range(len(seen)))


def test_each_round_promotes_exactly_its_best_configurations():
    r = hyperband_search({"x": list(range(50))}, lambda p, b: abs(p["x"] - 17) + 1 / b, 27)
    for bracket in r.brackets:
        for lower, upper in zip(bracket.rungs, bracket.rungs[1:], strict=False):
            ranked = sorted(lower.trials, key=lambda t: t.score)[: len(upper.trials)]
            assert [t.params for t in upper.trials] == [t.params for t in ranked]


def test_a_failing_configuration_is_recorded_never_promoted_and_never_best():
    def objective(params, budget):
        if params["x"] % 2:
            raise RuntimeError(f"odd x={params['x']}")
        return params["x"] / budget

    r = hyperband_search({"x": list(range(10))}, objective, max_budget=9, seed=1)
    first_rungs = [t for b in r.brackets for t in b.rungs[0].trials]
    assert any(t.error == f"RuntimeError: odd x={t.params['x']}" for t in first_rungs)
    later = [t for b in r.brackets for rung in b.rungs[1:] for t in rung.trials]
    assert later and all(t.error is None for t in later)
    assert r.best.ok and r.best.params["x"] % 2 == 0


def test_best_is_the_best_score_of_any_round_in_either_mode():
    space = {"x": LogUniform(1.0, 100.0)}
    low = hyperband_search(space, lambda p, b: p["x"] * b, max_budget=9)
    assert low.best.score == min(t.score for t in low.trials)
    assert low.best.info["budget"] == 1  # a loss that grows with budget: the best is early
    high = hyperband_search(space, lambda p, b: p["x"] * b, max_budget=9, mode="max")
    assert high.best.score == max(t.score for t in high.trials)


def test_it_finds_what_full_random_search_finds_for_less_budget():
    """Configurations keep their order at every budget (a learning curve with a shared
    decaying term), so the best of every bracket is the best it drew."""

    def curve(params, budget):
        return abs(math.log10(params["lr"]) + 2) + 1.0 / budget

    space = {"lr": LogUniform(1e-5, 1.0)}
    hb = hyperband_search(space, curve, max_budget=27, eta=3, seed=0)
    drawn = [t.params for b in hb.brackets for t in b.rungs[0].trials]
    full = random_search(space, lambda p: curve(p, 27), n_trials=len(drawn), seed=0)
    assert sorted(p["lr"] for p in drawn) == sorted(t.params["lr"] for t in full.trials)
    assert hb.best.params == full.best.params
    assert hb.total_budget < len(drawn) * 27 / 3


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="eta must be"):
        hyperband_search({"x": [1]}, lambda p, b: 0.0, eta=1)
    with pytest.raises(ValueError, match="max_budget must be"):
        hyperband_schedule(0)
    with pytest.raises(ValueError, match="space must name"):
        hyperband_search({}, lambda p, b: 0.0)
    with pytest.raises(ValueError, match="has 2 rounds"):
        Bracket(1, (3, 1), (1,))
    assert np.isnan(hyperband_search({"x": [1]}, lambda p, b: 1 / 0, 1).trials[0].score)
