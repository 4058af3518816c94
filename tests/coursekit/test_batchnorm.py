"""batchnorm_forward against torch.nn.BatchNorm1d, step by step, in train() and eval() mode."""

import numpy as np
import pytest

from coursekit.batchnorm import BatchNormStats, batchnorm_forward

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def test_training_and_evaluation_match_torch_batchnorm1d_over_several_steps():
    rng = np.random.default_rng(0)
    d = 4
    layer = torch.nn.BatchNorm1d(d, eps=1e-5, momentum=0.2).double()
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(gamma))
        layer.bias.copy_(torch.tensor(beta))
    stats = BatchNormStats.initial(d)
    for step in range(5):
        X = rng.normal(3.0 + step, 2.0, size=(16, d))
        layer.train()
        want = layer(torch.tensor(X)).detach().numpy()
        out, stats = batchnorm_forward(X, gamma, beta, stats, training=True, momentum=0.2)
        np.testing.assert_allclose(out, want, atol=1e-12)
        np.testing.assert_allclose(stats.mean, layer.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(stats.var, layer.running_var.numpy(), atol=1e-12)
    X = rng.normal(5.0, 2.0, size=(3, d))
    layer.eval()
    want = layer(torch.tensor(X)).detach().numpy()
    out, same = batchnorm_forward(X, gamma, beta, stats, training=False, momentum=0.2)
    np.testing.assert_allclose(out, want, atol=1e-12)
    assert same is stats


def test_in_training_each_feature_has_mean_beta_and_std_gamma():
    X = np.random.default_rng(1).normal(10, 5, size=(64, 3))
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    out, _ = batchnorm_forward(X, gamma, beta, BatchNormStats.initial(3), training=True)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-4)


def test_evaluation_output_of_a_sample_does_not_depend_on_its_batch():
    rng = np.random.default_rng(2)
    stats = BatchNormStats(rng.normal(size=3), rng.uniform(0.5, 2, size=3))
    X = rng.normal(size=(5, 3))
    g, b = np.ones(3), np.zeros(3)
    alone, _ = batchnorm_forward(X[:1], g, b, stats, training=False)
    in_batch, _ = batchnorm_forward(X, g, b, stats, training=False)
    np.testing.assert_array_equal(alone[0], in_batch[0])
    trained, _ = batchnorm_forward(X, g, b, stats, training=True)
    assert not np.allclose(trained[0], in_batch[0])


def test_bad_shapes_and_batches_are_refused_by_name():
    stats = BatchNormStats.initial(3)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        batchnorm_forward(np.ones((4, 3)), np.ones(2), np.zeros(3), stats, training=True)
    with pytest.raises(ValueError, match="at least 2 samples"):
        batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3), stats, training=True)
    with pytest.raises(ValueError, match="momentum must be"):
        batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3), stats, True, momentum=1.5)
