r"""Gradient-descent optimizers on dicts of numpy arrays (chapters 3 and 4).

Every optimizer turns gradients into an update of the parameters :math:`\phi`; plain
gradient descent is :math:`\phi \leftarrow \phi - \alpha\, g` with :math:`g = \partial L/\partial\phi`.
Usage::

    opt = Adam(lr=1e-3)
    for step in range(num_steps):
        grads = compute_gradients(params)          # same keys and shapes as params
        params = opt.step(params, grads)           # new arrays; params is not modified

``lr`` may be a number or a schedule ``lr(step) -> float`` (:mod:`coursekit.schedules`),
called with the 0-based step count.

Two conventions
---------------
The update rules match ``torch.optim`` by default (``convention="torch"``). Keras writes some
of them differently, and ``convention="keras"`` reproduces Keras exactly:

- momentum: torch keeps :math:`b \leftarrow \mu b + g,\ \phi \leftarrow \phi - \alpha b`;
  Keras keeps a velocity :math:`v \leftarrow \mu v - \alpha g,\ \phi \leftarrow \phi + v`.
  They agree while :math:`\alpha` is constant and differ under a schedule;
- RMSprop and AdaGrad: torch divides by :math:`\sqrt{s} + \epsilon`, Keras by :math:`\sqrt{s+\epsilon}`;
  Keras' AdaGrad starts its accumulator at 0.1, torch at 0;
- Adam: Keras folds the bias corrections into the step size,
  :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`, and adds :math:`\epsilon` to
  :math:`\sqrt{v}` rather than to :math:`\sqrt{\hat v}`;
- default :math:`\epsilon`: torch 1e-8 (AdaGrad 1e-10), Keras 1e-7; RMSprop's decay: torch
  0.99, Keras 0.9.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["SGD", "AdaGrad", "Adagrad", "Adam", "Optimizer", "RMSprop"]

_CONVENTIONS = ("torch", "keras")


class Optimizer:
    """Base class: input checks, the step counter and the learning rate of the current step."""

    def __init__(self, lr: float | Callable[[int], float], convention: str = "torch"):
        if convention not in _CONVENTIONS:
            raise ValueError(f"convention must be 'torch' or 'keras', got {convention!r}")
        if not callable(lr):
            _check_nonnegative("lr", lr)
        self.lr = lr
        self.convention = convention
        self.t = 0  # number of steps taken
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def current_lr(self) -> float:
        lr = float(self.lr(self.t)) if callable(self.lr) else float(self.lr)
        _check_nonnegative("lr", lr)
        return lr

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]):
        """Return new parameters after one update; ``params`` and ``grads`` are not modified."""
        if set(params) != set(grads):
            missing, extra = set(params) - set(grads), set(grads) - set(params)
            raise ValueError(
                f"grads keys must match params keys: missing {sorted(missing)}, extra {sorted(extra)}"
            )
        lr = self.current_lr()
        new = {}
        for name, p in params.items():
            p = np.asarray(p)
            g = np.asarray(grads[name], dtype=np.result_type(p, np.float32))
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{name!r}] has shape {g.shape}, params[{name!r}] has {p.shape}"
                )
            state = self.state.setdefault(name, {})
            new[name] = self._update(p, g, lr, state)
        self.t += 1
        return new

    def _update(self, p, g, lr, state):  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov and weight decay.

    .. math::

        g &\leftarrow g + \lambda_{wd}\,\phi \\
        b &\leftarrow \mu b + g \quad(b = g \text{ at the first step}) \\
        \phi &\leftarrow \phi - \alpha\,(g + \mu b \text{ if Nesterov else } b)

    ``weight_decay`` is torch's coupled L2: it equals a penalty :math:`\frac{\lambda_{wd}}{2}\sum\phi^2`.
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, convention="torch"):
        super().__init__(lr, convention)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0")
        _check_nonnegative("weight_decay", weight_decay)
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def _update(self, p, g, lr, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        mu = self.momentum
        if mu == 0:
            return p - lr * g
        if self.convention == "keras":
            v = state.get("velocity", np.zeros_like(p))
            v = mu * v - lr * g
            state["velocity"] = v
            return p + (mu * v - lr * g if self.nesterov else v)
        b = g.copy() if "buffer" not in state else mu * state["buffer"] + g
        state["buffer"] = b
        return p - lr * (g + mu * b if self.nesterov else b)


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running root mean square of the gradients.

    .. math::

        s \leftarrow \rho s + (1 - \rho) g^2, \qquad
        \phi \leftarrow \phi - \alpha \frac{g}{\sqrt{s} + \epsilon}
        \quad(\text{Keras: } \sqrt{s + \epsilon})

    Defaults: torch :math:`\rho = 0.99,\ \epsilon = 10^{-8}`; Keras :math:`\rho = 0.9,\ \epsilon = 10^{-7}`.
    """

    def __init__(self, lr=0.01, rho=None, eps=None, convention="torch"):
        super().__init__(lr, convention)
        keras = convention == "keras"
        self.rho = (0.9 if keras else 0.99) if rho is None else rho
        self.eps = (1e-7 if keras else 1e-8) if eps is None else eps
        _check_unit("rho", self.rho)
        _check_positive("eps", self.eps)

    def _update(self, p, g, lr, state):
        s = self.rho * state.get("square_avg", np.zeros_like(p)) + (1 - self.rho) * g * g
        state["square_avg"] = s
        denominator = np.sqrt(s + self.eps) if self.convention == "keras" else np.sqrt(s) + self.eps
        return p - lr * g / denominator


