"""Every assignment's hidden checks pass the reference solution and catch the known mistakes.

Each known-wrong solution is the reference with one classic mistake; the check aimed at it
must fail (and so lose that check's points), while the reference passes every check.
"""

import numpy as np
import pytest

from autograder import authoring
from autograder.hidden import backprop, regularization


def _reference(name):
    namespace = {}
    for cell in authoring.read_source(name).cells:
        if cell.cell_type == "code" and not cell.metadata["nbgrader"]["grade"]:
            exec(cell.source, namespace)
    return namespace


A2, A3 = _reference("a2_backprop"), _reference("a3_regularization")


def test_assignment_2_reference_passes_every_hidden_check():
    backprop.expect_forward(A2["forward"])
    backprop.expect_backward(A2["forward"], A2["backward"])
    backprop.expect_sgd_step(A2["sgd_step"])
    backprop.expect_numerical_gradient(A2["numerical_gradient"])


def test_assignment_3_reference_passes_every_hidden_check():
    regularization.expect_l2(A3["l2_penalty"], A3["l2_grad"])
    regularization.expect_dropout(A3["dropout"])
    regularization.expect_early_stopping(A3["early_stopping"])
    regularization.expect_decay(A3["per_epoch_decay"], A3["keras_decay"])


# -- assignment 2 ---------------------------------------------------------------------------


def _backward_of_the_sum(params, cache, X, y):
    return {k: v * len(y) for k, v in A2["backward"](params, cache, X, y).items()}


def _backward_relu_prime_zero_is_one(params, cache, X, y):
    n = len(y)
    dz2 = (cache["a2"] - np.asarray(y, float).reshape(n, 1)) / n
    dz1 = (dz2 @ params["W2"].T) * (cache["z1"] >= 0)  # ReLU'(0) = 1
    return {"dW1": X.T @ dz1, "db1": dz1.sum(0), "dW2": cache["a1"].T @ dz2, "db2": dz2.sum(0)}


def _backward_transposed(params, cache, X, y):
    grads = A2["backward"](params, cache, X, y)
    grads["dW1"] = grads["dW1"].T
    return grads


def _sgd_ascent(params, grads, lr):
    return {k: v + lr * grads["d" + k] for k, v in params.items()}


def _sgd_in_place(params, grads, lr):
    for k in params:
        params[k] -= lr * grads["d" + k]
    return params


def _one_sided_difference(loss, params, eps=1e-6):
    out = {}
    for k, v in params.items():
        g = np.zeros_like(v)
        base = loss(params)
        for idx in np.ndindex(v.shape):
            v[idx] += eps
            g[idx] = (loss(params) - base) / eps
            v[idx] -= eps
        out[k] = g
    return out


# -- assignment 3 ---------------------------------------------------------------------------


def _l2_on_biases(params, lam):
    return lam * sum(float(np.sum(v**2)) for v in params.values())


def _dropout_not_rescaled(a, rate, rng, training=True):
    return a * (rng.random(a.shape) >= rate) if training else a


def _dropout_on_at_eval(a, rate, rng, training=True):
    return a * (rng.random(a.shape) >= rate) / (1 - rate)


def _early_stopping_keeps_the_last(losses, patience):
    stop, _ = A3["early_stopping"](losses, patience)
    return stop, (stop if stop is not None else len(losses) - 1)


def _decay_off_by_one(lr0, rate, epoch):
    return lr0 * rate ** (epoch + 1)


def _keras_decay_always_staircase(step, lr0, decay_steps, decay_rate, staircase=False):
    return lr0 * decay_rate ** np.floor(step / decay_steps)


WRONG = {
    "gradient of the sum where the mean is asked": (
        lambda: backprop.expect_backward(A2["forward"], _backward_of_the_sum),
        "off by the batch size",
    ),
    "ReLU'(0) = 1": (
        lambda: backprop.expect_backward(A2["forward"], _backward_relu_prime_zero_is_one),
        r"ReLU'\(0\)",
    ),
    "transposed dW1": (
        lambda: backprop.expect_backward(A2["forward"], _backward_transposed),
        "dW1",
    ),
    "gradient ascent": (lambda: backprop.expect_sgd_step(_sgd_ascent), "updated wrongly"),
    "update in place": (lambda: backprop.expect_sgd_step(_sgd_in_place), "in place"),
    "one-sided differences": (
        lambda: backprop.expect_numerical_gradient(_one_sided_difference),
        "central differences",
    ),
    "L2 applied to biases": (
        lambda: regularization.expect_l2(_l2_on_biases, A3["l2_grad"]),
        "biases",
    ),
    "dropout not rescaled": (
        lambda: regularization.expect_dropout(_dropout_not_rescaled),
        "scaled",
    ),
    "dropout still on at eval": (
        lambda: regularization.expect_dropout(_dropout_on_at_eval),
        "identity",
    ),
    "early stopping keeps the last weights": (
        lambda: regularization.expect_early_stopping(_early_stopping_keeps_the_last),
        "which epoch",
    ),
    "off-by-one decay": (
        lambda: regularization.expect_decay(_decay_off_by_one, A3["keras_decay"]),
        "epoch 0",
    ),
    "staircase ignored": (
        lambda: regularization.expect_decay(A3["per_epoch_decay"], _keras_decay_always_staircase),
        "staircase=False",
    ),
}


@pytest.mark.parametrize("mistake", sorted(WRONG))
def test_each_known_mistake_fails_the_check_aimed_at_it(mistake):
    run, match = WRONG[mistake]
    with pytest.raises(AssertionError, match=match):
        run()


# -- assignment 4 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def a4():
    import torch

    torch.set_num_threads(1)
    return _reference("a4_mlp")


@pytest.mark.slow
def test_assignment_4_reference_passes_and_known_mistakes_fail(a4):
    import torch

    from autograder.hidden import mlp

    mlp.expect_architecture(a4["build_and_train"])
    mlp.expect_accuracy(a4["build_and_train"], a4["predict_proba"])

    def wrong_layers(X, y, Xv, yv, epochs):
        return torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
        )

    with pytest.raises(AssertionError, match="hidden layers of"):
        mlp.expect_architecture(wrong_layers)

    def never_trained(X, y, Xv, yv, epochs):
        return a4["build_and_train"](X, y, Xv, yv, 0)

    with pytest.raises(AssertionError, match="test accuracy below"):
        mlp.expect_accuracy(never_trained, a4["predict_proba"])
