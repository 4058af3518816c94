r"""The lecture's worked example: a 2-2-1 network learning XOR (chapter 2).

Network (row-vector convention, as in the lecture):

.. math::

    z_1 = X W_1 + b_1,\quad a_1 = \mathrm{ReLU}(z_1),\quad
    z_2 = a_1 W_2 + b_2,\quad a_2 = \sigma(z_2)

with binary cross-entropy (natural log) per sample

.. math:: \ell_i = -[y_i \log a_{2,i} + (1 - y_i)\log(1 - a_{2,i})]

reduced over a batch of :math:`n` samples by ``"mean"`` (:math:`L=\frac1n\sum\ell_i`,
what Keras, PyTorch and scikit-learn do) or ``"sum"`` (:math:`L=\sum\ell_i`, what the
lecture's per-sample numbers correspond to).

Two conventions decide whether a printed number "is right":

- ``reduction``: every gradient of the mean is the gradient of the sum divided by ``n``;
- ``relu_grad_at_zero``: ReLU is not differentiable at 0. Frameworks use ReLU'(0) = 0;
  the lecture's printed :math:`\partial L/\partial z_1` for the input (0, 0) implies 1.

Every function returns new arrays; inputs are never modified in place. Bad input (NaN in
``params`` or ``X``, a string for a number, an unknown ``reduction``) raises a ``ValueError``
naming the parameter; :func:`sgd_step` alone lets NaN through, as an optimizer does.
"""

from __future__ import annotations

import numpy as np

from coursekit._params import (
    ArrayDict,
    ArrayLike,
    Boolean,
    Integral,
    Interval,
    Options,
    Real,
    validate_params,
)
from coursekit.divergence import diverged_epoch

__all__ = [
    "PARAM_SHAPES",
    "backward",
    "dataset",
    "forward",
    "lecture_params",
    "loss",
    "relu",
    "relu_grad",
    "sgd_step",
    "sigmoid",
    "train",
]

