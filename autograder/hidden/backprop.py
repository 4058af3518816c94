"""Hidden checks of assignment 2 (backpropagation by hand on the 2-2-1 XOR network)."""

from __future__ import annotations

import numpy as np

from autograder.hidden import call, student_rng

__all__ = ["expect_backward", "expect_forward", "expect_numerical_gradient", "expect_sgd_step"]


def _params(rng):
    from coursekit import xor

    return {k: rng.normal(0, 1, s) for k, s in xor.PARAM_SHAPES.items()}


def _inputs(rng, n):
    X = rng.normal(size=(n, 2))
    return X, rng.integers(0, 2, n)


def expect_forward(forward) -> None:
    from coursekit import xor

    rng = student_rng(21)
    for i in range(4):
        params, (X, _) = _params(rng), _inputs(rng, int(rng.integers(2, 9)))
        expected = xor.forward(params, X)
        got = call(forward, {k: v.copy() for k, v in params.items()}, X.copy())
        for name in ("z1", "a1", "z2", "a2"):
            assert name in got, f"forward must return {name!r}"
            value = np.asarray(got[name], dtype=float)
            assert value.shape == expected[name].shape, (
                f"forward: {name} has the wrong shape (hidden case {i + 1})"
            )
            assert np.allclose(value, expected[name], rtol=1e-9, atol=1e-12), (
                f"forward: {name} is wrong on hidden case {i + 1}"
            )


def expect_backward(forward, backward) -> None:
    """Mean over the batch and ReLU'(0) = 0, also on inputs that put z1 exactly at 0."""
    from coursekit import xor

    rng = student_rng(22)
    cases = [(xor.lecture_params(), *xor.dataset())]  # z1 = 0 for the input (0, 0)
    for _ in range(3):
        params, (X, y) = _params(rng), _inputs(rng, int(rng.integers(2, 9)))
        cases.append((params, X, y))
    for i, (params, X, y) in enumerate(cases):
        expected = xor.backward(
            params, xor.forward(params, X), y, reduction="mean", relu_grad_at_zero=0.0
        )
        got = call(backward, params, call(forward, params, X), X, y)
        for name in ("dW1", "db1", "dW2", "db2"):
            assert name in got, f"backward must return {name!r}"
            value = np.asarray(got[name], dtype=float).reshape(expected[name].shape)
            if not np.allclose(value, expected[name], rtol=1e-9, atol=1e-12):
                hint = " (the batch has an input with z1 = 0: what is ReLU'(0)?)" if i == 0 else ""
                ratio = np.sum(value * expected[name]) / max(np.sum(expected[name] ** 2), 1e-300)
                if abs(ratio - len(X)) < 1e-6:
                    hint = " (off by the batch size: the loss is the mean over the batch)"
                raise AssertionError(f"backward: {name} is wrong on hidden case {i + 1}{hint}")


def expect_sgd_step(sgd_step) -> None:
    from coursekit import xor

    rng = student_rng(23)
    params = _params(rng)
    grads = {"d" + k: rng.normal(size=v.shape) for k, v in params.items()}
    lr = float(rng.uniform(0.01, 0.5))
    before = {k: v.copy() for k, v in params.items()}
    got = call(sgd_step, params, grads, lr)
    expected = xor.sgd_step(before, grads, lr)
    for name in expected:
        assert np.allclose(got[name], expected[name], rtol=1e-12), (
            f"sgd_step: {name} is updated wrongly"
        )
        assert np.array_equal(params[name], before[name]), (
            "sgd_step must not modify params in place"
        )


def expect_numerical_gradient(numerical_gradient) -> None:
    from coursekit import gradcheck, xor

    rng = student_rng(24)
    params, (X, y) = _params(rng), _inputs(rng, 6)

    def loss(p):
        # written out here, not xor.loss: the student's function calls it under the guard
        z2 = np.maximum(X @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
        return float(np.mean(np.logaddexp(0.0, z2[:, 0]) - y * z2[:, 0]))

    assert abs(loss(params) - xor.loss(params, X, y)) < 1e-12  # the same loss as the lesson's
    expected = gradcheck.numerical_gradient(loss, params)
    got = call(numerical_gradient, loss, {k: v.copy() for k, v in params.items()})
    for name in expected:
        assert np.allclose(got[name], expected[name], rtol=1e-7, atol=1e-9), (
            f"numerical_gradient: {name} does not match central differences"
        )
