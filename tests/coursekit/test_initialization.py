"""coursekit.initialization: the schemes' variances against torch's and Keras' initializers,
the per-layer gradient norms against torch.autograd."""

import numpy as np
import pytest

from coursekit import initialization as ini


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("scheme", "fan_in", "fan_out", "want"),
    [
        ("naive", 300, 200, 0.01),
        ("xavier", 300, 200, np.sqrt(2 / 500)),
        ("he", 300, 200, np.sqrt(2 / 300)),
        ("torch_default", 300, 200, np.sqrt(1 / 900)),
    ],
)
def test_init_std_is_the_formula_of_each_scheme(scheme, fan_in, fan_out, want):
    assert ini.init_std(scheme, fan_in, fan_out) == pytest.approx(want, rel=1e-12)


def test_drawn_weights_have_the_shape_and_spread_of_their_scheme():
    for scheme in ini.SCHEMES:
        W = ini.init_weight(scheme, 400, 300, np.random.default_rng(0))
        assert W.shape == (400, 300)
        assert abs(W.mean()) < 0.05 * ini.init_std(scheme, 400, 300)
        assert W.std() == pytest.approx(ini.init_std(scheme, 400, 300), rel=0.01)


def test_xavier_and_he_match_torch_initializers():
    import torch

    torch.manual_seed(0)
    fan_in, fan_out = 400, 300
    weight = torch.empty(fan_out, fan_in, dtype=torch.float64)  # torch stores (out, in)
    torch.nn.init.xavier_normal_(weight)
    assert weight.std().item() == pytest.approx(ini.init_std("xavier", fan_in, fan_out), rel=0.01)
    torch.nn.init.kaiming_normal_(weight, nonlinearity="relu")  # fan_in mode, gain sqrt(2)
    assert weight.std().item() == pytest.approx(ini.init_std("he", fan_in, fan_out), rel=0.01)


def test_torch_default_is_what_torch_linear_draws():
    import torch

    torch.manual_seed(0)
    layer = torch.nn.Linear(400, 300)
    W = layer.weight.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(W).max() <= bound
    assert W.std() == pytest.approx(ini.init_std("torch_default", 400, 300), rel=0.01)
    ours = ini.init_weight("torch_default", 400, 300, np.random.default_rng(0))
    assert np.abs(ours).max() <= bound
    assert np.abs(ours).max() > 0.99 * bound  # uniform up to the bound, not a normal


def test_xavier_and_he_match_keras_initializers():
    keras = pytest.importorskip("keras")
    fan_in, fan_out = 400, 300
    for scheme, initializer in [
        ("xavier", keras.initializers.GlorotNormal(seed=0)),
        ("he", keras.initializers.HeNormal(seed=0)),
    ]:
        W = np.asarray(keras.ops.convert_to_numpy(initializer((fan_in, fan_out))))
        assert W.std() == pytest.approx(ini.init_std(scheme, fan_in, fan_out), rel=0.02)


def _torch_norms(weights, activation, X, y):
    import torch

    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    params = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in weights
    ]
    a = torch.tensor(X)
    pre = []
    for W, b in params[:-1]:
        z = a @ W + b
        z.retain_grad()
        pre.append(z)
        a = act(z)
    logit = a @ params[-1][0] + params[-1][1]
    target = torch.tensor(y, dtype=torch.float64).reshape(-1, 1)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, target)
    loss.backward()
    return (
        loss.item(),
        np.array([W.grad.norm().item() for W, _ in params]),
        np.array([z.grad.norm().item() for z in pre]),
    )


@pytest.mark.parametrize("activation", ini.ACTIVATIONS)
@pytest.mark.parametrize("scheme", ["xavier", "he", "naive"])
def test_gradient_norms_agree_with_torch_autograd(scheme, activation):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(32, 16))
    y = (X[:, 0] > 0).astype(float)
    weights = ini.deep_mlp(scheme, depth=6, width=16, seed=3)
    ours = ini.gradient_norms(weights, activation, X, y)
    loss, weight_norms, signal_norms = _torch_norms(weights, activation, X, y)
    assert ours.loss == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(ours.weights, weight_norms, rtol=1e-8)
    np.testing.assert_allclose(ours.signals, signal_norms, rtol=1e-8)
    assert ours.weights.shape == (7,) and ours.signals.shape == (6,)


def test_activations_are_the_std_of_each_hidden_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8))
    weights = ini.deep_mlp("he", depth=2, width=8, seed=0)
    g = ini.gradient_norms(weights, "relu", X, np.zeros(64))
    a1 = np.maximum(X @ weights[0][0], 0)
    a2 = np.maximum(a1 @ weights[1][0], 0)
    np.testing.assert_allclose(g.activations, [a1.std(), a2.std()])


def test_deep_mlp_has_depth_hidden_layers_and_one_output():
    weights = ini.deep_mlp("he", depth=4, width=10, n_inputs=3, seed=0)
    assert [W.shape for W, _ in weights] == [(3, 10), (10, 10), (10, 10), (10, 10), (10, 1)]
    assert all(np.all(b == 0) for _, b in weights)
    again = ini.deep_mlp("he", depth=4, width=10, n_inputs=3, seed=0)
    assert all(np.array_equal(W, V) for (W, _), (V, _) in zip(weights, again, strict=True))


def test_he_keeps_a_deep_relu_signal_level_and_naive_init_makes_it_vanish():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 64))
    y = (X[:, 0] > 0).astype(float)
    he = ini.gradient_norms(ini.deep_mlp("he", depth=15, width=64), "relu", X, y)
    naive = ini.gradient_norms(ini.deep_mlp("naive", depth=15, width=64), "relu", X, y)
    assert he.spread("signals") < 10
    assert naive.spread("signals") > 1e10
    assert naive.signals[0] < naive.signals[-1]  # vanishes towards the input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ini.init_std("kaiming", 3, 3), "scheme must be one of"),
        (lambda: ini.init_std("he", 0, 3), "fan_in must be an int >= 1, got 0"),
        (lambda: ini.init_std("he", 3, 2.5), "fan_out must be an int >= 1, got 2.5"),
        (
            lambda: ini.init_std("naive", 3, 3, naive_std=-1),
            "naive_std must be a finite number > 0, got -1",
        ),
        (lambda: ini.deep_mlp("he", depth=True), "depth must be an int >= 1, got True"),
        (
            lambda: ini.gradient_norms(ini.deep_mlp("he", 2, 4), "elu", np.ones((2, 4)), [0, 1]),
            "activation must be one of",
        ),
        (
            lambda: ini.gradient_norms(ini.deep_mlp("he", 2, 4), "relu", np.ones((2, 3)), [0, 1]),
            r"X must have shape \(n, 4\), got \(2, 3\)",
        ),
        (
            lambda: ini.gradient_norms(ini.deep_mlp("he", 2, 4), "relu", np.ones((2, 4)), [0]),
            "y must have 2 entries",
        ),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_init_weight_needs_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy Generator, got 0"):
        ini.init_weight("he", 3, 3, 0)
