"""Visible checks of assignment 3 (regularization and learning-rate schedules).

Public cases only, with their expected numbers written out. A wrong value gets the hint of the
known-wrong variant it equals (:class:`Mistake`: biases penalized, dropout not rescaled,
stopping one epoch late, ...); the hidden checks diagnose with the same members.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from autograder.assignments.rules import (
    CheckFailed,
    as_array,
    as_ints,
    as_number,
    close,
    expect_dict,
    hint_for,
)
from autograder.assignments.runner import call, check, lessons

A3 = "a3_regularization"
lessons(
    {
        "04_learning_rate": "lesson 4, The learning rate",
        "05_regularization": "lesson 5, Regularization",
    }
)
_A3_HINTS = {
    "keys": "return a dict with the same keys as params",
    "signature": "the signatures are l2_penalty(params, lam), l2_grad(params, lam), "
    "dropout(a, rate, rng, training=True), early_stopping(val_losses, patience), "
    "per_epoch_decay(lr0, rate, epoch), keras_decay(step, lr0, decay_steps, decay_rate, staircase=False)",
}


class Mistake(Enum):
    """A classic mistake of assignment 3; its value is the hint that names it."""

    BIASES_PENALIZED = "the biases are in it: only the weight matrices, the 2-D arrays, count"
    FACTOR_2 = "the penalty is lam * sum(w**2), without a factor 2"
    NO_FACTOR_2 = "the gradient of lam * sum(W**2) is 2 * lam * W"
    BIAS_GRADIENT = "a bias is not penalized: its gradient is zeros"
    NOT_RESCALED = "they are not rescaled: inverted dropout divides them by 1 - rate"
    MULTIPLIED = "they are multiplied by 1 - rate: divide instead"
    KEEPS_RATE = "it keeps a unit with probability rate: keep it where rng.random(a.shape) >= rate"
    TIES_IMPROVE = "a loss equal to the best is no improvement"
    ONE_LATE = (
        "it stops one epoch late: the epoch that makes `patience` epochs in a row without "
        "improvement is the stop"
    )
    KEEPS_THE_STOP = "that is the stop epoch: restore the epoch with the lowest loss"
    OFF_BY_ONE = "epoch 0 gives the initial rate: lr0 * rate**epoch"
    FLOORED = "without staircase the exponent is step / decay_steps, not floored"
    NOT_FLOORED = "with staircase the exponent is floor(step / decay_steps)"

    @property
    def hint(self) -> str:
        return self.value


def _copy(params):
    return {k: np.array(v, dtype=float) for k, v in params.items()}


def l2_penalty_variants(params: dict, lam: float, want: float) -> dict[str, float]:
    """{mistake: the penalty it gives}, from the right penalty ``want``."""
    biases = lam * sum(float(np.sum(np.square(v))) for v in params.values() if np.ndim(v) == 1)
    return {Mistake.BIASES_PENALIZED: want + biases, Mistake.FACTOR_2: 2 * want}


def dropout_variants(kept, rate: float) -> dict[str, np.ndarray]:
    """{mistake: what the kept units become}, from their inputs ``kept``."""
    return {Mistake.NOT_RESCALED: kept, Mistake.MULTIPLIED: kept * (1 - rate)}


def keras_decay_variants(step, lr0, decay_steps, decay_rate, staircase) -> dict[str, float]:
    """{mistake: the rate it gives}: the staircase applied when it is off, or ignored when on."""
    exponent = step / decay_steps
    if staircase:
        return {Mistake.NOT_FLOORED: lr0 * decay_rate**exponent}
    return {Mistake.FLOORED: lr0 * decay_rate ** np.floor(exponent)}


@check(A3, "test-l2", "05_regularization#penalties-l1-and-l2", "Penalties: L1 and L2")
def check_l2(l2_penalty, l2_grad):
    """Penalty and gradient on two public parameter dicts; biases (1-D) are left out."""
    cases = [
        ({"W": np.array([[1.0, -2.0]]), "b": np.array([3.0])}, 0.1, 0.5),
        (
            {
                "W1": np.array([[0.5, -1.0], [2.0, 0.0]]),
                "b1": np.array([1.0, -1.0]),
                "W2": np.array([[3.0], [-0.5]]),
                "b2": np.array([2.0]),
            },
            0.01,
            0.01 * (0.25 + 1 + 4 + 9 + 0.25),
        ),
    ]
    for params, lam, want in cases:
        shown = f"l2_penalty(params with keys {list(params)}, {lam})"
        got = as_number(
            call("l2_penalty", l2_penalty, _copy(params), lam, hints=_A3_HINTS),
            name=shown,
            show=True,
        )
        if abs(got - want) > 1e-12:
            hint = hint_for(got, want, l2_penalty_variants(params, lam, want), atol=1e-12)
            raise CheckFailed(f"{shown} gives {got:.6g}, not {want:.6g}{hint}")
        grads = expect_dict(
            call("l2_grad", l2_grad, _copy(params), lam, hints=_A3_HINTS),
            params,
            name="l2_grad",
            show=True,
        )
        for name, value in params.items():
            want_grad = 2 * lam * value if value.ndim >= 2 else np.zeros_like(value)
            got_grad = as_array(grads[name], name=f"l2_grad: {name}", shape=value.shape, show=True)
            if not close(got_grad, want_grad):
                hint = (
                    f" ({(Mistake.BIAS_GRADIENT if value.ndim == 1 else Mistake.NO_FACTOR_2).hint})"
                )
                raise CheckFailed(f"l2_grad: {name} is wrong{hint}")


@check(A3, "test-dropout", "05_regularization#dropout", "Dropout")
def check_dropout(dropout):
    """Training: the fraction zeroed and the 1 / (1 - rate) scaling; evaluation: identity."""
    a = np.linspace(0.5, 2.0, 10_000).reshape(100, 100)
    hints = dict(_A3_HINTS, shapes="draw the mask with rng.random(a.shape), the shape of a")
    for rate in (0.2, 0.5):
        shown = f"dropout(a, rate={rate}, rng, training=True)"
        out = call("dropout", dropout, a.copy(), rate, np.random.default_rng(0), True, hints=hints)
        out = as_array(out, name=shown, shape=a.shape, show=True)
        kept = out != 0
        zeroed = 1 - kept.mean()
        if abs(zeroed - rate) > 0.03:
            raise CheckFailed(
                f"{shown} zeroes {zeroed:.0%} of the units; rate={rate} asks for about "
                f"{rate:.0%} (keep a unit where rng.random(a.shape) >= rate)"
            )
        if not close(out[kept], a[kept] / (1 - rate)):
            hint = hint_for(out[kept], a[kept] / (1 - rate), dropout_variants(a[kept], rate))
            raise CheckFailed(
                f"{shown}: the kept units must be scaled by 1 / (1 - rate) = {1 / (1 - rate):g} "
                f"while training{hint}"
            )
        evaluated = call(
            "dropout", dropout, a.copy(), rate, np.random.default_rng(0), False, hints=hints
        )
        if not np.array_equal(np.asarray(evaluated), a):
            raise CheckFailed(
                f"dropout(a, rate={rate}, rng, training=False) must return a unchanged: at "
                "evaluation dropout is the identity (no unit dropped, nothing scaled)"
            )


@check(A3, "test-es", "05_regularization#early-stopping", "Early stopping")
def check_early_stopping(early_stopping):
    """Four public loss curves: a stop, no stop, ties (not improvements), patience 1."""
    cases = [
        (([1.0, 0.8, 0.9, 0.95, 0.7], 2), (3, 1)),
        (([1.0, 0.9, 0.8, 0.7], 2), (None, 3)),
        (([1.0, 0.8, 0.8, 0.8, 0.5], 2), (3, 1)),
        (([0.5, 0.6, 0.4], 1), (1, 0)),
    ]
    for (losses, patience), (stop, best) in cases:
        shown = f"early_stopping({losses}, patience={patience})"
        got = call("early_stopping", early_stopping, list(losses), patience, hints=_A3_HINTS)
        g_stop, g_best = as_ints(
            got, 2, name=shown, none=True, show=True
        )  # (stop_epoch, best_epoch)
        if g_stop != stop:
            ties = f" ({Mistake.TIES_IMPROVE.hint})" if losses[1] == losses[2] else ""
            never = " (None when it never stops)" if stop is None else ""
            raise CheckFailed(
                f"{shown} stops at epoch {g_stop}; it stops at epoch {stop}: the epoch (counted "
                f"from 0) that makes `patience` epochs in a row without improvement{ties}{never}"
            )
        if g_best != best:
            hint = f" ({Mistake.KEEPS_THE_STOP.hint})" if g_best == g_stop else ""
            raise CheckFailed(
                f"{shown} keeps the weights of epoch {g_best}, not of epoch {best}, the lowest "
                f"validation loss up to the stop{hint}"
            )


@check(
    A3,
    "test-decay",
    "04_learning_rate#schedules-change-the-rate-during-training",
    "Schedules: change the rate during training",
)
def check_decay(per_epoch_decay, keras_decay):
    """Per-epoch decay from epoch 0; Keras' decay with and without staircase."""
    for epoch, want in ((0, 0.1), (3, 0.1 * 0.95**3)):
        shown = f"per_epoch_decay(0.1, 0.95, {epoch})"
        got = as_number(
            call("per_epoch_decay", per_epoch_decay, 0.1, 0.95, epoch, hints=_A3_HINTS),
            name=shown,
            show=True,
        )
        if abs(got - want) > 1e-12:
            first = f" ({Mistake.OFF_BY_ONE.hint})" if epoch == 0 else ""
            first = first or hint_for(
                got, want, {Mistake.OFF_BY_ONE: want * 0.95}, rtol=0, atol=1e-12
            )
            raise CheckFailed(f"{shown} gives {got:.6g}, not {want:.6g}{first}")
    for step, staircase, want in (
        (0, False, 0.1),
        (270_000, False, 0.1 * 0.96**2.7),
        (270_000, True, 0.1 * 0.96**2),
    ):
        shown = f"keras_decay({step}, 0.1, 100000, 0.96, staircase={staircase})"
        got = as_number(
            call("keras_decay", keras_decay, step, 0.1, 100_000, 0.96, staircase, hints=_A3_HINTS),
            name=shown,
            show=True,
        )
        if abs(got - want) > 1e-12:
            variants = keras_decay_variants(step, 0.1, 100_000, 0.96, staircase)
            hint = hint_for(got, want, variants, rtol=0, atol=1e-12)
            raise CheckFailed(f"{shown} gives {got:.6g}, not {want:.6g}{hint}")
