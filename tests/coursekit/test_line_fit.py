"""Gradient descent on a line: the gradient against torch.autograd, the path to least squares."""

import itertools

import numpy as np
import pytest

from coursekit.line_fit import descent_path, line_grad, line_loss

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 2, 20)
Y = 0.5 + 1.5 * X + 0.2 * RNG.normal(size=20)


def test_loss_and_gradient_match_torch_autograd():
    phi = torch.tensor([0.3, -0.7], requires_grad=True, dtype=torch.float64)
    loss = ((phi[0] + phi[1] * torch.tensor(X) - torch.tensor(Y)) ** 2).sum()
    loss.backward()
    assert line_loss(phi.detach().numpy(), X, Y) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(line_grad(phi.detach().numpy(), X, Y), phi.grad.numpy(), rtol=1e-12)


def test_the_path_starts_at_start_descends_and_ends_at_least_squares():
    path = descent_path(X, Y, lr=0.01, steps=500, start=(0.0, 0.0))
    assert path.shape == (501, 2)
    np.testing.assert_array_equal(path[0], [0.0, 0.0])
    losses = [line_loss(p, X, Y) for p in path]
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(losses))
    np.testing.assert_allclose(path[-1], np.polyfit(X, Y, 1)[::-1], atol=1e-6)


def test_mismatched_data_and_bad_phi_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        line_loss([0.0, 0.0], X, Y[:5])
    with pytest.raises(ValueError, match=r"phi must be \(phi0, phi1\)"):
        line_grad([0.0, 0.0, 0.0], X, Y)
    with pytest.raises(ValueError, match="lr must be"):
        descent_path(X, Y, lr=0.0, steps=3)
