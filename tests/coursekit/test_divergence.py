"""Do the lessons' experiment helpers survive the divergence they exist to show?

Each helper is driven past its stable range (a learning rate far too large): the run must end
normally and *record* the divergence (NaN, inf, a blown-up loss) as its result, with the
epoch or step where it happened, never raise. Warnings about overflow are errors here, so a
helper that lets numpy complain on the way fails too.
"""

import warnings

import numpy as np
import pytest

from coursekit import landscapes, lr_experiments, optim

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.mark.parametrize("framework", ["torch", "numpy", "sklearn"])
def test_a_diverging_rate_is_the_verdict_too_large_with_its_epoch(framework):
    runs = lr_experiments.learning_rate_experiment(
        lrs=(0.1, 10.0), data="digits", framework=framework, epochs=3, standardize=True
    )
    stable, blown = runs[0.1], runs[10.0]
    assert stable.verdict == "good" and stable.diverged_epoch is None
    assert blown.verdict == "too large"
    assert blown.diverged_epoch == 1  # lr 10 on standardized digits: at once
    assert blown.history.epochs_run == 3  # it ran on; no exception
    assert (
        not np.all(np.isfinite(blown.history.loss))
        or max(blown.history.loss) > 2 * blown.initial_loss
    )


@pytest.mark.slow
def test_a_diverging_rate_in_keras_is_the_verdict_too_large():
    runs = lr_experiments.learning_rate_experiment(
        lrs=(10.0,), framework="keras", epochs=2, standardize=True
    )
    assert runs[10.0].verdict == "too large" and runs[10.0].diverged_epoch == 1


def test_diverged_epoch_is_the_first_non_finite_or_blown_up_epoch():
    nan, inf = float("nan"), float("inf")
    assert lr_experiments.diverged_epoch([0.7, 0.6, inf, nan], initial_loss=0.7) == 3
    assert lr_experiments.diverged_epoch([0.7, 1.5, 0.6], initial_loss=0.7) == 2  # > 2 x start
    assert lr_experiments.diverged_epoch([0.7, 1.3, 0.6], initial_loss=0.7) is None
    assert lr_experiments.classify_run([0.7, 0.6, nan], initial_loss=0.7) == "too large"


def test_the_range_test_records_a_sweep_into_nan_as_divergence():
    from coursekit import data, mlp
    from coursekit.scaling import Standardizer

    split = data.load("breast_cancer", seed=0)
    X = Standardizer().fit(split.X_train).transform(split.X_train)
    spec = mlp.MLPSpec(n_inputs=30, hidden=(16,), output="softmax", n_outputs=2, batch_size=32)
    # a sweep that ends at 1e6: the loss overflows to inf/NaN long before the end
    result = lr_experiments.lr_range_test_mlp(spec, X, split.y_train, lr_min=1e-3, lr_max=1e6)
    assert result.diverged and result.lrs[-1] < 1e6
    assert 1e-3 <= result.suggested_lr < result.lrs[-1]


@pytest.mark.parametrize(
    "make",
    [lambda: optim.SGD(lr=5.0), lambda: optim.SGD(lr=5.0, momentum=0.9)],
    ids=["sgd", "momentum"],
)
def test_an_optimizer_path_that_diverges_is_recorded_not_raised(make):
    path = landscapes.trajectory(make(), landscapes.ILL_CONDITIONED, (-5.0, -2.0), steps=400)
    assert path.shape == (401, 2)
    finite = np.isfinite(path).all(axis=1)
    assert not finite.all()  # it overflowed ...
    first_bad = int(np.argmin(finite))
    assert finite[:first_bad].all() and np.abs(path[first_bad - 1]).max() > 1e100  # ... by growing


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Adagrad"])
def test_an_adaptive_optimizer_with_a_huge_rate_leaves_the_saddle_as_a_recorded_overflow(name):
    from coursekit.divergence import first_non_finite

    opt = getattr(optim, name)(lr=1e200)  # a first step of ~1e200, then y**3 overflows
    path = landscapes.trajectory(opt, landscapes.SADDLE, (1.0, 0.5), steps=50)
    assert path.shape == (51, 2)
    step = first_non_finite(path)
    assert step is not None and np.isfinite(path[:step]).all()
    assert np.abs(path[step - 1]).max() > 1e100


