"""Hidden checks of assignment 2 (backpropagation by hand on the 2-2-1 XOR network).

Expectations come from ``coursekit`` on private copies made before the student's function is
called; every returned value is read through :mod:`autograder.hidden.strict`. The loss that
``numerical_gradient`` receives is the grader's own function, called back from the sandbox: it
accepts exactly the case's parameter dict (float64, finite, the parameter shapes) and a bounded
number of calls, so a student cannot make the grader compute anything large.
"""

from __future__ import annotations

import numpy as np

from autograder.hidden import call, call_observed, student_rng
from autograder.hidden.strict import as_array, expect_array, expect_dict

__all__ = ["expect_backward", "expect_forward", "expect_numerical_gradient", "expect_sgd_step"]

_CACHE = ("z1", "a1", "z2", "a2")
_GRADS = ("dW1", "db1", "dW2", "db2")


def _params(rng):
    from coursekit import xor

    return {k: rng.normal(0, 1, s) for k, s in xor.PARAM_SHAPES.items()}


def _inputs(rng, n):
    X = rng.normal(size=(n, 2))
    return X, rng.integers(0, 2, n)


def _copy(params: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in params.items()}


def expect_forward(forward) -> None:
    from coursekit import xor

    rng = student_rng(21)
    for i in range(4):
        params, (X, _) = _params(rng), _inputs(rng, int(rng.integers(2, 9)))
        expected = xor.forward(_copy(params), X.copy())
        where = f"hidden case {i + 1}"
        got = expect_dict(call(forward, params, X), _CACHE, name="forward", where=where)
        for name in _CACHE:
            expect_array(got[name], expected[name], name=f"forward: {name}", where=where)


def expect_backward(forward, backward) -> None:
    """Mean over the batch and ReLU'(0) = 0, also on inputs that put z1 exactly at 0."""
    from coursekit import xor

    rng = student_rng(22)
    cases = [(xor.lecture_params(), *xor.dataset())]  # z1 = 0 for the input (0, 0)
    for _ in range(3):
        params, (X, y) = _params(rng), _inputs(rng, int(rng.integers(2, 9)))
        cases.append((params, X, y))
    for i, (params, X, y) in enumerate(cases):
        p = _copy(params)
        expected = xor.backward(
            p, xor.forward(p, X.copy()), y.copy(), reduction="mean", relu_grad_at_zero=0.0
        )
        where = f"hidden case {i + 1}"
        cache = call(forward, params, X)
        got = expect_dict(call(backward, params, cache, X, y), _GRADS, name="backward", where=where)
        for name in _GRADS:
            want = expected[name]
            value = as_array(got[name], name=f"backward: {name}", shape=want.shape, where=where)
            if not np.isclose(value, want, rtol=1e-9, atol=1e-12).all():
                ratio = np.sum(value * want) / max(np.sum(want**2), 1e-300)
                if np.isfinite(ratio) and abs(ratio - len(X)) < 1e-6:
                    hint = " (off by the batch size: the loss is the mean over the batch)"
                elif i == 0:
                    hint = " (the batch has an input with z1 = 0: what is ReLU'(0)?)"
                else:
                    hint = ""
                raise AssertionError(f"backward: {name} is wrong on {where}{hint}")


def expect_sgd_step(sgd_step) -> None:
    from coursekit import xor

    rng = student_rng(23)
    params = _params(rng)
    grads = {"d" + k: rng.normal(size=v.shape) for k, v in params.items()}
    lr = float(rng.uniform(0.01, 0.5))
    expected = xor.sgd_step(_copy(params), _copy(grads), lr)
    got, args_after = call_observed(sgd_step, params, grads, lr)
    # what the sandbox reports about the arguments is only ever held against the student
    ok = type(args_after) is list and len(args_after) == 3 and type(args_after[0]) is dict
    after = args_after[0] if ok else {}
    for name, value in params.items():
        seen = after.get(name)
        if (
            type(seen) is not np.ndarray
            or seen.shape != value.shape
            or not np.array_equal(seen, value)
        ):
            raise AssertionError(
                "sgd_step must not modify params in place: return new arrays and leave params "
                "unchanged"
            )
    got = expect_dict(got, tuple(expected), name="sgd_step")
    for name in expected:
        expect_array(
            got[name],
            expected[name],
            name=f"sgd_step: {name}",
            rtol=1e-12,
            hint=" (updated wrongly)",
        )


class _Loss:
    """The grader's loss, called back by the student's ``numerical_gradient``.

    Refuses (and remembers) any call that is not exactly a dict of the case's parameters
    (plain float64 arrays of the parameter shapes, finite), and any call past ``max_calls``,
    *before* computing anything.
    """

    def __init__(self, X, y, shapes: dict, max_calls: int):
        self.X, self.y, self.shapes, self.max_calls = X, y, shapes, max_calls
        self.calls, self.refused = 0, None
        self.__name__ = "loss"

    def value(self, p) -> float:
        z2 = np.maximum(self.X @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
        return float(np.mean(np.logaddexp(0.0, z2[:, 0]) - self.y * z2[:, 0]))

    def _refuse(self, message: str):
        self.refused = self.refused or message
        raise AssertionError(message)

    def __call__(self, *args, **kwargs) -> float:
        self.calls += 1
        if self.calls > self.max_calls:
            self._refuse(
                f"loss was called more than {self.max_calls} times (central differences need "
                "two calls per entry)"
            )
        if len(args) != 1 or kwargs:
            self._refuse("loss takes exactly one argument, the parameter dict")
        (p,) = args
        if type(p) is not dict or set(p) != set(self.shapes):
            self._refuse(
                f"loss was called with something other than a dict of {sorted(self.shapes)}"
            )
        for key, shape in self.shapes.items():
            v = p[key]
            if type(v) is not np.ndarray or v.shape != shape or v.dtype != np.float64:
                got = (
                    f"an array of shape {v.shape} and dtype {v.dtype.name}"
                    if isinstance(v, np.ndarray)
                    else "a non-array"
                )
                self._refuse(
                    f"loss was called with {got} for {key!r} where a float64 array of shape "
                    f"{shape} is expected"
                )
            if not np.isfinite(v).all():
                self._refuse(f"loss was called with a non-finite value in {key!r}")
        return self.value(p)


def expect_numerical_gradient(numerical_gradient) -> None:
    from coursekit import gradcheck, xor

    rng = student_rng(24)
    params, (X, y) = _params(rng), _inputs(rng, 6)
    shapes = {k: v.shape for k, v in params.items()}
    entries = sum(v.size for v in params.values())
    loss = _Loss(X, y, shapes, max_calls=4 * entries + 8)
    # written out here, not xor.loss: the student's function calls it under the guard
    assert abs(loss.value(params) - xor.loss(params, X, y)) < 1e-12  # the lesson's loss
    expected = gradcheck.numerical_gradient(loss.value, _copy(params))
    try:
        got = call(numerical_gradient, loss, params)
    except AssertionError:
        if loss.refused:
            raise AssertionError(f"numerical_gradient: {loss.refused}") from None
        raise
    if loss.refused:  # refused calls the student's code caught
        raise AssertionError(f"numerical_gradient: {loss.refused}")
    got = expect_dict(got, tuple(expected), name="numerical_gradient")
    for name in expected:
        expect_array(
            got[name],
            expected[name],
            name=f"numerical_gradient: {name}",
            rtol=1e-7,
            atol=1e-9,
            hint=" (it does not match central differences)",
        )
