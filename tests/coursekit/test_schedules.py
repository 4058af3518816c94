"""Learning-rate schedules against Keras and torch, and the range test on a known problem."""

import numpy as np
import pytest

from coursekit import schedules

STEPS = np.arange(0, 60)


def _torch_lrs(make_scheduler, base_lr, n):
    import torch

    torch.set_num_threads(1)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


def test_step_decay_matches_torch_steplr():
    import torch

    ours = schedules.step_decay(0.1, drop=0.5, every=7)(STEPS)
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.5), 0.1, len(STEPS))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_per_epoch_exponential_matches_torch_exponentiallr():
    import torch

    ours = schedules.exponential(0.1, rate=0.95)(STEPS)
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.95), 0.1, len(STEPS))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert schedules.exponential(0.1, 0.95)(3) == pytest.approx(0.95**3 * 0.1)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_matches_keras(staircase):
    """Keras computes in float32: agreement to float32 precision (rtol 1e-6)."""
    import keras

    steps = np.array([0, 1, 50_000, 99_999, 100_000, 150_000, 250_000, 1_000_000])
    keras_sched = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.1, decay_steps=100_000, decay_rate=0.96, staircase=staircase
    )
    theirs = np.array([float(keras_sched(int(s))) for s in steps])
    ours = schedules.exponential_decay(steps, 0.1, 100_000, 0.96, staircase=staircase)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_cosine_annealing_matches_torch_and_keras():
    import keras
    import torch

    T = 40
    ours = schedules.cosine_annealing(0.1, T_max=T, eta_min=0.001)(np.arange(T + 1))
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T, eta_min=0.001), 0.1, T + 1
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    keras_sched = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=T, alpha=0.001 / 0.1)
    keras_lrs = np.array([float(keras_sched(s)) for s in range(T + 10)])
    np.testing.assert_allclose(
        schedules.cosine_annealing(0.1, T, 0.001)(np.arange(T + 10)), keras_lrs, rtol=1e-5
    )


def test_warmup_matches_torch_linearlr_then_the_wrapped_schedule():
    import torch

    w, start_factor = 5, 0.1
    ours = schedules.warmup(schedules.exponential(0.1, 0.9), w, start_lr=0.1 * start_factor)
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.SequentialLR(
            o,
            [
                torch.optim.lr_scheduler.LinearLR(o, start_factor=start_factor, total_iters=w),
                torch.optim.lr_scheduler.ExponentialLR(o, 0.9),
            ],
            milestones=[w],
        ),
        0.1,
        30,
    )
    np.testing.assert_allclose(ours(np.arange(30)), theirs, rtol=1e-10)


@pytest.mark.parametrize(
    "inner",
    [
        schedules.constant(0.1),
        schedules.step_decay(0.1, 0.5, 3),
        schedules.cosine_annealing(0.1, 20),
    ],
)
def test_warmup_composes_with_any_schedule_and_is_continuous(inner):
    sched = schedules.warmup(inner, warmup_steps=10)
    lrs = sched(np.arange(40))
    assert lrs[0] == 0.0
    assert np.all(np.diff(lrs[:11]) > 0)  # rises during warm-up
    assert sched(10) == pytest.approx(inner(0))  # joins the schedule where it starts
    np.testing.assert_allclose(lrs[10:], inner(np.arange(30)))


def test_schedules_accept_scalars_and_arrays():
    sched = schedules.step_decay(1.0, 0.1, 2)
    assert isinstance(sched(3), float)
    assert sched(np.array([0, 1, 2, 3, 4])).tolist() == pytest.approx([1, 1, 0.1, 0.1, 0.01])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: schedules.constant(-0.1), "initial_lr must be a number > 0, got -0.1"),
        (lambda: schedules.exponential_decay(0, 0.1, 0, 0.96), "decay_steps"),
        (lambda: schedules.exponential_decay(0, 0.1, 10, -0.5), "decay_rate"),
        (lambda: schedules.step_decay(0.1, 0.5, 0), "every must be a positive int, got 0"),
        (lambda: schedules.warmup(schedules.constant(0.1), -1), "warmup_steps"),
        (lambda: schedules.exponential(0.1, 1.5), "rate must be in"),
        (lambda: schedules.constant(0.1)(-1), "step must be >= 0"),
    ],
)
def test_bad_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def _minibatch_regression(seed=0):
    """Linear regression with noisy targets; each step uses a random mini-batch of 50."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.5 * rng.normal(size=200)

    def step(w, lr):
        idx = rng.choice(200, size=50, replace=False)
        residual = X[idx] @ w - y[idx]
        return w - lr * 2 * X[idx].T @ residual / 50, float(np.mean(residual**2))

    # full-batch gradient descent diverges above 2 / (largest eigenvalue of the Hessian)
    largest_stable = 2 / np.linalg.eigvalsh(2 * X.T @ X / 200).max()
    return step, largest_stable


def test_range_test_stops_when_the_loss_diverges():
    step, largest_stable = _minibatch_regression()
    result = schedules.lr_range_test(step, np.zeros(3), lr_min=1e-4, lr_max=10.0, num=100)
    assert result.diverged
    assert len(result.lrs) < 100  # stopped before the end of the sweep
    assert result.lrs[-1] > largest_stable / 2  # ... and only once steps became too large
    assert np.all(np.diff(result.lrs) > 0)


def test_range_test_suggests_a_rate_where_the_loss_falls_fastest_and_is_stable():
    step, largest_stable = _minibatch_regression(1)
    result = schedules.lr_range_test(step, np.zeros(3), lr_min=1e-4, lr_max=10.0, num=100)
    assert 1e-3 < result.suggested_lr < largest_stable
    i = int(np.searchsorted(result.lrs, result.suggested_lr))
    assert result.smoothed[i] < result.smoothed[0]  # the loss is falling there


def test_range_test_rejects_bad_bounds():
    with pytest.raises(ValueError, match="lr_max must be > lr_min"):
        schedules.lr_range_test(lambda w, lr: (w, 0.0), 1.0, lr_min=0.1, lr_max=0.01)