def test_a_search_over_rates_records_a_diverging_trial_and_goes_on():
    from coursekit import tuning

    def objective(params):  # 2000 steps of gradient descent on w**2: lr > 1 overflows
        w = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for _ in range(2000):
                w = w - params["lr"] * 2 * w
        return w * w

    space = {"lr": tuning.Choice([0.1, 0.5, 3.0])}
    result = tuning.grid_search(space, objective)
    by_lr = {t.params["lr"]: t for t in result.trials}
    assert len(by_lr) == 3 and not by_lr[3.0].ok and by_lr[0.1].ok and by_lr[0.5].ok
    assert result.best.ok and result.best.params["lr"] != 3.0
    assert by_lr[3.0].score != by_lr[3.0].score or by_lr[3.0].score == float("inf")


# -- every other helper the lessons call, driven past its stable range -------------------------


def test_a_wide_naive_initialization_records_the_layer_where_the_signal_overflowed():
    from coursekit import initialization as ini

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 64)), rng.integers(0, 2, 32)
    # ReLU with std 100 at width 64: the signal grows some 500-fold a layer, and its spread
    # (a sum of squares) passes the float64 range (1.8e308) half-way through 150 layers
    blown = ini.gradient_norms(ini.deep_mlp("naive", 150, 64, naive_std=100.0), "relu", X, y)
    layer = blown.diverged_layer
    assert layer is not None and 30 < layer <= 150
    assert np.isfinite(blown.activations[: layer - 1]).all()
    assert blown.activations[layer - 2] > 1e100  # it grew on the way ...
    assert not np.isfinite(blown.activations[layer - 1])  # ... and overflowed there
    assert not np.isfinite(blown.loss)
    he = ini.gradient_norms(ini.deep_mlp("he", 150, 64), "relu", X, y)
    assert he.diverged_layer is None and np.isfinite(he.loss)


def test_xor_training_with_a_huge_rate_records_its_diverged_epoch():
    from coursekit import xor

    X, y = xor.dataset()
    params, history = xor.train(xor.lecture_params(), X, y, lr=1e300, epochs=4)
    assert len(history["loss"]) == 4 and len(history["params"]) == 4  # every epoch ran
    assert not np.isfinite(history["loss"]).any()
    assert history["diverged_epoch"] == 1
    assert not all(np.isfinite(v).all() for v in params.values())
    _, lecture = xor.train(xor.lecture_params(), X, y, lr=0.1, epochs=3)
    assert lecture["diverged_epoch"] is None


def test_gradient_descent_on_a_line_records_where_the_path_overflowed():
    from coursekit import line_fit
    from coursekit.divergence import first_non_finite

    x = np.linspace(0.0, 10.0, 20)
    path = line_fit.descent_path(x, 2 * x + 1, lr=1.0, steps=400)
    assert path.shape == (401, 2)
    step = first_non_finite(path)
    assert step is not None and 10 < step < 400
    assert np.isfinite(path[:step]).all() and np.abs(path[step - 1]).max() > 1e100
    assert first_non_finite(line_fit.descent_path(x, 2 * x + 1, lr=1e-3, steps=60)) is None


@pytest.mark.parametrize(
    "values, mode, stopped, best, diverged",
    [
        ([1.0, 0.5] + [float("nan")] * 100, "min", 3, 1, 2),
        ([float("nan")] * 100, "min", 2, 0, 0),
        ([1.0, 0.5, float("inf")] + [float("nan")] * 100, "min", 3, 1, 2),
        ([0.5, 0.7] + [float("nan")] * 100, "max", 3, 1, 2),
    ],
    ids=["nan-after-training", "nan-from-the-start", "inf-then-nan", "accuracy-nan"],
)
def test_early_stopping_fed_nan_stops_patience_epochs_after_its_best_and_says_so(
    values, mode, stopped, best, diverged
):
    from coursekit.regularization import EarlyStopping

    stopper = EarlyStopping(patience=2, mode=mode)
    for epoch, value in enumerate(values):
        if stopper.step(value, {"epoch": epoch}):
            break
    else:
        pytest.fail("early stopping kept waiting on NaN losses")
    assert (stopper.stopped_epoch, stopper.best_epoch) == (stopped, best)
    assert stopper.diverged_epoch == diverged
    assert stopper.final_params(None) == {"epoch": best}


