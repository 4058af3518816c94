"""Grid and random search on known objectives; keras-tuner over the slides' space."""

import collections
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest

from coursekit import tuning

ROOT = Path(__file__).resolve().parents[2]
X4, Y4 = np.eye(4), np.array([0, 1, 0, 1])


def _bowl(p):
    """A cheap objective with its minimum at a=2, b=0.1."""
    return (p["a"] - 2) ** 2 + abs(p["b"] - 0.1)


SPACE = {"a": [0, 1, 2, 3], "b": [0.01, 0.1, 1.0]}


@pytest.mark.parametrize("seed", [None, 7])
def test_grid_search_visits_every_combination_exactly_once_and_finds_the_optimum(seed):
    seen = []

    def objective(p):
        seen.append((p["a"], p["b"]))
        return _bowl(p)

    result = tuning.grid_search(SPACE, objective, seed=seed)
    expected = [(a, b) for a in SPACE["a"] for b in SPACE["b"]]
    assert collections.Counter(seen) == collections.Counter(expected)
    assert len(result.trials) == tuning.grid_size(SPACE) == 12
    assert result.best.params == {"a": 2, "b": 0.1}
    assert [t.index for t in result.trials] == list(range(12))


def test_grid_size_is_the_product_of_the_value_counts():
    assert tuning.grid_size({f"h{i}": [1, 2, 3] for i in range(5)}) == 3**5
    space = {"layers": tuning.IntRange(2, 6), "units": tuning.IntRange(32, 512, 128)}
    assert tuning.grid_size(space) == 5 * 4
    assert tuning.grid_size({"opt": tuning.Choice(["adam", "rmsprop"]), "x": [1]}) == 2


def test_grid_search_budget_in_order_or_in_a_seeded_shuffled_order():
    space = {"a": list(range(10)), "b": [0, 1]}
    in_order = tuning.grid_search(space, lambda p: p["a"], budget=4)
    assert [(t.params["a"], t.params["b"]) for t in in_order.trials] == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    shuffled = tuning.grid_search(space, lambda p: p["a"], budget=6, seed=1)
    again = tuning.grid_search(space, lambda p: p["a"], budget=6, seed=1)
    combos = [tuple(t.params.values()) for t in shuffled.trials]
    assert len(combos) == len(set(combos)) == 6
    assert combos == [tuple(t.params.values()) for t in again.trials]
    assert len({a for a, _ in combos}) > 2  # spread over the grid, not the first rows
    assert len(tuning.grid_search(space, lambda p: 0, budget=100).trials) == 20


def test_random_search_is_seeded_and_respects_n_trials():
    space = {
        "lr": tuning.LogUniform(1e-4, 1e-1),
        "layers": tuning.IntRange(2, 6),
        "units": tuning.IntRange(32, 512, 128),
        "dropout": tuning.Uniform(0.0, 0.3),
        "opt": ["adam", "rmsprop"],
    }

    def run(seed):
        result = tuning.random_search(space, lambda p: p["lr"], n_trials=15, seed=seed)
        return [(t.params, t.score) for t in result.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)
    trials = run(3)
    assert len(trials) == 15
    for params, _ in trials:
        assert 1e-4 <= params["lr"] <= 1e-1 and 2 <= params["layers"] <= 6
        assert params["units"] in (32, 160, 288, 416) and 0.0 <= params["dropout"] < 0.3
        assert params["opt"] in ("adam", "rmsprop")


def test_random_search_draws_log_uniform_rates_within_bounds_around_the_geometric_mean():
    result = tuning.random_search(
        {"lr": tuning.LogUniform(1e-4, 1e-1)}, lambda p: 0.0, n_trials=2000, seed=0
    )
    draws = np.array([t.params["lr"] for t in result.trials])
    assert draws.min() >= 1e-4 and draws.max() <= 1e-1
    assert np.median(draws) == pytest.approx(math.sqrt(1e-4 * 1e-1), rel=0.15)
    # each decade gets about a third of the draws (a uniform draw would put ~90% in the last)
    decades = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1])[0] / len(draws)
    assert decades == pytest.approx([1 / 3] * 3, abs=0.05)


@pytest.mark.parametrize("search", ["grid", "random"])
def test_a_failing_objective_is_recorded_and_the_search_goes_on(search):
    def objective(p):
        if p["a"] == 1:
            raise RuntimeError("diverged")
        return p["a"]

    if search == "grid":
        result = tuning.grid_search({"a": [0, 1, 2]}, objective)
    else:
        result = tuning.random_search({"a": [0, 1, 2]}, objective, n_trials=12, seed=0)
    failed = [t for t in result.trials if t.error]
    assert failed and len(result.trials) == (3 if search == "grid" else 12)
    assert all(t.error == "RuntimeError: diverged" and math.isnan(t.score) for t in failed)
    assert result.best.params == {"a": 0}
    assert len(result.completed) == len(result.trials) - len(failed)
    last_row = result.table().splitlines()[-1]
    assert "failed: RuntimeError: diverged" in last_row


