"""The spec's network in Keras 3 (TensorFlow backend): ``Sequential`` of ``Dense`` and ``Dropout``.

Keras is imported inside the functions, never at module import. Every layer gets its dtype
explicitly (Keras caches its global dtype policy from ``floatx`` at first use, so a float32
model built first would otherwise make later float64 models float32), and float64 models are
built and trained with ``floatx`` set to float64 so that the optimizer's learning-rate
variable is float64 too (a float32 ``0.1`` is off by 1.5e-9).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from coursekit._params import Integral, Interval, validate_params
from coursekit.mlp._args import DTYPE, MODEL, SCORE, SPEC, TRAIN, WEIGHTS, X
from coursekit.mlp.history import History
from coursekit.mlp.spec import MLPSpec
from coursekit.mlp.weights import Weights, init_weights, set_weights

__all__ = ["build_keras", "evaluate_keras", "fit_keras", "predict_keras"]

_KERAS_ACTIVATION = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "identity": "linear"}
_KERAS_OUTPUT = {"sigmoid": "sigmoid", "softmax": "softmax", "linear": "linear"}
_KERAS_LOSS = {
    "sigmoid": "binary_crossentropy",
    "softmax": "sparse_categorical_crossentropy",  # integer class labels, as torch and sklearn
    "linear": "mse",
}


@contextlib.contextmanager
def _floatx(dtype: str):
    import keras

    before = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(before)


def _optimizer(spec: MLPSpec, steps_per_epoch: int | None):
    import keras

    lr = spec.lr
    if callable(lr):
        lr = _TableSchedule.from_callable(
            lr, steps_per_epoch * spec.epochs if steps_per_epoch else 10_000
        )
    return {
        "sgd": lambda: keras.optimizers.SGD(learning_rate=lr),
        "momentum": lambda: keras.optimizers.SGD(learning_rate=lr, momentum=spec.momentum),
        "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate=lr),
        "adagrad": lambda: keras.optimizers.Adagrad(learning_rate=lr),
        "adam": lambda: keras.optimizers.Adam(learning_rate=lr),
    }[spec.optimizer]()


class _TableSchedule:
    """A schedule given as a Python callable, tabulated so it runs inside a compiled graph."""

    @staticmethod
    def from_callable(fn, n_steps: int):
        import keras

        table = np.array([float(fn(step)) for step in range(n_steps)])

        class Tabulated(keras.optimizers.schedules.LearningRateSchedule):
            def __call__(self, step):
                index = keras.ops.minimum(keras.ops.cast(step, "int32"), len(table) - 1)
                return keras.ops.take(keras.ops.convert_to_tensor(table), index)

            def get_config(self):
                return {"table": table.tolist()}

        return Tabulated()


@validate_params(
    {
        "spec": [SPEC],
        "weights": [WEIGHTS, None],
        "dtype": [DTYPE],
        "steps_per_epoch": [Interval(Integral, 1, None), None],
    }
)
def build_keras(
    spec: MLPSpec, weights: Weights | None = None, dtype: str = "float32", steps_per_epoch=None
):
    """A compiled ``keras.Sequential`` for ``spec``.

    Parameters
    ----------
    weights : list of (W, b), optional
        Initial weights in the common layout; default :func:`~coursekit.mlp.weights.init_weights`.
    dtype : {"float32", "float64"}
    steps_per_epoch : int, optional
        Needed only when ``spec.lr`` is a schedule: the schedule is tabulated for
        ``steps_per_epoch * epochs`` steps.
    """
    import keras

    from coursekit.seeding import seed_everything

    seed_everything(spec.seed)
    reg = None
    if spec.l1 or spec.l2:
        reg = keras.regularizers.L1L2(l1=spec.l1, l2=spec.l2)
    with _floatx(dtype):
        layers = [keras.Input((spec.n_inputs,), dtype=dtype)]
        for i, (units, rate) in enumerate(zip(spec.hidden, spec.dropout_rates, strict=True)):
            layers.append(
                keras.layers.Dense(
                    units,
                    activation=_KERAS_ACTIVATION[spec.activation],
                    kernel_regularizer=reg,
                    name=f"dense_{i + 1}",
                    dtype=dtype,
                )
            )
            if rate > 0:
                layers.append(
                    keras.layers.Dropout(
                        rate, seed=spec.seed + i, name=f"dropout_{i + 1}", dtype=dtype
                    )
                )
        layers.append(
            keras.layers.Dense(
                spec.n_outputs,
                activation=_KERAS_OUTPUT[spec.output],
                kernel_regularizer=reg,
                name="output",
                dtype=dtype,
            )
        )
        model = keras.Sequential(layers, name="mlp")
        metrics = ["accuracy"] if spec.output != "linear" else []
        model.compile(
            optimizer=_optimizer(spec, steps_per_epoch),
            loss=_KERAS_LOSS[spec.output],
            metrics=metrics,
        )
    set_weights(model, weights if weights is not None else init_weights(spec, dtype=dtype))
    return model


@validate_params(TRAIN)
def fit_keras(model, spec: MLPSpec, X, y, validation_data=None) -> History:
    """``model.fit`` with the spec's batch size, epochs, shuffling and early stopping."""
    import keras

    from coursekit.seeding import seed_everything

    seed_everything(spec.seed)
    callbacks = []
    if spec.patience is not None and validation_data is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=spec.patience, restore_best_weights=True
            )
        )
    start = time.perf_counter()
    with _floatx(_model_dtype(model)):
        result = _fit(model, spec, X, y, validation_data, callbacks)
    seconds = time.perf_counter() - start
    h = result.history

    history = History(
        "keras",
        loss=[float(v) for v in h["loss"]],
        val_loss=[float(v) for v in h.get("val_loss", [])],
        seconds=seconds,
    )
    if spec.output != "linear":
        history.val_accuracy = [float(v) for v in h.get("val_accuracy", [])]
    if callbacks:
        stopper = callbacks[0]
        history.best_epoch = stopper.best_epoch if stopper.best_weights is not None else None
        history.stopped_epoch = stopper.stopped_epoch or None
    return history


def _fit(model, spec, X, y, validation_data, callbacks):
    return model.fit(
        np.asarray(X),
        np.asarray(y),
        batch_size=spec.batch_size,
        epochs=spec.epochs,
        shuffle=spec.shuffle,
        validation_data=validation_data,
        callbacks=callbacks,
        verbose=0,
    )


def _model_dtype(model) -> str:
    return str(model.layers[0].kernel.dtype) if model.layers else "float32"


@validate_params({"model": [MODEL], "X": [X]})
def predict_keras(model, X) -> np.ndarray:
    """``model.predict`` in the model's own dtype (Keras would cast float64 input to floatx)."""
    dtype = _model_dtype(model)
    with _floatx(dtype):
        return np.asarray(model.predict(np.asarray(X, dtype=dtype), verbose=0))


@validate_params(SCORE)
def evaluate_keras(model, spec: MLPSpec, X, y) -> dict[str, float]:
    """Loss (without the penalty) and, for classifiers, accuracy on ``(X, y)``."""
    from coursekit.mlp.scoring import score_outputs

    return score_outputs(spec, predict_keras(model, X), y)
