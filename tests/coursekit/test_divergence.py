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
