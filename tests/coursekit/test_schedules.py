"""Learning-rate schedules against torch's lr_schedulers and Keras' schedules, and the range test
on problems whose answer is known."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import schedules

STEPS = np.arange(60)

#: one of each schedule, for the properties every schedule shares
REGISTRY = {
    "constant": schedules.constant(0.1),
    "step_decay": schedules.step_decay(0.1, drop=0.5, every=7),
    "exponential": schedules.exponential(0.1, rate=0.95),
    "exponential_decay": schedules.ExponentialDecay(0.1, 10, 0.96, staircase=False),
    "exponential_decay_staircase": schedules.ExponentialDecay(0.1, 10, 0.96, staircase=True),
    "cosine_annealing": schedules.cosine_annealing(0.1, T_max=40, eta_min=0.001),
    "warmup_cosine": schedules.warmup(schedules.cosine_annealing(0.1, T_max=30), 10),
}


def _torch_lrs(make_scheduler, base_lr, n):
    """The learning rate a torch optimizer uses at steps 0..n-1 under ``make_scheduler``."""
    import torch

    torch.set_num_threads(1)
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=base_lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


def _keras_lrs(schedule, steps):
    """A Keras schedule at each step (one call per step: with a warm-up it is not vectorised)."""
    return np.array([float(schedule(int(t))) for t in steps])


# --- properties shared by every schedule ------------------------------------------------------


@pytest.mark.parametrize("name", REGISTRY)
def test_a_schedule_gives_a_float_per_step_and_the_same_numbers_for_an_array(name):
    """Is ``schedule(array)`` the element-wise ``schedule(int)``, for arrays and lists alike?
    (To the last bit or so: numpy's vectorised ``**`` may round differently from its scalar one.)"""
    sched = REGISTRY[name]
    one_by_one = [sched(int(t)) for t in STEPS]
    assert all(type(lr) is float for lr in one_by_one)
    np.testing.assert_allclose(sched(STEPS), one_by_one, rtol=1e-15)
    np.testing.assert_allclose(sched(STEPS.tolist()), one_by_one, rtol=1e-15)
    np.testing.assert_allclose(
        sched(STEPS.reshape(6, 10)), np.reshape(one_by_one, (6, 10)), rtol=1e-15
    )


@pytest.mark.parametrize("name", REGISTRY)
def test_a_schedule_is_positive_and_never_above_its_peak(name):
    lrs = REGISTRY[name](np.arange(200))
    assert np.all(lrs >= 0) and lrs.max() <= 0.1 + 1e-15


@pytest.mark.parametrize("name", REGISTRY)
def test_a_schedule_rejects_a_negative_step(name):
    with pytest.raises(ValueError, match="step must be >= 0"):
        REGISTRY[name](np.array([0, 1, -1]))


# --- each schedule against the frameworks -------------------------------------------------------


def test_step_decay_matches_torch_steplr():
    import torch

    ours = schedules.step_decay(0.1, drop=0.5, every=7)(STEPS)
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.5), 0.1, len(STEPS))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_per_epoch_exponential_decay_matches_torch_exponentiallr():
    import torch

    ours = schedules.exponential(0.1, rate=0.95)(STEPS)
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.95), 0.1, len(STEPS))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert schedules.exponential(0.1, 0.95)(3) == pytest.approx(0.95**3 * 0.1, rel=1e-15)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_matches_keras_exponentialdecay(staircase):
    """Keras casts its arguments to the dtype of ``initial_learning_rate``: given as np.float64,
    it computes in float64 and agrees to 1e-12."""
    import keras

    steps = np.array([0, 1, 50_000, 99_999, 100_000, 150_000, 250_000, 1_000_000])
    theirs = keras.optimizers.schedules.ExponentialDecay(
        np.float64(0.1), 100_000, np.float64(0.96), staircase=staircase
    )
    ours = schedules.exponential_decay(steps, 0.1, 100_000, 0.96, staircase=staircase)
    np.testing.assert_allclose(ours, _keras_lrs(theirs, steps), rtol=1e-12)


