"""L2 in the loss versus decoupled weight decay: coursekit's AdamW against torch.optim.AdamW,
Adam(weight_decay) against torch.optim.Adam(weight_decay), and the two equal for plain SGD."""

import numpy as np
import pytest

from coursekit import optim
from coursekit.weight_decay import AdamW

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

RNG = np.random.default_rng(0)
START = {"W": RNG.normal(size=(3, 2))}
GRADS = [{"W": RNG.normal(size=(3, 2)) * 10.0 ** RNG.integers(-3, 2)} for _ in range(12)]


def _ours(opt):
    params = dict(START)
    for g in GRADS:
        params = opt.step(params, g)
    return params["W"]


def _torch(make):
    w = torch.nn.Parameter(torch.tensor(START["W"]))
    opt = make([w])
    for g in GRADS:
        w.grad = torch.tensor(g["W"])
        opt.step()
    return w.detach().numpy()


def test_adamw_matches_torch_adamw():
    want = _torch(lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.3))
    np.testing.assert_allclose(_ours(AdamW(lr=0.05, weight_decay=0.3)), want, rtol=1e-10)


def test_adam_with_l2_matches_torch_adam_weight_decay_and_differs_from_adamw():
    coupled = _ours(optim.Adam(lr=0.05, weight_decay=0.3))
    want = _torch(lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.3))
    np.testing.assert_allclose(coupled, want, rtol=1e-10)
    decoupled = _ours(AdamW(lr=0.05, weight_decay=0.3))
    assert np.abs(coupled - decoupled).max() > 1e-2


def test_for_plain_gradient_descent_l2_and_decoupled_decay_are_one_update():
    lr, lam = 0.1, 0.3
    l2 = _ours(optim.SGD(lr=lr, weight_decay=lam))
    params = dict(START)
    for g in GRADS:  # decoupled: shrink, then the plain step
        params = {"W": params["W"] - lr * lam * params["W"] - lr * g["W"]}
    np.testing.assert_allclose(l2, params["W"], rtol=1e-12)
    want = _torch(lambda p: torch.optim.SGD(p, lr=lr, weight_decay=lam))
    np.testing.assert_allclose(l2, want, rtol=1e-12)


def test_adamw_without_decay_is_adam_and_a_negative_decay_is_refused():
    np.testing.assert_allclose(_ours(AdamW(lr=0.05, weight_decay=0.0)), _ours(optim.Adam(lr=0.05)))
    with pytest.raises(ValueError, match="weight_decay must be"):
        AdamW(weight_decay=-0.1)
