r"""The lecture's printed numbers, checked against :mod:`coursekit.xor` (errata page).

``LECTURE_PRINTED`` holds what the slides of the worked example print, as printed. Each
:class:`Erratum` row of :func:`worked_example_errata` recomputes one of them under the
convention that reproduces it and under the frameworks' convention, and says whether the
printed number follows from the slide's own formulas.

The second forward example of the lecture,

.. math:: \hat y = \sigma(0.1 + 0.6\,a_1 + 0.7\,a_2),\quad
          a_1 = \mathrm{ReLU}(0.1 + 0.2x_1 + 0.3x_2),\quad a_2 = \mathrm{ReLU}(0.2 + 0.4x_1 + 0.5x_2)

prints 0.644 without giving the inputs; :func:`second_example_output` and
:func:`second_example_inputs_for` show which inputs produce it.

The slides' initialization also misprints the biases (:func:`bias_errata`): the hidden bias
:math:`b_1` appears as a 2 × 2 matrix, and the output bias is named :math:`b_1` again (a
2-vector) where :math:`b_2`, one number, belongs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit import xor
from coursekit._params import ArrayLike, Interval, Real, result_record, validate_params

__all__ = [
    "BIAS_PRINTED",
    "LECTURE_PRINTED",
    "BiasErratum",
    "Erratum",
    "bias_errata",
    "second_example_inputs_for",
    "second_example_output",
    "worked_example_errata",
]

#: Numbers as the lecture prints them for batch 1 (the first two XOR samples).
LECTURE_PRINTED = {
    "a2": np.array([0.5, 0.596]),
    "loss": np.array([0.69, 0.52]),
    "dz2": np.array([0.5, -0.404]),
    "dz1": np.array([[0.25, 0.3], [-0.202, -0.2424]]),
    "second_example_output": 0.644,
}


#: The biases as the slides' initialization prints them: (name printed, shape printed).
BIAS_PRINTED = {
    "hidden bias": ("b1", (2, 2)),
    "output bias": ("b1", (2, 1)),
    "output bias added in the forward pass": ("b2", (2, 2)),
}


@result_record
@dataclass(frozen=True)
class BiasErratum:
    """One bias as the slides print it and as the network has it."""

    quantity: str
    printed_name: str
    printed_shape: tuple
    name: str
    shape: tuple  # the parameter's shape in coursekit.xor
    reason: str

    @property
    def correct(self) -> bool:
        return self.printed_name == self.name and self.printed_shape == self.shape


def bias_errata() -> list[BiasErratum]:
    """The slides' bias typos, against the shapes of :data:`coursekit.xor.PARAM_SHAPES`."""
    shapes = xor.PARAM_SHAPES
    n_hidden, n_out = shapes["b1"][0], shapes["b2"][0]
    batch = 2
    rows = [
        BiasErratum(
            "hidden bias",
            *BIAS_PRINTED["hidden bias"],
            "b1",
            shapes["b1"],
            f"One bias per hidden unit: {n_hidden} numbers, not a {batch} x {n_hidden} matrix. "
            f"The printed matrix is b1 repeated for each of the batch's {batch} rows, what "
            "broadcasting adds in z1 = X W1 + b1; as a parameter it would have "
            f"{batch * n_hidden} entries to learn instead of {n_hidden}.",
        ),
        BiasErratum(
            "output bias",
            *BIAS_PRINTED["output bias"],
            "b2",
            shapes["b2"],
            f"The output layer's bias is b2 (the slide names it b1 a second time), and the "
            f"network has {n_out} output unit, so b2 is {n_out} number, not a 2-vector.",
        ),
        BiasErratum(
            "output bias added in the forward pass",
            *BIAS_PRINTED["output bias added in the forward pass"],
            "b2",
            shapes["b2"],
            f"a1 W2 is {batch} x {n_out}; the slide adds a 2 x 2 matrix of zeros to it, a "
            f"shape mismatch. Broadcast over the batch, b2 adds the same number to each of "
            f"the {batch} rows.",
        ),
    ]
    return rows


@result_record
@dataclass(frozen=True)
class Erratum:
    """One printed quantity of the lecture and what coursekit computes for it."""

    quantity: str
    printed: np.ndarray
    lecture_convention: np.ndarray  # reduction="sum", ReLU'(0) = 1
    framework_convention: np.ndarray  # reduction="mean", ReLU'(0) = 0
    follows_from_formulas: bool
    reason: str


