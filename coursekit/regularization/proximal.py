r"""The proximal step of the L1 penalty: soft thresholding (chapter 5, "Regularization").

Gradient descent on :math:`L + \lambda\sum_i|w_i|` with the subgradient
:math:`\lambda\operatorname{sign}(w)` almost never lands a weight on exactly 0: a step of
size :math:`\alpha\lambda` jumps over it, and the next step pulls back. **Proximal gradient
descent** (ISTA) takes the gradient step on the loss alone, then solves the penalty exactly:

.. math::

    w \leftarrow \operatorname{prox}_{\alpha\lambda}\bigl(w - \alpha\,\nabla L(w)\bigr),
    \qquad
    \operatorname{prox}_{t}(v) = \arg\min_z \tfrac12 \lVert z - v\rVert^2 + t \lVert z\rVert_1

whose solution, coordinate by coordinate, is **soft thresholding**:

.. math::

    \operatorname{prox}_{t}(v)_i = \operatorname{sign}(v_i)\,\max(|v_i| - t,\ 0)

Every weight within :math:`t = \alpha\lambda` of 0 becomes exactly 0; the others move
:math:`t` towards it. (``torch.nn.functional.softshrink(v, t)`` is the same function.)

As with the penalties, biases (1-D arrays) are left alone unless ``include_biases=True``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from coursekit._params import ArrayDict, ArrayLike, Boolean, Interval, Real, validate_params

__all__ = ["l1_proximal", "soft_threshold"]

_THRESHOLD = Interval(Real, 0, None, closed="left")


@validate_params({"v": [ArrayLike(finite=True)], "t": [_THRESHOLD]})
def soft_threshold(v, t: float) -> np.ndarray:
    r""":math:`\operatorname{sign}(v)\max(|v| - t, 0)`, elementwise: the proximal map of :math:`t\lVert\cdot\rVert_1`.

    >>> soft_threshold([-2.0, -0.5, 0.0, 0.3, 1.5], 0.5)
    array([-1.5, -0. ,  0. ,  0. ,  1. ])
    """
    v = np.asarray(v, dtype=np.result_type(np.asarray(v), np.float32))
    return np.sign(v) * np.maximum(np.abs(v) - t, 0)


@validate_params(
    {
        "params": [ArrayDict(finite=True)],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lam": [_THRESHOLD],
        "include_biases": [Boolean()],
    }
)
def l1_proximal(
    params: Mapping[str, np.ndarray], lr: float, lam: float, include_biases: bool = False
) -> dict[str, np.ndarray]:
    r"""The proximal step of :math:`\lambda\sum|w|` after a gradient step of size ``lr``.

    Returns new arrays: each weight matrix soft-thresholded at :math:`t = \alpha\lambda`
    (:func:`soft_threshold`), each bias (1-D array) unchanged unless ``include_biases``.
    Call it after every optimizer step on the unpenalized loss (``params`` is not modified).

    >>> out = l1_proximal({"W": np.array([[0.05, -0.3]]), "b": np.array([0.05])}, 0.1, 1.0)
    >>> out["W"], out["b"]
    (array([[ 0. , -0.2]]), array([0.05]))
    """
    t = lr * lam
    out = {}
    for name, value in params.items():
        value = np.asarray(value)
        penalized = include_biases or value.ndim >= 2
        out[name] = soft_threshold(value, t) if penalized else value.copy()
    return out
