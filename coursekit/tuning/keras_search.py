r"""keras-tuner over the search space of the slides on hyperparameter optimization (chapter 6).

:func:`slides_hypermodel` is the ``build(hp)`` function keras-tuner calls, with the space of the
slides (:data:`SLIDES_SPACE`); :func:`run_keras_tuner` runs ``RandomSearch``,
``BayesianOptimization`` or ``Hyperband`` over it and returns the same
:class:`~coursekit.tuning.trials.SearchResult` as grid and random search, so a lesson
tabulates and plots all searches alike.

keras and keras-tuner are imported inside ``build`` and :func:`run_keras_tuner`, never when
this module is imported. Where keras-tuner writes its trials is the caller's choice
(``directory``); by default a fresh temporary folder, deleted afterwards.
"""

from __future__ import annotations

import os
import time

import numpy as np

from coursekit._params import (
    ArrayLike,
    InstanceOf,
    Integral,
    Interval,
    Options,
    validate_params,
)
from coursekit.tuning.trials import SearchResult, Trial

__all__ = ["SLIDES_SPACE", "run_keras_tuner", "slides_hypermodel"]

_POSITIVE_INT = Interval(Integral, 1, None)

#: The search space of the slides on hyperparameter optimization, as ``hp`` arguments. Fixed: ReLU hidden, sigmoid output, binary
#: cross-entropy. "32 to 512, step 128" gives 32, 160, 288, 416: 512 itself is off the grid.
SLIDES_SPACE = {
    "num_layers": (2, 6),  # hp.Int(min, max)
    "units": (32, 512, 128),  # hp.Int(min, max, step), per layer
    "dropout": (0.0, 0.3, 0.1),  # hp.Float(min, max, step), per layer
    "optimizer": ("rmsprop", "adam"),
    "learning_rate": (1e-2, 1e-3, 1e-4),
    "decay_rate": (0.9, 0.96, 1.0),  # 1.0 = no decay
}


@validate_params({"n_features": [_POSITIVE_INT], "decay_steps": [_POSITIVE_INT]})
def slides_hypermodel(n_features: int, decay_steps: int = 100):
    r"""``build(hp)`` for keras-tuner: a compiled Keras model from the slides' space.

    2–6 dense ReLU layers (``num_layers``), layer ``i`` with ``units_i`` of 32–512 units in
    steps of 128 and a ``Dropout(dropout_i)`` of 0–0.3 in steps of 0.1 (no layer when 0);
    a sigmoid output unit and binary cross-entropy (fixed); RMSprop or Adam (``optimizer``);
    an initial ``learning_rate`` of 1e-2, 1e-3 or 1e-4 with Keras' exponential decay

    .. math:: \alpha_t = \alpha_0\, r^{t / T}, \qquad T = \texttt{decay\_steps} \text{ updates},

    ``decay_rate`` :math:`r` of 0.9, 0.96 or 1.0 (no decay). The batch size is wanted but not
    tunable here (the slides want it tuned): it is an argument of ``fit``, not of the model.
    """
    s = SLIDES_SPACE

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


@validate_params(
    {
        "kind": [Options(("random", "bayesian", "hyperband"))],
        "X_train": [ArrayLike(finite=True, ndim=2)],
        "y_train": [ArrayLike(finite=True, ndim=(1, 2))],
        "X_val": [ArrayLike(finite=True, ndim=2)],
        "y_val": [ArrayLike(finite=True, ndim=(1, 2))],
        "max_trials": [_POSITIVE_INT],
        "executions_per_trial": [_POSITIVE_INT],
        "epochs": [_POSITIVE_INT],
        "batch_size": [_POSITIVE_INT],
        "directory": [InstanceOf((str, os.PathLike), "a folder path"), None],
        "project_name": [InstanceOf(str, "a folder name"), None],
        "seed": [Interval(Integral, 0, None)],
        "hyperband_factor": [Interval(Integral, 2, None)],
    }
)
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
    project_name: str | None = None,
    seed: int = 0,
    hyperband_factor: int = 3,
) -> SearchResult:
    """Search the slides' space (:func:`slides_hypermodel`) with keras-tuner.

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
        Passed to ``fit``. The batch size is wanted but not tunable here.
    directory : path or None
        Where keras-tuner writes its trials (the caller decides; nothing is checked about
        where it is). None (default): a fresh temporary folder, deleted afterwards.
        Existing results of the same ``project_name`` there are overwritten.
    project_name : str or None
        keras-tuner's sub-folder of ``directory``; default ``f"{kind}_search"``.
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
            "hypermodel": slides_hypermodel(X_train.shape[1]),
            "objective": "val_loss",
            "executions_per_trial": executions_per_trial,
            "directory": os.fspath(directory) if directory is not None else tmp,
            "project_name": project_name or f"{kind}_search",
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
