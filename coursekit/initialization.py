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
import numbers
from dataclasses import dataclass

import numpy as np

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


def init_std(scheme: str, fan_in: int, fan_out: int, naive_std: float = 0.01) -> float:
    """The standard deviation of the weights that ``scheme`` draws for one layer.

    >>> init_std("he", 50, 10), init_std("xavier", 100, 100), init_std("naive", 50, 10)
    (0.2, 0.1, 0.01)
    """
    _check_scheme(scheme)
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    if not isinstance(naive_std, numbers.Real) or not 0 < naive_std < np.inf:
        raise ValueError(f"naive_std must be a number > 0, got {naive_std!r}")
    if scheme == "naive":
        return float(naive_std)
    if scheme == "torch_default":
        return float(np.sqrt(1.0 / (3.0 * fan_in)))  # std of U(-a, a) is a / sqrt(3)
    if scheme == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    return float(np.sqrt(2.0 / fan_in))  # he


def init_weight(
    scheme: str, fan_in: int, fan_out: int, rng: np.random.Generator, naive_std: float = 0.01
) -> np.ndarray:
    """A weight matrix of shape ``(fan_in, fan_out)`` drawn by ``scheme`` from ``rng``.

    Normal with mean 0 and :func:`init_std` for every scheme but ``"torch_default"``, which
    is uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` as ``torch.nn.Linear``.
    """
    std = init_std(scheme, fan_in, fan_out, naive_std)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if scheme == "torch_default":
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=(fan_in, fan_out))
    return rng.normal(0.0, std, size=(fan_in, fan_out))


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
    _check_fan("depth", depth)
    _check_fan("width", width)
    n_inputs = width if n_inputs is None else n_inputs
    _check_fan("n_inputs", n_inputs)
    rng = np.random.default_rng(seed)
    sizes = [n_inputs] + [width] * depth + [1]
    return [
        (init_weight(scheme, m, k, rng, naive_std), np.zeros(k))
        for m, k in itertools.pairwise(sizes)
    ]


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
    """

    loss: float
    weights: np.ndarray
    signals: np.ndarray
    activations: np.ndarray

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


def gradient_norms(weights, activation: str, X, y) -> GradientNorms:
    """Forward and backward pass of the MLP ``weights`` on ``(X, y)``; the gradient norms.

    Hidden layers use ``activation`` (``"relu"``, ``"tanh"`` or ``"sigmoid"``); the output is
    one logit with the mean binary cross-entropy loss against ``y`` in {0, 1}.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
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


def _check_scheme(scheme) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def _check_fan(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
