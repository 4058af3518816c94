"""Visible checks of assignment 2 (backpropagation by hand on the 2-2-1 XOR network).

Public cases only: the lecture's batch ``X[:2]`` (one input puts ``z1`` exactly at 0) and a
second case with negative pre-activations and a non-zero ``b2``; their expected numbers are
written out here (a test recomputes them with ``coursekit``). A wrong value gets the hint of
the known-wrong variant it equals (:class:`Mistake`, :func:`forward_variants`,
:func:`backward_related`); the hidden checks diagnose with the same members on their inputs.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from autograder.assignments.rules import (
    CheckFailed,
    as_array,
    close,
    diagnose,
    differs,
    expect_dict,
)
from autograder.assignments.runner import ErrorInYourCode, call, check, lessons

A2 = "a2_backprop"
lessons({"02_forward_backward": "lesson 2, The forward and backward pass"})
_A2_HINTS = {
    "keys": "params are keyed 'W1', 'b1', 'W2', 'b2'; the gradients 'dW1', 'db1', 'dW2', 'db2' "
    "(a 'd' before the parameter's name); forward's cache 'z1', 'a1', 'z2', 'a2'",
    "shapes": "the shapes: X (n, 2), W1 (2, 2), b1 (2,), W2 (2, 1), b2 (1,), z2 and a2 (n, 1), "
    "and y (n,): a2 - y broadcasts to (n, n) unless y is reshaped to (n, 1) first "
    "(y.reshape(-1, 1))",
    "signature": "the signatures are forward(params, X), backward(params, cache, X, y), "
    "sgd_step(params, grads, lr) and numerical_gradient(loss, params, eps=1e-6)",
}

# -- recognising the mistake: known-wrong variants (the hidden checks use the same) -----------


class Mistake(Enum):
    """A classic mistake of assignment 2; its value is the hint that names it.

    A wrong value gets the hint of the variant it equals (:func:`recognise`); when it equals
    none, :func:`differs` says what differs. The hidden checks use the same members.
    """

    W1_TRANSPOSED = "this is X @ W1.T: z1 = X @ W1 + b1, with W1 of shape (inputs, hidden units)"
    B1_MISSING = "b1 is not added: z1 = X @ W1 + b1"
    NO_RELU = "the ReLU is missing: a1 = ReLU(z1) = np.maximum(z1, 0)"
    SIGMOID_HIDDEN = "that is the sigmoid of z1: the hidden units are ReLU, np.maximum(z1, 0)"
    Z2_FROM_Z1 = "z2 is computed from z1: z2 = a1 @ W2 + b2, from the activation a1"
    NO_SIGMOID = "the sigmoid is missing: a2 = sigmoid(z2) = 1 / (1 + exp(-z2))"
    SUM = "off by the batch size: the loss is the mean over the batch, divide by n"
    SIGN = "the sign is flipped: dz2 = a2 - y, not y - a2"
    TRANSPOSED = "transposed: dW1 = X.T @ dz1 has the shape of W1, inputs × hidden units"
    RELU_PRIME_0_IS_1 = (
        "an input of this batch has z1 = 0 exactly: what is ReLU'(0)? This "
        "assignment uses 0, as TensorFlow and PyTorch"
    )
    TIMES_A1 = (
        "dz1 = da1 * a1 multiplies by the activation; ReLU'(z1) is 1 where z1 > 0 and "
        "0 elsewhere: dz1 = da1 * (z1 > 0)"
    )
    NO_RELU_PRIME = (
        "the ReLU's derivative is missing: dz1 = da1 * ReLU'(z1), with ReLU'(z1) = (z1 > 0)"
    )
    SIGMOID_PRIME_TWICE = (
        "the sigmoid's derivative is counted twice: with binary cross-entropy, "
        "dL/dz2 = (a2 - y) / n already includes it"
    )
    BATCH_AXIS = "it keeps the batch axis: a bias gradient sums over the examples, dz.sum(axis=0)"
    ASCENT = "it adds the gradient: a descent step subtracts lr * gradient"
    ONE_SIDED = "these are one-sided differences: use (f(x + eps) - f(x - eps)) / (2 eps)"

    @property
    def hint(self) -> str:
        return self.value


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward_variants(params: dict, X, want: dict) -> dict[str, dict]:
    """cache key -> {mistake: what that mistake gives}, from the right cache ``want``."""
    z1, z2 = np.asarray(want["z1"], float), np.asarray(want["z2"], float)
    W1, b1, W2, b2 = (np.asarray(params[k], float) for k in ("W1", "b1", "W2", "b2"))
    return {
        "z1": {
            Mistake.W1_TRANSPOSED: np.asarray(X, float) @ W1.T + b1,
            Mistake.B1_MISSING: z1 - b1,
        },
        "a1": {Mistake.NO_RELU: z1, Mistake.SIGMOID_HIDDEN: _sigmoid(z1)},
        "z2": {Mistake.Z2_FROM_Z1: z1 @ W2 + b2},
        "a2": {Mistake.NO_SIGMOID: z2},
    }


def backward_related(name: str, want, n: int) -> dict[str, np.ndarray]:
    """{mistake: gradient} of the mistakes that follow from the right gradient ``want``."""
    want = np.asarray(want, float)
    variants = {Mistake.SUM: n * want, Mistake.SIGN: -want}
    if name == "dW1" and want.ndim == 2 and want.shape[0] == want.shape[1]:
        variants[Mistake.TRANSPOSED] = want.T
    return variants


# -- public cases -----------------------------------------------------------------------------


def _lecture():
    """The lecture's parameters and data (public)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    params = {
        "W1": np.array([[0.1, 0.2], [0.3, 0.4]]),
        "b1": np.zeros(2),
        "W2": np.array([[0.5], [0.6]]),
        "b2": np.zeros(1),
    }
    return params, X, np.array([0, 1, 1, 0])