def _decimals(value) -> int:
    """Decimals shown by the printed number, e.g. 0.2424 -> 4, 0.5 -> 1."""
    text = f"{float(value):.10g}"
    return len(text.split(".")[1]) if "." in text else 0


def _matches_as_printed(printed, computed) -> bool:
    """True when every printed entry equals the computed one rounded to the printed decimals."""
    printed, computed = np.ravel(printed), np.ravel(computed)
    return all(
        abs(p - c) <= 0.5 * 10.0 ** -max(_decimals(p), 1) + 1e-12
        for p, c in zip(printed, computed, strict=True)
    )


def worked_example_errata() -> list[Erratum]:
    """Recompute the lecture's batch-1 numbers and compare them with what it prints."""
    X, y = xor.dataset()
    params = xor.lecture_params()
    Xb, yb = X[:2], y[:2]
    cache = xor.forward(params, Xb)
    lecture = xor.backward(params, cache, yb, reduction="sum", relu_grad_at_zero=1.0)
    framework = xor.backward(params, cache, yb, reduction="mean", relu_grad_at_zero=0.0)
    losses = xor.loss(params, Xb, yb, reduction="none")
    a2 = cache["a2"].ravel()
    as_written = -(yb * np.log(a2) + (1 - a2) * np.log(1 - a2))  # the slide's expression

    rows = [
        Erratum(
            "a2 = sigmoid(z2)",
            LECTURE_PRINTED["a2"],
            a2,
            a2,
            _matches_as_printed(LECTURE_PRINTED["a2"], a2),
            "Correct, rounded to 3 decimals; later numbers reuse the rounded 0.596.",
        ),
        Erratum(
            "per-sample loss",
            LECTURE_PRINTED["loss"],
            losses,
            losses,
            _matches_as_printed(LECTURE_PRINTED["loss"], losses),
            "The values are the correct binary cross-entropy, but the slide's second line "
            "writes (1 - a2) where (1 - y) belongs; evaluated as written it gives "
            f"{as_written[1]:.4f}, not 0.52.",
        ),
        Erratum(
            "dL/dz2",
            LECTURE_PRINTED["dz2"],
            lecture["dz2"].ravel(),
            framework["dz2"].ravel(),
            _matches_as_printed(LECTURE_PRINTED["dz2"], lecture["dz2"]),
            "Per-sample gradients a2 - y, i.e. the gradient of the summed loss; with the mean "
            "over the batch (Keras, PyTorch) every gradient is half as large.",
        ),
        Erratum(
            "dL/dz1",
            LECTURE_PRINTED["dz1"],
            lecture["dz1"],
            framework["dz1"],
            _matches_as_printed(LECTURE_PRINTED["dz1"], lecture["dz1"]),
            "Row 1 (input (0, 0), z1 = 0) is non-zero only if ReLU'(0) = 1; TensorFlow and "
            f"PyTorch use 0. -0.2424 is -0.404 x 0.6 from the rounded a2; exactly it is "
            f"{lecture['dz1'][1, 1]:.5f}.",
        ),
    ]
    return rows


@validate_params({"x1": [Interval(Real)], "x2": [Interval(Real)]})
def second_example_output(x1: float, x2: float) -> float:
    """Output of the lecture's second forward example for inputs ``(x1, x2)``."""
    a1 = max(0.0, 0.1 + 0.2 * x1 + 0.3 * x2)
    a2 = max(0.0, 0.2 + 0.4 * x1 + 0.5 * x2)
    return float(xor.sigmoid(0.1 + 0.6 * a1 + 0.7 * a2))


@validate_params({"value": [Interval(Real, 0, 1)], "grid": [ArrayLike(finite=True, ndim=1), None]})
def second_example_inputs_for(value: float = 0.644, grid=None) -> list[tuple[float, float]]:
    """Inputs on ``grid`` (default: 0.0, 0.1, ..., 1.0 for both) whose output rounds to ``value``."""
    grid = np.round(np.linspace(0.0, 1.0, 11), 10) if grid is None else np.asarray(grid)
    decimals = max(_decimals(value), 1)
    return [
        (float(x1), float(x2))
        for x1 in grid
        for x2 in grid
        if round(second_example_output(x1, x2), decimals) == round(value, decimals)
    ]
