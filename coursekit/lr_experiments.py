r"""Chapter 4's learning-rate experiments, as functions that return data (plots separately).

- :func:`learning_rate_experiment`: the exercise sheet's experiment (on understanding model
  optimization), the same network (Dense(100, ReLU) -> Dense(100, ReLU) -> softmax, SGD,
  categorical cross-entropy) trained from the same initial weights with learning rates 1e-6,
  0.01 and 1; each :class:`LRRun` has a verdict, "too small", "good" or "too large"
  (:func:`classify_run`).
- :func:`lr_range_test_mlp`: the learning-rate range test (sweep 1e-4 -> 1e-1, one mini-batch
  step per rate, stop on divergence, suggest the rate of steepest descent) on a torch MLP,
  built on :func:`coursekit.schedules.lr_range_test`.
- :func:`plot_learning_curves`, :func:`plot_lr_range_test`: draw on ``ax`` (or a new figure)
  and return the axes.

Data: the exercise sheet's basketball shot log does not ship with any package. The default
stand-in is the 8x8 digits fed raw (pixel values 0 to 16), as the sheet feeds its features
unscaled; there the three rates show the three outcomes: 1e-6 barely moves, 0.01 trains, and
1 blows the loss up in the first epoch and leaves the network predicting one distribution
for every input (the loss of guessing). Standardized, the same digits train *well* at 0.3,
which blows the raw digits up: whether a rate is too large depends on the data and its
scaling. (At 1 the standardized digits sit on the edge of stability: whether a run trains or
blows up changes with the seed, the CPU's kernels and the thread count, so no lesson claims
either.) A run that diverges to NaN or inf is a result, not an error: "too large", with the
epoch where it happened (:func:`diverged_epoch`).

Lesson: chapter 4, "The learning rate". numpy only at import; torch, keras and matplotlib are
imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coursekit._params import (
    AnyReal,
    Anything,
    ArrayLike,
    Boolean,
    InstanceOf,
    Integral,
    Interval,
    Options,
    Real,
    SequenceOf,
    result_record,
    validate_params,
)
from coursekit.data import DATASETS
from coursekit.divergence import BLOW_UP, diverged_epoch
from coursekit.mlp._args import FRAMEWORK, SPEC
from coursekit.schedules import LRRangeTestResult, lr_range_test

__all__ = [
    "LRRun",
    "chance_loss",
    "classify_run",
    "diverged_epoch",
    "learning_rate_experiment",
    "lr_range_test_mlp",
    "plot_learning_curves",
    "plot_lr_range_test",
]

#: A run whose training loss falls by less than this fraction of its start is "too small".
TOO_SMALL_FALL = 0.05
#: A run whose loss rises from one epoch to the next by more than this fraction of its start
#: (oscillation), ends above its start, or is ever non-finite, is "too large".
TOO_LARGE_RISE = 0.10


@result_record
@dataclass(frozen=True)
class LRRun:
    """One run of :func:`learning_rate_experiment`.

    Attributes
    ----------
    lr : float
    history : :class:`~coursekit.mlp.History`
        Training loss (and validation loss) per epoch.
    initial_loss : float
        Training loss of the untrained network (the start of the curve, "epoch 0").
    chance_loss : float
        Loss of a model that ignores its input and predicts the training class frequencies
        (:func:`chance_loss`): a network that ends there has learned nothing.
    model : object
        The trained network (of the experiment's framework), to look inside.
    """

    lr: float
    history: object
    initial_loss: float
    chance_loss: float
    model: object = field(default=None, repr=False, compare=False)

    @property
    def verdict(self) -> str:
        """:func:`classify_run` of this run."""
        return classify_run(self.history, self.initial_loss, self.chance_loss)

    @property
    def diverged_epoch(self) -> int | None:
        """The first epoch (1-based) whose loss blew up, else None (:func:`diverged_epoch`)."""
        return diverged_epoch(self.history, self.initial_loss)

    @property
    def losses(self) -> np.ndarray:
        """The training loss from epoch 0 (untrained) to the last epoch."""
        return np.array([self.initial_loss, *self.history.loss])


_RATE = Interval(Real, 0, None, closed="neither")
_LOSSES = Anything("a History (its .loss) or a sequence of losses per epoch")
_AX = Anything("a matplotlib Axes or None")
_SEED = [Interval(Integral, 0, None)]


def _range_result_example():
    return LRRangeTestResult(
        np.array([1e-3, 1e-2]), np.ones(2), np.ones(2), suggested_lr=1e-2, diverged=False
    )


@validate_params({"y": [ArrayLike()]})
def chance_loss(y) -> float:
    """Cross-entropy of predicting the class frequencies of ``y`` for every sample.

    >>> round(chance_loss([0, 1, 0, 1]), 4)  # ln 2
    0.6931
    """
    _, counts = np.unique(np.asarray(y), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def _sheet_spec(n_features, lr, epochs, batch_size, seed, n_classes=2):
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


@validate_params(
    {
        "lrs": [
            SequenceOf(_RATE, min_length=1, description="a sequence of rates > 0"),
            ArrayLike(finite=True, ndim=1, low=0),
        ],
        "data": [Options(tuple(DATASETS))],
        "framework": [FRAMEWORK],
        "epochs": [Interval(Integral, 1, None)],
        "batch_size": [Interval(Integral, 1, None)],
        "seed": _SEED,
        "standardize": [Boolean()],
    }
)
def learning_rate_experiment(
    lrs=(1e-6, 0.01, 1.0),
    data: str = "digits",
    framework: str = "torch",
    epochs: int = 20,
    batch_size: int = 32,
    seed: int = 0,
    standardize: bool = False,
) -> dict:
    """Train the exercise sheet's network once per learning rate, from the same initial weights.

    Parameters
    ----------
    lrs : sequence of float
        Learning rates of plain SGD (the sheet's: 1e-6, 0.01, 1).
    data : str
        A :func:`coursekit.data.load` name; ``"digits"`` by default (see the module docstring).
        Its seeded train/validation split is used.
    framework : {"torch", "keras", "numpy"}
        Any :func:`coursekit.mlp.build` framework; torch is the fastest here.
    epochs, batch_size : int
        20 epochs of mini-batches of 32 (Keras' default batch) take a few seconds on one core
        with torch.
    seed : int
        Initial weights (the same for every rate), shuffling.
    standardize : bool
        Standardize the features with statistics of the training split only; False (default)
        uses them raw, as the exercise sheet does.

    Returns
    -------
    dict of float -> :class:`LRRun`
        ``run.history.loss`` (training, per epoch) and ``run.history.val_loss`` have
        ``epochs`` entries; ``run.verdict`` judges the run. A run that diverges (its loss or
        its weights overflow to inf or NaN) is a result, not an error: it trains all its
        epochs, its losses from there on are NaN or inf, its verdict is "too large" and
        ``run.diverged_epoch`` says when it happened.

    Examples
    --------
    >>> runs = learning_rate_experiment(epochs=20)  # doctest: +SKIP
    >>> {lr: run.verdict for lr, run in runs.items()}  # doctest: +SKIP
    {1e-06: 'too small', 0.01: 'good', 1.0: 'too large'}
    """
    from coursekit import data as datasets
    from coursekit import mlp
    from coursekit.scaling import Standardizer

    lrs = tuple(lrs)
    if not lrs:
        raise ValueError(f"lrs must hold at least one learning rate, got {lrs!r}")
    for i, lr in enumerate(lrs):  # an array's entries too: no bool, every one > 0
        if isinstance(lr, bool | np.bool_) or not lr > 0:
            raise ValueError(f"lrs[{i}] must be a finite number > 0, got {lr!r}")
    split = datasets.load(data, seed=seed)
    X, Xv = split.X_train, split.X_val
    if standardize:
        scaler = Standardizer().fit(split.X_train)
        X, Xv = scaler.transform(X), scaler.transform(Xv)
    chance = chance_loss(split.y_train)
    results = {}
    for lr in lrs:
        spec = _sheet_spec(split.n_features, float(lr), epochs, batch_size, seed, split.n_classes)
        model = mlp.build(framework, spec, mlp.init_weights(spec, seed=seed))
        initial = mlp.evaluate(model, spec, X, split.y_train)["loss"]
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is what it may show
            history = mlp.fit(model, spec, X, split.y_train, validation_data=(Xv, split.y_val))
        results[float(lr)] = LRRun(float(lr), history, float(initial), chance, model)
    return results


@validate_params(
    {"history": [_LOSSES], "initial_loss": [AnyReal(), None], "chance": [AnyReal(), None]}
)
def classify_run(history, initial_loss: float | None = None, chance: float | None = None) -> str:
    r"""``"too small"``, ``"good"`` or ``"too large"`` from a run's training-loss curve.

    With :math:`L_1, \dots, L_E` the training loss per epoch (``history.loss``, or a plain
    sequence of losses) and :math:`L_0` the loss before training (``initial_loss``; without
    it, :math:`L_1`):

    - **too large** if some :math:`L_e` is not finite, or some :math:`L_e > 2 L_0` (it blew
      up; ``BLOW_UP``), or :math:`L_E > L_0`, or some :math:`L_{e+1} - L_e > 0.10\,L_0`
      (oscillation; ``TOO_LARGE_RISE``);
    - else **too small** if :math:`(L_0 - L_E) / L_0 < 0.05` (the loss barely moved;
      ``TOO_SMALL_FALL``), or if :math:`L_E` is still no lower than ``chance``, the loss of
      guessing the class frequencies (:func:`chance_loss`): it fell, but not yet to where a
      model that ignores its input starts;
    - else **good**.

    >>> [classify_run(c) for c in ([0.69, 0.69, 0.689], [0.7, 0.5, 0.4], [0.7, 0.3, 0.5])]
    ['too small', 'good', 'too large']
    >>> classify_run([40.0, 2.31, 2.30], initial_loss=7.5, chance=2.30)  # blew up first
    'too large'
    >>> classify_run([7.4, 7.0, 6.5], initial_loss=7.5, chance=2.30)  # still worse than guessing
    'too small'
    """
    loss = np.asarray(getattr(history, "loss", history), dtype=float)
    if len(loss) < 2:
        raise ValueError(f"need at least 2 epochs to judge a run, got {len(loss)}")
    start = float(loss[0]) if initial_loss is None else float(initial_loss)
    if not np.isfinite(start) or start <= 0:
        raise ValueError(f"initial_loss must be a finite number > 0, got {initial_loss!r}")
    if not np.all(np.isfinite(loss)) or loss[-1] > start or np.max(loss) > BLOW_UP * start:
        return "too large"
    if np.max(np.diff(np.concatenate([[start], loss]))) > TOO_LARGE_RISE * start:
        return "too large"
    if (start - loss[-1]) / start < TOO_SMALL_FALL:
        return "too small"
    if chance is not None and loss[-1] >= chance:
        return "too small"
    return "good"


@validate_params(
    {
        "results": [InstanceOf(dict, "a dict of learning rate -> LRRun or History")],
        "ax": [_AX],
        "validation": [Boolean()],
    }
)
def plot_learning_curves(results: dict, ax=None, validation: bool = False):
    """One training-loss curve per learning rate, from epoch 0 (untrained) to the last.

    ``results`` maps a learning rate to an :class:`LRRun` (its verdict in the legend, the
    chance level dotted) or to a plain History. Validation loss dashed if asked.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    chance = None
    for lr, run in results.items():
        if isinstance(run, LRRun):
            losses, history, label = run.losses, run.history, f"lr = {lr:g} ({run.verdict})"
            epochs, chance = np.arange(len(losses)), run.chance_loss
        else:
            history, losses = run, np.asarray(run.loss)
            epochs, label = np.arange(1, len(losses) + 1), f"lr = {lr:g} ({classify_run(run)})"
        (line,) = ax.plot(epochs, losses, marker=".", label=label)
        if validation and history.val_loss:
            ax.plot(
                epochs[-len(history.val_loss) :],
                history.val_loss,
                linestyle="--",
                color=line.get_color(),
            )
    if chance is not None:
        ax.axhline(chance, linestyle=":", color="gray", label=f"guessing ({chance:.2f})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.legend()
    return ax


@validate_params(
    {
        "spec": [SPEC],
        "X": [ArrayLike(finite=True, ndim=2)],
        "y": [ArrayLike(numeric=True, ndim=(1, 2))],
        "lrs": [ArrayLike(finite=True, ndim=1, low=0), None],
        "lr_min": [_RATE],
        "lr_max": [_RATE],
        "num": [Interval(Integral, 3, None)],
        "optimizer": [InstanceOf(str, "an optimizer name"), None],
        "seed": _SEED,
    }
)
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
        uses ``np.geomspace(lr_min, lr_max, num)`` (the review notes' 1e-4 -> 1e-1).
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


@validate_params(
    {
        "result": [InstanceOf(LRRangeTestResult, "an LRRangeTestResult", _range_result_example)],
        "ax": [_AX],
        "clip": [Interval(Real, 0, None, closed="neither"), None],
    }
)
def plot_lr_range_test(result: LRRangeTestResult, ax=None, clip: float = 1.5):
    """Smoothed loss against the learning rate (log axis), the suggestion marked.

    The y-axis runs from 0 to ``clip`` times the smoothed loss at the first rate, so that the
    explosion at the end of the sweep does not squash the useful part flat (None: no clip).
    """
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
    if clip is not None:
        smoothed = np.asarray(result.smoothed, dtype=float)
        ax.set_ylim(0.0, clip * float(smoothed[np.isfinite(smoothed)][0]))
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.legend()
    return ax