def _second():
    """A public case where some z1 < 0 (ReLU matters) and b2 is not 0."""
    params, X, y = _lecture()
    params["b1"] = np.array([-0.25, 0.1])
    params["W2"] = np.array([[0.5], [-0.6]])
    params["b2"] = np.array([0.2])
    return params, X, y


def _public_cases():
    """(params, X, y) of the two public cases: the lecture's batch X[:2], the second case."""
    lecture, X, y = _lecture()
    return [(lecture, X[:2], y[:2]), _second()]


_FORWARD = [
    (  # the lecture's batch X[:2]
        "the lecture's batch X[:2]",
        {
            "z1": [[0.0, 0.0], [0.3, 0.4]],
            "a1": [[0.0, 0.0], [0.3, 0.4]],
            "z2": [[0.0], [0.39]],
            "a2": [[0.5], [0.5962826992967879]],
        },
    ),
    (
        "the second public case (b1 = [-0.25, 0.1], all four inputs)",
        {
            "z1": [[-0.25, 0.1], [0.05, 0.5], [-0.15, 0.3], [0.15, 0.7]],
            "a1": [[0.0, 0.1], [0.05, 0.5], [0.0, 0.3], [0.15, 0.7]],
            "z2": [[0.14], [-0.075], [0.02], [-0.145]],
            "a2": [
                [0.5349429451582145],
                [0.4812587841214647],
                [0.5049998333399998],
                [0.4638133797682053],
            ],
        },
    ),
]


def _copy(params):
    return {k: np.array(v, dtype=float) for k, v in params.items()}


@check(
    A2,
    "test-forward",
    "02_forward_backward#the-worked-example-quantity-by-quantity",
    "The worked example, quantity by quantity",
)
def check_forward(forward):
    """The lecture's batch, and a public case with negative pre-activations."""
    for (case, want), (params, X, _) in zip(_FORWARD, _public_cases(), strict=True):
        got = call("forward", forward, _copy(params), X.copy(), hints=_A2_HINTS)
        cache = expect_dict(got, want, name="forward", show=True)
        want = {k: np.array(v) for k, v in want.items()}
        variants = forward_variants(params, X, want)
        for name, values in want.items():
            value = as_array(
                cache[name], name=f"forward: {name} on {case}", shape=values.shape, show=True
            )
            if not close(value, values):
                hint = diagnose(value, values, variants[name])
                raise CheckFailed(f"forward: {name} is wrong on {case}{hint}")


_BACKWARD = [
    (
        "the lecture's batch X[:2]",
        {
            "dW1": [[0.0, 0.0], [-0.10092932517580303, -0.12111519021096362]],
            "db1": [-0.10092932517580303, -0.12111519021096362],
            "dW2": [[-0.06055759510548181], [-0.08074346014064243]],
            "db2": [0.04814134964839395],
        },
    ),
    (
        "the second public case (b1 = [-0.25, 0.1], all four inputs)",
        {
            "dW1": [
                [0.05797667247102566, 0.004678018033769243],
                [-0.006865979513791247, 0.008239175416549505],
            ],
            "db1": [-0.006865979513791247, 0.0022477586418173656],
            "dW2": [[0.010908736542826012], [-0.007426749395925629]],
            "db2": [-0.003746264403028929],
        },
    ),
]