@pytest.mark.parametrize("staircase", [False, True])
def test_the_seeds_keras_call_in_float32_agrees_to_float32_precision(staircase):
    """The review notes' call as written (Python floats) runs in float32: 0.96 becomes 0.95999998 and
    every operation rounds to 24 bits, so agreement is to rtol 1e-6, not 1e-12."""
    import keras

    steps = np.array([0, 1, 99_999, 100_000, 250_000, 1_000_000])
    theirs = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.1, decay_steps=100000, decay_rate=0.96, staircase=staircase
    )
    assert theirs(0).dtype == "float32"
    ours = schedules.exponential_decay(steps, 0.1, 100_000, 0.96, staircase=staircase)
    np.testing.assert_allclose(ours, _keras_lrs(theirs, steps), rtol=1e-6)


def test_cosine_annealing_matches_torch_cosineannealinglr_up_to_t_max():
    import torch

    T = 40
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T, eta_min=0.001), 0.1, 2 * T
    )
    ours = schedules.cosine_annealing(0.1, T_max=T, eta_min=0.001)(np.arange(2 * T))
    np.testing.assert_allclose(ours[: T + 1], theirs[: T + 1], rtol=1e-12)
    # the documented difference: after T_max torch climbs back up the cosine, we stay at eta_min
    assert np.all(ours[T:] == 0.001) and np.all(np.diff(theirs[T:]) > 0)


def test_cosine_annealing_matches_keras_cosinedecay_at_every_step():
    import keras

    T, steps = 40, np.arange(100)
    theirs = keras.optimizers.schedules.CosineDecay(np.float64(0.1), decay_steps=T, alpha=0.01)
    ours = schedules.cosine_annealing(0.1, T_max=T, eta_min=0.01 * 0.1)(steps)
    np.testing.assert_allclose(ours, _keras_lrs(theirs, steps), rtol=1e-12)


def test_warmup_matches_torch_linearlr_followed_by_the_wrapped_schedule():
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
    np.testing.assert_allclose(ours(np.arange(30)), theirs, rtol=1e-12)


def test_warmup_then_cosine_matches_keras_cosinedecay_with_warmup():
    """Keras passes a Python-float ``warmup_target`` through float32, hence np.float64 here too."""
    import keras

    w, T, steps = 10, 50, np.arange(80)
    theirs = keras.optimizers.schedules.CosineDecay(
        np.float64(0.001), decay_steps=T, alpha=0.1, warmup_target=np.float64(0.1), warmup_steps=w
    )
    ours = schedules.warmup(schedules.cosine_annealing(0.1, T, eta_min=0.01), w, start_lr=0.001)
    np.testing.assert_allclose(ours(steps), _keras_lrs(theirs, steps), rtol=1e-12)


# --- warm-up composes with anything -------------------------------------------------------------


INNER = {name: sched for name, sched in REGISTRY.items() if not name.startswith("warmup")}


def _not_vectorisable(t):
    """A plain Python schedule that only works one step at a time."""
    return 0.1 if t < 5 else 0.01


@pytest.mark.parametrize(
    "inner",
    [*INNER.values(), _not_vectorisable, lambda t: 0.2 / (1 + t)],
    ids=[*INNER, "python_if", "python_lambda"],
)
def test_warmup_rises_to_the_wrapped_schedule_and_then_follows_it(inner):
    w = 10
    sched = schedules.warmup(inner, warmup_steps=w)
    lrs = sched(np.arange(40))
    assert lrs[0] == 0.0
    assert np.all(np.diff(lrs[: w + 1]) > 0)  # rises during the warm-up
    assert sched(w) == pytest.approx(inner(0), rel=1e-15)  # continuous at the join
    np.testing.assert_allclose(lrs[w:], [inner(t) for t in range(30)], rtol=1e-15)


def test_warmup_of_zero_steps_is_the_wrapped_schedule():
    inner = REGISTRY["cosine_annealing"]
    np.testing.assert_array_equal(schedules.warmup(inner, 0)(STEPS), inner(STEPS))


