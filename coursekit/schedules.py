r"""Learning-rate schedules and the learning-rate range test (chapter 4, "The learning rate").

A schedule gives the learning rate :math:`\alpha_t` of step :math:`t` (an epoch or an update
count, from 0). Every schedule here is a callable ``schedule(t) -> float``; called with an
array of steps it returns an array, so a lesson plots one in a single call::

    t = np.arange(100)
    plt.plot(t, cosine_annealing(0.1, T_max=100)(t))

The optimizers of :mod:`coursekit.optim` accept a schedule wherever they accept a number.

=====================  =====================================================  ==================================
schedule               :math:`\alpha_t`                                       same numbers as
=====================  =====================================================  ==================================
``constant``           :math:`\alpha_0`                                       ``torch ConstantLR(factor=1)``
``step_decay``         :math:`\alpha_0\, d^{\lfloor t / k \rfloor}`          ``torch StepLR(step_size=k,
                                                                              gamma=d)``
``exponential``        :math:`\alpha_0\, r^{t}` (per epoch, :math:`r < 1`,    ``torch ExponentialLR(gamma=r)``
                       0.95 is common)
``exponential_decay``  :math:`\alpha_0\, r^{t / T}`, or                       ``keras ExponentialDecay``
                       :math:`\alpha_0\, r^{\lfloor t / T \rfloor}` with
                       ``staircase``
``cosine_annealing``   :math:`\eta + \frac{\alpha_0 - \eta}{2}                ``keras CosineDecay``;
                       \bigl(1 + \cos\frac{\pi \min(t, T)}{T}\bigr)`          ``torch CosineAnnealingLR`` for
                                                                              :math:`t \le T`
``warmup``             linear from :math:`\alpha_s` to the wrapped            ``torch LinearLR`` then the
                       schedule's :math:`\alpha(0)` over :math:`w` steps,     wrapped one (``SequentialLR``);
                       then :math:`\alpha(t - w)`                             ``keras CosineDecay(warmup_...)``
=====================  =====================================================  ==================================

Why decay: large steps early make fast progress; near a minimum constant steps overshoot and
bounce around it, so smaller steps late let training settle. Why warm up: the first updates of
a freshly initialised network (and of Adam, whose second-moment estimate is still poor) can be
large and erratic; a few small steps first keep them from throwing the weights far off.

:func:`lr_range_test` finds a starting learning rate: grow it geometrically (1e-4 to 1e-1) over
one step each, record the loss, and pick the rate where the loss falls fastest.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit._params import (
    Anything,
    ArrayLike,
    Boolean,
    CallableConstraint,
    Integral,
    Interval,
    Real,
    result_record,
    validate_fields,
    validate_params,
)

_POSITIVE = Interval(Real, 0, None, closed="neither")
_NONNEGATIVE = Interval(Real, 0, None, closed="left")
_UNIT = Interval(Real, 0, 1, closed="right")  # (0, 1]
_STEP = ArrayLike(finite=True, low=0)

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
    """Base class: ``schedule(t)`` for a step ``t >= 0`` or an array of steps.

    A subclass implements ``_lr(t)`` for a float64 array ``t``. A step is a finite number
    >= 0 (or an array of them); a string, NaN or infinity raises a ``ValueError``.
    """

    @validate_params({"step": [_STEP]})
    def __call__(self, step):
        t = np.asarray(step, dtype=np.float64)
        lr = self._lr(t)
        return float(lr) if np.ndim(lr) == 0 else lr

    def _lr(self, t: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


@validate_fields({"initial_lr": [_POSITIVE]})
@dataclass(frozen=True)
class Constant(Schedule):
    r""":math:`\alpha_t = \alpha_0` for every step."""

    initial_lr: float

    def _lr(self, t):
        return np.full_like(t, self.initial_lr)


@validate_fields(
    {"initial_lr": [_POSITIVE], "drop": [_UNIT], "every": [Interval(Integral, 1, None)]}
)
@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Multiply the learning rate by ``drop`` every ``every`` epochs.

    .. math:: \alpha_t = \alpha_0\, d^{\lfloor t / k \rfloor}

    with :math:`d` = ``drop`` and :math:`k` = ``every``; torch's ``StepLR(step_size=k, gamma=d)``.
    """

    initial_lr: float
    drop: float
    every: int

    def _lr(self, t):
        return self.initial_lr * self.drop ** np.floor(t / self.every)


