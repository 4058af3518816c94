r"""Hyperparameter search: grid, random, and keras-tuner over the seed-004 space (chapter 6).

Grid search tries every combination: with :math:`k` hyperparameters of :math:`v` values each
that is :math:`v^k` trainings (:func:`grid_size`), it spends equal effort on parameters that do
not matter, and it only ever tries the values on the grid. Random search draws ``n_trials``
combinations, so every trial tries a new value of *every* hyperparameter; it parallelizes
as easily and can be stopped at any budget.

:func:`grid_search` and :func:`random_search` work with any framework: the objective is any
callable ``objective(params) -> float`` (e.g. build an :class:`~coursekit.mlp.MLPSpec`, fit it,
return the best validation loss). A trial whose objective raises is recorded as failed and
the search goes on.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Choice",
    "IntRange",
    "LogUniform",
    "SearchResult",
    "Trial",
    "Uniform",
    "grid_search",
    "grid_size",
    "random_search",
    "run_keras_tuner",
    "seed004_hypermodel",
]


@dataclass(frozen=True)
class Choice:
    """One of ``values``, uniformly."""

    values: tuple

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise ValueError("Choice needs at least one value")

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Uniform needs low < high, got low={self.low!r}, high={self.high!r}")

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class LogUniform:
    """Uniform in :math:`\\log x`: each order of magnitude equally likely (learning rates)."""

    low: float
    high: float

    def __post_init__(self):
        if not 0 < self.low < self.high:
            raise ValueError(
                f"LogUniform needs 0 < low < high, got low={self.low!r}, high={self.high!r}"
            )

    def sample(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


@dataclass(frozen=True)
class IntRange:
    """An integer from ``low`` to ``high`` inclusive, in steps of ``step``."""

    low: int
    high: int
    step: int = 1

    def __post_init__(self):
        if self.step < 1 or self.high < self.low:
            raise ValueError(f"IntRange needs low <= high and step >= 1, got {self!r}")

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))

    def sample(self, rng):
        return int(rng.choice(self.values))


@dataclass
class Trial:
    """One evaluated combination."""

    index: int
    params: dict
    score: float
    seconds: float
    error: str | None = None


@dataclass
class SearchResult:
    """All trials of a search, in the order they ran."""

    trials: list[Trial] = field(default_factory=list)
    mode: str = "min"

    @property
    def completed(self) -> list[Trial]:
        return [t for t in self.trials if t.error is None and np.isfinite(t.score)]

    @property
    def best(self) -> Trial | None:
        done = self.completed
        if not done:
            return None
        pick = min if self.mode == "min" else max
        return pick(done, key=lambda t: t.score)

    def to_records(self) -> list[dict]:
        """One dict per trial: the hyperparameters, then score, seconds, error."""
        return [
            {**t.params, "score": t.score, "seconds": t.seconds, "error": t.error}
            for t in self.trials
        ]

    def table(self, top: int | None = None) -> str:
        """A Markdown table, best first; failed trials last."""
        order = sorted(
            self.trials,
            key=lambda t: (
                t.error is not None or not np.isfinite(t.score),
                t.score if self.mode == "min" else -t.score,
            ),
        )
        if top is not None:
            order = order[:top]
        names = list(dict.fromkeys(k for t in self.trials for k in t.params))
        lines = [
            "| trial | " + " | ".join(names) + " | score |",
            "|---" * (len(names) + 2) + "|",
        ]
        for t in order:
            values = [_fmt(t.params.get(n, "")) for n in names]
            score = f"failed: {t.error}" if t.error else f"{t.score:.4g}"
            lines.append(f"| {t.index} | " + " | ".join(values) + f" | {score} |")
        return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _check_space(space) -> None:
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict of hyperparameters, got {space!r}")


def _check_mode(mode) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")


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


def grid_size(space: dict) -> int:
    """Number of combinations grid search would train: the product of the value counts."""
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


def grid_search(
    space: dict, objective: Callable[[dict], float], budget: int | None = None, mode="min"
) -> SearchResult:
    """Try every combination of ``space`` (lists of values), in order, up to ``budget`` trials.

    >>> r = grid_search({"x": [1, 2, 3], "y": [0, 1]}, lambda p: (p["x"] - 2) ** 2 + p["y"])
    >>> r.best.params, len(r.trials)
    ({'x': 2, 'y': 0}, 6)
    """
    _check_space(space)
    _check_mode(mode)
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int) or budget < 1
    ):
        raise ValueError(f"budget must be a positive int or None, got {budget!r}")
    names = list(space)
    grids = [_grid_values(n, space[n]) for n in names]
    result = SearchResult(mode=mode)
    for index, combo in enumerate(itertools.product(*grids)):
        if budget is not None and index >= budget:
            break
        result.trials.append(_evaluate(objective, dict(zip(names, combo, strict=True)), index))
    return result


def random_search(
    space: dict, objective: Callable[[dict], float], n_trials: int = 20, seed: int = 0, mode="min"
) -> SearchResult:
    """Draw ``n_trials`` combinations: lists are sampled uniformly, distributions by ``sample``."""
    _check_space(space)
    _check_mode(mode)
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive int, got {n_trials!r}")
    rng = np.random.default_rng(seed)
    samplers = {}
    for name, spec in space.items():
        if isinstance(spec, list | tuple):
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


# -- keras-tuner over the seed-004 space ---------------------------------------------------

#: The seed-004 search space (fixed: ReLU hidden, sigmoid output, binary cross-entropy).
SEED004_SPACE = {
    "num_layers": (2, 6),
    "units": (32, 512, 128),  # 32, 160, 288, 416
    "dropout": (0.0, 0.3, 0.1),
    "optimizer": ("rmsprop", "adam"),
    "learning_rate": (1e-2, 1e-3, 1e-4),
    "decay_rate": (0.9, 0.96, 1.0),
}


def seed004_hypermodel(n_features: int, decay_steps: int = 100):
    """``build(hp)`` for keras-tuner: the seed-004 space.

    2–6 dense ReLU layers, each with 32–512 units (step 128) and dropout 0–0.3 (step 0.1);
    RMSprop or Adam; learning rate 1e-2/1e-3/1e-4 with exponential decay (rate 0.9, 0.96
    or 1.0 = none, every ``decay_steps`` steps); sigmoid output and binary cross-entropy fixed.
    The batch size is wanted but not tunable here (it is an argument of ``fit``, not of the
    model), as the seed note says.
    """
    s = SEED004_SPACE

    def build(hp):
        import keras

        model = keras.Sequential([keras.Input((n_features,))])
        for i in range(hp.Int("num_layers", *s["num_layers"])):
            model.add(keras.layers.Dense(hp.Int(f"units_{i}", *s["units"]), activation="relu"))
            rate = hp.Float(f"dropout_{i}", *s["dropout"][:2], step=s["dropout"][2])
            if rate > 0:
                model.add(keras.layers.Dropout(rate))
        model.add(keras.layers.Dense(1, activation="sigmoid"))
        schedule = keras.optimizers.schedules.ExponentialDecay(
            hp.Choice("learning_rate", list(s["learning_rate"])),
            decay_steps=decay_steps,
            decay_rate=hp.Choice("decay_rate", list(s["decay_rate"])),
        )
        optimizer = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}[
            hp.Choice("optimizer", list(s["optimizer"]))
        ](learning_rate=schedule)
        model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
        return model

    return build


def run_keras_tuner(
    kind: str,
    X_train,
    y_train,
    X_val,
    y_val,
    max_trials: int = 5,
    executions_per_trial: int = 1,
    epochs: int = 10,
    batch_size: int = 32,
    directory=None,
    seed: int = 0,
) -> SearchResult:
    """Search the seed-004 space with keras-tuner's ``RandomSearch``, ``BayesianOptimization``
    or ``Hyperband`` (``kind`` = "random", "bayesian", "hyperband").

    The best trial is the one with the lowest ``val_loss``, averaged over its
    ``executions_per_trial`` trainings (several trainings per trial reduce the variance of
    the comparison). Hyperband has no ``max_trials``: it is given ``max_epochs=epochs`` and
    decides itself how many models to train. Results go to ``directory`` (default: a fresh
    temporary folder, deleted afterwards), never into the repository.
    """
    import tempfile

    kinds = ("bayesian", "hyperband", "random")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}, got {kind!r}")
    for name, value in (
        ("max_trials", max_trials),
        ("executions_per_trial", executions_per_trial),
        ("epochs", epochs),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")

    import keras
    import keras_tuner as kt

    tuners = {
        "random": kt.RandomSearch,
        "bayesian": kt.BayesianOptimization,
        "hyperband": kt.Hyperband,
    }
    keras.utils.set_random_seed(seed)
    X_train = np.asarray(X_train, dtype="float32")
    X_val = np.asarray(X_val, dtype="float32")
    with tempfile.TemporaryDirectory(prefix="coursekit-tuner-") as tmp:
        common = {
            "hypermodel": seed004_hypermodel(X_train.shape[1]),
            "objective": "val_loss",
            "executions_per_trial": executions_per_trial,
            "directory": str(directory) if directory is not None else tmp,
            "project_name": f"seed004_{kind}",
            "overwrite": True,
            "seed": seed,
        }
        if kind == "hyperband":
            tuner = tuners[kind](max_epochs=epochs, factor=3, **common)
        else:
            tuner = tuners[kind](max_trials=max_trials, **common)
        tuner.search(
            X_train,
            np.asarray(y_train),
            validation_data=(X_val, np.asarray(y_val)),
            epochs=epochs,
            batch_size=batch_size,
            verbose=0,
        )
        result = SearchResult(mode="min")
        for index, trial in enumerate(tuner.oracle.trials.values()):
            score = trial.score if trial.score is not None else float("nan")
            error = None if trial.score is not None else f"trial status {trial.status}"
            result.trials.append(
                Trial(index, dict(trial.hyperparameters.values), float(score), 0.0, error)
            )
    return result
