"""Grid and random search on known objectives; keras-tuner over the seed-004 space."""

import math
from pathlib import Path

import numpy as np
import pytest

from coursekit import tuning

ROOT = Path(__file__).resolve().parents[2]


def test_grid_search_visits_every_combination_once_and_finds_the_optimum():
    seen = []

    def objective(p):
        seen.append((p["a"], p["b"]))
        return (p["a"] - 2) ** 2 + abs(p["b"] - 0.1)

    space = {"a": [0, 1, 2, 3], "b": [0.01, 0.1, 1.0]}
    result = tuning.grid_search(space, objective)
    assert sorted(seen) == sorted((a, b) for a in space["a"] for b in space["b"])
    assert len(seen) == tuning.grid_size(space) == 12
    assert result.best.params == {"a": 2, "b": 0.1}


def test_grid_size_grows_combinatorially():
    assert tuning.grid_size({f"h{i}": [1, 2, 3] for i in range(5)}) == 3**5
    assert (
        tuning.grid_size({"layers": tuning.IntRange(2, 6), "units": tuning.IntRange(32, 512, 128)})
        == 20
    )


def test_grid_search_stops_at_the_budget():
    result = tuning.grid_search({"a": list(range(10))}, lambda p: p["a"], budget=4)
    assert [t.params["a"] for t in result.trials] == [0, 1, 2, 3]


def test_random_search_is_seeded_and_respects_n_trials():
    space = {
        "lr": tuning.LogUniform(1e-4, 1e-1),
        "layers": tuning.IntRange(2, 6),
        "opt": ["adam", "rmsprop"],
    }
    a = tuning.random_search(space, lambda p: p["lr"], n_trials=15, seed=3)
    b = tuning.random_search(space, lambda p: p["lr"], n_trials=15, seed=3)
    c = tuning.random_search(space, lambda p: p["lr"], n_trials=15, seed=4)
    assert a.to_records() == b.to_records() or [t.params for t in a.trials] == [
        t.params for t in b.trials
    ]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]
    assert len(a.trials) == 15
    assert all(
        2 <= t.params["layers"] <= 6 and t.params["opt"] in ("adam", "rmsprop") for t in a.trials
    )


def test_log_uniform_draws_each_order_of_magnitude_equally():
    rng = np.random.default_rng(0)
    draws = np.array([tuning.LogUniform(1e-4, 1e-1).sample(rng) for _ in range(4000)])
    assert draws.min() >= 1e-4 and draws.max() <= 1e-1
    assert np.median(draws) == pytest.approx(math.sqrt(1e-4 * 1e-1), rel=0.1)  # geometric mean
    decades = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1])[0]
    assert decades.min() > 0.3 * len(draws) - 100


def test_a_failing_objective_is_recorded_and_the_search_goes_on():
    def objective(p):
        if p["a"] == 1:
            raise RuntimeError("diverged")
        return p["a"]

    result = tuning.grid_search({"a": [0, 1, 2]}, objective)
    assert len(result.trials) == 3
    assert result.trials[1].error == "RuntimeError: diverged" and math.isnan(result.trials[1].score)
    assert result.best.params == {"a": 0}
    table = result.table()
    assert table.splitlines()[-1].startswith("| 1 |") and "failed" in table


def test_table_is_sorted_best_first_in_both_modes():
    result = tuning.grid_search({"a": [3, 1, 2]}, lambda p: p["a"])
    rows = result.table().splitlines()[2:]
    assert [r.split("|")[2].strip() for r in rows] == ["1", "2", "3"]
    best_max = tuning.grid_search({"a": [3, 1, 2]}, lambda p: p["a"], mode="max").best
    assert best_max.params["a"] == 3


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tuning.grid_search({}, lambda p: 0), "space must be a non-empty dict"),
        (
            lambda: tuning.grid_search({"lr": tuning.LogUniform(1e-3, 1)}, lambda p: 0),
            "finite list",
        ),
        (
            lambda: tuning.random_search({"a": [1]}, lambda p: 0, n_trials=0),
            "n_trials must be a positive int",
        ),
        (lambda: tuning.grid_search({"a": [1]}, lambda p: 0, mode="best"), "mode must be"),
        (lambda: tuning.LogUniform(0, 1), "0 < low < high"),
        (lambda: tuning.run_keras_tuner("grid", None, None, None, None), "kind must be one of"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _small_breast_cancer():
    from coursekit import data
    from coursekit.scaling import Standardizer

    split = data.load("breast_cancer", seed=0)
    scaler = Standardizer().fit(split.X_train)
    return (
        scaler.transform(split.X_train[:120]),
        split.y_train[:120],
        scaler.transform(split.X_val[:60]),
        split.y_val[:60],
    )


def test_seed004_hypermodel_builds_the_requested_layers():
    import keras_tuner as kt

    hp = kt.HyperParameters()
    hp.Fixed("num_layers", 3)
    for i in range(3):
        hp.Fixed(f"units_{i}", 160)
        hp.Fixed(f"dropout_{i}", 0.2)
    model = tuning.seed004_hypermodel(30)(hp)
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    dropout = [layer for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert [d.units for d in dense] == [160, 160, 160, 1]
    assert [d.rate for d in dropout] == pytest.approx([0.2, 0.2, 0.2])
    assert dense[-1].activation.__name__ == "sigmoid"


def _in_seed004_space(params):
    layers = params["num_layers"]
    assert 2 <= layers <= 6
    for i in range(layers):
        assert params[f"units_{i}"] in (32, 160, 288, 416)
        assert min(abs(params[f"dropout_{i}"] - d) for d in (0.0, 0.1, 0.2, 0.3)) < 1e-9
    assert params["optimizer"] in ("rmsprop", "adam")
    assert params["learning_rate"] in (1e-2, 1e-3, 1e-4)


def _repo_files():
    return {p for p in ROOT.rglob("*") if ".venv" not in p.parts and "_build" not in p.parts}


@pytest.mark.slow
def test_keras_tuner_random_search_stays_in_the_space_and_leaves_no_files():
    before = _repo_files()
    result = tuning.run_keras_tuner("random", *_small_breast_cancer(), max_trials=2, epochs=2)
    assert len(result.completed) == 2
    for trial in result.trials:
        _in_seed004_space(trial.params)
    assert result.best.score == min(t.score for t in result.trials)
    assert _repo_files() == before


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bayesian", "hyperband"])
def test_keras_tuner_bayesian_and_hyperband_run_on_the_smallest_budget(kind):
    result = tuning.run_keras_tuner(kind, *_small_breast_cancer(), max_trials=2, epochs=2)
    assert result.completed
    for trial in result.completed:
        _in_seed004_space(trial.params)
