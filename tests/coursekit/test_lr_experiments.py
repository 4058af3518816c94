"""Chapter 4's experiments: the exercise sheet's three learning rates, three outcomes; the range
test on an MLP."""

import matplotlib
import numpy as np
import pytest

from coursekit import lr_experiments
from coursekit.mlp.history import History

matplotlib.use("Agg")

EPOCHS = 20


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def sheet_runs():
    import torch

    torch.set_num_threads(1)
    return lr_experiments.learning_rate_experiment(epochs=EPOCHS)


def test_the_sheets_three_rates_on_raw_digits_are_too_small_good_and_too_large(sheet_runs):
    verdicts = {lr: run.verdict for lr, run in sheet_runs.items()}
    assert verdicts == {1e-6: "too small", 0.01: "good", 1.0: "too large"}


def test_at_rate_1_the_loss_blows_up_then_sits_at_the_loss_of_guessing(sheet_runs):
    run = sheet_runs[1.0]
    assert run.history.loss[0] > 100 * run.initial_loss  # the first epoch blows up
    assert run.history.loss[-1] == pytest.approx(run.chance_loss, abs=0.05)
    assert run.chance_loss == pytest.approx(np.log(10), abs=0.01)  # ten balanced digits
    assert run.history.val_accuracy[-1] < 0.2  # no better than one class for every input


def test_at_rate_1_every_relu_unit_is_dead_and_the_output_ignores_the_input(sheet_runs):
    import torch

    from coursekit import data

    X = torch.as_tensor(data.load("digits", seed=0).X_train, dtype=torch.float32)
    a = X
    for layer in sheet_runs[1.0].model:
        a = layer(a)
        if isinstance(layer, torch.nn.ReLU):
            assert bool((a.max(dim=0).values == 0).all())  # dead for every input
    assert torch.allclose(a, a[:1].expand_as(a))  # one output for all inputs
    first = sheet_runs[0.01].model[1](sheet_runs[0.01].model[0](X))
    assert bool((first.max(dim=0).values > 0).any())  # at 0.01 the units live


def test_runs_start_from_the_same_untrained_network(sheet_runs):
    starts = {run.initial_loss for run in sheet_runs.values()}
    assert len(starts) == 1
    run = sheet_runs[0.01]
    assert run.losses[0] == run.initial_loss and len(run.losses) == EPOCHS + 1


def test_histories_have_one_entry_per_epoch(sheet_runs):
    for run in sheet_runs.values():
        history = run.history
        assert history.epochs_run == len(history.val_loss) == EPOCHS
        assert np.all(np.isfinite(history.loss))


def test_a_rerun_is_identical_and_the_tiniest_rate_stays_worse_than_guessing(sheet_runs):
    again = lr_experiments.learning_rate_experiment(lrs=(0.01,), epochs=EPOCHS)
    assert again[0.01].history.loss == sheet_runs[0.01].history.loss
    tiny = sheet_runs[1e-6]
    assert tiny.history.loss[-1] > 2 * tiny.chance_loss


def test_whether_a_rate_is_too_large_depends_on_the_data_and_its_scaling():
    scaled = lr_experiments.learning_rate_experiment(
        lrs=(1.0,), data="breast_cancer", epochs=10, standardize=True
    )
    assert scaled[1.0].verdict == "good"
    raw = lr_experiments.learning_rate_experiment(
        lrs=(0.01,), data="breast_cancer", epochs=10, batch_size=1000
    )
    assert raw[0.01].verdict == "too large"


def test_chance_loss_is_the_entropy_of_the_class_frequencies():
    assert lr_experiments.chance_loss([0, 1, 1, 1]) == pytest.approx(
        -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    )
    assert lr_experiments.chance_loss([3, 3, 3]) == 0.0