@validate_fields(
    {
        "initial_learning_rate": [_POSITIVE],
        "decay_steps": [_POSITIVE],
        "decay_rate": [_POSITIVE],
        "staircase": [Boolean()],
    }
)
@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    r"""Keras' ``ExponentialDecay``: shrink by ``decay_rate`` every ``decay_steps`` steps.

    .. math::

        \alpha_t = \alpha_0\, r^{t / T}
        \qquad\text{or, with } \texttt{staircase},\qquad
        \alpha_t = \alpha_0\, r^{\lfloor t / T \rfloor}

    with :math:`r` = ``decay_rate`` and :math:`T` = ``decay_steps``. With :math:`T = 1` it is
    the per-epoch decay :math:`\alpha_0 r^t` (see :func:`exponential`).
    """

    initial_learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool = False

    def _lr(self, t):
        p = t / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return self.initial_learning_rate * self.decay_rate**p


@validate_fields({"initial_lr": [_POSITIVE], "T_max": [_POSITIVE], "eta_min": [_NONNEGATIVE]})
@dataclass(frozen=True)
class CosineAnnealing(Schedule):
    r"""Half a cosine from ``initial_lr`` down to ``eta_min`` over ``T_max`` steps, then flat.

    .. math::

        \alpha_t = \eta + \frac{\alpha_0 - \eta}{2}
        \Bigl(1 + \cos\frac{\pi \min(t, T)}{T}\Bigr)

    with :math:`\eta` = ``eta_min`` and :math:`T` = ``T_max``. This equals Keras'
    ``CosineDecay(initial_lr, decay_steps=T_max, alpha=eta_min / initial_lr)`` at every step,
    and the closed form of torch's ``CosineAnnealingLR(T_max, eta_min)`` for
    :math:`t \le T`; after :math:`T` torch follows the cosine back up (a period of
    :math:`2T`), while this schedule, like Keras', stays at ``eta_min``.
    """

    initial_lr: float
    T_max: int
    eta_min: float = 0.0

    def __post_init__(self):
        if not self.eta_min <= self.initial_lr:
            raise ValueError(f"eta_min must be in [0, initial_lr], got {self.eta_min!r}")

    def _lr(self, t):
        progress = np.minimum(t, self.T_max) / self.T_max
        return self.eta_min + (self.initial_lr - self.eta_min) * (1 + np.cos(np.pi * progress)) / 2


@validate_fields(
    {
        "schedule": [CallableConstraint("callable")],
        "warmup_steps": [Interval(Integral, 0, None)],
        "start_lr": [_NONNEGATIVE],
    }
)
@dataclass(frozen=True)
class Warmup(Schedule):
    r"""A linear warm-up in front of any schedule.

    .. math::

        \alpha_t = \begin{cases}
            \alpha_s + (\alpha(0) - \alpha_s)\, t / w & t < w \\
            \alpha(t - w) & t \ge w
        \end{cases}

    with :math:`\alpha_s` = ``start_lr``, :math:`w` = ``warmup_steps`` and :math:`\alpha` the
    wrapped ``schedule``. The rate is continuous at the join: step :math:`w` gets
    :math:`\alpha(0)`. torch: ``SequentialLR([LinearLR(start_factor, total_iters=w), ...],
    milestones=[w])``; Keras: ``CosineDecay(start_lr, warmup_target=..., warmup_steps=w)``
    for a cosine.

    ``schedule`` may be any callable of the step: a :class:`Schedule` is evaluated on whole
    arrays, anything else one step at a time (with a Python ``int`` where the step is whole).
    """

    schedule: Callable[[Any], float]
    warmup_steps: int
    start_lr: float = 0.0

    def _lr(self, t):
        w = self.warmup_steps
        after = _evaluate(self.schedule, np.maximum(t - w, 0))
        if w == 0:
            return after
        target = float(_evaluate(self.schedule, np.float64(0)))
        ramp = self.start_lr + (target - self.start_lr) * t / w
        return np.where(t < w, ramp, after)


@validate_params({"initial_lr": [_POSITIVE]})
def constant(initial_lr: float) -> Constant:
    r""":math:`\alpha_t = \alpha_0`.

    >>> constant(0.1)(np.arange(3))
    array([0.1, 0.1, 0.1])
    """
    return Constant(initial_lr)


@validate_params(
    {"initial_lr": [_POSITIVE], "drop": [_UNIT], "every": [Interval(Integral, 1, None)]}
)
def step_decay(initial_lr: float, drop: float = 0.5, every: int = 10) -> StepDecay:
    r""":math:`\alpha_t = \alpha_0\, d^{\lfloor t / k \rfloor}`: times ``drop`` every ``every`` epochs.

    >>> step_decay(0.1, drop=0.5, every=10)([0, 9, 10, 25]).tolist()
    [0.1, 0.1, 0.05, 0.025]
    """
    return StepDecay(initial_lr, drop, every)


