"""The worked XOR example: lecture numbers, conventions, and agreement with TF and torch."""

import numpy as np
import pytest

from coursekit import gradcheck, xor

X, Y = xor.dataset()
PARAMS = xor.lecture_params()
BATCH1 = (X[:2], Y[:2])


def _sigmoid_by_definition(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_dataset_and_lecture_params_are_the_lectures():
    assert X.dtype == np.float64 and X.shape == (4, 2)
    assert Y.tolist() == [0, 1, 1, 0]
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert {k: v.shape for k, v in PARAMS.items()} == xor.PARAM_SHAPES


def test_lecture_params_are_fresh_copies():
    p = xor.lecture_params()
    p["W1"][0, 0] = 99.0
    assert xor.lecture_params()["W1"][0, 0] == 0.1


def test_batch1_forward_pass_matches_the_lecture():
    cache = xor.forward(PARAMS, BATCH1[0])
    np.testing.assert_allclose(cache["z1"], [[0, 0], [0.3, 0.4]], atol=1e-15)
    np.testing.assert_allclose(cache["a1"], [[0, 0], [0.3, 0.4]], atol=1e-15)
    np.testing.assert_allclose(cache["z2"], [[0.0], [0.39]], atol=1e-15)
    # the lecture prints a2 = (0.5, 0.596), rounded to 3 decimals
    np.testing.assert_allclose(cache["a2"].ravel(), [0.5, 0.596], atol=5e-4)
    np.testing.assert_allclose(cache["a2"].ravel(), _sigmoid_by_definition(np.array([0, 0.39])))


def test_batch1_per_sample_losses_match_the_lecture():
    per_sample = xor.loss(PARAMS, *BATCH1, reduction="none")
    np.testing.assert_allclose(per_sample, [0.69, 0.52], atol=5e-3)
    np.testing.assert_allclose(per_sample, [np.log(2), -np.log(_sigmoid_by_definition(0.39))])
    assert xor.loss(PARAMS, *BATCH1, reduction="mean") == pytest.approx(per_sample.mean())
    assert xor.loss(PARAMS, *BATCH1, reduction="sum") == pytest.approx(per_sample.sum())


@pytest.mark.parametrize("reduction, scale", [("sum", 1.0), ("mean", 0.5)])
@pytest.mark.parametrize("at_zero", [0.0, 1.0])
def test_batch1_gradients_under_each_convention(reduction, scale, at_zero):
    """Every batch-1 quantity, written from the formulas by hand, under both conventions."""
    cache = xor.forward(PARAMS, BATCH1[0])
    g = xor.backward(PARAMS, cache, BATCH1[1], reduction=reduction, relu_grad_at_zero=at_zero)
    a2 = _sigmoid_by_definition(0.39)
    dz2 = scale * np.array([[0.5], [a2 - 1.0]])
    np.testing.assert_allclose(g["dz2"], dz2, rtol=1e-14)
    np.testing.assert_allclose(g["dW2"], [[0.3 * dz2[1, 0]], [0.4 * dz2[1, 0]]], rtol=1e-14)
    np.testing.assert_allclose(g["db2"], [dz2.sum()], rtol=1e-14)
    da1 = dz2 @ np.array([[0.5, 0.6]])
    np.testing.assert_allclose(g["da1"], da1, rtol=1e-14)
    # sample 1 has z1 = (0, 0): its row is scaled by ReLU'(0); sample 2 has z1 > 0
    dz1 = da1 * np.array([[at_zero, at_zero], [1.0, 1.0]])
    np.testing.assert_allclose(g["dz1"], dz1, rtol=1e-14)
    np.testing.assert_allclose(g["dW1"], BATCH1[0].T @ dz1, rtol=1e-14)
    np.testing.assert_allclose(g["db1"], dz1.sum(axis=0), rtol=1e-14)


def test_lecture_printed_dz1_needs_sum_and_relu_prime_of_zero_equal_one():
    cache = xor.forward(PARAMS, BATCH1[0])
    printed = np.array([[0.25, 0.3], [-0.202, -0.2424]])
    lecture = xor.backward(PARAMS, cache, BATCH1[1], reduction="sum", relu_grad_at_zero=1.0)
    np.testing.assert_allclose(lecture["dz1"], printed, atol=5e-4)
    for reduction, at_zero in [("sum", 0.0), ("mean", 1.0), ("mean", 0.0)]:
        other = xor.backward(PARAMS, cache, BATCH1[1], reduction, at_zero)
        assert not np.allclose(other["dz1"], printed, atol=5e-3)
    # -0.2424 is -0.404 * 0.6 from the rounded a2; the exact value differs in the 4th decimal
    assert abs(lecture["dz1"][1, 1] - (-0.2424)) > 1e-4


def test_update_rule_is_gradient_descent():
    cache = xor.forward(PARAMS, BATCH1[0])
    g = xor.backward(PARAMS, cache, BATCH1[1])
    new = xor.sgd_step(PARAMS, g, lr=0.1)
    for name in xor.PARAM_SHAPES:
        np.testing.assert_allclose(new[name], PARAMS[name] - 0.1 * g["d" + name])
    assert PARAMS["W1"][0, 0] == 0.1


def _train_with_torch(params, lr, batch_size, epochs, reduction):
    """An independent loop: torch autograd and torch.optim.SGD, no shuffling."""
    import torch

    torch.set_num_threads(1)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.SGD(list(t.values()), lr=lr)
    Xt, yt = torch.tensor(X), torch.tensor(Y.reshape(-1, 1), dtype=torch.float64)
    epoch_losses = []
    for _ in range(epochs):
        losses = []
        for start in range(0, len(X), batch_size):
            Xb, yb = Xt[start : start + batch_size], yt[start : start + batch_size]
            z2 = torch.relu(Xb @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z2, yb, reduction=reduction)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        epoch_losses.append(np.mean(losses))
    return {k: v.detach().numpy() for k, v in t.items()}, epoch_losses


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_three_epochs_agree_with_a_torch_sgd_loop(reduction):
    new, history = xor.train(PARAMS, X, Y, lr=0.1, batch_size=2, epochs=3, reduction=reduction)
    expected, losses = _train_with_torch(PARAMS, 0.1, 2, 3, reduction)
    for name in xor.PARAM_SHAPES:
        np.testing.assert_allclose(new[name], expected[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-10)
    assert len(history["batch_loss"]) == 6 and len(history["params"]) == 3
    for name, value in xor.lecture_params().items():
        np.testing.assert_array_equal(PARAMS[name], value)  # inputs untouched


def test_training_lowers_the_loss_over_many_epochs():
    rng = np.random.default_rng(0)
    p = {k: rng.normal(0, 1, s) for k, s in xor.PARAM_SHAPES.items()}
    _, history = xor.train(p, X, Y, lr=0.5, batch_size=4, epochs=300)
    assert history["loss"][-1] < history["loss"][0]


def test_shuffle_is_seeded_and_changes_the_order():
    a = xor.train(PARAMS, X, Y, epochs=2, shuffle=True, seed=1)[1]["batch_loss"]
    b = xor.train(PARAMS, X, Y, epochs=2, shuffle=True, seed=1)[1]["batch_loss"]
    c = xor.train(PARAMS, X, Y, epochs=2, shuffle=False)[1]["batch_loss"]
    assert a == b and a != c


def _random_params(seed):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(0, 1, s) for k, s in xor.PARAM_SHAPES.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradients_equal_finite_differences_away_from_kinks(seed, reduction):
    params = _random_params(seed)
    cache = xor.forward(params, X)
    assert np.all(np.abs(cache["z1"]) > 1e-3), "test point must not sit on a ReLU kink"
    grads = xor.backward(params, cache, Y, reduction=reduction)
    result = gradcheck.check_gradients(lambda p: xor.loss(p, X, Y, reduction), params, grads)
    assert result.passed, str(result)
    assert max(result.relative_errors.values()) < 1e-8


def _tf_gradients(params, relu_grad_at_zero_is_framework=True):
    import tensorflow as tf

    v = {k: tf.Variable(p, dtype=tf.float64) for k, p in params.items()}
    Xt, yt = tf.constant(X), tf.constant(Y.reshape(-1, 1), dtype=tf.float64)
    with tf.GradientTape() as tape:
        z2 = tf.nn.relu(Xt @ v["W1"] + v["b1"]) @ v["W2"] + v["b2"]
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=yt, logits=z2))
    g = tape.gradient(loss, v)
    return float(loss.numpy()), {k: g[k].numpy() for k in params}


