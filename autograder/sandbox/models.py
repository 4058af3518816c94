"""The weights of a Keras or PyTorch network as plain arrays, for a check outside the sandbox.

Imported by the harness inside the sandbox (``/harness/models.py``) and by the hidden checks
when they are given a local model (tests), so it needs numpy only; the frameworks are
recognised by the model's module and imported lazily.
"""

from __future__ import annotations

import numpy as np


def dense_weights(model) -> tuple[str | None, list[np.ndarray]]:
    """``(framework, [W1, b1, W2, b2, ...])`` of the model's dense layers, in order.

    Kernels are ``(inputs, units)`` in both frameworks (PyTorch's ``(out, in)`` is
    transposed), so that a layer computes ``a @ W + b``; a layer without bias gets zeros.
    ``framework`` is ``"torch"``, ``"keras"`` or ``None`` (not a model of either).
    """
    module = type(model).__module__
    arrays: list[np.ndarray] = []
    if module.startswith("torch"):
        import torch

        for layer in (m for m in model.modules() if isinstance(m, torch.nn.Linear)):
            kernel = layer.weight.detach().double().numpy().T.copy()
            bias = layer.bias
            arrays += [
                kernel,
                bias.detach().double().numpy().copy()
                if bias is not None
                else np.zeros(kernel.shape[1]),
            ]
        return "torch", arrays
    if module.startswith("keras"):
        for layer in model.layers:
            if type(layer).__name__ == "Dense":
                kernel, *bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
                arrays += [kernel, bias[0] if bias else np.zeros(kernel.shape[1])]
        return "keras", arrays
    return None, arrays
