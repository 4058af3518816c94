"""Hidden checks of assignment 2 (backpropagation by hand on the 2-2-1 XOR network).

Expectations come from ``coursekit`` on private copies made before the student's function is
called; every returned value is read through :mod:`autograder.assignments.rules`. The loss that
``numerical_gradient`` receives is the grader's own function, called back from the sandbox: it
accepts exactly the case's parameter dict (float64, finite, the parameter shapes) and a bounded
number of calls, so a student cannot make the grader compute anything large.

A wrong value is diagnosed as the visible checks diagnose it (``visible.diagnose``): the
hint of the known-wrong variant it equals on the hidden input (:func:`known_wrong_backward`,
``visible.forward_variants``), else where it differs and by how much relative to the
expected size; never a hidden input or an expected value. ``backward`` is given the right
cache (with any extra keys the student's ``forward`` adds), so a wrong ``forward`` costs
``forward``'s points only.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments import rules
from autograder.assignments.a2_backprop import visible
from autograder.assignments.a2_backprop.visible import Mistake
from autograder.assignments.calls import InputModified, call, student_rng
from autograder.assignments.rules import as_array, expect_dict

__all__ = [
    "expect_backward",
    "expect_forward",
    "expect_numerical_gradient",
    "expect_sgd_step",
    "known_wrong_backward",
]

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


def known_wrong_backward(params: dict, X, y) -> dict[str, dict[str, np.ndarray]]:
    r"""mistake -> the gradients that mistake gives on ``(params, X, y)`` (``visible.Mistake``).

    From the right pass (:func:`coursekit.xor.backward`, mean loss): ReLU'(0) = 1;
    :math:`dz_1 = da_1 \odot a_1`; no ReLU' (:math:`dz_1 = da_1`); and the sigmoid's derivative
    applied again to :math:`dz_2 = (a_2 - y)/n`. The visible checks' tables of the public
    cases are these values (a test recomputes them).
    """
    from coursekit import xor

    p, X = _copy(params), np.array(X, dtype=float)
    cache = xor.forward(p, X)
    right = xor.backward(p, cache, y, reduction="mean", relu_grad_at_zero=0.0)
    relu_one = xor.backward(p, cache, y, reduction="mean", relu_grad_at_zero=1.0)

    def grads(dz2, dz1):
        return {"dW1": X.T @ dz1, "db1": dz1.sum(0), "dW2": cache["a1"].T @ dz2, "db2": dz2.sum(0)}

    dz2, da1, a2 = right["dz2"], right["da1"], cache["a2"]
    twice = dz2 * a2 * (1 - a2)  # (n, 1)
    return {
        Mistake.RELU_PRIME_0_IS_1: {k: relu_one[k] for k in _GRADS},
        Mistake.TIMES_A1: grads(dz2, da1 * cache["a1"]),
        Mistake.NO_RELU_PRIME: grads(dz2, da1),
        Mistake.SIGMOID_PRIME_TWICE: grads(twice, (twice @ p["W2"].T) * (cache["z1"] > 0)),
    }


def expect_forward(forward) -> None:
    from coursekit import xor

    rng = student_rng(21)
    for i in range(4):
        params, (X, _) = _params(rng), _inputs(rng, int(rng.integers(2, 9)))
        expected = xor.forward(_copy(params), X.copy())
        where = f"hidden case {i + 1}"
        got = expect_dict(
            call(forward, params, X, names=("params", "X")), _CACHE, name="forward", where=where
        )
        variants = visible.forward_variants(params, X, expected)
        for name in _CACHE:
            value = as_array(
                got[name], name=f"forward: {name}", shape=expected[name].shape, where=where
            )
            if not np.isclose(value, expected[name], rtol=1e-9, atol=1e-12).all():
                hint = rules.diagnose(
                    value, expected[name], variants[name], values=False, rtol=1e-9, atol=1e-12
                )
                raise AssertionError(f"forward: {name} is wrong on {where}{hint}")


def _cache_for_backward(forward, params, X, right: dict) -> dict:
    """The right cache, with the extra keys of the student's own (if forward runs)."""
    try:
        theirs = call(forward, params, X, names=("params", "X"))
    except AssertionError:  # forward's own check reports it
        theirs = {}
    extra = theirs if type(theirs) is dict else {}
    return {**extra, **{k: np.array(right[k], copy=True) for k in _CACHE}}


