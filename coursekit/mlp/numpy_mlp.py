r"""The spec's network in plain numpy: forward, backward and the training loop (chapters 2, 5, 7).

Layer :math:`l` computes :math:`z_l = a_{l-1} W_l + b_l`, :math:`a_l = f(z_l)` (inverted dropout
after each hidden activation while training). With a sigmoid/BCE, softmax/cross-entropy or
linear/MSE output, the gradient at the output logits of the batch-mean loss is

.. math:: \frac{\partial L}{\partial z_L} = \frac{1}{n}(\hat y - y)\quad(\times 2/k \text{ for MSE over } k \text{ outputs})

and backpropagation continues as in :mod:`coursekit.xor`:
:math:`\partial L/\partial W_l = a_{l-1}^\top \delta_l`, :math:`\delta_{l-1} = (\delta_l W_l^\top) \odot f'(z_{l-1})`.
"""

from __future__ import annotations

import time

import numpy as np

from coursekit._params import InstanceOf, validate_params
from coursekit.mlp._args import DTYPE, SPEC, TRAIN, WEIGHTS, X, Y
from coursekit.mlp.history import History
from coursekit.mlp.spec import MLPSpec
from coursekit.mlp.weights import Weights, init_weights
from coursekit.regularization import EarlyStopping

__all__ = ["NumpyMLP", "build_numpy", "fit_numpy"]


def _act(name, z):
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    return z


def _act_grad(name, z, a):
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1.0 - a * a
    if name == "sigmoid":
        return a * (1.0 - a)
    return np.ones_like(z)


class NumpyMLP:
    """A feed-forward network on numpy arrays, built from an :class:`MLPSpec`.

    Attributes
    ----------
    layers_ : list of (W, b)
        The weights in the common layout, ``W`` of shape ``(n_in, n_out)``.
    """

    @validate_params({"spec": [SPEC], "weights": [WEIGHTS, None], "dtype": [DTYPE]})
    def __init__(self, spec: MLPSpec, weights: Weights | None = None, dtype="float64"):
        self.spec = spec
        weights = weights if weights is not None else init_weights(spec, dtype=dtype)
        self.layers_ = [(np.array(W, dtype=dtype), np.array(b, dtype=dtype)) for W, b in weights]
        self.training = True
        self._rng = np.random.default_rng(spec.seed)

    # -- forward ------------------------------------------------------------------------
    @validate_params({"X": [X], "cache": [InstanceOf(list, "a list (filled in)"), None]})
    def logits(self, X, cache: list | None = None) -> np.ndarray:
        a = np.asarray(X, dtype=self.layers_[0][0].dtype)
        hidden = self.layers_[:-1]
        for (W, b), rate in zip(hidden, self.spec.dropout_rates, strict=True):
            z = a @ W + b  # (n, n_in) @ (n_in, n_out) -> (n, n_out)
            a_act = _act(self.spec.activation, z)
            mask = None
            if self.training and rate > 0:
                mask = (self._rng.random(a_act.shape) >= rate) / (1.0 - rate)
            if cache is not None:
                cache.append((a, z, a_act, mask))
            a = a_act if mask is None else a_act * mask
        W, b = self.layers_[-1]
        if cache is not None:
            cache.append((a, None, None, None))
        return a @ W + b

    @validate_params({"X": [X]})
    def predict(self, X) -> np.ndarray:
        """Probabilities (sigmoid / softmax) or values (linear), dropout off."""
        was, self.training = self.training, False
        try:
            return _output(self.spec.output, self.logits(X))
        finally:
            self.training = was

    # -- loss and backward ----------------------------------------------------------------
    @validate_params({"X": [X], "y": [Y]})
    def loss_and_grads(self, X, y):
        """Batch-mean loss (with the L1/L2 penalty) and gradients ``[(dW, db), ...]``."""
        cache: list = []
        z_out = self.logits(X, cache)
        y_hat = _output(self.spec.output, z_out)
        loss, delta = _loss_and_delta(self.spec.output, z_out, y_hat, y)
        grads = []
        for i in range(len(self.layers_) - 1, -1, -1):
            a_prev, _, _, _ = cache[i]
            W, _ = self.layers_[i]
            dW = a_prev.T @ delta  # (n_in, n) @ (n, n_out)
            db = delta.sum(axis=0)
            grads.append((dW, db))
            if i > 0:
                _, z, a_act, mask = cache[i - 1]
                da = delta @ W.T  # (n, n_out) @ (n_out, n_in)
                if mask is not None:
                    da = da * mask
                delta = da * _act_grad(self.spec.activation, z, a_act)
        grads.reverse()
        loss += self._penalty()
        grads = [
            (dW + self._penalty_grad(W), db)
            for (dW, db), (W, _) in zip(grads, self.layers_, strict=True)
        ]
        return loss, grads

    def _penalty(self) -> float:
        s = self.spec
        total = 0.0
        for W, _ in self.layers_:
            if s.l1:
                total += s.l1 * float(np.abs(W).sum())
            if s.l2:
                total += s.l2 * float((W * W).sum())
        return total

    def _penalty_grad(self, W):
        g = 0.0
        if self.spec.l1:
            g = g + self.spec.l1 * np.sign(W)
        if self.spec.l2:
            g = g + 2.0 * self.spec.l2 * W
        return g


