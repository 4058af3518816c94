"""The weights of a Keras or PyTorch network as plain arrays, for a check outside the sandbox.

The one home of this rule (numpy only; the frameworks are never imported here: a model is
recognised as an instance of a framework's base class only when that framework is already
loaded, and whoever built the model has imported it). Three users: the harness inside the
sandbox (``/harness/models.py``, beside it: the only folder mounted there), the hidden checks
given a local model (tests), and every generated ``coursecheck.py``, which holds this module as
a part (:mod:`autograder.assignments.generate`).

What this reports is **evidence, not a verdict**: inside the sandbox the submission can patch
this module and report anything. The trusted side (:mod:`autograder.assignments.a4_mlp.hidden`)
checks the arrays against the spec (count, shapes, finite floats), recomputes the network's
forward pass from them, and requires ``predict_proba`` to agree with that on rows it chooses;
the framework name earns nothing by itself.
"""

from __future__ import annotations

import sys

import numpy as np


def _torch_module(model):
    torch = sys.modules.get("torch")
    nn = getattr(torch, "nn", None)
    base = getattr(nn, "Module", None)
    return torch if isinstance(base, type) and isinstance(model, base) else None


def _keras_model(model) -> bool:
    for name in ("keras", "tensorflow.keras", "tf_keras"):
        module = sys.modules.get(name)
        base = getattr(module, "Model", None)
        if isinstance(base, type) and isinstance(model, base):
            return True
    return False


def dense_weights(model) -> tuple[str | None, list[np.ndarray]]:
    """``(framework, [W1, b1, W2, b2, ...])`` of the model's layers, in order.

    Kernels are ``(inputs, units)`` in both frameworks (PyTorch's ``(out, in)`` is
    transposed), so that a layer computes ``a @ W + b``; a dense layer without bias gets zeros.
    The parameters of any other layer are reported too, after the dense ones before it, so a
    network with more than dense layers never looks like one that has only those.
    ``framework`` is ``"torch"``, ``"keras"`` or ``None`` (an instance of neither).
    """
    arrays: list[np.ndarray] = []
    torch = _torch_module(model)
    if torch is not None:
        for module in model.modules():
            own = list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))
            if isinstance(module, torch.nn.Linear):
                kernel = module.weight.detach().double().cpu().numpy().T.copy()
                bias = module.bias
                arrays += [
                    kernel,
                    bias.detach().double().cpu().numpy().copy()
                    if bias is not None
                    else np.zeros(kernel.shape[1]),
                ]
            else:
                arrays += [p.detach().double().cpu().numpy().copy() for p in own]
        return "torch", arrays
    if _keras_model(model):
        for layer in model.layers:
            weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
            if type(layer).__name__ == "Dense" and weights:
                kernel, *bias = weights
                arrays += [kernel, bias[0] if bias else np.zeros(kernel.shape[1])]
            else:
                arrays += weights
        return "keras", arrays
    return None, arrays