def expect_backward(forward, backward) -> None:
    """Mean over the batch and ReLU'(0) = 0, also on inputs that put z1 exactly at 0."""
    from coursekit import xor

    rng = student_rng(22)
    cases = [(xor.lecture_params(), *xor.dataset())]  # z1 = 0 for the input (0, 0)
    for _ in range(3):
        params, (X, y) = _params(rng), _inputs(rng, int(rng.integers(2, 9)))
        cases.append((params, X, y))
    right = []
    for params, X, y in cases:
        p = _copy(params)
        cache = xor.forward(p, X.copy())
        grads = xor.backward(p, cache, y.copy(), reduction="mean", relu_grad_at_zero=0.0)
        right.append((cache, grads, known_wrong_backward(params, X, y)))

    def run(i):
        params, X, y = cases[i]
        cache = _cache_for_backward(forward, params, X, right[i][0])
        got = call(backward, params, cache, X, y, names=("params", "cache", "X", "y"))
        return expect_dict(got, _GRADS, name="backward", where=f"hidden case {i + 1}")

    def variants(i, name):
        _, grads, wrong = right[i]
        return {
            **visible.backward_related(name, grads[name], len(cases[i][1])),
            **{mistake: values[name] for mistake, values in wrong.items()},
        }

    def elsewhere(i, name):
        for other in range(len(cases)):
            if other != i:
                try:
                    got = run(other)[name]
                except AssertionError:
                    continue
                want = right[other][1][name]
                if type(got) is np.ndarray and got.shape == want.shape and got.dtype.kind in "fiu":
                    yield got.astype(float), want, variants(other, name)

    for i in range(len(cases)):
        where, n = f"hidden case {i + 1}", len(cases[i][1])
        got = run(i)
        for name in _GRADS:
            want = right[i][1][name]
            g = got[name]
            if type(g) is np.ndarray and g.shape == (n, *want.shape) and want.ndim == 1:
                raise AssertionError(
                    f"backward: {name} has the wrong shape on {where} ({Mistake.BATCH_AXIS.hint})"
                )
            value = as_array(g, name=f"backward: {name}", shape=want.shape, where=where)
            if not np.isclose(value, want, rtol=1e-9, atol=1e-12).all():
                hint = rules.diagnose(
                    value,
                    want,
                    variants(i, name),
                    values=False,
                    others=elsewhere(i, name),
                    rtol=1e-9,
                    atol=1e-12,
                )
                raise AssertionError(f"backward: {name} is wrong on {where}{hint}")


