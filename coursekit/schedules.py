r"""Learning-rate schedules and the learning-rate range test (chapter 4).

A schedule is a callable ``lr(step) -> float`` (``step`` = epoch or update count, from 0); it
also accepts an array of steps and returns an array, so a lesson can plot it in one call.

=====================  ====================================================================  =======================================
schedule               formula                                                               matches
=====================  ====================================================================  =======================================
``constant``           :math:`\alpha_t = \alpha_0`
``step_decay``         :math:`\alpha_t = \alpha_0\,d^{\lfloor t / k \rfloor}`               ``torch StepLR(step_size=k, gamma=d)``
``exponential``        :math:`\alpha_t = \alpha_0\,r^{t}` (per epoch, :math:`r<1`, 0.95      ``torch ExponentialLR(gamma=r)``
                       common)
``ExponentialDecay``   :math:`\alpha_t = \alpha_0\,r^{t / T}` (:math:`\lfloor t/T \rfloor`   ``keras ExponentialDecay``
                       if ``staircase``)
``cosine_annealing``   :math:`\alpha_t = \eta + \frac{\alpha_0-\eta}{2}(1 + \cos\frac{\pi       ``torch CosineAnnealingLR`` (:math:`t\le T`),
                       \min(t, T)}{T})`                                                      ``keras CosineDecay``
``warmup``             linear from ``start_lr`` to :math:`\alpha(0)` over :math:`w` steps,  ``torch LinearLR`` + ``SequentialLR``
                       then :math:`\alpha(t - w)`
=====================  ====================================================================  =======================================

Why decay: large steps early make fast progress; near a minimum, constant steps overshoot and
bounce around it, so smaller steps late let training settle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Constant",
    "CosineAnnealing",
    "ExponentialDecay",
    "LRRangeTestResult",
    "Schedule",
    "StepDecay",
    "Warmup",
    "constant",
    "cosine_annealing",
    "exponential",
    "exponential_decay",
    "lr_range_test",
    "step_decay",
    "warmup",
]


class Schedule:
    """Base class: ``schedule(step)`` for an int or an array of steps."""

    def __call__(self, step):
        t = np.asarray(step, dtype=np.float64)
        if np.any(t < 0):
            raise ValueError(f"step must be >= 0, got {step!r}")
        out = self._lr(t)
        return float(out) if np.ndim(out) == 0 else out

    def _lr(self, t: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(Schedule):
    initial_lr: float

    def __post_init__(self):
        _check_positive("initial_lr", self.initial_lr)

    def _lr(self, t):
        return np.full_like(t, self.initial_lr)


@dataclass(frozen=True)
class StepDecay(Schedule):
    initial_lr: float
    drop: float
    every: int

    def __post_init__(self):
        _check_positive("initial_lr", self.initial_lr)
        if not 0 < self.drop <= 1:
            raise ValueError(f"drop must be in (0, 1], got {self.drop!r}")
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"every must be a positive int, got {self.every!r}")

    def _lr(self, t):
        return self.initial_lr * self.drop ** np.floor(t / self.every)


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """Keras' ``ExponentialDecay``; with ``decay_steps=1`` the per-epoch :math:`\\alpha_0 r^t`."""

    initial_learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool = False

    def __post_init__(self):
        _check_positive("initial_learning_rate", self.initial_learning_rate)
        _check_positive("decay_steps", self.decay_steps)
        _check_positive("decay_rate", self.decay_rate)

    def _lr(self, t):
        p = t / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return self.initial_learning_rate * self.decay_rate**p


@dataclass(frozen=True)
class CosineAnnealing(Schedule):
    initial_lr: float
    T_max: int
    eta_min: float = 0.0

    def __post_init__(self):
        _check_positive("initial_lr", self.initial_lr)
        _check_positive("T_max", self.T_max)
        if not 0 <= self.eta_min <= self.initial_lr:
            raise ValueError(f"eta_min must be in [0, initial_lr], got {self.eta_min!r}")

    def _lr(self, t):
        progress = np.minimum(t, self.T_max) / self.T_max
        return self.eta_min + (self.initial_lr - self.eta_min) * (1 + np.cos(np.pi * progress)) / 2


@dataclass(frozen=True)
class Warmup(Schedule):
    schedule: Callable
    warmup_steps: int
    start_lr: float = 0.0

    def __post_init__(self):
        if not callable(self.schedule):
            raise ValueError(f"schedule must be callable, got {self.schedule!r}")
        if (
            isinstance(self.warmup_steps, bool)
            or not isinstance(self.warmup_steps, int)
            or self.warmup_steps < 0
        ):
            raise ValueError(f"warmup_steps must be an int >= 0, got {self.warmup_steps!r}")
        if not np.isfinite(self.start_lr) or self.start_lr < 0:
            raise ValueError(f"start_lr must be a number >= 0, got {self.start_lr!r}")

    def _lr(self, t):
        w = self.warmup_steps
        target = float(self.schedule(0))
        after = np.asarray(self.schedule(np.maximum(t - w, 0)), dtype=np.float64)
        if w == 0:
            return after
        ramp = self.start_lr + (target - self.start_lr) * t / w
        return np.where(t < w, ramp, after)


