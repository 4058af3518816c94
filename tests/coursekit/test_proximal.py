"""The L1 proximal step (soft thresholding) against independent references.

References: PyTorch's ``softshrink``, a brute-force minimization of the proximal objective,
and scikit-learn's ``Lasso`` (coordinate descent) for the solution that proximal gradient
descent reaches on a least-squares problem.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coursekit.regularization import l1_grad, l1_proximal, soft_threshold

FINITE = st.floats(-10, 10, allow_nan=False, width=64)


@settings(max_examples=50, deadline=None)
@given(v=arrays(np.float64, st.integers(1, 20), elements=FINITE), t=st.floats(0, 5))
def test_soft_threshold_equals_torch_softshrink(v, t):
    import torch

    torch.set_num_threads(1)
    theirs = torch.nn.functional.softshrink(torch.tensor(v), t).numpy()
    np.testing.assert_allclose(soft_threshold(v, t), theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("v", [-2.0, -0.7, -0.2, 0.0, 0.15, 0.5, 3.0])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_soft_threshold_minimizes_the_proximal_objective_by_brute_force(v, t):
    """Is prox_t(v) the argmin of (z - v)^2 / 2 + t |z|? (a grid of 400 001 points)"""
    z = np.linspace(-5, 5, 400_001)  # spacing 2.5e-5
    objective = 0.5 * (z - v) ** 2 + t * np.abs(z)
    assert soft_threshold(v, t) == pytest.approx(z[objective.argmin()], abs=3e-5)


def test_weights_within_the_threshold_become_exactly_zero_and_the_rest_move_by_it():
    v = np.array([-1.0, -0.25, -0.1, 0.0, 0.1, 0.2, 0.9])
    out = soft_threshold(v, 0.2)
    assert np.array_equal(out == 0, np.abs(v) <= 0.2)
    kept = np.abs(v) > 0.2
    np.testing.assert_allclose(np.abs(v[kept]) - np.abs(out[kept]), 0.2)
    assert np.all(np.sign(out[kept]) == np.sign(v[kept]))


def test_l1_proximal_thresholds_weight_matrices_at_lr_times_lam_and_keeps_biases():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4)}
    before = {k: v.copy() for k, v in params.items()}
    out = l1_proximal(params, lr=0.5, lam=0.4)
    np.testing.assert_array_equal(out["W1"], soft_threshold(before["W1"], 0.2))
    np.testing.assert_array_equal(out["b1"], before["b1"])
    both = l1_proximal(params, lr=0.5, lam=0.4, include_biases=True)
    np.testing.assert_array_equal(both["b1"], soft_threshold(before["b1"], 0.2))
    for k in params:  # the inputs are not modified
        np.testing.assert_array_equal(params[k], before[k])


def test_l1_proximal_keeps_float32_weights_float32():
    out = l1_proximal({"W": np.ones((2, 2), dtype=np.float32)}, 0.1, 1.0)
    assert out["W"].dtype == np.float32


def _lasso_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 10))
    w_true = np.array([3.0, -2.0, 0, 0, 1.5, 0, 0, 0, 0, 0])
    y = X @ w_true + 0.5 * rng.normal(size=80)
    return X, y


def _descend(X, y, alpha, steps, lr, proximal):
    """Minimize (1/2n)||y - X w||^2 + alpha ||w||_1 by proximal or subgradient steps."""
    n = len(y)
    w = np.zeros((X.shape[1], 1))
    for _ in range(steps):
        grad = X.T @ (X @ w - y[:, None]) / n  # (d, n) @ (n, 1) -> (d, 1)
        if proximal:
            w = l1_proximal({"w": w - lr * grad}, lr, alpha)["w"]
        else:
            w = w - lr * (grad + l1_grad({"w": w}, alpha)["w"])
    return w.ravel()


def test_proximal_gradient_descent_reaches_sklearns_lasso_with_its_exact_zeros():
    from sklearn.linear_model import Lasso

    X, y = _lasso_problem()
    alpha = 0.3
    lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
    ours = _descend(X, y, alpha, steps=3000, lr=0.2, proximal=True)
    np.testing.assert_allclose(ours, lasso.coef_, atol=1e-8)
    assert np.array_equal(ours == 0, lasso.coef_ == 0)
    assert 3 <= np.sum(ours == 0) <= 8  # the problem has zeros to find


def test_subgradient_descent_leaves_no_exact_zero_where_the_proximal_step_finds_them():
    """The point of the lesson: the same problem by subgradient steps hovers near 0."""
    X, y = _lasso_problem()
    proximal = _descend(X, y, 0.3, steps=3000, lr=0.2, proximal=True)
    subgradient = _descend(X, y, 0.3, steps=3000, lr=0.2, proximal=False)
    zeros = proximal == 0
    assert zeros.sum() >= 3
    assert not np.any(subgradient == 0)
    # where the lasso has a zero, |data gradient| <= alpha, so a step is at most lr * 2 alpha:
    # the subgradient iterate jumps back and forth over 0 within one step of it
    assert np.all(np.abs(subgradient[zeros]) <= 0.2 * 2 * 0.3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"params": {"W": np.ones((2, 2))}, "lr": 0.1, "lam": -1.0}, "lam"),
        ({"params": {"W": np.ones((2, 2))}, "lr": 0.0, "lam": 1.0}, "lr"),
        ({"params": {"W": np.array([[np.nan, 1.0]])}, "lr": 0.1, "lam": 1.0}, "params"),
        ({"params": [np.ones((2, 2))], "lr": 0.1, "lam": 1.0}, "params"),
    ],
)
def test_l1_proximal_names_the_bad_value(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}"):
        l1_proximal(**kwargs)


def test_soft_threshold_refuses_a_negative_threshold_by_name():
    with pytest.raises(ValueError, match=r"^t .*-0\.5"):
        soft_threshold([1.0], -0.5)
