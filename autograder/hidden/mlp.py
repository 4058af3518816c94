"""Hidden checks of assignment 4 (an MLP to a given spec, trained to a test-accuracy threshold).

The network itself stays in the submission's sandbox; these checks read its dense layers'
weights back as arrays (:func:`autograder.sandbox.models.dense_weights`) and recompute its
forward pass here,

.. math:: a_0 = X,\\quad a_\\ell = \\mathrm{ReLU}(a_{\\ell-1} W_\\ell + b_\\ell),\\quad
          p = \\sigma(a_{L-1} W_L + b_L),

so the architecture and the accuracy are measured on the weights, and ``predict_proba`` must
agree with them: a submission cannot claim a shape or an accuracy its network does not have.
"""

from __future__ import annotations

import numpy as np

from autograder.hidden import call, student_rng
from autograder.sandbox.models import dense_weights

__all__ = ["SPEC_UNITS", "THRESHOLD", "expect_accuracy", "expect_architecture", "forward"]

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


def _layers(model, n_inputs: int) -> list[np.ndarray]:
    """The model's dense weights, checked against the spec (16 and 8 ReLU units, 1 output)."""
    framework, arrays = model.weights() if getattr(model, "remote", False) else dense_weights(model)
    if framework is None:
        raise AssertionError("build_and_train must return a Keras or PyTorch model")
    kernels = arrays[0::2]
    units = tuple(int(k.shape[1]) if k.ndim == 2 else -1 for k in kernels)
    assert units == (*SPEC_UNITS, 1), (
        f"the network must have hidden layers of {SPEC_UNITS} units and one output unit"
    )
    fan_in = (n_inputs, *units[:-1])
    assert all(k.shape[0] == n for k, n in zip(kernels, fan_in, strict=True)) and all(
        b.shape == (u,) for b, u in zip(arrays[1::2], units, strict=True)
    ), "the network's layers do not connect (check each layer's input size)"
    return arrays


def forward(arrays: list[np.ndarray], X: np.ndarray) -> np.ndarray:
    """Probabilities of the ReLU network with sigmoid output given by ``arrays``."""
    a = np.asarray(X, dtype=np.float64)
    n_layers = len(arrays) // 2
    for i in range(n_layers):
        z = a @ arrays[2 * i] + arrays[2 * i + 1]
        a = np.maximum(z, 0.0) if i < n_layers - 1 else 0.5 * (1.0 + np.tanh(0.5 * z))
    return a.reshape(-1)


def expect_architecture(build_and_train) -> None:
    X, y, Xv, yv, _, _ = _split()
    _layers(call(build_and_train, X[:64], y[:64], Xv[:32], yv[:32], 2), X.shape[1])


def expect_accuracy(build_and_train, predict_proba) -> None:
    X, y, Xv, yv, Xt, yt = _split()
    model = call(build_and_train, X, y, Xv, yv, 100)
    expected = forward(_layers(model, X.shape[1]), Xt)
    proba = np.asarray(call(predict_proba, model, Xt), dtype=float).reshape(-1)
    assert proba.shape == yt.shape, "predict_proba must return one probability per sample"
    assert np.all((proba >= 0) & (proba <= 1)), "predict_proba must return probabilities in [0, 1]"
    assert np.allclose(proba, expected, atol=1e-4), (
        "predict_proba does not match the network's own weights "
        "(ReLU hidden layers and a sigmoid output are asked for)"
    )
    accuracy = float(np.mean((proba >= 0.5) == (yt == 1)))
    assert accuracy >= THRESHOLD, (
        f"test accuracy below the required {THRESHOLD:.0%} on your hidden split of the data"
    )
