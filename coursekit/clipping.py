r"""Gradient clipping: by global norm and by value (chapter 9, "Exploding gradients").

When gradients explode (a deep network with large weights, a recurrent net, a loss cliff), one
step of gradient descent can throw the parameters far away. **Clipping by global norm** rescales
every gradient by the same factor so that their joint norm is at most :math:`c`, keeping the
direction:

.. math::

    \|g\| = \sqrt{\sum_k \|g_k\|_2^2}, \qquad
    g_k \leftarrow g_k \cdot \min\left(1, \frac{c}{\|g\| + 10^{-6}}\right)

(the :math:`10^{-6}` is PyTorch's, ``torch.nn.utils.clip_grad_norm_``; Keras' ``clipnorm``
clips each array on its own and ``global_clipnorm`` all of them jointly). **Clipping by value**
clamps every entry to :math:`[-c, c]` (``torch.nn.utils.clip_grad_value_``, Keras'
``clipvalue``); it changes the direction of the gradient.

Functions take and return dicts of arrays, as :mod:`coursekit.optim` does; the inputs are
left untouched. Gradients that already overflowed are a result of the training they clip, not
bad input: as PyTorch (``error_if_nonfinite=False``, its default) the norm is then inf or NaN
and clipping by it gives NaN, with no error or warning, so a training loop records the
divergence instead of stopping at it. numpy only. Lesson: chapter 9, "Training deep networks".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from coursekit._params import ArrayDict, Interval, Real, validate_params

__all__ = ["clip_by_global_norm", "clip_by_value", "global_norm"]

_GRADS = [ArrayDict(finite=False)]
_BOUND = [Interval(Real, 0, None, closed="neither")]


@validate_params({"grads": _GRADS})
def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    r""":math:`\sqrt{\sum_k \|g_k\|_2^2}` over every array of ``grads`` (inf or NaN if one is)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(
            np.sqrt(sum(float(np.square(np.asarray(g, dtype=float)).sum()) for g in grads.values()))
        )


@validate_params({"grads": _GRADS, "max_norm": _BOUND})
def clip_by_global_norm(
    grads: Mapping[str, np.ndarray], max_norm: float
) -> tuple[dict[str, np.ndarray], float]:
    r"""Scale every gradient by min(1, max_norm / (norm + 1e-6)); return them and the norm."""
    norm = global_norm(grads)
    scale = float(np.minimum(1.0, max_norm / (norm + 1e-6)))  # NaN stays NaN, as torch's clamp
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN: the gradient had overflowed
        return {k: np.asarray(g) * scale for k, g in grads.items()}, norm


@validate_params({"grads": _GRADS, "clip_value": _BOUND})
def clip_by_value(grads: Mapping[str, np.ndarray], clip_value: float) -> dict[str, np.ndarray]:
    r"""Clamp every entry to :math:`[-c, c]`."""
    return {k: np.clip(np.asarray(g), -clip_value, clip_value) for k, g in grads.items()}
