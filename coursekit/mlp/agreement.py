"""Cross-framework agreement on the lecture's worked XOR example (chapters 2 and 7).

From :func:`coursekit.xor.lecture_params`, numpy (:mod:`coursekit.xor`), Keras ``fit``, the
torch loop and scikit-learn are compared on: the forward pass, the loss of batch 1, the
gradients of batch 1, and the parameters and epoch losses after 3 epochs of SGD
(lr 0.1, batch 2, no shuffling, mean reduction). Every framework's own numbers are used:
the loss is the one its training loop reports, and its gradient is read off one SGD step,
:math:`g = (\\phi_{before} - \\phi_{after}) / \\alpha`, which needs no private API.
"""

from __future__ import annotations

import numpy as np

from coursekit import xor
from coursekit._params import InstanceOf, Integral, Interval, Options, SequenceOf, validate_params
from coursekit.mlp.spec import MLPSpec
from coursekit.mlp.weights import get_weights, weights_from_xor

__all__ = ["TOLERANCE", "format_table", "xor_agreement", "xor_spec"]

#: Largest absolute difference accepted per dtype.
TOLERANCE = {"float64": 1e-10, "float32": 1e-6}
FRAMEWORKS = ("keras", "torch", "sklearn")


@validate_params({"epochs": [Interval(Integral, 1, None)]})
def xor_spec(epochs: int = 3) -> MLPSpec:
    """The lecture's training set-up as an :class:`MLPSpec`."""
    return MLPSpec(
        n_inputs=2,
        hidden=(2,),
        activation="relu",
        output="sigmoid",
        optimizer="sgd",
        lr=0.1,
        batch_size=2,
        epochs=epochs,
        shuffle=False,
        seed=0,
    )


def _flat(weights) -> np.ndarray:
    return np.concatenate([np.concatenate([W.ravel(), b.ravel()]) for W, b in weights])


def _numpy_reference():
    X, y = xor.dataset()
    params = xor.lecture_params()
    cache = xor.forward(params, X)
    grads = xor.backward(params, xor.forward(params, X[:2]), y[:2])
    trained, history = xor.train(params, X, y, lr=0.1, batch_size=2, epochs=3)
    grad_layers = [(grads["dW1"], grads["db1"]), (grads["dW2"], grads["db2"])]
    return {
        "forward a2 (4 samples)": cache["a2"].ravel(),
        "loss of batch 1": np.array([xor.loss(params, X[:2], y[:2])]),
        "gradients of batch 1": _flat(grad_layers),
        "parameters after 3 epochs": _flat(weights_from_xor(trained)),
        "epoch losses": np.array(history["loss"]),
    }


def _framework_numbers(framework: str, dtype: str):
    from coursekit import mlp

    X, y = xor.dataset()
    start = weights_from_xor(xor.lecture_params())
    kwargs = {} if framework == "sklearn" else {"dtype": dtype}

    model = mlp.build(framework, xor_spec(), start, **kwargs)
    probabilities = _predict(framework, model, X, dtype)

    one_step = mlp.build(framework, xor_spec(epochs=1), start, **kwargs)
    step_history = mlp.fit(one_step, xor_spec(epochs=1).with_(batch_size=2), X[:2], y[:2])
    gradient = (_flat(start) - _flat(get_weights(one_step))) / 0.1

    history = mlp.fit(model, xor_spec(), X, y)
    return {
        "forward a2 (4 samples)": probabilities.ravel(),
        "loss of batch 1": np.array(step_history.loss[:1]),
        "gradients of batch 1": gradient,
        "parameters after 3 epochs": _flat(get_weights(model)),
        "epoch losses": np.array(history.loss),
    }


def _predict(framework, model, X, dtype):
    if framework == "keras":
        from coursekit.mlp.keras_mlp import predict_keras

        return predict_keras(model, X)
    if framework == "torch":
        from coursekit.mlp.torch_mlp import predict_torch

        return predict_torch(model, xor_spec(), X)
    return model.predict_proba(X)[:, 1]


@validate_params(
    {
        "dtype": [Options(tuple(TOLERANCE))],
        "frameworks": [SequenceOf(Options(FRAMEWORKS), description="a list of framework names")],
    }
)
def xor_agreement(dtype: str = "float64", frameworks=FRAMEWORKS) -> list[dict]:
    """One row per (quantity, framework): the largest difference from numpy and a verdict.

    scikit-learn always computes in float64 here (its weights follow the input dtype, and the
    course uses it with float64 data), so its rows are float64 whatever ``dtype`` is.
    """
    if dtype not in TOLERANCE:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    unknown = set(frameworks) - set(FRAMEWORKS)
    if unknown:
        raise ValueError(f"unknown frameworks {sorted(unknown)}; choose from {FRAMEWORKS}")
    reference = _numpy_reference()
    rows = []
    for framework in frameworks:
        numbers = _framework_numbers(framework, dtype)
        used = "float64" if framework == "sklearn" else dtype
        for quantity, expected in reference.items():
            got = np.asarray(numbers[quantity], dtype=np.float64)
            diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else np.inf
            rows.append(
                {
                    "quantity": quantity,
                    "framework": framework,
                    "dtype": used,
                    "max_abs_diff": diff,
                    "tolerance": TOLERANCE[used],
                    "agrees": diff <= TOLERANCE[used],
                }
            )
    return rows


@validate_params({"rows": [SequenceOf(InstanceOf(dict), description="a list of dicts")]})
def format_table(rows: list[dict]) -> str:
    """The rows as a Markdown table for the book."""
    lines = [
        "| quantity | framework | dtype | max abs difference from numpy | agrees |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        mark = "yes" if r["agrees"] else "NO"
        lines.append(
            f"| {r['quantity']} | {r['framework']} | {r['dtype']} | {r['max_abs_diff']:.1e} | {mark} |"
        )
    return "\n".join(lines)