def _torch_gradients(params):
    import torch

    torch.set_num_threads(1)
    t = {k: torch.tensor(p, dtype=torch.float64, requires_grad=True) for k, p in params.items()}
    Xt, yt = torch.tensor(X), torch.tensor(Y.reshape(-1, 1), dtype=torch.float64)
    z2 = torch.relu(Xt @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z2, yt)
    loss.backward()
    return float(loss.item()), {k: t[k].grad.numpy() for k in params}


@pytest.mark.parametrize("framework", ["tensorflow", "torch"])
@pytest.mark.parametrize("which", ["lecture", "random"])
def test_gradients_equal_framework_autodiff(framework, which):
    """ReLU'(0) = 0 in both frameworks; the lecture's point has z1 = 0 for input (0, 0)."""
    params = xor.lecture_params() if which == "lecture" else _random_params(3)
    loss, expected = (_tf_gradients if framework == "tensorflow" else _torch_gradients)(params)
    ours = xor.backward(params, xor.forward(params, X), Y, "mean", relu_grad_at_zero=0.0)
    assert xor.loss(params, X, Y) == pytest.approx(loss, abs=1e-12)
    for name in xor.PARAM_SHAPES:
        np.testing.assert_allclose(ours["d" + name], expected[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: xor.forward(PARAMS, np.zeros((4, 3))), r"X must have shape \(n, 2\)"),
        (lambda: xor.forward(PARAMS, np.zeros((0, 2))), "X is empty"),
        (lambda: xor.forward(PARAMS, [[np.nan, 0]]), "NaN"),
        (lambda: xor.loss(PARAMS, X, [0, 1, 2, 0]), r"only 0 and 1, got values \[2\]"),
        (lambda: xor.loss(PARAMS, X, [0, 1]), r"y must have shape \(4,\)"),
        (lambda: xor.loss(PARAMS, X, Y, reduction="avg"), "'avg'"),
        (lambda: xor.backward(PARAMS, xor.forward(PARAMS, X), Y, "mean", 2.0), "relu_grad_at_zero"),
        (lambda: xor.forward({"W1": PARAMS["W1"]}, X), "missing"),
        (lambda: xor.forward({**PARAMS, "b2": np.zeros(2)}, X), r"params\['b2'\]"),
        (lambda: xor.train(PARAMS, X, Y, lr=-0.1), "lr must be"),
        (lambda: xor.train(PARAMS, X, Y, batch_size=0), "batch_size must be an int >= 1, got 0"),
        (lambda: xor.train(PARAMS, X, Y, epochs=-1), "epochs"),
    ],
)
def test_bad_input_names_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sigmoid_is_stable_for_large_logits():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = xor.sigmoid(z)
    np.testing.assert_allclose(s[1:4], _sigmoid_by_definition(z[1:4]), rtol=1e-14)
    assert s[0] == 0.0 and s[-1] == 1.0
