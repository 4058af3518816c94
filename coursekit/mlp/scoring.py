r"""Loss and accuracy of any framework's predictions, computed one way (numpy).

.. math::

    \text{binary: } L = -\frac1n\sum_i [y_i\log p_i + (1-y_i)\log(1-p_i)],\quad
    \text{softmax: } L = -\frac1n\sum_i \log p_{i,y_i},\quad
    \text{linear: } L = \frac1n\sum_i \lVert \hat y_i - y_i\rVert^2 / k
"""

from __future__ import annotations

import numpy as np

from coursekit._params import ArrayLike, validate_params
from coursekit.mlp._args import SPEC, Y

__all__ = ["score_outputs"]

_EPS = 1e-12


@validate_params({"spec": [SPEC], "outputs": [ArrayLike(numeric=True)], "y": [Y]})
def score_outputs(spec, outputs, y) -> dict[str, float]:
    """Loss (no penalty) and, for classifiers, accuracy of ``outputs`` (probabilities or values).

    Outputs with NaN or inf come from a network whose training diverged (its weights
    overflowed): that is a result, not a bad input. The loss is then NaN, and a sample whose
    output is not finite counts as wrong.
    """
    out = np.asarray(outputs, dtype=np.float64)
    y = np.asarray(y)
    if not np.all(np.isfinite(out)):
        ok = np.isfinite(out.reshape(len(out), -1)).all(axis=1)  # (n,): a finite output
        result = {"loss": float("nan")}
        if spec.output != "linear":
            labels = y.reshape(len(out), -1)[ok].reshape(-1)
            right = score_outputs(spec, out[ok], labels)["accuracy"] if ok.any() else 0.0
            result["accuracy"] = right * float(ok.mean())
        return result
    if spec.output == "sigmoid":
        p = np.clip(out.reshape(-1), _EPS, 1 - _EPS)
        t = y.reshape(-1).astype(np.float64)
        loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
        return {"loss": float(loss), "accuracy": float(np.mean((p >= 0.5) == (t == 1)))}
    if spec.output == "softmax":
        labels = y.reshape(-1).astype(int)
        p = np.clip(out[np.arange(len(labels)), labels], _EPS, 1.0)
        return {
            "loss": float(-np.mean(np.log(p))),
            "accuracy": float(np.mean(out.argmax(axis=1) == labels)),
        }
    target = y.reshape(out.shape).astype(np.float64)
    return {"loss": float(np.mean((out - target) ** 2))}
