r"""One framework-neutral description of a feed-forward network and how to train it (chapter 7).

:class:`MLPSpec` is what the builders of :mod:`coursekit.mlp` read; the same spec gives the
same network in numpy, Keras, PyTorch and (where it can express it) scikit-learn.

Number of parameters of layers of sizes :math:`n_0 \to n_1 \to \dots \to n_L`:

.. math:: \sum_{l=1}^{L} (n_{l-1} + 1)\, n_l
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from coursekit._params import (
    Boolean,
    CallableConstraint,
    Integral,
    Interval,
    Options,
    Real,
    SequenceOf,
    check_param,
    validate_fields,
)

__all__ = ["ACTIVATIONS", "OPTIMIZERS", "OUTPUTS", "MLPSpec"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")
OUTPUTS = ("sigmoid", "softmax", "linear")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adagrad", "adam")

_POSITIVE_INT = Interval(Integral, 1, None)
_RATE = Interval(Real, 0, 1, closed="left")
_PENALTY = Interval(Real, 0, None, closed="left")
_FIELDS = {
    "n_inputs": [_POSITIVE_INT],
    "hidden": [SequenceOf(_POSITIVE_INT, description="a tuple of ints >= 1")],
    "n_outputs": [_POSITIVE_INT],
    "activation": [Options(ACTIVATIONS)],
    "output": [Options(OUTPUTS)],
    "dropout": [_RATE, SequenceOf(_RATE, description="a tuple of rates in [0, 1)")],
    "l1": [_PENALTY],
    "l2": [_PENALTY],
    "optimizer": [Options(OPTIMIZERS)],
    "lr": [Interval(Real, 0, None, closed="neither"), CallableConstraint("a schedule lr(step)")],
    "momentum": [_RATE],
    "batch_size": [_POSITIVE_INT],
    "epochs": [_POSITIVE_INT],
    "patience": [Interval(Integral, 0, None), None],
    "shuffle": [Boolean()],
    "seed": [Interval(Integral, 0, None)],
}


@validate_fields(_FIELDS)
@dataclass(frozen=True)
class MLPSpec:
    """A feed-forward network and its training settings.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    hidden : tuple of int
        Units of each hidden layer, e.g. ``(64, 64)``.
    n_outputs : int
        1 for a ``"sigmoid"`` (binary) or ``"linear"`` (regression) output; the number of
        classes for ``"softmax"``.
    activation : {"relu", "tanh", "sigmoid", "identity"}
        Hidden-layer activation (ReLU is the default of the practical guidelines).
    output : {"sigmoid", "softmax", "linear"}
        Output activation, with the matching loss: binary cross-entropy, categorical
        cross-entropy, mean squared error.
    dropout : float or tuple of float
        Dropout rate after each hidden layer (one value for all, or one per layer), in [0, 1).
    l1, l2 : float
        Penalty strengths :math:`\\lambda` on the weight matrices (not the biases), as Keras'
        ``kernel_regularizer``: :math:`L' = L + \\lambda_1\\sum|w| + \\lambda_2\\sum w^2`.
    optimizer : {"sgd", "momentum", "rmsprop", "adagrad", "adam"}
    lr : float or callable
        Learning rate, or a schedule ``lr(step) -> float`` (see :mod:`coursekit.schedules`).
    momentum : float
        Used by ``"momentum"`` (default 0.9).
    batch_size, epochs : int
    patience : int or None
        Early stopping on validation loss with this patience, restoring the best weights;
        None trains for all ``epochs``.
    shuffle : bool
        Shuffle the training set every epoch (seeded by ``seed``).
    seed : int
        Seeds the initial weights, dropout masks and shuffling.
    """

    n_inputs: int
    hidden: tuple[int, ...] = (64, 64)
    n_outputs: int = 1
    activation: str = "relu"
    output: str = "sigmoid"
    dropout: float | tuple[float, ...] = 0.0
    l1: float = 0.0
    l2: float = 0.0
    optimizer: str = "adam"
    lr: float | Callable[[int], float] = 1e-3
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 10
    patience: int | None = None
    shuffle: bool = True
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if isinstance(self.dropout, list | tuple):
            object.__setattr__(self, "dropout", tuple(float(d) for d in self.dropout))
        self.validate()

    # -- validation -------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field (each field, then their relations)."""
        for name, constraints in _FIELDS.items():
            check_param(name, getattr(self, name), constraints)
        if self.output == "sigmoid" and self.n_outputs != 1:
            raise ValueError(f"n_outputs must be 1 for a sigmoid output, got {self.n_outputs!r}")
        if self.output == "softmax" and self.n_outputs < 2:
            raise ValueError(f"n_outputs must be >= 2 for a softmax output, got {self.n_outputs!r}")
        rates = self.dropout_rates
        if len(rates) != len(self.hidden):
            raise ValueError(
                f"dropout must be one rate or one per hidden layer ({len(self.hidden)}), "
                f"got {self.dropout!r}"
            )

    # -- derived quantities -----------------------------------------------------------
    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_inputs, *hidden, n_outputs)``."""
        return (self.n_inputs, *self.hidden, self.n_outputs)

    @property
    def dropout_rates(self) -> tuple[float, ...]:
        """One dropout rate per hidden layer."""
        if isinstance(self.dropout, tuple):
            return self.dropout
        return (float(self.dropout),) * len(self.hidden)

    @property
    def n_params(self) -> int:
        r""":math:`\sum_l (n_{l-1} + 1) n_l`: weights plus biases of every dense layer."""
        sizes = self.layer_sizes
        return sum((a + 1) * b for a, b in itertools.pairwise(sizes))

    @property
    def loss_name(self) -> str:
        return {
            "sigmoid": "binary_crossentropy",
            "softmax": "categorical_crossentropy",
            "linear": "mse",
        }[self.output]

    def with_(self, **changes) -> MLPSpec:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
