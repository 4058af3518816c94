"""Weight initialization and the gradient it lets through a deep network (chapter 3).

How large the initial weights are decides whether a signal survives many layers. With
``fan_in`` inputs and ``fan_out`` outputs per layer, the schemes here draw a weight matrix of
shape ``(fan_in, fan_out)``:

- ``"naive"``: normal with a fixed standard deviation (0.01 by default), whatever the width;
- ``"torch_default"``: what ``torch.nn.Linear`` does unless told otherwise, uniform on
  ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (variance ``1 / (3 fan_in)``);
- ``"xavier"`` (Glorot and Bengio, 2010): normal with variance ``2 / (fan_in + fan_out)``,
  which keeps the variance of the signal about constant through tanh (or linear) layers;
- ``"he"`` (He et al., 2015): normal with variance ``2 / fan_in``, twice as large, because a
  ReLU sets half of its inputs to 0 and so halves the variance.

:func:`gradient_norms` runs one forward and backward pass of a deep MLP (numpy, binary
cross-entropy on one logit) and returns, layer by layer, the norm of the gradient of the loss
with respect to the weights and with respect to each hidden layer's pre-activation, the
"error signal" that backpropagation passes down. The test suite checks both against
``torch.autograd`` and the variances against torch's and Keras' initializers.

Lesson: chapter 3, "Vanishing gradients and initialization". numpy only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from coursekit._params import (
    ArrayLike,
    InstanceOf,
    Integral,
    Interval,
    Options,
    Real,
    SequenceOf,
    result_record,
    validate_params,
)
from coursekit.divergence import first_non_finite

__all__ = [
    "ACTIVATIONS",
    "SCHEMES",
    "GradientNorms",
    "deep_mlp",
    "gradient_norms",
    "init_std",
    "init_weight",
]

SCHEMES = ("naive", "torch_default", "xavier", "he")
ACTIVATIONS = ("relu", "tanh", "sigmoid")

_SCHEME = [Options(SCHEMES)]
_SIZE = [Interval(Integral, 1, None)]
_NAIVE_STD = [Interval(Real, 0, None, closed="neither")]
_LAYER = SequenceOf(ArrayLike(numeric=True), length=2, description="a pair (W, b)")
_WEIGHTS = SequenceOf(
    _LAYER, min_length=1, description="a list of (W, b) pairs, one per layer (deep_mlp)"
)


@validate_params({"scheme": _SCHEME, "fan_in": _SIZE, "fan_out": _SIZE, "naive_std": _NAIVE_STD})
def init_std(scheme: str, fan_in: int, fan_out: int, naive_std: float = 0.01) -> float:
    """The standard deviation of the weights that ``scheme`` draws for one layer.

    >>> init_std("he", 50, 10), init_std("xavier", 100, 100), init_std("naive", 50, 10)
    (0.2, 0.1, 0.01)
    """
    if scheme == "naive":
        return float(naive_std)
    if scheme == "torch_default":
        return float(np.sqrt(1.0 / (3.0 * fan_in)))  # std of U(-a, a) is a / sqrt(3)
    if scheme == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    return float(np.sqrt(2.0 / fan_in))  # he


@validate_params(
    {
        "scheme": _SCHEME,
        "fan_in": _SIZE,
        "fan_out": _SIZE,
        "rng": [InstanceOf(np.random.Generator, "a numpy Generator", np.random.default_rng)],
        "naive_std": _NAIVE_STD,
    }
)
def init_weight(
    scheme: str, fan_in: int, fan_out: int, rng: np.random.Generator, naive_std: float = 0.01
) -> np.ndarray:
    """A weight matrix of shape ``(fan_in, fan_out)`` drawn by ``scheme`` from ``rng``.

    Normal with mean 0 and :func:`init_std` for every scheme but ``"torch_default"``, which
    is uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` as ``torch.nn.Linear``.
    """
    std = init_std(scheme, fan_in, fan_out, naive_std)
    if scheme == "torch_default":
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=(fan_in, fan_out))
    return rng.normal(0.0, std, size=(fan_in, fan_out))


@validate_params(
    {
        "scheme": _SCHEME,
        "depth": _SIZE,
        "width": _SIZE,
        "n_inputs": [Interval(Integral, 1, None), None],
        "seed": [Interval(Integral, 0, None)],
        "naive_std": _NAIVE_STD,
    }
)
def deep_mlp(
    scheme: str,
    depth: int = 20,
    width: int = 128,
    n_inputs: int | None = None,
    seed: int = 0,
    naive_std: float = 0.01,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``depth`` hidden layers of ``width`` units and one output unit: ``[(W, b), ...]``.

    Weights by ``scheme`` (the output layer too), biases 0. ``n_inputs`` defaults to ``width``.
    """
    n_inputs = width if n_inputs is None else n_inputs
    rng = np.random.default_rng(seed)
    sizes = [n_inputs] + [width] * depth + [1]
    return [
        (init_weight(scheme, m, k, rng, naive_std), np.zeros(k))
        for m, k in itertools.pairwise(sizes)
    ]


@result_record
@dataclass(frozen=True)
class GradientNorms:
    """Per-layer gradient norms of one forward and backward pass.

    Attributes
    ----------
    loss : float
        Mean binary cross-entropy.
    weights : ndarray of shape (n_layers,)
        Frobenius norm of dL/dW for every weight matrix, input side first (the last entry is
        the output layer).
    signals : ndarray of shape (depth,)
        Norm of dL/dz for each hidden layer's pre-activation z (the error signal
        backpropagation passes down), input side first.
    activations : ndarray of shape (depth,)
        Standard deviation of each hidden layer's output over the batch (the forward signal).

    A network whose signal overflows (a wide naive initialization in a deep ReLU net) is a
    result, not an error: the norms from there on are inf or NaN and :attr:`diverged_layer`
    says where it began.
    """

    loss: float
    weights: np.ndarray
    signals: np.ndarray
    activations: np.ndarray

    @property
    def diverged_layer(self) -> int | None:
        """The layer (1-based from the input; ``depth + 1`` is the output layer) where the
        overflow began, or None when every norm is finite.

        Going forward, the first hidden layer whose output is NaN or infinite; if the forward
        pass stayed finite (the loss too), going backward, the layer nearest the output whose
        error signal or weight gradient is.
        """
        depth = len(self.activations)
        forward = first_non_finite(self.activations)
        if forward is not None:
            return forward + 1
        if not np.isfinite(self.loss):
            return depth + 1
        backward = first_non_finite(  # (depth + 1, 2): output layer first
            np.column_stack([np.append(self.signals, 0.0), self.weights])[::-1]
        )
        return None if backward is None else depth + 1 - backward

    @validate_params({"which": [Options(("weights", "signals", "activations"))]})
    def spread(self, which: str = "weights") -> float:
        """Largest over smallest norm across layers (1 = the same in every layer)."""
        values = getattr(self, which)
        return float(np.max(values) / np.min(values))


def _act(name, z):
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    return 1.0 / (1.0 + np.exp(-z))


def _act_grad(name, z, a):
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1.0 - a * a
    return a * (1.0 - a)


@validate_params(
    {
        "weights": [_WEIGHTS],
        "activation": [Options(ACTIVATIONS)],
        "X": [ArrayLike(finite=True, ndim=2)],
        "y": [ArrayLike(finite=True, ndim=(1, 2))],
    }
)
def gradient_norms(weights, activation: str, X, y) -> GradientNorms:
    """Forward and backward pass of the MLP ``weights`` on ``(X, y)``; the gradient norms.

    Hidden layers use ``activation`` (``"relu"``, ``"tanh"`` or ``"sigmoid"``); the output is
    one logit with the mean binary cross-entropy loss against ``y`` in {0, 1}. Overflow on
    the way is the result (see :attr:`GradientNorms.diverged_layer`), never an error or a
    warning.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _gradient_norms(weights, activation, X, y)


def _gradient_norms(weights, activation, X, y) -> GradientNorms:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    if X.ndim != 2 or X.shape[1] != weights[0][0].shape[0]:
        raise ValueError(f"X must have shape (n, {weights[0][0].shape[0]}), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"y must have {len(X)} entries like X, got {len(y)}")
    n = len(X)
    inputs, pre, outs = [], [], []
    a = X
    for W, b in weights[:-1]:
        inputs.append(a)
        z = a @ W + b  # (n, fan_in) @ (fan_in, fan_out) -> (n, fan_out)
        a = _act(activation, z)
        pre.append(z)
        outs.append(a)
    W_out, b_out = weights[-1]
    logit = a @ W_out + b_out  # (n, 1)
    loss = np.mean(np.logaddexp(0.0, logit) - y * logit)  # binary cross-entropy with logits
    delta = (1.0 / (1.0 + np.exp(-logit)) - y) / n  # dL/dlogit, (n, 1)
    weight_norms = [np.linalg.norm(a.T @ delta)]
    signal_norms = []
    W_above = W_out
    for a_in, z, a_out, (W, _) in zip(
        reversed(inputs), reversed(pre), reversed(outs), reversed(weights[:-1]), strict=True
    ):
        delta = (delta @ W_above.T) * _act_grad(activation, z, a_out)  # dL/dz, (n, fan_out)
        signal_norms.append(np.linalg.norm(delta))
        weight_norms.append(np.linalg.norm(a_in.T @ delta))  # dL/dW = a_in^T delta
        W_above = W
    return GradientNorms(
        loss=float(loss),
        weights=np.array(weight_norms[::-1]),
        signals=np.array(signal_norms[::-1]),
        activations=np.array([np.std(a_out) for a_out in outs]),
    )
