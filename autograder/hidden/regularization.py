"""Hidden checks of assignment 3 (regularization and learning-rate schedules)."""

from __future__ import annotations

import numpy as np

from autograder.hidden import call, student_rng

__all__ = ["expect_decay", "expect_dropout", "expect_early_stopping", "expect_l2"]


def _params(rng):
    return {
        "W1": rng.normal(size=(3, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 1)),
        "b2": rng.normal(size=1),
    }


def expect_l2(l2_penalty, l2_grad) -> None:
    from coursekit.regularization import l2_grad as ref_grad
    from coursekit.regularization import l2_penalty as ref_penalty

    rng = student_rng(31)
    for i in range(3):
        params, lam = _params(rng), float(rng.uniform(0.001, 0.1))
        assert abs(float(call(l2_penalty, params, lam)) - ref_penalty(params, lam)) <= 1e-9, (
            f"l2_penalty is wrong on hidden case {i + 1} (are the biases left out?)"
        )
        got, expected = call(l2_grad, params, lam), ref_grad(params, lam)
        for name in expected:
            assert np.allclose(got[name], expected[name], rtol=1e-9, atol=1e-12), (
                f"l2_grad: {name} is wrong on hidden case {i + 1} (are the biases left out?)"
            )


def expect_dropout(dropout) -> None:
    rng = student_rng(32)
    a = rng.uniform(0.5, 2.0, size=(200, 50))
    for rate in (0.2, 0.5):
        out = np.asarray(call(dropout, a.copy(), rate, np.random.default_rng(0), True))
        kept = out != 0
        assert abs(1 - kept.mean() - rate) < 0.03, f"dropout(rate={rate}) zeroes the wrong fraction"
        assert np.allclose(out[kept], a[kept] / (1 - rate)), (
            f"dropout(rate={rate}): kept units must be scaled by 1 / (1 - rate) while training"
        )
        evaluated = np.asarray(call(dropout, a.copy(), rate, np.random.default_rng(0), False))
        assert np.array_equal(evaluated, a), "dropout must be the identity when training=False"


def expect_early_stopping(early_stopping) -> None:
    from coursekit.regularization import EarlyStopping

    rng = student_rng(33)
    for i in range(5):
        losses = list(
            np.round(1 / np.arange(1, 31) + 0.002 * np.arange(30) + rng.normal(0, 0.01, 30), 4)
        )
        patience = int(rng.integers(1, 6))
        stopper = EarlyStopping(patience=patience)
        stop = None
        for epoch, value in enumerate(losses):
            if stopper.step(value, epoch):
                stop = epoch
                break
        got = call(early_stopping, losses, patience)
        assert tuple(got) == (stop, stopper.best_epoch), (
            f"early_stopping is wrong on hidden case {i + 1} (patience {patience}): "
            "when does it stop, and which epoch's weights does it keep?"
        )


def expect_decay(per_epoch_decay, keras_decay) -> None:
    from coursekit import schedules

    rng = student_rng(34)
    lr0, rate = float(rng.uniform(0.01, 0.5)), float(rng.uniform(0.8, 0.99))
    for epoch in (0, 1, 7, 30):
        expected = schedules.exponential(lr0, rate)(epoch)
        assert abs(float(call(per_epoch_decay, lr0, rate, epoch)) - expected) <= 1e-12 * max(
            1, expected
        ), "per_epoch_decay: epoch 0 must give the initial rate, epoch e multiplies it by rate**e"
    steps = int(rng.integers(50, 500))
    for step in (0, steps - 1, steps, 3 * steps + 7):
        for staircase in (False, True):
            expected = schedules.exponential_decay(step, lr0, steps, rate, staircase)
            got = float(call(keras_decay, step, lr0, steps, rate, staircase))
            assert abs(got - expected) <= 1e-12 * max(1, expected), (
                f"keras_decay is wrong (staircase={staircase}) at a step {'before' if step < steps else 'after'} decay_steps"
            )