#: Shapes of the four parameters of the 2-2-1 network.
PARAM_SHAPES = {"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
_REDUCTIONS = ("mean", "sum")
_PARAMS = ArrayDict(finite=True)
_X = ArrayLike(finite=True)
_Y = ArrayLike(numeric=True)
_Z = ArrayLike(numeric=True)
_AT_ZERO = Interval(Real, 0, 1)
_LR = Interval(Real, 0, None, closed="neither")


def dataset() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR samples of the lecture.

    Returns
    -------
    X : ndarray of shape (4, 2), float64
        ``[[0, 0], [0, 1], [1, 0], [1, 1]]``.
    y : ndarray of shape (4,), int64
        ``[0, 1, 1, 0]``.
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return X, y


def lecture_params() -> dict[str, np.ndarray]:
    """The lecture's initial parameters (a fresh copy each call).

    ``W1 = [[0.1, 0.2], [0.3, 0.4]]`` used as ``z1 = X @ W1 + b1``, ``b1 = 0``,
    ``W2 = [[0.5], [0.6]]``, ``b2 = 0``. (The slide writes ``b1`` as a 2x2 zero
    matrix, i.e. already broadcast over the batch, and names the output bias
    ``b1`` a second time; both are typos for the shapes used here.)
    """
    return {
        "W1": np.array([[0.1, 0.2], [0.3, 0.4]]),
        "b1": np.zeros(2),
        "W2": np.array([[0.5], [0.6]]),
        "b2": np.zeros(1),
    }


@validate_params({"z": [_Z]})
def relu(z: np.ndarray) -> np.ndarray:
    r""":math:`\mathrm{ReLU}(z) = \max(0, z)`."""
    return np.maximum(z, 0.0)


@validate_params({"z": [_Z], "at_zero": [_AT_ZERO]})
def relu_grad(z: np.ndarray, at_zero: float = 0.0) -> np.ndarray:
    r""":math:`\mathrm{ReLU}'(z) = 1` if :math:`z > 0`, 0 if :math:`z < 0`, ``at_zero`` if :math:`z = 0`."""
    return _relu_grad(np.asarray(z), at_zero)


def _relu_grad(z: np.ndarray, at_zero) -> np.ndarray:
    return np.where(z > 0, 1.0, np.where(z < 0, 0.0, at_zero)).astype(np.result_type(z, 1.0))


@validate_params({"z": [_Z]})
def sigmoid(z: np.ndarray) -> np.ndarray:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow for large :math:`|z|`."""
    return _sigmoid(np.asarray(z))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


@validate_params({"params": [_PARAMS], "X": [_X]})
def forward(params: dict[str, np.ndarray], X) -> dict[str, np.ndarray]:
    """Forward pass, keeping every intermediate quantity.

    Parameters
    ----------
    params : dict
        ``{"W1": (2, h), "b1": (h,), "W2": (h, 1), "b2": (1,)}``.
    X : array-like of shape (n, 2)

    Returns
    -------
    cache : dict
        ``{"X": (n, 2), "z1": (n, h), "a1": (n, h), "z2": (n, 1), "a2": (n, 1)}``.
    """
    _check_params(params)
    return _forward(params, _check_X(X, params))


def _forward(params, X):
    """:func:`forward` without the checks (``X`` already an array of the right dtype)."""
    z1 = X @ params["W1"] + params["b1"]  # (n, 2) @ (2, h) -> (n, h)
    a1 = np.maximum(z1, 0.0)  # relu, (n, h)
    z2 = a1 @ params["W2"] + params["b2"]  # (n, h) @ (h, 1) -> (n, 1)
    a2 = _sigmoid(z2)  # (n, 1)
    return {"X": X, "z1": z1, "a1": a1, "z2": z2, "a2": a2}


@validate_params(
    {"params": [_PARAMS], "X": [_X], "y": [_Y], "reduction": [Options(("mean", "sum", "none"))]}
)
def loss(params: dict[str, np.ndarray], X, y, reduction: str = "mean"):
    r"""Binary cross-entropy of the network on ``(X, y)``, natural log.

    Computed from the logit as :math:`\ell_i = \log(1 + e^{z_2}) - y_i z_2`, which equals
    :math:`-[y\log a_2 + (1-y)\log(1-a_2)]` and stays finite when :math:`a_2` rounds to 0 or 1.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        ``"none"`` returns the per-sample losses, shape (n,).
    """
    cache = forward(params, X)
    return _loss(cache, _check_y(y, len(cache["X"]), cache["z2"].dtype), reduction)


def _loss(cache, y, reduction):
    """:func:`loss` from a forward pass's ``cache`` (no checks)."""
    z2 = cache["z2"][:, 0]  # (n,)
    per_sample = np.logaddexp(0.0, z2) - y * z2  # (n,)
    if reduction == "none":
        return per_sample
    return float(per_sample.mean() if reduction == "mean" else per_sample.sum())


@validate_params(
    {
        "params": [_PARAMS],
        "cache": [ArrayDict(finite=False)],
        "y": [_Y],
        "reduction": [Options(_REDUCTIONS)],
        "relu_grad_at_zero": [_AT_ZERO],
    }
)
def backward(
    params: dict[str, np.ndarray],
    cache: dict[str, np.ndarray],
    y,
    reduction: str = "mean",
    relu_grad_at_zero: float = 0.0,
) -> dict[str, np.ndarray]:
    r"""Backward pass: gradients of the reduced loss by the chain rule.

    .. math::

        \frac{\partial L}{\partial z_2} = c\,(a_2 - y),\qquad
        \frac{\partial L}{\partial W_2} = a_1^\top \frac{\partial L}{\partial z_2},\qquad
        \frac{\partial L}{\partial b_2} = \textstyle\sum_i \frac{\partial L}{\partial z_{2,i}}

        \frac{\partial L}{\partial a_1} = \frac{\partial L}{\partial z_2} W_2^\top,\qquad
        \frac{\partial L}{\partial z_1} = \frac{\partial L}{\partial a_1}\odot\mathrm{ReLU}'(z_1),\qquad
        \frac{\partial L}{\partial W_1} = X^\top \frac{\partial L}{\partial z_1},\qquad
        \frac{\partial L}{\partial b_1} = \textstyle\sum_i \frac{\partial L}{\partial z_{1,i}}

    with :math:`c = 1/n` for ``reduction="mean"`` and :math:`c = 1` for ``"sum"``.
    With ``"sum"``, ``dz2`` and ``dz1`` are the per-sample gradients the lecture prints.

    Parameters
    ----------
    cache : dict
        The output of :func:`forward` on the same ``params``.
    y : array-like of shape (n,) or (n, 1), values in {0, 1}
    reduction : {"mean", "sum"}
    relu_grad_at_zero : float in [0, 1]
        The value used for ReLU'(0): 0 as TensorFlow and PyTorch, 1 reproduces the lecture.

    Returns
    -------
    grads : dict
        ``dz2 (n, 1), dW2 (h, 1), db2 (1,), da1 (n, h), dz1 (n, h), dW1 (2, h), db1 (h,)``.
    """
    _check_params(params)
    missing = {"X", "z1", "a1", "z2", "a2"} - set(cache)
    if missing:
        raise ValueError(f"cache is missing {sorted(missing)}; pass the output of forward()")
    y = _check_y(y, len(cache["X"]), cache["a2"].dtype)
    return _backward(params, cache, y, reduction, relu_grad_at_zero)


def _backward(params, cache, y, reduction, relu_grad_at_zero):
    """:func:`backward` without the checks (``y`` already checked)."""
    X, z1, a1, a2 = cache["X"], cache["z1"], cache["a1"], cache["a2"]
    n = len(X)
    y = y.reshape(n, 1)
    scale = 1.0 / n if reduction == "mean" else 1.0
    dz2 = scale * (a2 - y)  # (n, 1)
    dW2 = a1.T @ dz2  # (h, n) @ (n, 1) -> (h, 1)
    db2 = dz2.sum(axis=0)  # (1,)
    da1 = dz2 @ params["W2"].T  # (n, 1) @ (1, h) -> (n, h)
    dz1 = da1 * _relu_grad(z1, relu_grad_at_zero)  # (n, h)
    dW1 = X.T @ dz1  # (2, n) @ (n, h) -> (2, h)
    db1 = dz1.sum(axis=0)  # (h,)
    return {"dz2": dz2, "dW2": dW2, "db2": db2, "da1": da1, "dz1": dz1, "dW1": dW1, "db1": db1}


@validate_params(
    {"params": [ArrayDict(finite=False)], "grads": [ArrayDict(finite=False)], "lr": [_LR]}
)
def sgd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float):
    r"""One gradient-descent update :math:`\phi \leftarrow \phi - \alpha\,\partial L/\partial\phi`.

    Returns new arrays; ``params`` is left untouched. ``grads`` has the keys of
    :func:`backward` (``dW1``, ``db1``, ``dW2``, ``db2``). NaN and infinite values pass
    through, as in any optimizer.
    """
    missing = [name for name in PARAM_SHAPES if name not in params]
    missing_grads = ["d" + name for name in PARAM_SHAPES if "d" + name not in grads]
    if missing or missing_grads:
        raise ValueError(
            f"sgd_step needs params {list(PARAM_SHAPES)} and grads "
            f"{['d' + n for n in PARAM_SHAPES]}: missing {missing + missing_grads}"
        )
    return _sgd_step(params, grads, lr)