def constant(initial_lr: float) -> Constant:
    """:math:`\\alpha_t = \\alpha_0`."""
    return Constant(initial_lr)


def step_decay(initial_lr: float, drop: float = 0.5, every: int = 10) -> StepDecay:
    """Multiply the learning rate by ``drop`` every ``every`` epochs."""
    return StepDecay(initial_lr, drop, every)


def exponential(initial_lr: float, rate: float = 0.95) -> ExponentialDecay:
    """Per-epoch exponential decay :math:`\\alpha = r^{epoch}\\,\\alpha_0` (seed note: 0.95)."""
    if not 0 < rate <= 1:
        raise ValueError(f"rate must be in (0, 1], got {rate!r}")
    return ExponentialDecay(initial_lr, 1, rate)


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    """Keras' ``ExponentialDecay`` as a function of the step (an int or an array).

    >>> round(exponential_decay(250_000, 0.1, 100_000, 0.96, staircase=True), 6)  # the seed's
    0.09216
    """
    return ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase)(step)


def cosine_annealing(initial_lr: float, T_max: int, eta_min: float = 0.0) -> CosineAnnealing:
    """Half a cosine from ``initial_lr`` down to ``eta_min`` over ``T_max`` steps, then flat."""
    return CosineAnnealing(initial_lr, T_max, eta_min)


def warmup(schedule: Callable, warmup_steps: int, start_lr: float = 0.0) -> Warmup:
    """Linear warm-up from ``start_lr`` to ``schedule(0)`` in ``warmup_steps``, then ``schedule``.

    Continuous at the join: step ``warmup_steps`` has ``schedule(0)``.
    """
    return Warmup(schedule, warmup_steps, start_lr)


@dataclass
class LRRangeTestResult:
    """Learning rates tried, the (smoothed) loss at each, and the suggested learning rate."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float
    diverged: bool


def lr_range_test(
    step_fn: Callable,
    init_params,
    lr_min: float = 1e-4,
    lr_max: float = 1e-1,
    num: int = 100,
    smoothing: float = 0.05,
    diverge_factor: float = 4.0,
    skip_start: int = 10,
    skip_end: int = 5,
) -> LRRangeTestResult:
    r"""Learning-rate range test: one training step per learning rate, growing geometrically.

    ``step_fn(params, lr) -> (new_params, loss)`` takes one step at ``lr`` and returns the
    loss *before* the step. Learning rates go from ``lr_min`` to ``lr_max`` (seed note:
    1e-4 to 1e-1); training continues from step to step. The loss is smoothed by an
    exponential moving average (bias-corrected); the sweep stops once the smoothed loss exceeds
    ``diverge_factor`` times its minimum. The suggestion is the learning rate where the
    smoothed loss falls fastest against :math:`\log\alpha` (slope over a window of 5% of the
    points on each side, so mini-batch noise does not pass for a descent), ignoring the first ``skip_start``
    points (the moving average is still settling there) and the last ``skip_end`` (the
    blow-up).
    """
    _check_positive("lr_min", lr_min)
    if not lr_max > lr_min:
        raise ValueError(f"lr_max must be > lr_min, got lr_max={lr_max!r}, lr_min={lr_min!r}")
    if isinstance(num, bool) or not isinstance(num, int) or num < 3:
        raise ValueError(f"num must be an int >= 3, got {num!r}")
    if not 0 < smoothing <= 1:
        raise ValueError(f"smoothing must be in (0, 1], got {smoothing!r}")
    lrs = np.geomspace(lr_min, lr_max, num)
    params, losses, smoothed = init_params, [], []
    average, best, diverged = 0.0, np.inf, False
    for i, lr in enumerate(lrs):
        params, loss = step_fn(params, float(lr))
        loss = float(loss)
        losses.append(loss)
        average = (1 - smoothing) * average + smoothing * loss
        value = average / (1 - (1 - smoothing) ** (i + 1))
        smoothed.append(value)
        if not np.isfinite(value) or value > diverge_factor * best:
            diverged = True
            break
        best = min(best, value)
    tried = lrs[: len(losses)]
    s = np.array(smoothed)
    # slope of the smoothed loss against log(lr), over a window of +-w points so that
    # step-to-step noise of mini-batch losses does not pass for a steep descent
    log_lr = np.log(tried)
    w = max(1, len(s) // 20)
    first, last = max(skip_start, w), len(s) - max(skip_end, w)
    if last - first < 1:
        first, last = w, len(s) - w
    candidates = [i for i in range(first, last) if np.isfinite(s[i - w]) and np.isfinite(s[i + w])]
    if candidates:
        slopes = [(s[i + w] - s[i - w]) / (log_lr[i + w] - log_lr[i - w]) for i in candidates]
        suggested = float(tried[candidates[int(np.argmin(slopes))]])
    else:
        suggested = float(tried[int(np.nanargmin(s))])
    return LRRangeTestResult(tried, np.array(losses), s, suggested, diverged)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
