"""Hidden checks of assignment 3 (regularization and learning-rate schedules).

Expectations come from ``coursekit`` on private copies made before the student's function is
called; every returned value is read through :mod:`autograder.hidden.strict`.
"""

from __future__ import annotations

import numpy as np

from autograder.hidden import call, student_rng
from autograder.hidden.strict import (
    as_array,
    expect_array,
    expect_dict,
    expect_equal,
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
    hint = " (are the biases left out?)"
    for i in range(3):
        params, lam = _params(rng), float(rng.uniform(0.001, 0.1))
        penalty, grad = float(ref_penalty(_copy(params), lam)), ref_grad(_copy(params), lam)
        where = f"hidden case {i + 1}"
        expect_scalar(
            call(l2_penalty, params, lam, names=_L2),
            penalty,
            name="l2_penalty",
            where=where,
            hint=hint,
        )
        got = expect_dict(
            call(l2_grad, params, lam, names=_L2), tuple(grad), name="l2_grad", where=where
        )
        for name in grad:
            expect_array(got[name], grad[name], name=f"l2_grad: {name}", where=where, hint=hint)


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
        assert abs(1 - kept.mean() - rate) < 0.03, f"{name} zeroes the wrong fraction"
        assert np.allclose(out[kept], a[kept] / (1 - rate), rtol=1e-9, atol=0.0), (
            f"{name}: kept units must be scaled by 1 / (1 - rate) while training"
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
        expect_equal(
            call(early_stopping, losses, patience, names=("val_losses", "patience")),
            (stop, int(stopper.best_epoch)),
            name="early_stopping",
            where=f"hidden case {i + 1}",
            what="(stop_epoch, best_epoch)",
            hint=": when does it stop, and which epoch's weights does it keep?",
        )


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
            hint=": epoch 0 must give the initial rate, epoch e multiplies it by rate**e",
        )
    steps = int(rng.integers(50, 500))
    for step in (0, steps - 1, steps, 3 * steps + 7):
        for staircase in (False, True):
            expected = float(schedules.exponential_decay(step, lr0, steps, rate, staircase))
            expect_scalar(
                call(keras_decay, step, lr0, steps, rate, staircase),
                expected,
                name=f"keras_decay (staircase={staircase})",
                where=f"a step {'before' if step < steps else 'after'} decay_steps",
                rtol=1e-12,
                atol=1e-12,
            )