@validate_params({"initial_lr": [_POSITIVE], "rate": [_UNIT]})
def exponential(initial_lr: float, rate: float = 0.95) -> ExponentialDecay:
    r"""Per-epoch exponential decay :math:`\alpha = r^{\mathrm{epoch}}\,\alpha_0`, :math:`0 < r \le 1`.

    The lecture notes call :math:`r = 0.95` common. Same numbers as torch's ``ExponentialLR``.

    >>> round(exponential(0.1, rate=0.95)(10), 6)
    0.059874
    """
    return ExponentialDecay(initial_lr, 1, rate)


@validate_params(
    {
        "step": [_STEP],
        "initial_learning_rate": [_POSITIVE],
        "decay_steps": [_POSITIVE],
        "decay_rate": [_POSITIVE],
        "staircase": [Boolean()],
    }
)
def exponential_decay(
    step,
    initial_learning_rate: float,
    decay_steps: float,
    decay_rate: float,
    staircase: bool = False,
):
    r"""Keras' ``ExponentialDecay`` evaluated at ``step`` (an int or an array of steps).

    .. math:: \alpha_t = \alpha_0\, r^{t / T} \quad (\lfloor t / T \rfloor \text{ if staircase})

    The example of the review notes, ``ExponentialDecay(initial_learning_rate=0.1, decay_steps=100000,
    decay_rate=0.96, staircase=True)``, at step 250 000:

    >>> round(exponential_decay(250_000, 0.1, 100_000, 0.96, staircase=True), 6)
    0.09216
    """
    return ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase)(step)


@validate_params({"initial_lr": [_POSITIVE], "T_max": [_POSITIVE], "eta_min": [_NONNEGATIVE]})
def cosine_annealing(initial_lr: float, T_max: int, eta_min: float = 0.0) -> CosineAnnealing:
    r"""Cosine annealing from ``initial_lr`` to ``eta_min`` over ``T_max`` steps (:class:`CosineAnnealing`).

    >>> cosine_annealing(0.1, T_max=100)([0, 50, 100, 200]).round(6).tolist()
    [0.1, 0.05, 0.0, 0.0]
    """
    return CosineAnnealing(initial_lr, T_max, eta_min)


@validate_params(
    {
        "schedule": [CallableConstraint("callable")],
        "warmup_steps": [Interval(Integral, 0, None)],
        "start_lr": [_NONNEGATIVE],
    }
)
def warmup(schedule: Callable, warmup_steps: int, start_lr: float = 0.0) -> Warmup:
    r"""Linear warm-up from ``start_lr`` to ``schedule(0)`` in ``warmup_steps``, then ``schedule``.

    >>> warmup(constant(0.1), warmup_steps=4)(np.arange(6)).round(3).tolist()
    [0.0, 0.025, 0.05, 0.075, 0.1, 0.1]
    """
    return Warmup(schedule, warmup_steps, start_lr)


