"""Hidden checks of assignment 4 (an MLP to a given spec, trained to a validation threshold)."""

from __future__ import annotations

import numpy as np

from autograder.hidden import call, student_rng

__all__ = ["SPEC_UNITS", "THRESHOLD", "expect_accuracy", "expect_architecture"]

#: The hidden layer sizes the assignment asks for, and the accuracy the model must reach.
SPEC_UNITS = (16, 8)
THRESHOLD = 0.93


def _split():
    from coursekit import data
    from coursekit.scaling import Standardizer

    seed = int(student_rng(41).integers(0, 2**31))
    split = data.load("breast_cancer", seed=seed)  # a different split for each student
    scaler = Standardizer().fit(split.X_train)
    return (
        scaler.transform(split.X_train),
        split.y_train,
        scaler.transform(split.X_val),
        split.y_val,
        scaler.transform(split.X_test),
        split.y_test,
    )


def _dense_units(model) -> tuple[int, ...]:
    module = type(model).__module__
    if module.startswith("keras"):
        return tuple(int(layer.units) for layer in model.layers if type(layer).__name__ == "Dense")
    if module.startswith("torch"):
        import torch

        return tuple(int(m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear))
    raise AssertionError(
        f"build_and_train must return a Keras or PyTorch model, got {type(model).__name__}"
    )


def expect_architecture(build_and_train) -> None:
    X, y, Xv, yv, _, _ = _split()
    model = call(build_and_train, X[:64], y[:64], Xv[:32], yv[:32], 2)
    units = _dense_units(model)
    assert units == (*SPEC_UNITS, 1), (
        f"the network must have hidden layers of {SPEC_UNITS} units and one output unit"
    )


def expect_accuracy(build_and_train, predict_proba) -> None:
    X, y, Xv, yv, Xt, yt = _split()
    model = call(build_and_train, X, y, Xv, yv, 100)
    proba = np.asarray(call(predict_proba, model, Xt), dtype=float).reshape(-1)
    assert proba.shape == yt.shape, "predict_proba must return one probability per sample"
    assert np.all((proba >= 0) & (proba <= 1)), "predict_proba must return probabilities in [0, 1]"
    accuracy = float(np.mean((proba >= 0.5) == (yt == 1)))
    assert accuracy >= THRESHOLD, (
        f"test accuracy below the required {THRESHOLD:.0%} on your hidden split of the data"
    )