def test_early_stopping_on_finite_losses_records_no_divergence():
    from coursekit.regularization import EarlyStopping

    stopper = EarlyStopping(patience=1)
    for value in [1.0, 0.5, 0.6, 0.7]:
        stopper.step(value)
    assert stopper.diverged_epoch is None and stopper.stopped_epoch == 2


def test_the_tiny_batch_check_stops_at_a_diverging_loss_and_says_when():
    import torch

    from coursekit import sanity

    torch.manual_seed(0)
    X, y = torch.randn(8, 4), torch.randn(8, 1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(net.parameters(), lr=1e4)  # far too large

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(X), y)
        loss.backward()
        opt.step()
        return loss.item()

    result = sanity.overfit_tiny_batch(step, max_steps=500, threshold=1e-3)
    assert not result.reached and result.steps is None
    assert result.diverged_step == len(result.losses) < 500  # it stopped there
    assert np.isfinite(result.losses[:-1]).all() and not np.isfinite(result.losses[-1])


@pytest.mark.parametrize(
    "framework", ["numpy", "torch", "sklearn", pytest.param("keras", marks=pytest.mark.slow)]
)
def test_the_training_recipes_record_a_diverged_run_and_stop_early(framework):
    from coursekit import data
    from coursekit.mlp import recipes

    split = data.load("diabetes", seed=0)
    result = recipes.small_regressor(
        split, framework=framework, optimizer="sgd", lr=1e3, epochs=30, patience=5
    )
    history = result.history
    assert history.diverged_epoch == 1
    assert not np.isfinite(history.loss).all()
    assert history.stopped_epoch == 5 and history.epochs_run == 6  # not all 30 epochs
    assert np.isnan(result.test["loss"]) and np.isnan(result.test["rmse"])
    stable = recipes.small_regressor(split, framework=framework, epochs=3, patience=5)
    assert stable.history.diverged_epoch is None and np.isfinite(stable.test["rmse"])


def test_successive_halving_never_promotes_a_diverging_configuration():
    from coursekit.tuning import successive_halving

    def objective(params, budget):  # gradient descent on w**2: lr > 1 overflows to inf/NaN
        w = 1.0
        for _ in range(200 * budget):
            w = w - params["lr"] * 2 * w
        return w * w

    space = {"lr": [0.05, 0.2, 0.45, 1.5, 3.0, 50.0, 1e3, 1e6, 1e150]}
    result = successive_halving(space, objective, n_configs=9, eta=3, seed=0)
    diverged = {t.params["lr"] for t in result.rungs[0].trials if not np.isfinite(t.score)}
    assert diverged and all(lr > 1 for lr in diverged)
    for rung in result.rungs[1:]:
        assert not {t.params["lr"] for t in rung.trials} & diverged
    assert result.best.params["lr"] < 1 and np.isfinite(result.best.score)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 1e200], ids=["inf", "nan", "huge"])
def test_clipping_an_overflowed_gradient_gives_what_torch_gives(bad):
    import torch

    from coursekit import clipping

    grads = {"W": np.array([[1.0, bad], [0.5, -2.0]]), "b": np.array([3.0])}
    params = []
    for g in grads.values():
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g)
        params.append(p)
    norm = torch.nn.utils.clip_grad_norm_(params, 1.0).item()
    clipped, ours = clipping.clip_by_global_norm(grads, 1.0)
    np.testing.assert_array_equal([ours], [clipping.global_norm(grads)])
    np.testing.assert_array_equal(np.isnan([ours]), np.isnan([norm]))
    assert np.isnan(ours) or ours == norm == float("inf")
    for p, key in zip(params, grads, strict=True):
        np.testing.assert_array_equal(clipped[key], p.grad.numpy())  # NaN where torch has NaN
    by_value = clipping.clip_by_value(grads, 1.0)
    for key, g in grads.items():
        np.testing.assert_array_equal(by_value[key], torch.clamp(torch.tensor(g), -1, 1).numpy())


def test_first_non_finite_is_the_row_of_a_path_and_the_entry_of_a_curve():
    from coursekit.divergence import first_non_finite

    assert first_non_finite([[0.0, 1.0], [1e308, 2.0], [float("inf"), 0.0]]) == 2
    assert first_non_finite([0.5, float("nan"), 0.1]) == 1
    assert first_non_finite([0.5, 0.25]) is None and first_non_finite([]) is None
