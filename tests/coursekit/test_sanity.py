"""Sanity checks before training: ln C against torch's cross-entropy of an untrained network,
and overfit_tiny_batch on a real torch network (it fits 8 points) and a broken one (it cannot)."""

import math

import numpy as np
import pytest

from coursekit.sanity import check_initial_loss, expected_initial_loss, overfit_tiny_batch

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


@pytest.mark.parametrize("n_classes", [2, 10, 100])
def test_an_untrained_network_starts_near_ln_c(n_classes):
    torch.manual_seed(0)
    X = torch.randn(512, 20)
    y = torch.randint(0, n_classes, (512,))
    net = torch.nn.Sequential(
        torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, n_classes)
    )
    loss = torch.nn.functional.cross_entropy(net(X), y).item()
    check = check_initial_loss(loss, n_classes)
    assert check.expected == pytest.approx(math.log(n_classes))
    assert check.ok, check


def test_a_network_with_huge_output_weights_fails_the_initial_loss_check():
    torch.manual_seed(0)
    X, y = torch.randn(512, 20), torch.randint(0, 10, (512,))
    net = torch.nn.Linear(20, 10)
    with torch.no_grad():
        net.weight.mul_(50.0)
    check = check_initial_loss(torch.nn.functional.cross_entropy(net(X), y).item(), 10)
    assert not check.ok and check.ratio > 3


def _stepper(lr, frozen=False):
    torch.manual_seed(0)
    X, y = torch.randn(8, 5), torch.randint(0, 3, (8,))
    net = torch.nn.Sequential(torch.nn.Linear(5, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))
    params = [p for p in net.parameters()][-2:] if frozen else list(net.parameters())
    if frozen:  # the classic bug: only the last layer is trained, and its inputs are 0
        with torch.no_grad():
            net[0].weight.zero_()
            net[0].bias.zero_()
    opt = torch.optim.Adam(params, lr=lr)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(X), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def test_a_working_network_overfits_a_tiny_batch_and_a_broken_one_does_not():
    good = overfit_tiny_batch(_stepper(0.01), max_steps=1000, threshold=0.01)
    assert good.reached and good.steps < 1000
    broken = overfit_tiny_batch(_stepper(0.01, frozen=True), max_steps=300, threshold=0.01)
    assert not broken.reached and broken.steps is None and len(broken.losses) == 300
    assert broken.losses[-1] > 0.5


def test_a_diverging_loss_stops_the_attempt():
    losses = iter([1.0, 10.0, float("inf"), 0.0])
    result = overfit_tiny_batch(lambda: next(losses), max_steps=10, threshold=0.1)
    assert len(result.losses) == 3 and not result.reached


@pytest.mark.parametrize("loss", [float("inf"), float("nan")])
def test_an_initial_loss_that_overflowed_is_not_ok_rather_than_an_error(loss):
    result = check_initial_loss(loss, 10)
    assert not result.ok and result.expected == pytest.approx(np.log(10))


def test_bad_values_are_refused_by_name():
    with pytest.raises(ValueError, match="n_classes must be"):
        expected_initial_loss(1)
    with pytest.raises(ValueError, match=r"loss must be in \[0, inf\], got -0.5"):
        check_initial_loss(-0.5, 3)
    with pytest.raises(ValueError, match="step must be"):
        overfit_tiny_batch(np.zeros(3), 10, 0.1)