def _output(kind, z):
    if kind == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if kind == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z


def _loss_and_delta(kind, z, y_hat, y):
    n = len(z)
    if kind == "sigmoid":
        t = np.asarray(y, dtype=z.dtype).reshape(n, 1)
        loss = float(np.mean(np.logaddexp(0.0, z) - t * z))
        return loss, (y_hat - t) / n
    if kind == "softmax":
        labels = np.asarray(y).reshape(-1).astype(int)
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-log_p[np.arange(n), labels].mean())
        delta = y_hat.copy()
        delta[np.arange(n), labels] -= 1.0
        return loss, delta / n
    t = np.asarray(y, dtype=z.dtype).reshape(z.shape)
    k = z.shape[1]
    return float(np.mean((z - t) ** 2)), 2.0 * (z - t) / (n * k)


@validate_params({"spec": [SPEC], "weights": [WEIGHTS, None], "dtype": [DTYPE]})
def build_numpy(spec: MLPSpec, weights: Weights | None = None, dtype: str = "float64") -> NumpyMLP:
    """A :class:`NumpyMLP` for ``spec`` (same initial weights as the other builders)."""
    return NumpyMLP(spec, weights, dtype)


def _optimizer(spec: MLPSpec):
    from coursekit import optim

    lr = spec.lr
    options = {
        "sgd": lambda: optim.SGD(lr=lr),
        "momentum": lambda: optim.SGD(lr=lr, momentum=spec.momentum),
        "rmsprop": lambda: optim.RMSprop(lr=lr),
        "adagrad": lambda: optim.Adagrad(lr=lr),
        "adam": lambda: optim.Adam(lr=lr),
    }
    return options[spec.optimizer]()


@validate_params(TRAIN)
@np.errstate(over="ignore", invalid="ignore")  # a diverging run is a result (NaN losses)
def fit_numpy(model: NumpyMLP, spec: MLPSpec, X, y, validation_data=None) -> History:
    """Mini-batch training of a :class:`NumpyMLP` with the optimizers of :mod:`coursekit.optim`.

    Training that diverges is recorded, not raised or warned about: the losses from there on
    are inf or NaN (``history.diverged_epoch``).
    """
    X = np.asarray(X, dtype=model.layers_[0][0].dtype)
    y = np.asarray(y)
    optimizer = _optimizer(spec)
    rng = np.random.default_rng(spec.seed)
    stopper = EarlyStopping(spec.patience) if spec.patience is not None else None
    history = History("numpy")
    start = time.perf_counter()
    n = len(X)
    for _ in range(spec.epochs):
        model.training = True
        order = rng.permutation(n) if spec.shuffle else np.arange(n)
        losses, sizes = [], []
        for first in range(0, n, spec.batch_size):
            idx = order[first : first + spec.batch_size]
            loss, grads = model.loss_and_grads(X[idx], y[idx])
            params = {f"W{i}": W for i, (W, _) in enumerate(model.layers_)}
            params |= {f"b{i}": b for i, (_, b) in enumerate(model.layers_)}
            g = {f"W{i}": dW for i, (dW, _) in enumerate(grads)}
            g |= {f"b{i}": db for i, (_, db) in enumerate(grads)}
            new = optimizer.step(params, g)
            model.layers_ = [(new[f"W{i}"], new[f"b{i}"]) for i in range(len(model.layers_))]
            losses.append(loss)
            sizes.append(len(idx))
        history.loss.append(float(np.average(losses, weights=sizes)))
        if validation_data is not None:
            from coursekit.mlp.scoring import score_outputs

            scores = score_outputs(spec, model.predict(validation_data[0]), validation_data[1])
            history.val_loss.append(scores["loss"] + model._penalty())
            if "accuracy" in scores:
                history.val_accuracy.append(scores["accuracy"])
            if stopper is not None:
                snapshot = [(W.copy(), b.copy()) for W, b in model.layers_]
                if stopper.step(history.val_loss[-1], snapshot):
                    break
    if stopper is not None and stopper.best_params is not None:
        model.layers_ = stopper.final_params(None)
        history.best_epoch, history.stopped_epoch = stopper.best_epoch, stopper.stopped_epoch
    history.seconds = time.perf_counter() - start
    return history
