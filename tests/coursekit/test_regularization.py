"""L1/L2 penalties, inverted dropout and early stopping against independent references."""

import numpy as np
import pytest

from coursekit import gradcheck
from coursekit.regularization import (
    Dropout,
    EarlyStopping,
    dropout_backward,
    dropout_forward,
    l1_grad,
    l1_penalty,
    l2_grad,
    l2_penalty,
)

RNG = np.random.default_rng(0)
PARAMS = {"W1": RNG.normal(size=(3, 4)), "b1": RNG.normal(size=4), "W2": RNG.normal(size=(4, 1))}


def test_penalties_follow_their_formulas_and_skip_biases_by_default():
    weights = [PARAMS["W1"], PARAMS["W2"]]
    assert l1_penalty(PARAMS, 0.1) == pytest.approx(0.1 * sum(np.abs(w).sum() for w in weights))
    assert l2_penalty(PARAMS, 0.1) == pytest.approx(0.1 * sum((w**2).sum() for w in weights))
    with_b = l2_penalty(PARAMS, 0.1, include_biases=True)
    assert with_b == pytest.approx(l2_penalty(PARAMS, 0.1) + 0.1 * (PARAMS["b1"] ** 2).sum())
    assert np.all(l2_grad(PARAMS, 0.1)["b1"] == 0)
    assert np.any(l2_grad(PARAMS, 0.1, include_biases=True)["b1"] != 0)


@pytest.mark.parametrize("include_biases", [False, True])
@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_penalty_gradients_equal_finite_differences(kind, include_biases):
    penalty, grad = (l1_penalty, l1_grad) if kind == "l1" else (l2_penalty, l2_grad)
    result = gradcheck.check_gradients(
        lambda p: penalty(p, 0.3, include_biases), PARAMS, grad(PARAMS, 0.3, include_biases)
    )
    assert result.passed, str(result)


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_penalties_equal_keras_regularizers(kind):
    import keras

    reg = keras.regularizers.l1(0.01) if kind == "l1" else keras.regularizers.l2(0.01)
    ours = (l1_penalty if kind == "l1" else l2_penalty)({"W": PARAMS["W1"]}, 0.01)
    theirs = float(keras.ops.convert_to_numpy(reg(keras.ops.convert_to_tensor(PARAMS["W1"]))))
    assert ours == pytest.approx(theirs, rel=1e-6)  # Keras computes in float32


def test_l2_gradient_equals_torch_weight_decay_with_half_lambda():
    import torch

    torch.set_num_threads(1)
    w = torch.tensor(PARAMS["W1"], requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1, weight_decay=0.02)
    w.grad = torch.zeros_like(w)  # the data loss contributes nothing: only the decay acts
    opt.step()
    ours = PARAMS["W1"] - 0.1 * l2_grad({"W": PARAMS["W1"]}, 0.01)["W"]
    np.testing.assert_allclose(w.detach().numpy(), ours, rtol=1e-12)


def test_dropout_keeps_the_expected_activation_and_drops_about_rate():
    a = np.ones((400, 500))
    out, _ = dropout_forward(a, 0.3, rng=1)
    assert abs((out == 0).mean() - 0.3) < 0.005
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7])
    assert abs(out.mean() - 1.0) < 0.01


def test_dropout_is_identity_at_eval_time():
    a = RNG.normal(size=(5, 6))
    out, _ = dropout_forward(a, 0.5, training=False)
    np.testing.assert_array_equal(out, a)
    np.testing.assert_array_equal(Dropout(0.5, seed=0).eval().forward(a), a)


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.5, seed=3)
    a = RNG.normal(size=(4, 8))
    out = layer.forward(a)
    grad = layer.backward(np.ones_like(a))
    np.testing.assert_array_equal(grad == 0, out == 0)
    np.testing.assert_allclose(grad[grad != 0], 2.0)
    np.testing.assert_array_equal(dropout_backward(np.full_like(a, 3.0), grad), 3.0 * grad)


def test_dropout_draws_a_new_mask_each_step_and_is_seeded():
    a = np.ones((10, 10))
    layer = Dropout(0.5, seed=0)
    first, second = layer.forward(a), layer.forward(a)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(Dropout(0.5, seed=0).forward(a), first)


def test_dropout_matches_torch_statistics():
    """Same rule as nn.Dropout: zeros with probability p, survivors scaled by 1/(1-p)."""
    import torch

    torch.manual_seed(0)
    theirs = torch.nn.Dropout(0.25).train()(torch.ones(200_000)).numpy()
    ours, _ = dropout_forward(np.ones(200_000), 0.25, rng=0)
    np.testing.assert_allclose(np.unique(theirs), np.unique(ours), rtol=1e-6)
    assert abs((theirs == 0).mean() - (ours == 0).mean()) < 0.01


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half"])
def test_dropout_rejects_rates_outside_zero_one(rate):
    with pytest.raises(ValueError, match=f"rate must be in \\[0, 1\\), got {rate!r}"):
        dropout_forward(np.ones(3), rate)