#: What the known-wrong backward passes give on the two public cases, where it differs from
#: the right gradients (the hidden checks compute them: ``known_wrong_backward``; a test
#: checks these numbers against it).
_BACKWARD_WRONG = [
    {
        Mistake.RELU_PRIME_0_IS_1: {"db1": [0.024070674824, 0.028884809789]},
        Mistake.TIMES_A1: {
            "dW1": [[0.0, 0.0], [-0.030278797553, -0.048446076084]],
            "db1": [-0.030278797553, -0.048446076084],
        },
        Mistake.NO_RELU_PRIME: {"db1": [0.024070674824, 0.028884809789]},
        Mistake.SIGMOID_PRIME_TWICE: {
            "dW1": [[0.0, 0.0], [-0.024296680298, -0.029156016358]],
            "db1": [-0.024296680298, -0.029156016358],
            "dW2": [[-0.014578008179], [-0.019437344239]],
            "db2": [0.013906639403],
        },
    },
    {
        Mistake.RELU_PRIME_0_IS_1: {},
        Mistake.TIMES_A1: {
            "dW1": [[0.008696500871, -0.026425397376], [0.005454368271, -0.009794813685]],
            "db1": [0.005454368271, 0.004456049638],
        },
        Mistake.NO_RELU_PRIME: {
            "dW1": [[-0.003898348361, 0.004678018034], [-0.006865979514, 0.008239175417]],
            "db1": [-0.001873132202, 0.002247758642],
        },
        Mistake.SIGMOID_PRIME_TWICE: {
            "dW1": [[0.014418249318, 0.001258750941], [-0.001769638787, 0.002123566545]],
            "db1": [-0.001769638787, 0.00072183178],
            "dW2": [[0.002706685985], [-0.001955599974]],
            "db2": [-0.001203052967],
        },
    },
]


def _backward_shape(name: str, got, shape: tuple, n: int) -> str:
    """Why a gradient has the wrong shape, when the shape says it."""
    if len(shape) == 1 and got.shape == (n, *shape):
        return f" ({Mistake.BATCH_AXIS.hint})"
    if name in ("dW2", "db2") and n in got.shape and 1 in shape:
        return (
            " (did y of shape (n,) broadcast against a2 of shape (n, 1)? reshape it: "
            "y.reshape(-1, 1))"
        )
    return ""


@check(
    A2,
    "test-backward",
    "02_forward_backward#the-worked-example-quantity-by-quantity",
    "The worked example, quantity by quantity",
)
def check_backward(forward, backward):
    """All four gradients on the lecture's batch (z1 = 0 for one input) and a second case.

    ``backward`` gets the right cache (with any extra keys your ``forward`` adds), so a
    mistake in ``forward`` fails ``forward``'s check only.
    """
    cases = list(zip(_BACKWARD, _FORWARD, _BACKWARD_WRONG, _public_cases(), strict=True))

    def run(index):
        (_, want), (_, right_cache), _, (params, X, y) = cases[index]
        try:
            theirs = call("forward", forward, _copy(params), X.copy(), hints=_A2_HINTS)
        except (CheckFailed, ErrorInYourCode):  # forward's own check says what
            theirs = {}
        cache = {**(theirs if type(theirs) is dict else {})}
        cache.update({k: np.array(v) for k, v in right_cache.items()})
        grads = call(
            "backward", backward, _copy(params), cache, X.copy(), y.copy(), hints=_A2_HINTS
        )
        return expect_dict(grads, want, name="backward", show=True)

    def variants(index, name):
        (_, want), _, wrong, (_, X, _) = cases[index]
        return {
            **backward_related(name, want[name], len(X)),
            **{m: grads[name] for m, grads in wrong.items() if name in grads},
        }

    def elsewhere(index, name):
        """(got, want, variants) of ``name`` on the other public cases, for diagnose."""
        for other in range(len(cases)):
            if other != index:
                try:
                    got = np.asarray(run(other)[name], dtype=float)
                except (CheckFailed, ErrorInYourCode, TypeError, ValueError):
                    continue  # that case tells nothing more
                want = np.array(cases[other][0][1][name])
                yield got, want, variants(other, name)

    for index, ((case, want), _, _, (_, X, _)) in enumerate(cases):
        grads = run(index)
        for name, values in want.items():
            values = np.array(values)
            shape = values.shape
            got = grads[name]
            if isinstance(got, np.ndarray) and got.shape != shape:
                raise CheckFailed(
                    f"backward: {name} has shape {got.shape} on {case}; it must have the shape "
                    f"of {name[1:]}, {shape}{_backward_shape(name, got, shape, len(X))}"
                )
            got = as_array(got, name=f"backward: {name} on {case}", shape=shape, show=True)
            if not close(got, values):
                hint = diagnose(got, values, variants(index, name), others=elsewhere(index, name))
                raise CheckFailed(f"backward: {name} is wrong on {case}{hint}")


