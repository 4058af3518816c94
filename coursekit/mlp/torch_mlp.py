"""The spec's network in PyTorch, with the plain training loop a lesson would write.

``build_torch`` returns an ``nn.Sequential`` that outputs *logits* (no output activation):
the losses ``BCEWithLogitsLoss`` and ``CrossEntropyLoss`` apply the sigmoid / softmax
themselves, which is more accurate. ``predict_torch`` applies it for probabilities.

L1/L2 are added to the loss explicitly, on weight matrices only, with Keras' meaning
(:math:`\\lambda\\sum w^2`), rather than through ``weight_decay`` (which would decay the biases
too and, for Adam, means something else).
"""

from __future__ import annotations

import copy
import time

import numpy as np

from coursekit._params import validate_params
from coursekit.mlp._args import DTYPE, MODEL, SCORE, SPEC, TRAIN, WEIGHTS, X
from coursekit.mlp.history import History
from coursekit.mlp.spec import MLPSpec
from coursekit.mlp.weights import Weights, init_weights, set_weights
from coursekit.regularization import EarlyStopping
from coursekit.seeding import seed_everything

__all__ = ["build_torch", "evaluate_torch", "predict_torch", "train_torch"]


def _dtype(name: str):
    import torch

    return {"float32": torch.float32, "float64": torch.float64}[name]


@validate_params({"spec": [SPEC], "weights": [WEIGHTS, None], "dtype": [DTYPE]})
def build_torch(spec: MLPSpec, weights: Weights | None = None, dtype: str = "float32"):
    """``nn.Sequential(Linear, activation, Dropout, ..., Linear)`` for ``spec``, logits out."""
    from torch import nn

    seed_everything(spec.seed)
    activation = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
    layers = []
    sizes = spec.layer_sizes
    for i, rate in enumerate(spec.dropout_rates):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), activation[spec.activation]()]
        if rate > 0:
            layers.append(nn.Dropout(rate))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    model = nn.Sequential(*layers).to(_dtype(dtype))
    set_weights(model, weights if weights is not None else init_weights(spec, dtype=dtype))
    return model


def _optimizer(spec: MLPSpec, model):
    import torch

    lr = spec.lr(0) if callable(spec.lr) else spec.lr
    params = model.parameters()
    return {
        "sgd": lambda: torch.optim.SGD(params, lr=lr),
        "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=spec.momentum),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, alpha=0.9),  # Keras' rho
        "adagrad": lambda: torch.optim.Adagrad(params, lr=lr),
        "adam": lambda: torch.optim.Adam(params, lr=lr),
    }[spec.optimizer]()


def _loss_fn(spec: MLPSpec):
    from torch import nn

    return {
        "sigmoid": nn.BCEWithLogitsLoss(),
        "softmax": nn.CrossEntropyLoss(),
        "linear": nn.MSELoss(),
    }[spec.output]


def _penalty(spec: MLPSpec, model):
    """lambda1 * sum|W| + lambda2 * sum W^2 over the weight matrices (not the biases)."""
    total = 0.0
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            if spec.l1:
                total = total + spec.l1 * p.abs().sum()
            if spec.l2:
                total = total + spec.l2 * (p**2).sum()
    return total


def _targets(spec: MLPSpec, y, dtype):
    import torch

    y = np.asarray(y)
    if spec.output == "softmax":
        return torch.as_tensor(y.reshape(-1), dtype=torch.long)
    return torch.as_tensor(y.reshape(len(y), -1), dtype=dtype)


@validate_params(TRAIN)
def train_torch(model, spec: MLPSpec, X, y, validation_data=None) -> History:
    """Train ``model`` in place with the loop of the lesson; return its :class:`History`."""
    import torch

    dtype = next(model.parameters()).dtype
    X_t = torch.as_tensor(np.asarray(X), dtype=dtype)
    y_t = _targets(spec, y, dtype)
    loss_fn = _loss_fn(spec)
    optimizer = _optimizer(spec, model)
    generator = torch.Generator().manual_seed(spec.seed)
    seed_everything(spec.seed)  # dropout masks; deterministic kernels
    stopper = EarlyStopping(spec.patience) if spec.patience is not None else None
    history = History("torch")
    n, step = len(X_t), 0
    start = time.perf_counter()
    for _epoch in range(spec.epochs):
        model.train()  # dropout on
        order = torch.randperm(n, generator=generator) if spec.shuffle else torch.arange(n)
        batch_losses, batch_sizes = [], []
        for first in range(0, n, spec.batch_size):
            idx = order[first : first + spec.batch_size]
            if callable(spec.lr):
                for group in optimizer.param_groups:
                    group["lr"] = float(spec.lr(step))
            optimizer.zero_grad()
            logits = model(X_t[idx])  # (batch, n_outputs)
            loss = loss_fn(logits, y_t[idx]) + _penalty(spec, model)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
            batch_sizes.append(len(idx))
            step += 1
        history.loss.append(float(np.average(batch_losses, weights=batch_sizes)))
        if validation_data is not None:
            scores = evaluate_torch(model, spec, *validation_data)
            with torch.no_grad():
                penalty = float(_penalty(spec, model))
            history.val_loss.append(scores["loss"] + penalty)
            if "accuracy" in scores:
                history.val_accuracy.append(scores["accuracy"])
            if stopper is not None:
                if stopper.step(history.val_loss[-1], copy.deepcopy(model.state_dict())):
                    break
    if stopper is not None and stopper.best_params is not None:
        model.load_state_dict(stopper.final_params(None))
        history.best_epoch, history.stopped_epoch = stopper.best_epoch, stopper.stopped_epoch
    history.seconds = time.perf_counter() - start
    return history


@validate_params({"model": [MODEL], "spec": [SPEC], "X": [X]})
def predict_torch(model, spec: MLPSpec, X) -> np.ndarray:
    """Probabilities (sigmoid / softmax output) or values (linear output), dropout off."""
    import torch

    model.eval()
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        logits = model(torch.as_tensor(np.asarray(X), dtype=dtype))
        if spec.output == "sigmoid":
            return torch.sigmoid(logits).numpy()
        if spec.output == "softmax":
            return torch.softmax(logits, dim=1).numpy()
        return logits.numpy()


@validate_params(SCORE)
def evaluate_torch(model, spec: MLPSpec, X, y) -> dict[str, float]:
    """Loss (without the penalty) and, for classifiers, accuracy on ``(X, y)``."""
    from coursekit.mlp.scoring import score_outputs

    return score_outputs(spec, predict_torch(model, spec, X), y)
