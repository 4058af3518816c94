"""Gradient checking: does it pass right gradients and name the bug in wrong ones?"""

import numpy as np
import pytest

from coursekit import gradcheck, xor

X, Y = xor.dataset()


@pytest.fixture
def params():
    rng = np.random.default_rng(1)
    p = {k: rng.normal(0, 1, s) for k, s in xor.PARAM_SHAPES.items()}
    z1 = xor.forward(p, X)["z1"]
    assert np.all(np.abs(z1) > 1e-3) and (z1 > 0).sum() >= 6  # away from kinks, units alive
    return p


def loss_mean(p):
    return xor.loss(p, X, Y, reduction="mean")


def right_grads(p):
    return xor.backward(p, xor.forward(p, X), Y, reduction="mean")


def test_numerical_gradient_of_a_quadratic_is_exact_enough():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    p = {"w": np.array([0.5, -1.5])}
    g = gradcheck.numerical_gradient(lambda q: 0.5 * q["w"] @ A @ q["w"], p)
    np.testing.assert_allclose(g["w"], A @ p["w"], rtol=1e-9, atol=1e-8)


def test_numerical_gradient_leaves_params_untouched(params):
    before = {k: v.copy() for k, v in params.items()}
    gradcheck.numerical_gradient(loss_mean, params)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


def test_right_gradients_pass_with_no_diagnosis(params):
    result = gradcheck.check_gradients(loss_mean, params, right_grads(params))
    assert result.passed and result.diagnosis == []
    assert set(result.relative_errors) == set(xor.PARAM_SHAPES)
    assert "PASSED" in str(result)


def test_gradient_of_the_sum_is_named_as_a_batch_size_factor(params):
    wrong = xor.backward(params, xor.forward(params, X), Y, reduction="sum")
    result = gradcheck.check_gradients(loss_mean, params, wrong, batch_size=4)
    assert not result.passed
    assert "4x larger" in result.diagnosis[0] and "batch size" in result.diagnosis[0]


def test_sign_flip_is_named(params):
    wrong = {k: -v for k, v in right_grads(params).items()}
    result = gradcheck.check_gradients(loss_mean, params, wrong)
    assert not result.passed and "sign" in result.diagnosis[0]


def test_transposed_matrix_is_named(params):
    wrong = right_grads(params)
    wrong["dW1"] = wrong["dW1"].T.copy()
    result = gradcheck.check_gradients(loss_mean, params, wrong)
    assert not result.passed and "transpose" in result.diagnosis[0]
    assert result.diagnosis[0].startswith("W1")


def test_error_only_in_the_first_layer_points_at_the_activation_derivative(params):
    cache = xor.forward(params, X)
    wrong = right_grads(params)
    # a classic bug: ReLU'(z) computed from the post-activation with the wrong sign test
    dz1 = wrong["da1"] * (cache["z1"] < 0)
    wrong["dW1"], wrong["db1"] = X.T @ dz1, dz1.sum(axis=0)
    result = gradcheck.check_gradients(loss_mean, params, wrong)
    assert not result.passed
    assert "first layer" in result.diagnosis[0] and "activation derivative" in result.diagnosis[0]


def test_unknown_pattern_is_reported_as_such(params):
    wrong = right_grads(params)
    wrong["dW2"] = wrong["dW2"] + np.array([[0.3], [-0.1]])
    result = gradcheck.check_gradients(loss_mean, params, wrong)
    assert not result.passed and "no known pattern" in result.diagnosis[0]


def test_finite_differences_straddle_the_relu_kink_at_the_lecture_point():
    """At the lecture's point z1 = 0 for input (0, 0): FD sees ReLU'(0) = 1/2."""
    p = xor.lecture_params()
    num = gradcheck.numerical_gradient(lambda q: xor.loss(q, X, Y, "sum"), p)
    cache = xor.forward(p, X)
    g0 = xor.backward(p, cache, Y, "sum", relu_grad_at_zero=0.0)
    g1 = xor.backward(p, cache, Y, "sum", relu_grad_at_zero=1.0)
    np.testing.assert_allclose(num["b1"], (g0["db1"] + g1["db1"]) / 2, rtol=1e-5)


def test_bad_input_is_named(params):
    with pytest.raises(ValueError, match="eps must be"):
        gradcheck.numerical_gradient(loss_mean, params, eps=0)
    with pytest.raises(ValueError, match="no entry for parameter 'b2'"):
        grads = right_grads(params)
        del grads["db2"]
        gradcheck.check_gradients(loss_mean, params, grads)
    with pytest.raises(ValueError, match="returned nan"):
        gradcheck.numerical_gradient(lambda q: float("nan"), params)