@check(
    A2,
    "test-step",
    "02_forward_backward#the-worked-example-quantity-by-quantity",
    "The worked example, quantity by quantity",
)
def check_sgd_step(sgd_step):
    """One step from the lecture's parameters; params must be left unchanged."""
    params = _lecture()[0]
    before = _copy(params)
    grads = {
        "dW1": np.array([[1.0, -2.0], [0.5, 3.0]]),
        "db1": np.array([1.0, -1.0]),
        "dW2": np.array([[2.0], [-0.5]]),
        "db2": np.array([4.0]),
    }
    hints = dict(
        _A2_HINTS, modified="return new arrays (v - lr * g) instead of updating them (v -= lr * g)"
    )
    new = expect_dict(
        call("sgd_step", sgd_step, params, grads, 0.1, hints=hints),
        params,
        name="sgd_step",
        show=True,
    )
    for name in before:
        want = before[name] - 0.1 * grads["d" + name]
        got = as_array(new[name], name=f"sgd_step: {name}", shape=want.shape, show=True)
        if not close(got, want):
            ascent = {Mistake.ASCENT: before[name] + 0.1 * grads["d" + name]}
            raise CheckFailed(
                f"sgd_step: {name} is updated wrongly; the step is phi - lr * dL/dphi"
                + diagnose(got, want, ascent)
            )


def _cubic_loss(p):
    """A public loss: sum(W**3) + 2 sum(b**2)."""
    return float(np.sum(np.asarray(p["W"]) ** 3) + 2 * np.sum(np.asarray(p["b"]) ** 2))


def _not_restored(largest: float, eps: float = 1e-6) -> str:
    """What to do when numerical_gradient left params changed (by about eps: never restored)."""
    off = (
        f"its entries are off by up to {largest:.2g}, about eps: each entry you perturb is "
        "never put back. "
        if 0.5 * eps <= largest <= 2.5 * eps
        else ""
    )
    return (
        f"{off}params must hold its original values afterwards: save the entry (old = v[idx]) "
        "and put it back after the two loss calls (v[idx] = old)"
    )


@check(A2, "test-gradcheck", "02_forward_backward#gradient-checking", "Gradient checking")
def check_numerical_gradient(numerical_gradient):
    """Central differences of a cubic loss, whose one-sided differences are measurably off."""
    params = {"W": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.5])}
    exact = {"W": 3 * params["W"] ** 2, "b": 4 * params["b"]}  # the derivatives of the loss
    one_sided = {"W": exact["W"] + 3 * params["W"] * 1e-6, "b": exact["b"] + 2e-6}
    hints = dict(_A2_HINTS, modified=_not_restored)
    got = call("numerical_gradient", numerical_gradient, _cubic_loss, _copy(params), hints=hints)
    if isinstance(got, dict) and set(got) == {"d" + k for k in params}:
        raise CheckFailed(
            f"numerical_gradient must return the keys of params ({list(params)}), got "
            f"{list(got)}: the gradient with respect to params['W'] is stored under 'W'"
        )
    expect_dict(got, params, name="numerical_gradient", show=True)
    for name, want in exact.items():
        value = as_array(got[name], name=f"numerical_gradient: {name}", shape=want.shape, show=True)
        if not close(value, want, rtol=0, atol=1e-7):
            if close(value, one_sided[name], rtol=0, atol=2e-7):
                hint = f" ({Mistake.ONE_SIDED.hint})"
            else:
                hint = f" ({differs(value, want, rtol=0, atol=1e-7)})"
            raise CheckFailed(
                f"numerical_gradient: {name} does not match central differences of "
                f"sum(W**3) + 2 sum(b**2) at the public params{hint}"
            )
