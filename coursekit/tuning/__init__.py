r"""Hyperparameter search: grid, random, and keras-tuner over the seed-004 space (chapter 6).

Grid search tries every combination: with :math:`k` hyperparameters of :math:`v` values each
that is :math:`v^k` trainings (:func:`grid_size`), it spends equal effort on parameters that do
not matter, and it only ever tries the values on the grid. Random search draws ``n_trials``
combinations, so every trial tries a new value of *every* hyperparameter; it parallelizes
as easily and can be stopped at any budget.

:func:`grid_search` and :func:`random_search` work with any framework: the objective is any
callable ``objective(params) -> float`` (e.g. build an :class:`~coursekit.mlp.MLPSpec`, fit it,
return the best validation loss). A trial whose objective raises is recorded as failed (score
NaN, the error message kept) and the search goes on. :func:`run_keras_tuner` returns the same
:class:`SearchResult`, so a lesson tabulates and plots all searches alike.

A search space is a dict ``{name: values}``; the values are a list (choices) or one of
:class:`Choice`, :class:`IntRange`, :class:`Uniform`, :class:`LogUniform`. Grid search needs
finite values (lists, ``Choice``, ``IntRange``).

>>> space = {"lr": LogUniform(1e-4, 1e-1), "layers": IntRange(2, 6), "opt": ["adam", "sgd"]}
>>> r = random_search(space, lambda p: abs(p["lr"] - 1e-2) * p["layers"], n_trials=5, seed=0)
>>> len(r.trials), r.best.params["opt"] in ("adam", "sgd")
(5, True)

Lesson: chapter 6, "Hyperparameter tuning". numpy only at import time; keras and keras-tuner
are imported inside the hypermodel's ``build`` and :func:`run_keras_tuner`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "SEED004_SPACE",
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


# -- distributions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One of ``values``, each equally likely."""

    values: tuple

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise ValueError("Choice needs at least one value, got an empty list")

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]


@dataclass(frozen=True)
class Uniform:
    """A float uniformly in ``[low, high)`` (dropout rates, momentum)."""

    low: float
    high: float

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Uniform needs low < high, got low={self.low!r}, high={self.high!r}")

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class LogUniform:
    r"""Uniform in :math:`\log x`: each order of magnitude equally likely (learning rates).

    .. math:: x = \exp(u),\quad u \sim U(\log a, \log b), \qquad \operatorname{median} x = \sqrt{ab}
    """

    low: float
    high: float

    def __post_init__(self):
        if not 0 < self.low < self.high:
            raise ValueError(
                f"LogUniform needs 0 < low < high, got low={self.low!r}, high={self.high!r}"
            )

    def sample(self, rng):
        x = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return float(min(max(x, self.low), self.high))  # exp(log(x)) may round past a bound


@dataclass(frozen=True)
class IntRange:
    """An integer from ``low`` to ``high`` inclusive, in steps of ``step`` (like ``hp.Int``)."""

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


# -- results -------------------------------------------------------------------------------


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
    _check_mode(mode)
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int) or budget < 1
    ):
        raise ValueError(f"budget must be a positive int or None, got {budget!r}")
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
    _check_mode(mode)
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive int, got {n_trials!r}")
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


# -- keras-tuner over the seed-004 space ---------------------------------------------------

#: The seed-004 search space as ``hp`` arguments. Fixed: ReLU hidden, sigmoid output, binary
#: cross-entropy. "32 to 512, step 128" gives 32, 160, 288, 416: 512 itself is off the grid.
SEED004_SPACE = {
    "num_layers": (2, 6),  # hp.Int(min, max)
    "units": (32, 512, 128),  # hp.Int(min, max, step), per layer
    "dropout": (0.0, 0.3, 0.1),  # hp.Float(min, max, step), per layer
    "optimizer": ("rmsprop", "adam"),
    "learning_rate": (1e-2, 1e-3, 1e-4),
    "decay_rate": (0.9, 0.96, 1.0),  # 1.0 = no decay
}


def seed004_hypermodel(n_features: int, decay_steps: int = 100):
    r"""``build(hp)`` for keras-tuner: a compiled Keras model from the seed-004 space.

    2–6 dense ReLU layers (``num_layers``), layer ``i`` with ``units_i`` of 32–512 units in
    steps of 128 and a ``Dropout(dropout_i)`` of 0–0.3 in steps of 0.1 (no layer when 0);
    a sigmoid output unit and binary cross-entropy (fixed); RMSprop or Adam (``optimizer``);
    an initial ``learning_rate`` of 1e-2, 1e-3 or 1e-4 with Keras' exponential decay

    .. math:: \alpha_t = \alpha_0\, r^{t / T}, \qquad T = \texttt{decay\_steps} \text{ updates},

    ``decay_rate`` :math:`r` of 0.9, 0.96 or 1.0 (no decay). The batch size is wanted but not
    tunable here (seed 004): it is an argument of ``fit``, not of the model.
    """
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"n_features must be a positive int, got {n_features!r}")
    s = SEED004_SPACE

    def build(hp):
        import keras

        model = keras.Sequential([keras.Input((n_features,))])
        for i in range(hp.Int("num_layers", *s["num_layers"])):
            units = hp.Int(f"units_{i}", *s["units"][:2], step=s["units"][2])
            model.add(keras.layers.Dense(units, activation="relu"))
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


def _active_params(values: dict) -> tuple[dict, dict]:
    """Split keras-tuner's values into the trial's own hyperparameters and the tuner's info.

    keras-tuner keeps ``units_i``/``dropout_i`` of every layer any earlier trial registered;
    a trial with ``num_layers = 2`` does not use ``units_4``, so it is dropped here.
    """
    params, info = {}, {}
    n_layers = values.get("num_layers")
    for name, value in values.items():
        if name.startswith("tuner/"):
            info[name.removeprefix("tuner/")] = value
            continue
        head, _, tail = name.rpartition("_")
        if head in ("units", "dropout") and tail.isdigit() and n_layers is not None:
            if int(tail) >= n_layers:
                continue
        params[name] = value
    return params, info