@settings(max_examples=50, deadline=None)
@given(
    w=st.integers(1, 50),
    start=st.floats(0, 0.1),
    lr0=st.floats(1e-4, 1.0),
    rate=st.floats(0.5, 1.0),
)
def test_warmup_is_linear_from_start_lr_and_continuous_for_any_arguments(w, start, lr0, rate):
    inner = schedules.exponential(lr0, rate)
    sched = schedules.warmup(inner, w, start_lr=start)
    ramp = sched(np.arange(w + 1))
    np.testing.assert_allclose(ramp, np.linspace(start, lr0, w + 1), rtol=1e-12, atol=1e-15)
    assert sched(w + 3) == pytest.approx(inner(3), rel=1e-15)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: schedules.constant(-0.1), "initial_lr must be a finite number > 0, got -0.1"),
        (lambda: schedules.constant(float("nan")), "initial_lr must be .*, got nan"),
        (lambda: schedules.step_decay(0.1, 0.5, 0), "every must be an int >= 1, got 0"),
        (lambda: schedules.step_decay(0.1, 1.5, 3), r"drop must be in \(0, 1\], got 1.5"),
        (lambda: schedules.exponential(0.1, 1.5), r"rate must be in \(0, 1\], got 1.5"),
        (lambda: schedules.exponential(-1.0, 0.9), "initial_lr .*, got -1.0"),
        (lambda: schedules.exponential_decay(0, 0.1, 0, 0.96), "decay_steps .*, got 0"),
        (lambda: schedules.exponential_decay(0, 0.1, -5, 0.96), "decay_steps .*, got -5"),
        (lambda: schedules.exponential_decay(0, 0.1, 10, 0.0), "decay_rate .*, got 0.0"),
        (lambda: schedules.exponential_decay(0, 0.1, 10, -0.5), "decay_rate .*, got -0.5"),
        (lambda: schedules.exponential_decay(-1, 0.1, 10, 0.5), "step must be >= 0, got -1"),
        (lambda: schedules.cosine_annealing(0.1, 0), "T_max .*, got 0"),
        (lambda: schedules.cosine_annealing(0.1, 10, 0.2), r"eta_min must be in \[0, initial_lr"),
        (lambda: schedules.warmup(schedules.constant(0.1), -1), "warmup_steps .*, got -1"),
        (lambda: schedules.warmup(schedules.constant(0.1), 2.5), "warmup_steps .*, got 2.5"),
        (lambda: schedules.warmup(schedules.constant(0.1), 5, -0.1), "start_lr .*, got -0.1"),
        (lambda: schedules.warmup(0.1, 5), "schedule must be callable, got 0.1"),
    ],
)
def test_bad_arguments_raise_valueerror_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- the learning-rate range test ---------------------------------------------------------------


def _quadratic(a):
    """Gradient descent on f(w) = a w^2 / 2: w <- (1 - lr a) w, which diverges iff lr > 2 / a."""
    return lambda w, lr: (w - lr * a * w, 0.5 * a * w**2)


@pytest.mark.parametrize("a", [1.0, 10.0, 100.0])
def test_range_test_on_a_quadratic_stops_only_above_2_over_a_and_suggests_below(a):
    """While lr <= 2/a each step shrinks the loss, so the smoothed loss cannot grow; above 2/a
    every step multiplies it by (lr a - 1)^2 > 1 and the sweep must stop."""
    result = schedules.lr_range_test(_quadratic(a), 1.0, lr_min=1e-5, lr_max=100.0, num=150)
    assert result.diverged and len(result.lrs) < 150
    assert result.lrs[-1] > 2 / a
    below = result.lrs <= 2 / a
    assert np.all(np.diff(result.losses[below]) <= 0)
    assert 1e-5 < result.suggested_lr < 2 / a
    i = int(np.flatnonzero(result.lrs == result.suggested_lr)[0])
    assert result.smoothed[i + 1] < result.smoothed[i - 1]  # the loss falls there