@result_record
@dataclass
class LRRangeTestResult:
    """What :func:`lr_range_test` tried and found.

    Attributes
    ----------
    lrs : ndarray of shape (n,)
        The learning rates tried, in order (fewer than asked for if the loss diverged).
    losses : ndarray of shape (n,)
        The loss that ``step_fn`` reported at each.
    smoothed : ndarray of shape (n,)
        The bias-corrected exponential moving average of ``losses``.
    suggested_lr : float
        Where ``smoothed`` falls fastest against :math:`\\log\\alpha`.
    diverged : bool
        Whether the sweep stopped early because the loss blew up.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float
    diverged: bool


@validate_params(
    {
        "step_fn": [CallableConstraint("a callable (params, lr) -> (new_params, loss)")],
        "init_params": [Anything("whatever step_fn accepts")],
        "lr_min": [_POSITIVE],
        "lr_max": [_POSITIVE],
        "num": [Interval(Integral, 3, None)],
        "lrs": [ArrayLike(finite=True, ndim=1), None],
        "smoothing": [_UNIT],
        "diverge_factor": [Interval(Real, 1, None, closed="neither")],
        "skip_start": [Interval(Integral, 0, None)],
        "skip_end": [Interval(Integral, 0, None)],
    }
)
def lr_range_test(
    step_fn: Callable[[Any, float], tuple[Any, float]],
    init_params: Any,
    lr_min: float = 1e-4,
    lr_max: float = 1e-1,
    num: int = 100,
    *,
    lrs=None,
    smoothing: float = 0.05,
    diverge_factor: float = 4.0,
    skip_start: int = 10,
    skip_end: int = 5,
) -> LRRangeTestResult:
    r"""Learning-rate range test: one training step per learning rate, the rate growing geometrically.

    Parameters
    ----------
    step_fn : callable ``(params, lr) -> (new_params, loss)``
        One training step at learning rate ``lr``; ``loss`` is the loss it measured (before
        its update). Training carries on from one rate to the next.
    init_params : anything ``step_fn`` accepts
        The starting parameters: an array, a dict of arrays, a model.
    lr_min, lr_max, num : float, float, int
        ``num`` rates spaced geometrically from ``lr_min`` to ``lr_max`` (the lecture: 1e-4
        to 1e-1).
    lrs : array-like of shape (n,), optional
        Increasing rates to try instead of ``lr_min``, ``lr_max``, ``num``.
    smoothing : float in (0, 1]
        Weight :math:`\beta` of the newest loss in the moving average
        :math:`\bar L_i = (1-\beta)\bar L_{i-1} + \beta L_i`, divided by
        :math:`1 - (1-\beta)^{i+1}` so early values are not pulled towards 0.
    diverge_factor : float > 1
        Stop once the smoothed loss exceeds ``diverge_factor`` times its minimum so far (or is
        not finite).
    skip_start, skip_end : int
        Points at the start (the average is still settling) and at the end (the blow-up)
        that cannot be suggested.

    Returns
    -------
    LRRangeTestResult
        ``suggested_lr`` is the rate with the steepest descent of the smoothed loss against
        :math:`\log\alpha`, measured as a slope across :math:`\pm w` points
        (:math:`w` = 5% of the points tried) so that mini-batch noise does not pass for a
        descent.

    Examples
    --------
    Gradient descent on :math:`f(w) = \tfrac12 a w^2` diverges once :math:`\alpha > 2/a`:

    >>> a = 10.0
    >>> result = lr_range_test(lambda w, lr: (w - lr * a * w, 0.5 * a * w**2), 1.0, lr_max=10.0)
    >>> bool(result.diverged), bool(result.lrs[-1] > 2 / a), bool(result.suggested_lr < 2 / a)
    (True, True, True)

    The sweep stops well after :math:`2/a`: the loss first has to climb back from the tiny
    value it reached, and the moving average remembers the larger losses of the start.
    """
    if lrs is None:
        if not lr_max > lr_min:
            raise ValueError(f"lr_max must be > lr_min, got lr_max={lr_max!r}, lr_min={lr_min!r}")
        lrs = np.geomspace(lr_min, lr_max, num)
    else:
        lrs = np.asarray(lrs, dtype=np.float64)
        if (
            lrs.ndim != 1
            or len(lrs) < 3
            or not np.all(np.isfinite(lrs))
            or not np.all(lrs > 0)
            or not np.all(np.diff(lrs) > 0)
        ):
            raise ValueError(f"lrs must be >= 3 increasing positive numbers, got {lrs!r}")

    params, losses, smoothed = init_params, [], []
    average, best, diverged = 0.0, np.inf, False
    for i, lr in enumerate(lrs):
        params, loss = step_fn(params, float(lr))
        losses.append(float(loss))
        average = (1 - smoothing) * average + smoothing * losses[-1]
        value = average / (1 - (1 - smoothing) ** (i + 1))
        smoothed.append(value)
        if not np.isfinite(value) or value > diverge_factor * best:
            diverged = True
            break
        best = min(best, value)

    tried, s = lrs[: len(losses)], np.array(smoothed)
    return LRRangeTestResult(
        tried, np.array(losses), s, _steepest_descent(tried, s, skip_start, skip_end), diverged
    )


def _steepest_descent(lrs, smoothed, skip_start, skip_end) -> float:
    """The rate where ``smoothed`` falls fastest against log(lr), a slope over +-w points."""
    log_lr = np.log(lrs)
    w = max(1, len(smoothed) // 20)
    first, last = max(skip_start, w), len(smoothed) - max(skip_end, w)
    if last - first < 1:  # a short sweep: only keep the window inside the data
        first, last = w, len(smoothed) - w
    slopes = {
        i: (smoothed[i + w] - smoothed[i - w]) / (log_lr[i + w] - log_lr[i - w])
        for i in range(first, last)
        if np.isfinite(smoothed[i - w]) and np.isfinite(smoothed[i + w])
    }
    if slopes:
        return float(lrs[min(slopes, key=slopes.get)])
    if np.any(np.isfinite(smoothed)):
        return float(lrs[int(np.nanargmin(np.where(np.isfinite(smoothed), smoothed, np.nan)))])
    warnings.warn(
        "lr_range_test: the loss was not finite at the first learning rate; "
        "no rate can be suggested (suggested_lr is nan). Try a smaller lr_min.",
        RuntimeWarning,
        stacklevel=3,
    )
    return float("nan")


def _evaluate(schedule: Callable, t: np.ndarray) -> np.ndarray:
    """``schedule`` at every step of ``t``: in one call for a :class:`Schedule`."""
    if isinstance(schedule, Schedule):
        return np.asarray(schedule(t), dtype=np.float64)
    flat = [float(schedule(int(s) if float(s).is_integer() else float(s))) for s in t.ravel()]
    return np.array(flat, dtype=np.float64).reshape(t.shape)
