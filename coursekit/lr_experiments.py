"""Chapter 4's learning-rate experiments, as functions that return data (plots separately).

- :func:`learning_rate_experiment`: seed 003's experiment, the same network
  (Dense(100, ReLU) -> Dense(100, ReLU) -> softmax, SGD, cross-entropy) trained with learning
  rates 1e-6, 0.01 and 1 (on two moons by default: seed 003's basketball data does not ship
  with any package); :func:`classify_run` names each outcome.
- :func:`lr_range_test_mlp`: the learning-rate range test (sweep 1e-4 -> 1e-1, one
  mini-batch step per rate) on an MLP, built on :func:`coursekit.schedules.lr_range_test`.

Frameworks and matplotlib are imported inside the functions.
"""

from __future__ import annotations

import numpy as np

from coursekit.schedules import LRRangeTestResult, lr_range_test

__all__ = [
    "classify_run",
    "learning_rate_experiment",
    "lr_range_test_mlp",
    "plot_learning_curves",
    "plot_lr_range_test",
]

#: Below this relative fall of the training loss over the run, the rate is "too small".
TOO_SMALL_FALL = 0.05
#: An epoch-to-epoch rise of the loss larger than this fraction of the first loss, a final
#: loss above the first, or a non-finite loss marks the rate "too large".
TOO_LARGE_RISE = 0.10


def _seed003_spec(n_features, lr, epochs, batch_size, seed, n_classes=2):
    from coursekit.mlp import MLPSpec

    return MLPSpec(
        n_inputs=n_features,
        hidden=(100, 100),
        activation="relu",
        output="softmax",
        n_outputs=n_classes,
        optimizer="sgd",
        lr=lr,
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
    )


def learning_rate_experiment(
    lrs=(1e-6, 0.01, 1.0),
    data: str = "moons",
    framework: str = "torch",
    epochs: int = 20,
    batch_size: int = 32,
    seed: int = 0,
    standardize: bool = True,
) -> dict:
    """Train seed 003's network once per learning rate, from the same initial weights.

    With ``standardize`` the features are standardized with statistics of the training split
    only; without it they are used raw, as in seed 003 (which makes large rates diverge sooner).

    Returns
    -------
    dict of float -> :class:`~coursekit.mlp.History`
    """
    from coursekit import data as datasets
    from coursekit import mlp
    from coursekit.scaling import Standardizer

    if not lrs:
        raise ValueError("lrs must hold at least one learning rate")
    split = datasets.load(data, seed=seed)
    X, Xv = split.X_train, split.X_val
    if standardize:
        scaler = Standardizer().fit(split.X_train)
        X, Xv = scaler.transform(X), scaler.transform(Xv)
    results = {}
    for lr in lrs:
        spec = _seed003_spec(split.n_features, float(lr), epochs, batch_size, seed, split.n_classes)
        model = mlp.build(framework, spec, mlp.init_weights(spec, seed=seed))
        results[float(lr)] = mlp.fit(
            model, spec, X, split.y_train, validation_data=(Xv, split.y_val)
        )
    return results


def classify_run(history) -> str:
    """``"too small"``, ``"good"`` or ``"too large"`` from a run's training-loss curve.

    Too large: a non-finite loss, a final loss above the first, or an epoch-to-epoch rise of
    more than ``TOO_LARGE_RISE`` of the first loss (divergence or oscillation). Too small: the
    loss fell by less than ``TOO_SMALL_FALL`` of its first value. Otherwise good.
    """
    loss = np.asarray(history.loss, dtype=float)
    if len(loss) < 2:
        raise ValueError(f"need at least 2 epochs to judge a run, got {len(loss)}")
    if not np.all(np.isfinite(loss)) or loss[-1] > loss[0]:
        return "too large"
    if np.max(np.diff(loss)) > TOO_LARGE_RISE * loss[0]:
        return "too large"
    if (loss[0] - loss[-1]) / loss[0] < TOO_SMALL_FALL:
        return "too small"
    return "good"


def plot_learning_curves(results: dict, ax=None, validation: bool = False):
    """One training-loss curve per learning rate (validation loss dashed if asked)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for lr, history in results.items():
        epochs = np.arange(1, len(history.loss) + 1)
        (line,) = ax.plot(epochs, history.loss, label=f"lr = {lr:g} ({classify_run(history)})")
        if validation and history.val_loss:
            ax.plot(epochs, history.val_loss, linestyle="--", color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.legend()
    return ax


def lr_range_test_mlp(
    spec,
    X,
    y,
    lr_min: float = 1e-4,
    lr_max: float = 1e-1,
    num: int = 100,
    seed: int = 0,
) -> LRRangeTestResult:
    """Range test on a torch MLP built from ``spec``: one SGD mini-batch step per rate.

    The mini-batches (``spec.batch_size``) cycle through a seeded permutation of ``(X, y)``.
    """
    import torch

    from coursekit import mlp
    from coursekit.mlp.torch_mlp import _loss_fn, _targets

    model = mlp.build_torch(spec, dtype="float32")
    X_t = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    y_t = _targets(spec, y, torch.float32)
    loss_fn = _loss_fn(spec)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr_min)
    order = np.random.default_rng(seed).permutation(len(X_t))
    position = [0]

    def step(net, lr):
        start = position[0] % len(order)
        idx = order[start : start + spec.batch_size]
        position[0] = start + spec.batch_size
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        loss = loss_fn(net(X_t[idx]), y_t[idx])
        loss.backward()
        optimizer.step()
        return net, loss.item()

    model.train()
    return lr_range_test(step, model, lr_min=lr_min, lr_max=lr_max, num=num)


def plot_lr_range_test(result: LRRangeTestResult, ax=None):
    """Smoothed loss against the learning rate (log axis), the suggestion marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.plot(result.lrs, result.losses, alpha=0.3, label="loss per step")
    ax.plot(result.lrs, result.smoothed, label="smoothed")
    ax.axvline(
        result.suggested_lr,
        linestyle="--",
        color="gray",
        label=f"suggested {result.suggested_lr:.2g}",
    )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.legend()
    return ax