def _repo_root() -> Path | None:
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").exists() else None


def _check_directory(directory) -> str:
    path = Path(directory).resolve()
    root = _repo_root()
    if root is not None and path.is_relative_to(root):
        inside = path.relative_to(root).parts
        if not {"build", "_build"} & set(inside):
            raise ValueError(
                f"directory must be outside the repository or inside a build folder, "
                f"got {str(directory)!r}"
            )
    return str(path)


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
    hyperband_factor: int = 3,
) -> SearchResult:
    """Search the seed-004 space (:func:`seed004_hypermodel`) with keras-tuner.

    Parameters
    ----------
    kind : {"random", "bayesian", "hyperband"}
        ``RandomSearch``, ``BayesianOptimization`` or ``Hyperband``.
    X_train, y_train, X_val, y_val : array-like
        Binary labels (0/1); features already scaled.
    max_trials : int
        Number of hyperparameter combinations for random and Bayesian search. Hyperband has
        no ``max_trials`` and ignores it: its budget is ``max_epochs`` (set to ``epochs``), the
        most epochs one model gets, and it decides itself how many models to start and which
        to keep training (successive halving by ``hyperband_factor``). keras-tuner's
        Hyperband trains 2 models for ``epochs=2``, 10 for 5 and 30 for 10 (factor 3).
    executions_per_trial : int
        Trainings per combination, from fresh initial weights; more reduce the variance of
        the comparison between combinations.
    epochs, batch_size : int
        Passed to ``fit``. The batch size is wanted but not tunable here (seed 004).
    directory : path or None
        Where keras-tuner writes its trials. None (default): a fresh temporary folder,
        deleted afterwards. A folder inside the repository is refused unless it is under a
        ``build``/``_build`` folder. Existing results there are overwritten.
    seed : int
        Seeds keras-tuner's sampling and Keras' weight initialization.

    Returns
    -------
    SearchResult
        One :class:`Trial` per keras-tuner trial: the hyperparameters it used (layers beyond
        ``num_layers`` left out), its score, its wall time; Hyperband's ``epochs``,
        ``initial_epoch``, ``bracket`` and ``round`` are in ``trial.info``.

    Notes
    -----
    How the best trial is chosen: the objective is ``val_loss``. A trial's score is, for each
    of its ``executions_per_trial`` trainings, the lowest ``val_loss`` over the epochs, then
    averaged over the trainings; the best trial has the lowest score (``result.best``, same as
    keras-tuner's ``get_best_hyperparameters``). Training is silent (``verbose=0``).
    """
    import tempfile

    kinds = ("bayesian", "hyperband", "random")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}, got {kind!r}")
    for name, value in (
        ("max_trials", max_trials),
        ("executions_per_trial", executions_per_trial),
        ("epochs", epochs),
        ("batch_size", batch_size),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(hyperband_factor, bool) or not isinstance(hyperband_factor, int):
        raise ValueError(f"hyperband_factor must be an int >= 2, got {hyperband_factor!r}")
    if hyperband_factor < 2:
        raise ValueError(f"hyperband_factor must be an int >= 2, got {hyperband_factor!r}")
    target = _check_directory(directory) if directory is not None else None

    import keras
    import keras_tuner as kt

    base = {
        "random": kt.RandomSearch,
        "bayesian": kt.BayesianOptimization,
        "hyperband": kt.Hyperband,
    }
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}

    def on_trial_begin(self, trial):
        started[trial.trial_id] = time.perf_counter()
        return base[kind].on_trial_begin(self, trial)

    def on_trial_end(self, trial):
        seconds[trial.trial_id] = time.perf_counter() - started[trial.trial_id]
        return base[kind].on_trial_end(self, trial)

    timed = type(
        f"Timed{base[kind].__name__}",
        (base[kind],),
        {"on_trial_begin": on_trial_begin, "on_trial_end": on_trial_end},
    )
    keras.utils.set_random_seed(seed)
    X_train = np.asarray(X_train, dtype="float32")
    X_val = np.asarray(X_val, dtype="float32")
    with tempfile.TemporaryDirectory(prefix="coursekit-tuner-") as tmp:
        common = {
            "hypermodel": seed004_hypermodel(X_train.shape[1]),
            "objective": "val_loss",
            "executions_per_trial": executions_per_trial,
            "directory": target if target is not None else tmp,
            "project_name": f"seed004_{kind}",
            "overwrite": True,
            "seed": seed,
        }
        if kind == "hyperband":
            tuner = timed(max_epochs=epochs, factor=hyperband_factor, **common)
        else:
            tuner = timed(max_trials=max_trials, **common)
        tuner.search(
            X_train,
            np.asarray(y_train, dtype="float32"),
            validation_data=(X_val, np.asarray(y_val, dtype="float32")),
            epochs=epochs,
            batch_size=batch_size,
            verbose=0,
        )
        result = SearchResult(mode="min")
        for index, trial in enumerate(tuner.oracle.trials.values()):
            params, info = _active_params(dict(trial.hyperparameters.values))
            info["trial_id"] = trial.trial_id
            ok = trial.score is not None
            result.trials.append(
                Trial(
                    index,
                    params,
                    float(trial.score) if ok else float("nan"),
                    float(seconds.get(trial.trial_id, 0.0)),
                    None if ok else f"trial status {trial.status}",
                    info,
                )
            )
        del tuner  # release file handles before the folder is deleted
    return result
