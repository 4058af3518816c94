"""One weight layout for every framework: a list of ``(W, b)`` per dense layer.

``W`` has shape ``(n_in, n_out)`` and is used as ``z = a @ W + b`` (the lecture's row-vector
convention, Keras' ``Dense`` kernel, scikit-learn's ``coefs_``); PyTorch's ``nn.Linear``
stores the transpose, ``(n_out, n_in)``, and is converted on the way in and out.

:func:`init_weights` draws Glorot-uniform weights and zero biases from the spec's seed, so
every builder can start the *same* network and learning curves can be compared.
"""

from __future__ import annotations

import itertools

import numpy as np

from coursekit._params import (
    ArrayDict,
    Integral,
    Interval,
    Options,
    validate_params,
)
from coursekit.mlp._args import MODEL as _MODEL
from coursekit.mlp._args import SPEC as _SPEC
from coursekit.mlp._args import WEIGHTS as _WEIGHTS
from coursekit.mlp._framework import framework_of

__all__ = [
    "Weights",
    "get_weights",
    "init_weights",
    "set_weights",
    "weights_from_xor",
    "weights_to_xor",
]

Weights = list[tuple[np.ndarray, np.ndarray]]


@validate_params(
    {
        "spec": [_SPEC],
        "seed": [Interval(Integral, 0, None), None],
        "dtype": [Options(("float32", "float64"))],
    }
)
def init_weights(spec, seed: int | None = None, dtype="float64") -> Weights:
    r"""Glorot-uniform weights, zero biases: :math:`W \sim U(-r, r)`, :math:`r=\sqrt{6/(n_{in}+n_{out})}`."""
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    sizes = spec.layer_sizes
    out = []
    for n_in, n_out in itertools.pairwise(sizes):
        limit = np.sqrt(6.0 / (n_in + n_out))
        W = rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)
        out.append((W, np.zeros(n_out, dtype=dtype)))
    return out


@validate_params({"params": [ArrayDict(finite=False)]})
def weights_from_xor(params: dict) -> Weights:
    """The :mod:`coursekit.xor` parameter dict as a layer list."""
    return [
        (np.array(params["W1"]), np.array(params["b1"])),
        (np.array(params["W2"]), np.array(params["b2"])),
    ]


@validate_params({"weights": [_WEIGHTS]})
def weights_to_xor(weights: Weights) -> dict:
    """A two-layer layer list as a :mod:`coursekit.xor` parameter dict."""
    (W1, b1), (W2, b2) = weights
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


@validate_params({"model": [_MODEL]})
def get_weights(model) -> Weights:
    """Weights of a Keras, PyTorch, scikit-learn or numpy MLP as ``[(W (in, out), b), ...]``."""
    kind = framework_of(model)
    if kind == "keras":
        flat = model.get_weights()
        return [(flat[i].copy(), flat[i + 1].copy()) for i in range(0, len(flat), 2)]
    if kind == "torch":
        import torch

        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        return [
            (m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linears
        ]
    if kind == "sklearn":
        if not hasattr(model, "coefs_"):
            raise ValueError("the scikit-learn model has no weights yet: fit or build it first")
        return [(W.copy(), b.copy()) for W, b in zip(model.coefs_, model.intercepts_, strict=True)]
    return [(W.copy(), b.copy()) for W, b in model.layers_]


@validate_params({"model": [_MODEL], "weights": [_WEIGHTS]})
def set_weights(model, weights: Weights) -> None:
    """Load ``[(W (in, out), b), ...]`` into a Keras, PyTorch, scikit-learn or numpy MLP."""
    current = get_weights(model)
    if len(current) != len(weights):
        raise ValueError(f"model has {len(current)} dense layers, weights has {len(weights)}")
    for i, ((W0, b0), (W, b)) in enumerate(zip(current, weights, strict=True)):
        if np.shape(W) != W0.shape or np.shape(b) != b0.shape:
            raise ValueError(
                f"layer {i}: model expects W {W0.shape} and b {b0.shape}, "
                f"got W {np.shape(W)} and b {np.shape(b)}"
            )
    kind = framework_of(model)
    if kind == "keras":
        flat = []
        for W, b in weights:
            flat += [np.asarray(W), np.asarray(b)]
        model.set_weights(flat)
    elif kind == "torch":
        import torch

        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for m, (W, b) in zip(linears, weights, strict=True):
                m.weight.copy_(torch.as_tensor(np.asarray(W).T.copy(), dtype=m.weight.dtype))
                m.bias.copy_(torch.as_tensor(np.asarray(b), dtype=m.bias.dtype))
    elif kind == "sklearn":
        model.coefs_ = [
            np.array(W, dtype=W0.dtype) for (W, _), (W0, _) in zip(weights, current, strict=True)
        ]
        model.intercepts_ = [
            np.array(b, dtype=b0.dtype) for (_, b), (_, b0) in zip(weights, current, strict=True)
        ]
    else:
        model.layers_ = [(np.array(W, dtype=float), np.array(b, dtype=float)) for W, b in weights]