class Adagrad(Optimizer):
    r"""AdaGrad: per-parameter step sizes shrinking with the sum of squared gradients.

    .. math::

        s \leftarrow s + g^2, \qquad \phi \leftarrow \phi - \alpha \frac{g}{\sqrt{s} + \epsilon}
        \quad(\text{Keras: } \sqrt{s + \epsilon})

    Defaults: torch :math:`s_0 = 0,\ \epsilon = 10^{-10}`; Keras :math:`s_0 = 0.1,\ \epsilon = 10^{-7}`.
    """

    def __init__(self, lr=0.01, initial_accumulator_value=None, eps=None, convention="torch"):
        super().__init__(lr, convention)
        keras = convention == "keras"
        self.initial = (
            (0.1 if keras else 0.0)
            if initial_accumulator_value is None
            else initial_accumulator_value
        )
        self.eps = (1e-7 if keras else 1e-10) if eps is None else eps
        _check_nonnegative("initial_accumulator_value", self.initial)
        _check_positive("eps", self.eps)

    def _update(self, p, g, lr, state):
        s = state.get("sum", np.full_like(p, self.initial)) + g * g
        state["sum"] = s
        denominator = np.sqrt(s + self.eps) if self.convention == "keras" else np.sqrt(s) + self.eps
        return p - lr * g / denominator


AdaGrad = Adagrad


class Adam(Optimizer):
    r"""Adam: momentum on the gradient and RMSprop-style scaling, both bias-corrected.

    .. math::

        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        \hat m &= m / (1-\beta_1^t), \qquad \hat v = v / (1-\beta_2^t) \\
        \phi &\leftarrow \phi - \alpha\, \hat m / (\sqrt{\hat v} + \epsilon)

    Keras: :math:`\phi \leftarrow \phi - \alpha_t\, m / (\sqrt{v} + \epsilon)` with
    :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`. Default learning rate 1e-3.
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=None, convention="torch"):
        super().__init__(lr, convention)
        self.beta1, self.beta2 = betas
        _check_unit("betas[0]", self.beta1)
        _check_unit("betas[1]", self.beta2)
        self.eps = (1e-7 if convention == "keras" else 1e-8) if eps is None else eps
        _check_positive("eps", self.eps)

    def _update(self, p, g, lr, state):
        t = self.t + 1
        m = self.beta1 * state.get("m", np.zeros_like(p)) + (1 - self.beta1) * g
        v = self.beta2 * state.get("v", np.zeros_like(p)) + (1 - self.beta2) * g * g
        state["m"], state["v"] = m, v
        c1, c2 = 1 - self.beta1**t, 1 - self.beta2**t
        if self.convention == "keras":
            return p - (lr * np.sqrt(c2) / c1) * m / (np.sqrt(v) + self.eps)
        return p - lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def _check_nonnegative(name, value):
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.number)
        or not value >= 0
        or not np.isfinite(value)
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")


def _check_unit(name, value):
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.number)
        or not 0 <= value < 1
    ):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
