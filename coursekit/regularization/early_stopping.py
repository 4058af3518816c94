r"""Early stopping on a validation metric (chapter 5, "Regularization").

Stop when the monitored value (validation loss by default) has not improved by more
than ``min_delta`` for ``patience`` consecutive epochs, then go back to the parameters of the
best epoch. Improvement for ``mode="min"``:

.. math:: v_t < v_{\mathrm{best}} - \delta

The rule is Keras' ``EarlyStopping(monitor="val_loss", patience, min_delta,
restore_best_weights)``, value for value, written for a numpy training loop. As in Keras, the
first value is the best so far whatever it is (infinity too), and a NaN never improves on
the best (every comparison with NaN is false): ``[inf, inf, 1, 2, 3]`` with patience 2 stops
at epoch 4 and restores epoch 2; a run whose first value is NaN stops after ``patience``
more epochs and restores epoch 0. So a diverged run (NaN or infinite losses from some epoch
on) stops ``patience`` epochs after its best one, never waits forever and never raises, and
``diverged_epoch`` names the first epoch whose value was not finite; check the loss with
``np.isfinite`` to stop a diverged run at once. ::

    stopper = EarlyStopping(patience=20)
    for epoch in range(500):
        params = train_one_epoch(params)
        if stopper.step(val_loss(params), params):
            break
    params = stopper.final_params(params)
"""

from __future__ import annotations

import copy

import numpy as np

from coursekit._params import (
    AnyReal,
    Anything,
    Boolean,
    Integral,
    Interval,
    Options,
    Real,
    validate_params,
)

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Track a validation metric, decide when to stop, remember the best parameters.

    Parameters
    ----------
    patience : int >= 0
        Epochs without improvement tolerated before stopping.
    min_delta : float >= 0
        Smallest change that counts as an improvement.
    restore_best : bool
        If True, :meth:`final_params` returns the parameters of the best epoch.
    mode : {"min", "max"}
        ``"min"`` for a loss, ``"max"`` for an accuracy.

    Attributes
    ----------
    best : float
        Best value seen so far.
    best_epoch : int or None
        0-based epoch of ``best``.
    best_params : object or None
        Deep copy of the parameters at ``best_epoch`` (kept only when ``restore_best``).
    stopped_epoch : int or None
        Epoch at which :meth:`step` first returned True.
    diverged_epoch : int or None
        0-based epoch of the first NaN or infinite value (the run diverged), else None.
    """

    @validate_params(
        {
            "patience": [Interval(Integral, 0, None)],
            "min_delta": [Interval(Real, 0, None, closed="left")],
            "restore_best": [Boolean()],
            "mode": [Options(("min", "max"))],
        }
    )
    def __init__(
        self, patience: int = 20, min_delta: float = 0.0, restore_best: bool = True, mode="min"
    ):
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best = bool(restore_best)
        self.mode = mode
        self.best = np.inf if mode == "min" else -np.inf
        self.best_epoch: int | None = None
        self.best_params = None
        self.stopped_epoch: int | None = None
        self.diverged_epoch: int | None = None
        self.wait = 0
        self.epoch = -1

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    @validate_params({"value": [AnyReal()], "params": [Anything("any object (copied)")]})
    def step(self, value: float, params=None) -> bool:
        """Record this epoch's ``value`` (and ``params``); return True when training should stop.

        ``value`` may be infinite or NaN: it is then treated as Keras treats it (see the
        module's docstring).
        """
        value = float(value)
        self.epoch += 1
        if self.diverged_epoch is None and not np.isfinite(value):
            self.diverged_epoch = self.epoch
        if self.best_epoch is None or self._improved(value):  # Keras: the first is the best
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            if self.restore_best:
                self.best_params = copy.deepcopy(params)
            return False
        self.wait += 1
        if self.wait >= self.patience and self.epoch > 0:
            if self.stopped_epoch is None:
                self.stopped_epoch = self.epoch
            return True
        return False

    @validate_params({"current": [Anything("any object")]})
    def final_params(self, current):
        """The parameters to keep: the best epoch's if ``restore_best`` and one was seen."""
        if self.restore_best and self.best_epoch is not None:
            return copy.deepcopy(self.best_params)
        return current

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"best={self.best:.6g}, best_epoch={self.best_epoch}, wait={self.wait})"
        )
