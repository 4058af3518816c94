"""coursekit.landscapes: the test functions' gradients against torch.autograd, the paths
against closed forms and torch.optim."""

import matplotlib
import numpy as np
import pytest

from coursekit import landscapes, optim

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.mark.parametrize("landscape", list(landscapes.LANDSCAPES.values()), ids=lambda s: s.name)
def test_gradients_agree_with_torch_autograd(landscape):
    import torch

    for point in np.random.default_rng(0).uniform(-2, 2, size=(10, 2)):
        w = torch.tensor(point, requires_grad=True)
        landscape.f(w[0], w[1]).backward()
        np.testing.assert_allclose(landscape.grad(point), w.grad.numpy(), rtol=1e-12)
        assert landscape(point) == pytest.approx(landscape.f(*point))


@pytest.mark.parametrize("landscape", list(landscapes.LANDSCAPES.values()), ids=lambda s: s.name)
def test_the_minima_are_stationary_and_lowest_nearby(landscape):
    offsets = np.random.default_rng(1).normal(scale=1e-2, size=(20, 2))
    for minimum in landscape.minima:
        np.testing.assert_allclose(landscape.grad(minimum), 0.0, atol=1e-12)
        assert all(landscape(np.add(minimum, d)) > landscape(minimum) for d in offsets)


def test_the_saddle_goes_up_in_x_and_down_in_y():
    saddle = landscapes.SADDLE
    assert saddle((0.1, 0)) > saddle((0, 0)) > saddle((0, 0.1))
    assert saddle(saddle.minima[0]) == pytest.approx(-1.0)


def test_gradient_descent_on_the_quadratic_follows_the_closed_form():
    lr, steps, start = 0.3, 25, (-5.0, -2.0)
    path = landscapes.trajectory(optim.SGD(lr=lr), landscapes.ILL_CONDITIONED, start, steps)
    t = np.arange(steps + 1)
    # f = 0.1 x^2 + 2 y^2: x <- (1 - 0.2 lr) x, y <- (1 - 4 lr) y
    np.testing.assert_allclose(path[:, 0], start[0] * (1 - 0.2 * lr) ** t, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], start[1] * (1 - 4 * lr) ** t, rtol=1e-12)


@pytest.mark.parametrize("landscape", list(landscapes.LANDSCAPES.values()), ids=lambda s: s.name)
def test_an_adam_path_is_the_one_torch_optim_takes(landscape):
    import torch

    start, steps = (1.5, 0.3), 40
    ours = landscapes.trajectory(optim.Adam(lr=0.05), landscape, start, steps)
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.05)
    theirs = [w.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        landscape.f(w[0], w[1]).backward()
        opt.step()
        theirs.append(w.detach().numpy().copy())
    np.testing.assert_allclose(ours, np.array(theirs), rtol=1e-9, atol=1e-12)


def test_a_path_starts_at_the_start_and_has_one_row_per_step():
    path = landscapes.trajectory(optim.SGD(lr=0.1), landscapes.SADDLE, (1.0, 0.5), 7)
    assert path.shape == (8, 2)
    np.testing.assert_array_equal(path[0], [1.0, 0.5])
    assert landscapes.trajectory(optim.SGD(lr=0.1), landscapes.SADDLE, (1, 0), 0).shape == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"landscape": "saddle"}, TypeError, "landscape must be a Landscape, got 'saddle'"),
        ({"steps": -1}, ValueError, "steps must be an int >= 0, got -1"),
        ({"steps": 2.5}, ValueError, "steps must be an int >= 0, got 2.5"),
        ({"start": (1.0, 2.0, 3.0)}, ValueError, "start must be a finite point"),
        ({"start": (np.nan, 0.0)}, ValueError, r"start must be finite \(no NaN or infinity\)"),
    ],
)
def test_bad_input_is_named(kwargs, error, message):
    args = {"landscape": landscapes.SADDLE, "start": (1.0, 0.0), "steps": 3} | kwargs
    with pytest.raises(error, match=message):
        landscapes.trajectory(optim.SGD(lr=0.1), **args)


def test_plot_landscape_draws_the_window_and_the_minima():
    import matplotlib.pyplot as plt

    ax = landscapes.plot_landscape(landscapes.SADDLE)
    assert ax.get_xlim() == landscapes.SADDLE.xlim
    assert len(ax.collections) >= 2  # the contours and the minima's stars
    plt.close("all")
