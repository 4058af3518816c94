"""Hidden checks of assignment 3 (regularization and learning-rate schedules).

Expectations come from ``coursekit`` on private copies made before the student's function is
called; every returned value is read through :mod:`autograder.assignments.rules`. A wrong value
gets the visible checks' hint when it equals one of their known-wrong variants
(``visible.Mistake``: biases penalized, dropout not rescaled, stopping one epoch late, ...)
on the hidden input, else fixed words on how far off it is: never a hidden input, an expected
value or a number the student's values chose.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments import rules
from autograder.assignments.a3_regularization import visible
from autograder.assignments.a3_regularization.visible import Mistake
from autograder.assignments.calls import call, student_rng
from autograder.assignments.rules import (
    CheckFailed,
    as_array,
    as_ints,
    expect_array,
    expect_dict,
    expect_scalar,
)

__all__ = ["expect_decay", "expect_dropout", "expect_early_stopping", "expect_l2"]


#: the contract's parameter names (a modified input is named by them)
_L2 = ("params", "lam")
_DROPOUT = ("a", "rate", "rng", "training")


def _params(rng):
    return {
        "W1": rng.normal(size=(3, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 1)),
        "b2": rng.normal(size=1),
    }


def _copy(params: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in params.items()}


def expect_l2(l2_penalty, l2_grad) -> None:
    from coursekit.regularization import l2_grad as ref_grad
    from coursekit.regularization import l2_penalty as ref_penalty

    rng = student_rng(31)
    for i in range(3):
        params, lam = _params(rng), float(rng.uniform(0.001, 0.1))
        penalty, grad = float(ref_penalty(_copy(params), lam)), ref_grad(_copy(params), lam)
        where = f"hidden case {i + 1}"
        value = _number(call(l2_penalty, params, lam, names=_L2), name="l2_penalty", where=where)
        if not abs(value - penalty) <= 1e-9:
            variants = visible.l2_penalty_variants(params, lam, penalty)
            raise AssertionError(f"l2_penalty is wrong on {where}{_hint(value, penalty, variants)}")
        got = expect_dict(
            call(l2_grad, params, lam, names=_L2), tuple(grad), name="l2_grad", where=where
        )
        for name in grad:
            kind = Mistake.BIAS_GRADIENT if params[name].ndim == 1 else Mistake.NO_FACTOR_2
            expect_array(
                got[name],
                grad[name],
                name=f"l2_grad: {name}",
                where=where,
                hint=f" ({kind.hint})",
            )


def _number(value, *, name: str, where: str) -> float:
    """``value`` read strictly as a real number (kind, NaN, finite), whatever its value."""
    return expect_scalar(value, 0.0, name=name, where=where, atol=np.inf)


def _hint(value: float, want: float, variants: dict, rtol: float = 1e-9) -> str:
    """The visible checks' hint for a wrong number, else how far off it is (relative)."""
    hint = rules.hint_for(value, want, variants, rtol=rtol, atol=1e-12)
    return hint or f" ({rules.differs(value, want, values=False, rtol=rtol, atol=1e-12)})"


def expect_dropout(dropout) -> None:
    rng = student_rng(32)
    a = rng.uniform(0.5, 2.0, size=(200, 50))
    for rate in (0.2, 0.5):
        name = f"dropout(rate={rate})"
        out = as_array(
            call(dropout, a, rate, np.random.default_rng(0), True, names=_DROPOUT),
            name=name,
            shape=a.shape,
        )
        kept = out != 0
        zeroed = 1 - kept.mean()
        if abs(zeroed - rate) >= 0.03:  # in fixed words: the fraction is the student's
            keeps_rate = abs(zeroed - (1 - rate)) < 0.03
            raise AssertionError(
                f"{name} zeroes too {'many' if zeroed > rate else 'few'} of the units: about "
                f"{rate:.0%} is asked for" + (f" ({Mistake.KEEPS_RATE.hint})" if keeps_rate else "")
            )
        if not np.allclose(out[kept], a[kept] / (1 - rate), rtol=1e-9, atol=0.0):
            variants = visible.dropout_variants(a[kept], rate)
            hint = rules.hint_for(out[kept], a[kept] / (1 - rate), variants, rtol=1e-9)
            raise AssertionError(
                f"{name}: kept units must be scaled by 1 / (1 - rate) while training{hint}"
            )
        evaluated = call(dropout, a, rate, np.random.default_rng(0), False, names=_DROPOUT)
        expect_array(
            evaluated,
            a,
            name=f"{name} with training=False",
            rtol=0.0,
            atol=0.0,
            hint=": dropout must be the identity when training=False",
        )


def expect_early_stopping(early_stopping) -> None:
    from coursekit.regularization import EarlyStopping

    rng = student_rng(33)
    for i in range(5):
        losses = [
            float(v)
            for v in np.round(
                1 / np.arange(1, 31) + 0.002 * np.arange(30) + rng.normal(0, 0.01, 30), 4
            )
        ]
        patience = int(rng.integers(1, 6))
        stopper = EarlyStopping(patience=patience)
        stop = None
        for epoch, value in enumerate(list(losses)):
            if stopper.step(value, epoch):
                stop = epoch
                break
        want = (stop, int(stopper.best_epoch))
        got = call(early_stopping, losses, patience, names=("val_losses", "patience"))
        where = f"hidden case {i + 1}"
        pair = as_ints(  # a pair of ints (None allowed): else the reading says what it is
            got, 2, name="early_stopping", where=where, none=True, what="(stop_epoch, best_epoch)"
        )
        if pair != want:
            raise CheckFailed(f"early_stopping is wrong on {where}{_stopping_hint(pair, want)}")


def _stopping_hint(got: tuple, want: tuple) -> str:
    """What the wrong (stop_epoch, best_epoch) says, without the epochs (hidden)."""
    (g_stop, g_best), (stop, best) = got, want
    if g_stop != stop:
        if stop is not None and g_stop == stop + 1:
            return f" ({Mistake.ONE_LATE.hint})"
        return " (the stop epoch is wrong: when does it stop?)"
    if g_best == g_stop and g_best != best:
        return f" ({Mistake.KEEPS_THE_STOP.hint})"
    return " (the stop epoch is right; the best epoch, whose weights are kept, is wrong)"


def expect_decay(per_epoch_decay, keras_decay) -> None:
    from coursekit import schedules

    rng = student_rng(34)
    lr0, rate = float(rng.uniform(0.01, 0.5)), float(rng.uniform(0.8, 0.99))
    for epoch in (0, 1, 7, 30):
        expected = float(schedules.exponential(lr0, rate)(epoch))
        expect_scalar(
            call(per_epoch_decay, lr0, rate, epoch),
            expected,
            name="per_epoch_decay",
            where=f"epoch {epoch}",
            rtol=1e-12,
            atol=1e-12,
            hint=f": {Mistake.OFF_BY_ONE.hint}",
        )
    steps = int(rng.integers(50, 500))
    for step in (0, steps - 1, steps, 3 * steps + 7):
        for staircase in (False, True):
            expected = float(schedules.exponential_decay(step, lr0, steps, rate, staircase))
            name = f"keras_decay (staircase={staircase})"
            where = f"a step {'before' if step < steps else 'after'} decay_steps"
            value = _number(
                call(keras_decay, step, lr0, steps, rate, staircase), name=name, where=where
            )
            if not abs(value - expected) <= 1e-12 + 1e-12 * abs(expected):
                variants = visible.keras_decay_variants(step, lr0, steps, rate, staircase)
                hint = _hint(value, expected, variants, rtol=1e-12)
                raise AssertionError(f"{name} is wrong on {where}{hint}")