VAL_LOSSES = [1.0, 0.8, 0.7, 0.72, 0.69, 0.71, 0.73, 0.74, 0.75, 0.60, 0.9]


def _keras_early_stopping(values, patience, min_delta=0.0):
    """Keras' own EarlyStopping driven by ``values``: (stop epoch or None, restored epoch)."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, min_delta=min_delta, restore_best_weights=True
    )
    model.stop_training = False
    callback.set_model(model)
    callback.on_train_begin()
    keras_stop = None
    for epoch, value in enumerate(values):
        model.layers[0].kernel.assign([[float(epoch)]])  # weights record the epoch
        callback.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            keras_stop = epoch
            break
    callback.on_train_end()
    return keras_stop, float(model.layers[0].kernel.numpy()[0, 0])


def _our_early_stopping(values, patience, min_delta=0.0):
    ours = EarlyStopping(patience=patience, min_delta=min_delta)
    our_stop = None
    for epoch, value in enumerate(values):
        if ours.step(value, {"epoch": epoch}):
            our_stop = epoch
            break
    last = our_stop if our_stop is not None else len(values) - 1
    return our_stop, float(ours.final_params({"epoch": last})["epoch"])


@pytest.mark.parametrize("patience, min_delta", [(0, 0.0), (2, 0.0), (3, 0.0), (2, 0.02)])
def test_early_stopping_stops_at_the_same_epoch_as_keras(patience, min_delta):
    ours = _our_early_stopping(VAL_LOSSES, patience, min_delta)
    assert ours == _keras_early_stopping(VAL_LOSSES, patience, min_delta)


INF, NAN = float("inf"), float("nan")
NON_FINITE_LOSSES = [
    [INF, INF, 1.0, 2.0, 3.0],
    [INF, 1.0, INF, 0.5, 0.6, 0.7, 0.8],
    [NAN, 1.0, 0.5, 0.4, 0.3],
    [1.0, NAN, NAN, 0.5, NAN, NAN, NAN],
    [0.9, INF, NAN, 0.8, INF, INF, INF, INF],
    [-INF, 1.0, 0.0, -1.0],
]


@pytest.mark.parametrize("values", NON_FINITE_LOSSES, ids=str)
@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_early_stopping_matches_keras_on_infinite_and_nan_losses(values, patience):
    assert _our_early_stopping(values, patience) == _keras_early_stopping(values, patience)


def test_an_infinite_first_loss_counts_as_the_best_so_far_as_in_keras():
    stopper = EarlyStopping(patience=2)
    stops = [stopper.step(v, {"epoch": i}) for i, v in enumerate([INF, INF, 1.0, 2.0, 3.0])]
    assert stops == [False, False, False, False, True]
    assert stopper.stopped_epoch == 4 and stopper.final_params(None) == {"epoch": 2}


def test_early_stopping_restores_the_best_weights_in_a_numpy_loop():
    stopper = EarlyStopping(patience=2)
    params = {"w": np.zeros(2)}
    for value in VAL_LOSSES:
        params = {"w": params["w"] + 1.0}  # "training" changes the weights every epoch
        if stopper.step(value, params):
            break
    best = stopper.final_params(params)
    assert stopper.best == 0.69 and stopper.best_epoch == 4 and stopper.stopped_epoch == 6
    np.testing.assert_array_equal(best["w"], [5.0, 5.0])
    params["w"][:] = -1  # later in-place edits must not reach the saved copy
    np.testing.assert_array_equal(stopper.final_params(params)["w"], [5.0, 5.0])
    assert EarlyStopping(patience=2, restore_best=False).final_params(params) is params


def test_early_stopping_max_mode_for_accuracy():
    stopper = EarlyStopping(patience=1, mode="max")
    assert [stopper.step(v) for v in [0.5, 0.6, 0.55, 0.58]] == [False, False, True, True]


@pytest.mark.parametrize(
    "kwargs, match",
    [({"patience": -1}, "patience"), ({"min_delta": -0.1}, "min_delta"), ({"mode": "up"}, "mode")],
)
def test_early_stopping_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


def test_penalty_rejects_negative_lambda():
    with pytest.raises(ValueError, match="lam must be a finite number >= 0, got -1"):
        l2_penalty(PARAMS, -1)