def test_range_test_suggestion_scales_as_one_over_the_curvature():
    """Multiplying the curvature a by 10 and dividing every rate by 10 leaves each step the same,
    so the suggested rate must be exactly 10 times smaller."""
    lrs = np.geomspace(1e-4, 10.0, 100)
    base = schedules.lr_range_test(_quadratic(2.0), 1.0, lrs=lrs)
    stiff = schedules.lr_range_test(_quadratic(20.0), 1.0, lrs=lrs / 10)
    assert stiff.suggested_lr == pytest.approx(base.suggested_lr / 10, rel=1e-12)
    np.testing.assert_allclose(stiff.losses, 10 * base.losses, rtol=1e-9)  # f = a w^2 / 2


def test_range_test_defaults_sweep_1e_4_to_1e_1_geometrically():
    result = schedules.lr_range_test(_quadratic(1.0), 1.0)
    assert not result.diverged  # 0.1 < 2/a = 2: nothing to stop for
    assert len(result.lrs) == 100 and result.lrs[0] == pytest.approx(1e-4)
    assert result.lrs[-1] == pytest.approx(1e-1)
    np.testing.assert_allclose(np.diff(np.log(result.lrs)), np.log(1e3) / 99)


def _minibatch_regression(seed):
    """Linear regression with noisy targets; each step uses a random mini-batch of 50."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.5 * rng.normal(size=200)

    def step(w, lr):
        idx = rng.choice(200, size=50, replace=False)
        residual = X[idx] @ w - y[idx]  # (50,)
        return w - lr * 2 * X[idx].T @ residual / 50, float(np.mean(residual**2))

    # full-batch gradient descent diverges above 2 / (largest eigenvalue of the Hessian)
    largest_stable = 2 / np.linalg.eigvalsh(2 * X.T @ X / 200).max()
    return step, largest_stable


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_range_test_on_noisy_minibatches_stops_after_divergence_and_suggests_a_stable_rate(seed):
    step, largest_stable = _minibatch_regression(seed)
    result = schedules.lr_range_test(step, np.zeros(3), lr_min=1e-4, lr_max=10.0, num=100)
    assert result.diverged and len(result.lrs) < 100
    assert result.lrs[-1] > largest_stable / 2
    assert 1e-3 < result.suggested_lr < largest_stable


def test_range_test_uses_given_rates_and_leaves_the_initial_parameters_alone():
    w0 = np.array([1.0, -1.0])
    seen = []

    def step(w, lr):
        seen.append(lr)
        return w - lr * w, float(w @ w)

    result = schedules.lr_range_test(step, w0, lrs=[0.01, 0.02, 0.05, 0.1])
    assert seen == [0.01, 0.02, 0.05, 0.1] and result.lrs.tolist() == seen
    np.testing.assert_array_equal(w0, [1.0, -1.0])


def test_range_test_with_a_non_finite_first_loss_warns_and_suggests_nothing():
    with pytest.warns(RuntimeWarning, match="not finite"):
        result = schedules.lr_range_test(lambda w, lr: (w, float("nan")), 0.0)
    assert result.diverged and len(result.lrs) == 1 and np.isnan(result.suggested_lr)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr_min": 0.1, "lr_max": 0.01}, "lr_max must be > lr_min"),
        ({"lr_min": -1e-4}, "lr_min .*, got -0.0001"),
        ({"num": 2}, "num must be an int >= 3, got 2"),
        ({"lrs": [0.1, 0.01, 0.001]}, "lrs must be >= 3 increasing positive numbers"),
        ({"smoothing": 0.0}, "smoothing must be in"),
        ({"diverge_factor": 1.0}, "diverge_factor must be a finite number > 1, got 1.0"),
        ({"skip_start": -1}, "skip_start must be an int >= 0, got -1"),
    ],
)
def test_range_test_rejects_bad_arguments_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        schedules.lr_range_test(_quadratic(1.0), 1.0, **kwargs)


def test_importing_schedules_and_optim_imports_no_framework():
    code = (
        "import sys, coursekit.schedules, coursekit.optim; "
        "print(sorted({'torch', 'tensorflow', 'keras'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