def _sgd_step(params, grads, lr):
    return {name: params[name] - lr * grads["d" + name] for name in PARAM_SHAPES}


@validate_params(
    {
        "params": [_PARAMS],
        "X": [_X],
        "y": [_Y],
        "lr": [_LR],
        "batch_size": [Interval(Integral, 1, None)],
        "epochs": [Interval(Integral, 0, None)],
        "reduction": [Options(_REDUCTIONS)],
        "relu_grad_at_zero": [_AT_ZERO],
        "shuffle": [Boolean()],
        "seed": [Interval(Integral, 0, None), None],
    }
)
def train(
    params: dict[str, np.ndarray],
    X,
    y,
    lr: float = 0.1,
    batch_size: int = 2,
    epochs: int = 3,
    reduction: str = "mean",
    relu_grad_at_zero: float = 0.0,
    shuffle: bool = False,
    seed: int | None = None,
):
    """Mini-batch gradient descent on the 2-2-1 network, as in the lecture.

    Each epoch walks the samples in order (or in a fresh seeded permutation when
    ``shuffle=True``) in batches of ``batch_size``; the last batch may be smaller.
    For each batch: forward, loss, backward, update.

    A rate so large that the weights overflow is a result, not an error: training runs all
    its epochs, the losses from there on are inf or NaN, and ``history["diverged_epoch"]``
    says when it began (:func:`coursekit.divergence.diverged_epoch`).

    Returns
    -------
    new_params : dict
        The parameters after the last update (new arrays; ``params`` is untouched).
    history : dict
        ``"loss"``: one entry per epoch, the mean of that epoch's batch losses computed
        before each update (what Keras reports); ``"batch_loss"``: every batch loss in
        order; ``"params"``: a copy of the parameters after each epoch;
        ``"diverged_epoch"``: the first epoch (1-based) whose loss was not finite or more
        than twice the untrained network's (its batch losses averaged), else None.
    """
    _check_params(params)
    X = _check_X(X, params)
    y = _check_y(y, len(X))
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is a result
        current, history = _train(
            params, X, y, lr, batch_size, epochs, reduction, relu_grad_at_zero, shuffle, seed
        )
        # the epoch loss the untrained network would report: its batch losses, averaged
        start = np.mean(
            [
                _loss(_forward(params, X[i : i + batch_size]), y[i : i + batch_size], reduction)
                for i in range(0, len(X), batch_size)
            ]
        )
    history["diverged_epoch"] = diverged_epoch(history["loss"], initial_loss=start)
    return current, history