def test_classify_run_thresholds():
    small, large = lr_experiments.TOO_SMALL_FALL, lr_experiments.TOO_LARGE_RISE
    assert (small, large, lr_experiments.BLOW_UP) == (0.05, 0.10, 2.0)
    assert lr_experiments.classify_run(History("numpy", loss=[1.0, 0.99, 0.96])) == "too small"
    assert lr_experiments.classify_run([1.0, 0.97, 0.94]) == "good"  # fell by 6% >= 5%
    assert lr_experiments.classify_run([1.0, 0.6, 0.4]) == "good"
    assert lr_experiments.classify_run([1.0, 0.5, 0.59, 0.3]) == "good"  # rise of 9% < 10%
    assert lr_experiments.classify_run([1.0, 0.5, 0.62, 0.3]) == "too large"  # oscillates
    assert lr_experiments.classify_run([1.0, 0.9, 1.01]) == "too large"  # ends above the start
    assert lr_experiments.classify_run([1.0, 2.0, np.nan]) == "too large"
    assert lr_experiments.classify_run([1.0, np.inf]) == "too large"
    # against the untrained loss: a first epoch far above it blew up
    assert lr_experiments.classify_run([2.1, 0.5], initial_loss=1.0) == "too large"
    assert lr_experiments.classify_run([1.9, 0.5], initial_loss=1.0) == "too large"  # rose 90%
    assert lr_experiments.classify_run([0.9, 0.5], initial_loss=1.0) == "good"
    # fell, but is still no better than guessing the class frequencies
    assert lr_experiments.classify_run([0.9, 0.8], initial_loss=1.0, chance=0.7) == "too small"
    assert lr_experiments.classify_run([0.9, 0.6], initial_loss=1.0, chance=0.7) == "good"
    with pytest.raises(ValueError, match="at least 2 epochs"):
        lr_experiments.classify_run([1.0])
    with pytest.raises(ValueError, match="initial_loss must be a finite number > 0, got nan"):
        lr_experiments.classify_run([1.0, 0.5], initial_loss=float("nan"))


def test_bad_learning_rates_are_named():
    with pytest.raises(ValueError, match="at least one learning rate"):
        lr_experiments.learning_rate_experiment(lrs=())
    with pytest.raises(ValueError, match="number > 0, got -0.1"):
        lr_experiments.learning_rate_experiment(lrs=(0.01, -0.1))


def test_plot_draws_one_curve_per_rate_from_epoch_0_and_the_chance_level(sheet_runs):
    import matplotlib.pyplot as plt

    ax = lr_experiments.plot_learning_curves(sheet_runs)
    assert len(ax.get_lines()) == 4  # three rates and the level of guessing
    assert "too large" in ax.get_legend().get_texts()[2].get_text()
    assert ax.get_lines()[0].get_xdata()[0] == 0  # epoch 0: the untrained network
    _, given = plt.subplots()
    assert lr_experiments.plot_learning_curves(sheet_runs, ax=given, validation=True) is given
    assert len(given.get_lines()) == 7
    histories = {lr: run.history for lr, run in sheet_runs.items()}
    assert len(lr_experiments.plot_learning_curves(histories).get_lines()) == 3


def _cancer():
    from coursekit import data
    from coursekit.mlp import MLPSpec
    from coursekit.scaling import Standardizer

    split = data.load("breast_cancer")
    X = Standardizer().fit_transform(split.X_train)
    spec = MLPSpec(n_inputs=30, hidden=(100, 100), output="softmax", n_outputs=2, batch_size=32)
    return spec, X, split.y_train


def test_range_test_suggests_a_rate_inside_the_default_sweep():
    spec, X, y = _cancer()
    result = lr_experiments.lr_range_test_mlp(spec, X, y)
    assert len(result.lrs) == len(result.losses) == 100 and not result.diverged
    assert result.lrs[0] == pytest.approx(1e-4) and result.lrs[-1] == pytest.approx(1e-1)
    assert 1e-4 < result.suggested_lr < 1e-1
    same = lr_experiments.lr_range_test_mlp(spec, X, y, lrs=np.geomspace(1e-4, 1e-1, 100))
    np.testing.assert_array_equal(same.losses, result.losses)


def test_range_test_stops_early_on_divergence():
    spec, X, y = _cancer()
    result = lr_experiments.lr_range_test_mlp(spec, X, y, lrs=np.geomspace(1e-4, 10.0, 100))
    assert result.diverged and len(result.lrs) < 100
    assert result.smoothed[-1] > 4 * np.nanmin(result.smoothed[:-1])
    assert 1e-4 <= result.suggested_lr <= result.lrs[-1]
    ax = lr_experiments.plot_lr_range_test(result)
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 3
    # the axis stops at 1.5 times the start, below the explosion at the end
    assert ax.get_ylim()[1] == pytest.approx(1.5 * result.smoothed[0])
    assert ax.get_ylim()[1] < np.nanmax(result.losses)
    unclipped = lr_experiments.plot_lr_range_test(result, clip=None)
    assert unclipped.get_ylim()[1] >= np.nanmax(result.losses)


def test_range_test_rejects_a_sweep_that_is_not_geometric():
    spec, X, y = _cancer()
    with pytest.raises(ValueError, match="grow geometrically"):
        lr_experiments.lr_range_test_mlp(spec, X, y, lrs=np.linspace(1e-4, 1e-1, 50))


@pytest.mark.slow
def test_the_experiment_runs_in_keras_too():
    runs = lr_experiments.learning_rate_experiment(lrs=(1e-6, 0.01), framework="keras", epochs=3)
    assert [run.history.framework for run in runs.values()] == ["keras", "keras"]
    assert all(run.history.epochs_run == 3 for run in runs.values())
