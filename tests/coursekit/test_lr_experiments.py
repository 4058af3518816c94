"""Chapter 4's experiments: three learning rates, three outcomes; the range test on an MLP."""

import matplotlib
import numpy as np
import pytest

from coursekit import lr_experiments
from coursekit.mlp.history import History

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def seed003_runs():
    import torch

    torch.set_num_threads(1)
    return lr_experiments.learning_rate_experiment(epochs=20)


def test_seed003_rates_are_too_small_good_and_too_large(seed003_runs):
    verdicts = {lr: lr_experiments.classify_run(h) for lr, h in seed003_runs.items()}
    assert verdicts == {1e-6: "too small", 0.01: "good", 1.0: "too large"}
    assert all(h.epochs_run == 20 and len(h.val_loss) == 20 for h in seed003_runs.values())


def test_the_experiment_is_deterministic(seed003_runs):
    again = lr_experiments.learning_rate_experiment(lrs=(0.01,), epochs=20)
    assert again[0.01].loss == seed003_runs[0.01].loss


def test_classify_run_thresholds():
    def run(losses):
        return History("numpy", loss=list(losses))

    assert lr_experiments.classify_run(run([1.0, 0.99, 0.98])) == "too small"
    assert lr_experiments.classify_run(run([1.0, 0.6, 0.4])) == "good"
    assert lr_experiments.classify_run(run([1.0, 0.5, 0.8, 0.3])) == "too large"  # oscillates
    assert lr_experiments.classify_run(run([1.0, 2.0, np.nan])) == "too large"
    with pytest.raises(ValueError, match="at least 2 epochs"):
        lr_experiments.classify_run(run([1.0]))


def test_plot_draws_one_curve_per_rate(seed003_runs):
    ax = lr_experiments.plot_learning_curves(seed003_runs, validation=True)
    assert len(ax.get_lines()) == 6
    assert "too large" in ax.get_legend().get_texts()[2].get_text()


def test_range_test_on_an_mlp_suggests_a_rate_inside_the_sweep_and_stops_on_divergence():
    from coursekit import data
    from coursekit.mlp import MLPSpec
    from coursekit.scaling import Standardizer

    split = data.load("breast_cancer")
    X = Standardizer().fit_transform(split.X_train)
    spec = MLPSpec(n_inputs=30, hidden=(100, 100), output="softmax", n_outputs=2, batch_size=32)
    result = lr_experiments.lr_range_test_mlp(spec, X, split.y_train, lr_max=10.0)
    assert result.diverged and len(result.lrs) < 100
    assert 1e-4 <= result.suggested_lr <= result.lrs[-1]
    ax = lr_experiments.plot_lr_range_test(result)
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 3