def expect_sgd_step(sgd_step) -> None:
    from coursekit import xor

    rng = student_rng(23)
    params = _params(rng)
    grads = {"d" + k: rng.normal(size=v.shape) for k, v in params.items()}
    lr = float(rng.uniform(0.01, 0.5))
    expected = xor.sgd_step(_copy(params), _copy(grads), lr)
    try:
        got = call(sgd_step, params, grads, lr, names=("params", "grads", "lr"))
    except InputModified as exc:
        raise AssertionError(
            f"sgd_step must not modify {exc.path} in place: return new arrays (v - lr * g) and "
            "leave params unchanged; inputs must not change"
        ) from None
    got = expect_dict(got, tuple(expected), name="sgd_step")
    for name in expected:
        value = as_array(got[name], name=f"sgd_step: {name}", shape=expected[name].shape)
        if not np.isclose(value, expected[name], rtol=1e-12, atol=1e-12).all():
            ascent = {Mistake.ASCENT: params[name] + lr * grads["d" + name]}
            hint = rules.diagnose(value, expected[name], ascent, values=False, rtol=1e-12)
            raise AssertionError(f"sgd_step: {name} is updated wrongly{hint}")


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

    def _count(self) -> None:
        self.calls += 1
        if self.calls > self.max_calls:
            self._refuse(
                f"loss was called more than {self.max_calls} times (central differences need "
                "two calls per entry)"
            )

    def accepts_wire(self, args, kwargs) -> bool:
        """The same rules on a call from the sandbox, read from the message form *before* it
        is decoded (an array's dtype and shape are in its header; its data is not decoded)."""
        try:
            self._count()
            items = args[0].get("__dict__") if type(args) is list and len(args) == 1 else None
            if kwargs != {"__dict__": {}} or type(items) is not dict:
                self._refuse("loss takes exactly one argument, the parameter dict")
            if set(items) != set(self.shapes):
                self._refuse(
                    f"loss was called with something other than a dict of {sorted(self.shapes)}"
                )
            for key, shape in self.shapes.items():
                v = items[key] if type(items[key]) is dict else {}
                header = (v.get("dtype"), v.get("shape"))
                if "__array__" not in v or header != (np.dtype(np.float64).str, list(shape)):
                    self._refuse(self._wrong(key, shape))
        except (AssertionError, AttributeError):
            return False
        self.calls -= 1  # counted again when the decoded call arrives
        return True

    @staticmethod
    def _wrong(key: str, shape: tuple) -> str:
        """In fixed words: the student's shape and dtype are not repeated (they could carry a
        hidden input out)."""
        return (
            f"loss was called with the wrong kind of value for {key!r} (a float64 array of "
            f"shape {shape} is expected)"
        )

    def __call__(self, *args, **kwargs) -> float:
        self._count()
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
                self._refuse(self._wrong(key, shape))
            if not np.isfinite(v).all():
                self._refuse(f"loss was called with a non-finite value in {key!r}")
        return self.value(p)


def _left_perturbed(largest: float, eps: float = 1e-6) -> str:
    """`` (...)`` when the entries changed by about eps: perturbed and never put back."""
    if 0.5 * eps <= largest <= 2.5 * eps:
        return (
            " (its entries are off by about eps: each entry it perturbs is never put back; "
            "restore it after the two loss calls, v[idx] = old)"
        )
    return ""


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
        got = call(numerical_gradient, loss, params, names=("loss", "params"))
    except InputModified as exc:
        if loss.refused:
            raise AssertionError(f"numerical_gradient: {loss.refused}") from None
        raise AssertionError(
            f"numerical_gradient must not modify params in place: {exc.path} changed"
            f"{_left_perturbed(exc.largest)}. Inputs must not change: params must hold its "
            "original values afterwards"
        ) from None
    except AssertionError:
        if loss.refused:
            raise AssertionError(f"numerical_gradient: {loss.refused}") from None
        raise
    if loss.refused:  # refused calls the student's code caught
        raise AssertionError(f"numerical_gradient: {loss.refused}")
    got = expect_dict(got, tuple(expected), name="numerical_gradient")
    for name in expected:
        want = expected[name]
        value = as_array(got[name], name=f"numerical_gradient: {name}", shape=want.shape)
        if not np.isclose(value, want, rtol=1e-7, atol=1e-9).all():
            one_sided = {Mistake.ONE_SIDED: _one_sided(loss.value, params, name)}
            hint = rules.diagnose(value, want, one_sided, values=False, rtol=1e-7, atol=1e-9)
            raise AssertionError(
                f"numerical_gradient: {name} does not match central differences{hint}"
            )


def _one_sided(value, params: dict, name: str, eps: float = 1e-6) -> np.ndarray:
    """(L(phi + eps) - L(phi)) / eps for every entry of ``params[name]`` (a known mistake)."""
    p = _copy(params)
    base, out = value(p), np.zeros_like(p[name])
    for idx in np.ndindex(p[name].shape):
        old = p[name][idx]
        p[name][idx] = old + eps
        out[idx] = (value(p) - base) / eps
        p[name][idx] = old
    return out
