r"""Gradient-descent optimizers on dicts of numpy arrays (chapters 3 and 4).

Plain gradient descent moves the parameters :math:`\phi` against the gradient,
:math:`\phi \leftarrow \phi - \alpha\, g` with :math:`g = \partial L / \partial \phi` and
learning rate :math:`\alpha`. The optimizers here change what multiplies or replaces
:math:`g`: momentum (:class:`SGD` with ``momentum``), :class:`RMSprop`, :class:`Adagrad` and
:class:`Adam`. Usage::

    opt = Adam(lr=1e-3)
    for step in range(num_steps):
        grads = compute_gradients(params)   # same keys and shapes as params
        params = opt.step(params, grads)    # new arrays; params and grads are not modified

``lr`` is a number or a schedule ``lr(t) -> float`` (see :mod:`coursekit.schedules`), called
with the number of steps taken so far (0 at the first step), as torch's schedulers and Keras'
``LearningRateSchedule`` do.

Two conventions
---------------
By default (``convention="torch"``) every update is the one ``torch.optim`` makes.
``convention="keras"`` makes the one ``keras.optimizers`` makes where the two differ:

=================  ==============================================  ==============================================
                   torch                                           Keras
=================  ==============================================  ==============================================
momentum           :math:`b \leftarrow \mu b + g`,                 :math:`v \leftarrow \mu v - \alpha g`,
                   :math:`\phi \leftarrow \phi - \alpha b`         :math:`\phi \leftarrow \phi + v`
                   (the same while :math:`\alpha` is constant;
                   not under a schedule)
RMSprop, AdaGrad   :math:`g / (\sqrt{s} + \epsilon)`               :math:`g / \sqrt{s + \epsilon}`
AdaGrad start      :math:`s_0 = 0`                                 :math:`s_0 = 0.1`
Adam               :math:`\epsilon` added to :math:`\sqrt{\hat v}`  bias corrections folded into :math:`\alpha`,
                                                                   :math:`\epsilon` added to :math:`\sqrt{v}`
weight decay       L2, coupled: :math:`g \leftarrow g +            decoupled, before the update:
                   \lambda\phi`                                    :math:`\phi \leftarrow \phi - \alpha\lambda\phi`
default lr         SGD 1e-3, RMSprop 1e-2, AdaGrad 1e-2,           SGD 1e-2, RMSprop 1e-3, AdaGrad 1e-3,
                   Adam 1e-3                                       Adam 1e-3
default eps        1e-8 (AdaGrad 1e-10)                            1e-7
RMSprop decay      :math:`\rho = 0.99`                             :math:`\rho = 0.9`
=================  ==============================================  ==============================================

An argument left at ``None`` takes the default of the framework the convention names.

NaN and infinity pass through
-----------------------------
Hyperparameters are checked when an optimizer is made (a bad one raises a ``ValueError``
naming it). The *values* of ``params`` and ``grads`` are not: as in ``torch.optim`` and
``keras.optimizers``, a NaN or infinite gradient (or parameter) is used as it is and gives NaN
or infinite parameters, silently. That is by design (checking every array at every step
costs time, and a diverging run is what a lesson on the learning rate shows); test the loss
with ``np.isfinite`` to stop a run that has diverged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import ClassVar

import numpy as np

from coursekit._params import (
    ArrayDict,
    Boolean,
    CallableConstraint,
    Interval,
    Options,
    Real,
    SequenceOf,
    is_real,
    validate_params,
)

__all__ = ["CONVENTIONS", "SGD", "AdaGrad", "Adagrad", "Adam", "Optimizer", "RMSprop"]

CONVENTIONS = ("torch", "keras")

_LR = [Interval(Real, 0, None, closed="left"), CallableConstraint("a schedule lr(t)"), None]
_NONNEGATIVE = Interval(Real, 0, None, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")
_UNIT = Interval(Real, 0, 1, closed="left")
_CONVENTION = Options(CONVENTIONS)


class Optimizer:
    r"""Base class: input checks, weight decay, the step count and the current learning rate.

    A subclass sets ``default_lr`` (per convention) and implements ``_update(phi, g, lr,
    state)``, which returns the new parameter from one parameter array, its gradient and the
    dict it keeps its own state in.

    Attributes
    ----------
    t : int
        Steps taken so far.
    state : dict of str -> dict of str -> ndarray
        Per parameter name, the optimizer's running quantities (momentum buffer, ...).
    """

    default_lr: ClassVar[dict[str, float]] = {"torch": 1e-3, "keras": 1e-3}
    #: weight decay applied to the weights before the update (AdamW), not added to the gradient
    decoupled: ClassVar[bool] = False

    @validate_params({"lr": _LR, "weight_decay": [_NONNEGATIVE], "convention": [_CONVENTION]})
    def __init__(
        self,
        lr: float | Callable[[int], float] | None = None,
        weight_decay: float = 0.0,
        convention: str = "torch",
    ):
        self.convention = convention
        self.lr = self.default_lr[convention] if lr is None else lr
        self.weight_decay = weight_decay
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def current_lr(self) -> float:
        """The learning rate of the next step: ``lr``, or ``lr(t)`` for a schedule."""
        if not callable(self.lr):
            return float(self.lr)
        value = self.lr(self.t)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if not is_real(value):
            raise ValueError(f"lr({self.t}) must return a number, got {value!r}")
        if not 0 <= value < np.inf:
            raise ValueError(
                f"lr must be a finite number >= 0 (the schedule at step {self.t}), got {value!r}"
            )
        return float(value)

    @validate_params({"params": [ArrayDict(finite=False)], "grads": [ArrayDict(finite=False)]})
    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """One update: new parameter arrays; ``params`` and ``grads`` are left untouched.

        Parameters
        ----------
        params : dict of str -> ndarray
            The parameters :math:`\\phi`, by name.
        grads : dict of str -> ndarray
            :math:`\\partial L / \\partial \\phi`, same names and shapes. NaN and infinite
            values are used as they are (see the module's docstring).
        """
        if set(params) != set(grads):
            missing, extra = sorted(set(params) - set(grads)), sorted(set(grads) - set(params))
            raise ValueError(
                f"grads keys must match params keys: missing {missing}, unexpected {extra}"
            )
        lr = self.current_lr()
        new = {}
        for name, phi in params.items():
            phi = np.asarray(phi)
            g = np.asarray(grads[name], dtype=np.result_type(phi, np.float32))
            if g.shape != phi.shape:
                raise ValueError(
                    f"grads[{name!r}] has shape {g.shape}, but params[{name!r}] has {phi.shape}"
                )
            if self.weight_decay and self.convention == "torch" and not self.decoupled:
                g = g + self.weight_decay * phi  # L2 penalty (lambda/2) * phi**2
            elif self.weight_decay:
                phi = phi - lr * self.weight_decay * phi  # decoupled, as Keras and AdamW
            new[name] = self._update(phi, g, lr, self.state.setdefault(name, {}))
        self.t += 1
        return new

    def _update(self, phi, g, lr, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr!r}, convention={self.convention!r})"


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum (also Nesterov's) and weight decay.

    Without momentum, :math:`\phi \leftarrow \phi - \alpha g`. With momentum :math:`\mu`,
    torch keeps a buffer of past gradients (:math:`b = g` at the first step):

    .. math::

        b \leftarrow \mu b + g, \qquad
        \phi \leftarrow \phi - \alpha b
        \quad\bigl(\text{Nesterov: } \phi \leftarrow \phi - \alpha (g + \mu b)\bigr)

    Keras (``convention="keras"``) keeps a velocity instead (:math:`v = 0` at the start):

    .. math::

        v \leftarrow \mu v - \alpha g, \qquad
        \phi \leftarrow \phi + v
        \quad\bigl(\text{Nesterov: } \phi \leftarrow \phi + \mu v - \alpha g\bigr)

    so :math:`v = -\alpha b` while :math:`\alpha` stays constant; under a schedule torch
    applies today's :math:`\alpha` to all past gradients, Keras the :math:`\alpha` of each one's
    own step. ``weight_decay`` :math:`\lambda`: see :class:`Optimizer` (torch: L2 penalty
    :math:`\frac{\lambda}{2}\lVert\phi\rVert^2` added to the loss).

    Parameters
    ----------
    lr : float or schedule, default 1e-3 (torch) / 1e-2 (keras)
    momentum : float in [0, 1), default 0
    nesterov : bool, default False
    weight_decay : float >= 0, default 0
    convention : {"torch", "keras"}
    """

    default_lr: ClassVar[dict[str, float]] = {"torch": 1e-3, "keras": 1e-2}

    @validate_params(
        {
            "lr": _LR,
            "momentum": [_UNIT],
            "nesterov": [Boolean()],
            "weight_decay": [_NONNEGATIVE],
            "convention": [_CONVENTION],
        }
    )
    def __init__(self, lr=None, momentum=0.0, nesterov=False, weight_decay=0.0, convention="torch"):
        super().__init__(lr, weight_decay, convention)
        if nesterov and momentum == 0:
            raise ValueError(f"nesterov=True needs momentum > 0, got momentum={momentum!r}")
        self.momentum, self.nesterov = momentum, bool(nesterov)

    def _update(self, phi, g, lr, state):
        mu = self.momentum
        if mu == 0:
            return phi - lr * g
        if self.convention == "keras":
            v = mu * state.get("velocity", np.zeros_like(phi)) - lr * g
            state["velocity"] = v
            return phi + (mu * v - lr * g if self.nesterov else v)
        b = mu * state["buffer"] + g if "buffer" in state else g.copy()
        state["buffer"] = b
        return phi - lr * (g + mu * b if self.nesterov else b)


class RMSprop(Optimizer):
    r"""RMSprop: divide each gradient by a running root mean square of its past values.

    .. math::

        s \leftarrow \rho s + (1 - \rho) g^2, \qquad
        \phi \leftarrow \phi - \alpha \frac{g}{\sqrt{s} + \epsilon}
        \quad\Bigl(\text{Keras: } \frac{g}{\sqrt{s + \epsilon}}\Bigr)

    with :math:`s = 0` at the start. Steps are about :math:`\alpha` in size whatever the scale
    of the gradient: small where gradients are large, large along flat directions.

    Parameters
    ----------
    lr : float or schedule, default 1e-2 (torch) / 1e-3 (keras)
    rho : float in [0, 1), default 0.99 (torch's ``alpha``) / 0.9 (keras)
    eps : float > 0, default 1e-8 (torch) / 1e-7 (keras)
    weight_decay : float >= 0, default 0
    convention : {"torch", "keras"}
    """

    default_lr: ClassVar[dict[str, float]] = {"torch": 1e-2, "keras": 1e-3}

    @validate_params(
        {
            "lr": _LR,
            "rho": [_UNIT, None],
            "eps": [_POSITIVE, None],
            "weight_decay": [_NONNEGATIVE],
            "convention": [_CONVENTION],
        }
    )
    def __init__(self, lr=None, rho=None, eps=None, weight_decay=0.0, convention="torch"):
        super().__init__(lr, weight_decay, convention)
        keras = convention == "keras"
        self.rho = (0.9 if keras else 0.99) if rho is None else rho
        self.eps = (1e-7 if keras else 1e-8) if eps is None else eps

    def _update(self, phi, g, lr, state):
        s = self.rho * state.get("square_avg", np.zeros_like(phi)) + (1 - self.rho) * g * g
        state["square_avg"] = s
        denominator = np.sqrt(s + self.eps) if self.convention == "keras" else np.sqrt(s) + self.eps
        return phi - lr * g / denominator


class Adagrad(Optimizer):
    r"""AdaGrad: per-parameter step sizes that shrink with the sum of all squared gradients.

    .. math::

        s \leftarrow s + g^2, \qquad
        \phi \leftarrow \phi - \alpha \frac{g}{\sqrt{s} + \epsilon}
        \quad\Bigl(\text{Keras: } \frac{g}{\sqrt{s + \epsilon}}\Bigr)

    with :math:`s = s_0` (``initial_accumulator_value``) at the start. Because :math:`s` only
    grows, the effective learning rate only falls: fine for convex problems, often too early a
    stop for deep networks (which RMSprop's forgetting fixes).

    Parameters
    ----------
    lr : float or schedule, default 1e-2 (torch) / 1e-3 (keras)
    initial_accumulator_value : float >= 0, default 0 (torch) / 0.1 (keras)
    eps : float > 0, default 1e-10 (torch) / 1e-7 (keras)
    weight_decay : float >= 0, default 0
    convention : {"torch", "keras"}
    """

    default_lr: ClassVar[dict[str, float]] = {"torch": 1e-2, "keras": 1e-3}

    @validate_params(
        {
            "lr": _LR,
            "initial_accumulator_value": [_NONNEGATIVE, None],
            "eps": [_POSITIVE, None],
            "weight_decay": [_NONNEGATIVE],
            "convention": [_CONVENTION],
        }
    )
    def __init__(
        self,
        lr=None,
        initial_accumulator_value=None,
        eps=None,
        weight_decay=0.0,
        convention="torch",
    ):
        super().__init__(lr, weight_decay, convention)
        keras = convention == "keras"
        if initial_accumulator_value is None:
            initial_accumulator_value = 0.1 if keras else 0.0
        self.initial_accumulator_value = initial_accumulator_value
        self.eps = (1e-7 if keras else 1e-10) if eps is None else eps

    def _update(self, phi, g, lr, state):
        s = state.get("sum", np.full_like(phi, self.initial_accumulator_value)) + g * g
        state["sum"] = s
        denominator = np.sqrt(s + self.eps) if self.convention == "keras" else np.sqrt(s) + self.eps
        return phi - lr * g / denominator


AdaGrad = Adagrad


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop's scaling, both corrected for their start at 0.

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat m &= \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t} \\
        \phi &\leftarrow \phi - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`m = v = 0` at the start and :math:`t = 1` at the first step. Keras folds the
    two corrections into the learning rate and adds :math:`\epsilon` to :math:`\sqrt{v}`:

    .. math::

        \phi \leftarrow \phi - \alpha_t \frac{m}{\sqrt{v} + \epsilon}, \qquad
        \alpha_t = \alpha \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}

    which is torch's update with :math:`\epsilon / \sqrt{1-\beta_2^t}` in place of
    :math:`\epsilon` (a larger epsilon in the first steps).

    Parameters
    ----------
    lr : float or schedule, default 1e-3
    betas : (float, float), each in [0, 1), default (0.9, 0.999)
    eps : float > 0, default 1e-8 (torch) / 1e-7 (keras)
    weight_decay : float >= 0, default 0 (with ``convention="keras"`` this is AdamW)
    convention : {"torch", "keras"}
    """

    default_lr: ClassVar[dict[str, float]] = {"torch": 1e-3, "keras": 1e-3}

    @validate_params(
        {
            "lr": _LR,
            "betas": [SequenceOf(_UNIT, length=2, description="a pair (beta1, beta2) in [0, 1)")],
            "eps": [_POSITIVE, None],
            "weight_decay": [_NONNEGATIVE],
            "convention": [_CONVENTION],
        }
    )
    def __init__(self, lr=None, betas=(0.9, 0.999), eps=None, weight_decay=0.0, convention="torch"):
        super().__init__(lr, weight_decay, convention)
        self.beta1, self.beta2 = betas
        self.eps = (1e-7 if convention == "keras" else 1e-8) if eps is None else eps

    def _update(self, phi, g, lr, state):
        t = self.t + 1
        m = self.beta1 * state.get("m", np.zeros_like(phi)) + (1 - self.beta1) * g
        v = self.beta2 * state.get("v", np.zeros_like(phi)) + (1 - self.beta2) * g * g
        state["m"], state["v"] = m, v
        c1, c2 = 1 - self.beta1**t, 1 - self.beta2**t
        if self.convention == "keras":
            return phi - (lr * math.sqrt(c2) / c1) * m / (np.sqrt(v) + self.eps)
        return phi - lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
