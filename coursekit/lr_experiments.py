r"""Chapter 4's learning-rate experiments, as functions that return data (plots separately).

- :func:`learning_rate_experiment`: seed 003's experiment, the same network
  (Dense(100, ReLU) -> Dense(100, ReLU) -> softmax over 2 classes, SGD, categorical
  cross-entropy) trained from the same initial weights with learning rates 1e-6, 0.01 and 1;
  :func:`classify_run` names each outcome "too small", "good" or "too large".
- :func:`lr_range_test_mlp`: the learning-rate range test (sweep 1e-4 -> 1e-1, one mini-batch
  step per rate, stop on divergence, suggest the rate of steepest descent) on a torch MLP,
  built on :func:`coursekit.schedules.lr_range_test`.
- :func:`plot_learning_curves`, :func:`plot_lr_range_test`: draw on ``ax`` (or a new figure)
  and return the axes.

Data: seed 003's basketball shot log does not ship with any package. The default stand-in is
two noisy moons, where the three rates show the three outcomes. On standardized breast-cancer
data the same network trains *well* at :math:`\alpha = 1` (the loss falls smoothly to ~0.001
in 20 epochs), so there the 1 is not "too large": whether a rate is too large depends on the
data and its scaling (on the raw, unscaled features even 0.01 blows the loss up full-batch).

Lesson: chapter 4, "The learning rate". numpy only at import; torch, keras and matplotlib are
imported inside the functions.
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

#: A run whose training loss falls by less than this fraction of its first value is "too small".
TOO_SMALL_FALL = 0.05
#: A run whose loss rises from one epoch to the next by more than this fraction of its first
#: value (oscillation), ends above its first value, or is ever non-finite, is "too large".
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

    Parameters
    ----------
    lrs : sequence of float
        Learning rates of plain SGD (seed 003: 1e-6, 0.01, 1).
    data : str
        A :func:`coursekit.data.load` name; ``"moons"`` by default (see the module docstring
        for why not ``"breast_cancer"``). Its seeded train/validation split is used.
    framework : {"torch", "keras", "numpy"}
        Any :func:`coursekit.mlp.build` framework; torch is the fastest here.
    epochs, batch_size : int
        20 epochs of mini-batches of 32 (Keras' default batch) run in about a second on one
        core with torch.
    seed : int
        Initial weights (the same for every rate), shuffling.
    standardize : bool
        Standardize the features with statistics of the training split only (default); False
        uses them raw, as seed 003 does.

    Returns
    -------
    dict of float -> :class:`~coursekit.mlp.History`
        ``history.loss`` (training, per epoch) and ``history.val_loss`` have ``epochs`` entries.

    Examples
    --------
    >>> runs = learning_rate_experiment(epochs=20)  # doctest: +SKIP
    >>> {lr: classify_run(h) for lr, h in runs.items()}  # doctest: +SKIP
    {1e-06: 'too small', 0.01: 'good', 1.0: 'too large'}
    """
    from coursekit import data as datasets
    from coursekit import mlp
    from coursekit.scaling import Standardizer

    lrs = tuple(lrs)
    if not lrs:
        raise ValueError(f"lrs must hold at least one learning rate, got {lrs!r}")
    for lr in lrs:
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
            raise ValueError(f"every learning rate must be a number > 0, got {lr!r}")
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
    r"""``"too small"``, ``"good"`` or ``"too large"`` from a run's training-loss curve.

    With :math:`L_1, \dots, L_E` the training loss per epoch (``history.loss``, or a plain
    sequence of losses):

    - **too large** if some :math:`L_e` is not finite (divergence), or :math:`L_E > L_1`, or
      some :math:`L_{e+1} - L_e > 0.10\,L_1` (oscillation; ``TOO_LARGE_RISE``);
    - else **too small** if :math:`(L_1 - L_E) / L_1 < 0.05`: the loss barely moved
      (``TOO_SMALL_FALL``);
    - else **good**.

    >>> [classify_run(c) for c in ([0.69, 0.69, 0.689], [0.7, 0.5, 0.4], [0.7, 0.3, 0.5])]
    ['too small', 'good', 'too large']
    """
    loss = np.asarray(getattr(history, "loss", history), dtype=float)
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
    lrs=None,
    lr_min: float = 1e-4,
    lr_max: float = 1e-1,
    num: int = 100,
    optimizer: str = "sgd",
    seed: int = 0,
) -> LRRangeTestResult:
    r"""Learning-rate range test on a torch MLP built from ``spec``: one mini-batch step per rate.

    The rates grow geometrically, :math:`\alpha_i = \alpha_{min} (\alpha_{max} /
    \alpha_{min})^{i / (n - 1)}`; training continues from step to step; the sweep stops once
    the smoothed loss exceeds 4 times its minimum (divergence), and the suggestion is the rate
    where the smoothed loss falls fastest against :math:`\log\alpha` (see
    :func:`coursekit.schedules.lr_range_test`, which this runs).

    Parameters
    ----------
    spec : MLPSpec
        The network (layers, output, loss, penalties, ``batch_size``, ``seed`` of the initial
        weights); its ``lr``, ``epochs`` and ``patience`` are not used.
    X : array of shape (n_samples, spec.n_inputs)
    y : array of shape (n_samples,)
    lrs : array or None
        The sweep, a geometric sequence such as ``np.geomspace(1e-4, 1e-1, 100)``; None (default)
        uses ``np.geomspace(lr_min, lr_max, num)`` (the seed note's 1e-4 -> 1e-1).
    optimizer : str or None
        The optimizer stepped (default plain SGD); None uses ``spec.optimizer``.
    seed : int
        The mini-batches cycle through a permutation of ``(X, y)`` seeded by ``seed``.
    """
    import torch

    from coursekit import mlp
    from coursekit.mlp.torch_mlp import _loss_fn, _optimizer, _penalty, _targets

    if lrs is not None:
        lrs = np.asarray(lrs, dtype=float)
        if lrs.ndim != 1 or len(lrs) < 3 or not np.all(lrs > 0):
            raise ValueError(f"lrs must be >= 3 positive learning rates, got {lrs!r}")
        if not np.allclose(lrs, np.geomspace(lrs[0], lrs[-1], len(lrs)), rtol=1e-6):
            raise ValueError(f"lrs must grow geometrically (np.geomspace), got {lrs!r}")
        lr_min, lr_max, num = float(lrs[0]), float(lrs[-1]), len(lrs)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != spec.n_inputs:
        raise ValueError(f"X must have shape (n, {spec.n_inputs}), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"y must have {len(X)} entries like X, got {len(y)}")
    if optimizer is not None:
        spec = spec.with_(optimizer=optimizer)

    model = mlp.build_torch(spec, dtype="float32")
    X_t = torch.as_tensor(X, dtype=torch.float32)  # (n, n_inputs)
    y_t = _targets(spec, y, torch.float32)
    loss_fn = _loss_fn(spec)
    opt = _optimizer(spec, model)
    order = np.random.default_rng(seed).permutation(len(X_t))
    position = [0]

    def step(net, lr):
        start = position[0] % len(order)
        idx = order[start : start + spec.batch_size]
        position[0] = start + spec.batch_size
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        loss = loss_fn(net(X_t[idx]), y_t[idx]) + _penalty(spec, net)  # loss before the step
        loss.backward()
        opt.step()
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