def _train(params, X, y, lr, batch_size, epochs, reduction, relu_grad_at_zero, shuffle, seed):
    """:func:`train`'s loop on checked inputs."""
    rng = np.random.default_rng(seed)
    current = {name: np.array(value, copy=True) for name, value in params.items()}
    history: dict[str, list] = {"loss": [], "batch_loss": [], "params": []}
    for _ in range(epochs):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        epoch_losses = []
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            Xb, yb = X[idx], y[idx]
            cache = _forward(current, Xb)
            yb = yb.astype(cache["z2"].dtype)
            batch_loss = _loss(cache, yb, reduction)
            grads = _backward(current, cache, yb, reduction, relu_grad_at_zero)
            current = _sgd_step(current, grads, lr)
            epoch_losses.append(batch_loss)
        history["batch_loss"].extend(epoch_losses)
        history["loss"].append(float(np.mean(epoch_losses)))
        history["params"].append({k: v.copy() for k, v in current.items()})
    return current, history


# -- input checks at the public boundary -------------------------------------------------


def _check_params(params) -> None:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    missing = set(PARAM_SHAPES) - set(params)
    if missing:
        raise ValueError(f"params is missing {sorted(missing)}; expected keys {list(PARAM_SHAPES)}")
    W1, b1, W2, b2 = (np.shape(params[k]) for k in PARAM_SHAPES)
    if len(W1) != 2 or W1[0] != 2:
        raise ValueError(f"params['W1'] must have shape (2, h), got {W1}")
    h = W1[1]
    expected = {"b1": (h,), "W2": (h, 1), "b2": (1,)}
    for name, shape in zip(("b1", "W2", "b2"), (b1, W2, b2), strict=True):
        if shape != expected[name]:
            raise ValueError(f"params[{name!r}] must have shape {expected[name]}, got {shape}")
    for name in PARAM_SHAPES:
        if not np.all(np.isfinite(params[name])):
            raise ValueError(f"params[{name!r}] contains NaN or infinity: {params[name]!r}")


def _check_X(X, params) -> np.ndarray:
    X = np.asarray(X, dtype=np.result_type(params["W1"], np.float32))
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X.shape}")
    if len(X) == 0:
        raise ValueError("X is empty: need at least one sample")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"X contains NaN or infinity: {X!r}")
    return X


def _check_y(y, n: int, dtype=np.float64) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if not np.isin(y, (0, 1)).all():
        bad = np.unique(y[~np.isin(y, (0, 1))])
        raise ValueError(f"y must contain only 0 and 1, got values {bad.tolist()}")
    return y.astype(dtype)