def test_table_is_sorted_best_first_in_both_modes():
    result = tuning.grid_search({"a": [3, 1, 2]}, lambda p: p["a"])
    rows = result.table().splitlines()
    assert rows[0].split("|")[1:-1] == [" trial ", " a ", " score ", " seconds "]
    assert [r.split("|")[2].strip() for r in rows[2:]] == ["1", "2", "3"]
    assert len(result.table(top=2).splitlines()) == 4
    best_max = tuning.grid_search({"a": [3, 1, 2]}, lambda p: p["a"], mode="max")
    assert best_max.best.params["a"] == 3
    assert [r.split("|")[2].strip() for r in best_max.table().splitlines()[2:]] == ["3", "2", "1"]


def test_records_and_trials_carry_params_score_seconds_and_index():
    result = tuning.grid_search({"a": [1, 2]}, lambda p: p["a"] / 2)
    assert result.to_records() == [
        {"trial": 0, "a": 1, "score": 0.5, "seconds": result.trials[0].seconds, "error": None},
        {"trial": 1, "a": 2, "score": 1.0, "seconds": result.trials[1].seconds, "error": None},
    ]
    trial = result.trials[1]
    assert trial["params"] == trial.params == {"a": 2} and trial["index"] == 1
    assert trial["seconds"] >= 0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tuning.grid_search({}, lambda p: 0), "space must be a non-empty dict"),
        (lambda: tuning.random_search({}, lambda p: 0), "space must be a non-empty dict"),
        (lambda: tuning.grid_size({"a": []}), "hyperparameter 'a' has no values"),
        (
            lambda: tuning.grid_search({"lr": tuning.LogUniform(1e-3, 1)}, lambda p: 0),
            "finite list of values for 'lr'",
        ),
        (
            lambda: tuning.random_search({"a": [1]}, lambda p: 0, n_trials=0),
            "n_trials must be an int >= 1, got 0",
        ),
        (lambda: tuning.random_search({"a": 3}, lambda p: 0), "hyperparameter 'a'"),
        (lambda: tuning.grid_search({"a": [1]}, lambda p: 0, budget=0), "budget must be"),
        (lambda: tuning.grid_search({"a": [1]}, lambda p: 0, mode="best"), "mode must be"),
        (lambda: tuning.random_search({"a": [1]}, lambda p: 0, mode="lowest"), "mode must be"),
        (lambda: tuning.LogUniform(0, 1), "0 < low < high"),
        (lambda: tuning.IntRange(6, 2), "IntRange needs low <= high"),
        (
            lambda: tuning.run_keras_tuner("grid", X4, Y4, X4, Y4),
            "kind must be one of 'random', 'bayesian', 'hyperband', got 'grid'",
        ),
        (
            lambda: tuning.run_keras_tuner("random", X4, Y4, X4, Y4, max_trials=0),
            "max_trials must be an int >= 1, got 0",
        ),
        (
            lambda: tuning.run_keras_tuner("random", X4, Y4, X4, Y4, directory=3),
            "directory must be a folder path or None, got 3",
        ),
        (
            lambda: tuning.run_keras_tuner("random", X4, [0, 1, np.nan, 1], X4, Y4),
            "y_train must be finite",
        ),
        (lambda: tuning.Uniform("0", 1), "low must be a finite number, got '0'"),
        (lambda: tuning.IntRange(1, 5, step="2"), "step must be an int >= 1, got '2'"),
        (lambda: tuning.grid_search([1], lambda p: 0), "space must be a non-empty dict"),
        (lambda: tuning.grid_search({"a": [1]}, "f"), "objective must be a callable"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- keras-tuner ---------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "n_layers, units, dropout, optimizer",
    [(3, 160, 0.2, "adam"), (6, 32, 0.0, "rmsprop")],
)
def test_slides_hypermodel_builds_the_requested_layers(n_layers, units, dropout, optimizer):
    import keras_tuner as kt

    hp = kt.HyperParameters()
    hp.Fixed("num_layers", n_layers)
    for i in range(n_layers):
        hp.Fixed(f"units_{i}", units)
        hp.Fixed(f"dropout_{i}", dropout)
    hp.Fixed("optimizer", optimizer)
    hp.Fixed("learning_rate", 1e-3)
    hp.Fixed("decay_rate", 0.96)
    model = tuning.slides_hypermodel(30)(hp)
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    drops = [layer for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert [d.units for d in dense] == [units] * n_layers + [1]
    assert [d.activation.__name__ for d in dense] == ["relu"] * n_layers + ["sigmoid"]
    assert [d.rate for d in drops] == pytest.approx([dropout] * n_layers if dropout else [])
    assert type(model.optimizer).__name__.lower() == optimizer
    schedule = model.optimizer._learning_rate
    assert type(schedule).__name__ == "ExponentialDecay"
    assert (schedule.initial_learning_rate, schedule.decay_rate) == pytest.approx((1e-3, 0.96))
    assert "binary_crossentropy" in str(model.loss)


def _assert_in_slides_space(params):
    layers = params["num_layers"]
    assert 2 <= layers <= 6
    per_layer = {k for k in params if k.startswith(("units_", "dropout_"))}
    assert per_layer == {f"{k}_{i}" for k in ("units", "dropout") for i in range(layers)}
    for i in range(layers):
        assert params[f"units_{i}"] in (32, 160, 288, 416)
        assert min(abs(params[f"dropout_{i}"] - d) for d in (0.0, 0.1, 0.2, 0.3)) < 1e-9
    assert params["optimizer"] in ("rmsprop", "adam")
    assert params["learning_rate"] in (1e-2, 1e-3, 1e-4)
    assert params["decay_rate"] in (0.9, 0.96, 1.0)


def _tuner_dirs():
    return set(Path(tempfile.gettempdir()).glob("coursekit-tuner-*"))


def _tuner_files_in_repo():
    return {
        p
        for name in ("oracle.json", "tuner0.json", "trial.json")
        for p in ROOT.rglob(name)
        if ".venv" not in p.parts
    }


@pytest.mark.slow
def test_keras_tuner_random_search_stays_in_the_space_and_leaves_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written to the working directory would show here
    temp_before, repo_before = _tuner_dirs(), _tuner_files_in_repo()
    result = tuning.run_keras_tuner("random", *_small_breast_cancer(), max_trials=2, epochs=2)
    assert len(result.trials) == len(result.completed) == 2
    for trial in result.trials:
        _assert_in_slides_space(trial.params)
        assert trial.seconds > 0 and "trial_id" in trial.info
    assert result.best.score == min(t.score for t in result.trials)
    assert result.table().count("\n") == 3
    assert list(tmp_path.iterdir()) == []
    assert _tuner_dirs() <= temp_before
    assert _tuner_files_in_repo() == repo_before


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bayesian", "hyperband"])
def test_keras_tuner_bayesian_and_hyperband_run_on_the_smallest_budget(kind):
    result = tuning.run_keras_tuner(kind, *_small_breast_cancer(), max_trials=2, epochs=2)
    assert len(result.completed) == 2  # Hyperband with max_epochs=2 trains 2 models
    for trial in result.completed:
        _assert_in_slides_space(trial.params)
    if kind == "hyperband":
        assert all(t.info["epochs"] == 2 for t in result.trials)


@pytest.mark.slow
def test_keras_tuner_writes_where_the_caller_says(tmp_path):
    result = tuning.run_keras_tuner(
        "random",
        *_small_breast_cancer(),
        max_trials=1,
        epochs=1,
        directory=tmp_path,
        project_name="mine",
    )
    assert len(result.trials) == 1
    assert (tmp_path / "mine" / "oracle.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_every_public_name_of_the_old_module_is_importable_from_the_package():
    from coursekit.tuning import distributions, halving, hyperband, keras_search, search, trials

    names = set(distributions.__all__) | set(search.__all__) | set(keras_search.__all__)
    names |= set(halving.__all__) | set(hyperband.__all__) | set(trials.__all__)
    assert names == set(tuning.__all__)
    assert all(getattr(tuning, n) is not None for n in tuning.__all__)


SEARCHES = {
    "grid": lambda objective: tuning.grid_search({"x": list(range(6))}, lambda p: objective(p, 1)),
    "random": lambda objective: tuning.random_search(
        {"x": list(range(6))}, lambda p: objective(p, 1), n_trials=6
    ),
    "halving": lambda objective: tuning.successive_halving(
        {"x": list(range(6))}, objective, n_configs=9
    ),
    "hyperband": lambda objective: tuning.hyperband_search(
        {"x": list(range(6))}, objective, max_budget=9
    ),
}


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_every_search_runs_the_one_trial_loop(search):
    """One loop, one record: each search numbers its trials 0, 1, ... in the order the
    objective saw them, records a raising objective as the same failed trial, and never makes
    a failed trial its best."""
    calls = []

    def objective(params, budget):
        calls.append(params)
        if params["x"] == 3:
            raise ValueError("x=3 diverged")
        return abs(params["x"] - 2) + 1 / budget

    result = SEARCHES[search](objective)
    trials = result.trials
    assert [t.index for t in trials] == list(range(len(calls)))
    assert [t.params for t in trials] == calls
    failed = [t for t in trials if t.params["x"] == 3]
    assert failed and all(
        np.isnan(t.score) and t.error == "ValueError: x=3 diverged" and not t.ok for t in failed
    )
    assert result.best.score == min(t.score for t in trials if t.ok)
    assert all(isinstance(t, tuning.Trial) and t.seconds >= 0 for t in trials)
