"""One network, three frameworks: the spec, the builders, and their agreement."""

import itertools
import subprocess
import sys
import warnings

import numpy as np
import pytest

from coursekit import mlp
from coursekit.mlp import agreement
from coursekit.mlp.spec import MLPSpec

FRAMEWORKS = ("keras", "torch", "sklearn")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


def test_import_coursekit_mlp_loads_no_framework():
    code = (
        "import sys, coursekit.mlp, coursekit.mlp.agreement\n"
        "print([m for m in ('tensorflow', 'torch', 'keras', 'sklearn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_xor_example_agrees_across_frameworks_in_float64():
    rows = agreement.xor_agreement("float64")
    assert {r["framework"] for r in rows} == set(FRAMEWORKS)
    assert len(rows) == 15
    bad = [r for r in rows if not r["agrees"]]
    assert not bad, agreement.format_table(bad)
    assert all(r["max_abs_diff"] <= 1e-10 for r in rows)
    assert "| parameters after 3 epochs | torch | float64 |" in agreement.format_table(rows)


@pytest.mark.slow
def test_xor_example_agrees_across_frameworks_in_float32():
    rows = agreement.xor_agreement("float32", frameworks=("keras", "torch"))
    assert all(r["agrees"] for r in rows), agreement.format_table(rows)
    assert all(r["dtype"] == "float32" for r in rows)


@pytest.mark.parametrize(
    "spec",
    [
        MLPSpec(n_inputs=5, hidden=(7, 3), output="sigmoid"),
        MLPSpec(n_inputs=4, hidden=(6,), n_outputs=3, output="softmax", optimizer="sgd"),
        MLPSpec(n_inputs=3, hidden=(4, 4, 2), output="linear", activation="tanh"),
    ],
    ids=["binary", "softmax", "regression"],
)
def test_parameter_count_of_every_builder_equals_the_formula(spec):
    sizes = spec.layer_sizes
    formula = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    assert spec.n_params == formula
    keras_model = mlp.build_keras(spec)
    torch_model = mlp.build_torch(spec)
    sk_model = mlp.build_sklearn(spec)
    assert keras_model.count_params() == formula
    assert sum(p.numel() for p in torch_model.parameters()) == formula
    assert (
        sum(W.size + b.size for W, b in zip(sk_model.coefs_, sk_model.intercepts_, strict=True))
        == formula
    )


def test_same_weights_give_the_same_predictions_everywhere():
    spec = MLPSpec(n_inputs=4, hidden=(5, 3), n_outputs=3, output="softmax", optimizer="sgd")
    weights = mlp.init_weights(spec, seed=3)
    X = np.random.default_rng(0).normal(size=(6, 4))
    keras_p = mlp.predict_keras(mlp.build_keras(spec, weights, dtype="float64"), X)
    torch_p = mlp.predict_torch(mlp.build_torch(spec, weights, dtype="float64"), spec, X)
    sk_p = mlp.build_sklearn(spec, weights).predict_proba(X)
    np.testing.assert_allclose(keras_p, torch_p, rtol=1e-12)
    np.testing.assert_allclose(sk_p, torch_p, rtol=1e-12)
    for framework in FRAMEWORKS:
        model = mlp.build(framework, spec, weights)
        for (W, b), (W0, b0) in zip(mlp.get_weights(model), weights, strict=True):
            np.testing.assert_allclose(W, W0, rtol=1e-6)
            np.testing.assert_allclose(b, b0, rtol=1e-6)


def test_set_weights_rejects_the_wrong_shapes():
    spec = MLPSpec(n_inputs=2, hidden=(3,))
    model = mlp.build_torch(spec)
    with pytest.raises(ValueError, match=r"layer 0: model expects W \(2, 3\)"):
        mlp.set_weights(model, [(np.zeros((3, 3)), np.zeros(3)), (np.zeros((3, 1)), np.zeros(1))])
    with pytest.raises(ValueError, match="2 dense layers, weights has 1"):
        mlp.set_weights(model, [(np.zeros((2, 3)), np.zeros(3))])


def test_keras_l2_equals_torch_weight_decay_on_weights_for_one_sgd_step():
    """lambda * sum(w^2) in the loss is weight_decay = 2 * lambda in SGD, on the weights only."""
    import torch

    lam, lr = 0.01, 0.1
    spec = MLPSpec(
        n_inputs=3,
        hidden=(4,),
        optimizer="sgd",
        lr=lr,
        l2=lam,
        batch_size=8,
        epochs=1,
        shuffle=False,
    )
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=8)
    start = mlp.init_weights(spec, seed=5)
    keras_model = mlp.build_keras(spec, start, dtype="float64")
    mlp.fit(keras_model, spec, X, y)

    net = mlp.build_torch(spec.with_(l2=0.0), start, dtype="float64")
    decay = [p for n, p in net.named_parameters() if n.endswith("weight")]
    plain = [p for n, p in net.named_parameters() if n.endswith("bias")]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 2 * lam}, {"params": plain}], lr=lr)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        net(torch.tensor(X)), torch.tensor(y, dtype=torch.float64).reshape(-1, 1)
    )
    opt.zero_grad()
    loss.backward()
    opt.step()
    for (Wk, bk), (Wt, bt) in zip(mlp.get_weights(keras_model), mlp.get_weights(net), strict=True):
        np.testing.assert_allclose(Wk, Wt, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bk, bt, rtol=1e-10, atol=1e-12)


def _overfitting_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 10))
    y = (X[:, 0] + 0.8 * rng.normal(size=40) > 0).astype(int)
    Xv = rng.normal(size=(200, 10))
    yv = (Xv[:, 0] > 0).astype(int)
    return X, y, Xv, yv


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_early_stopping_restores_the_best_weights(framework):
    X, y, Xv, yv = _overfitting_problem()
    spec = MLPSpec(
        n_inputs=10,
        hidden=(64, 64),
        optimizer="adam",
        lr=0.01,
        batch_size=40,
        epochs=80,
        patience=5,
        seed=2,
    )
    model = mlp.build(framework, spec)
    history = mlp.fit(model, spec, X, y, validation_data=(Xv, yv))
    assert history.stopped_epoch is not None and history.epochs_run < spec.epochs
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert history.epochs_run == history.best_epoch + spec.patience + 1
    final = mlp.evaluate(model, spec, Xv, yv)["loss"]
    # val_loss also counts the (zero) penalty: the restored weights are the best epoch's
    assert final == pytest.approx(min(history.val_loss), rel=1e-5)
    assert set(history.as_dict()) == {"loss", "val_loss", "val_accuracy"}


@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_training_is_deterministic_with_a_seed(framework):
    X, y, Xv, yv = _overfitting_problem()
    spec = MLPSpec(n_inputs=10, hidden=(8,), dropout=0.3, batch_size=8, epochs=3, seed=4)
    runs = [mlp.fit(mlp.build(framework, spec), spec, X, y, (Xv, yv)) for _ in range(2)]
    assert runs[0].loss == runs[1].loss and runs[0].val_loss == runs[1].val_loss


def test_dropout_and_l1_reach_keras_and_torch():
    spec = MLPSpec(n_inputs=3, hidden=(4, 4), dropout=(0.5, 0.2), l1=0.01)
    keras_model = mlp.build_keras(spec)
    rates = [layer.rate for layer in keras_model.layers if type(layer).__name__ == "Dropout"]
    assert rates == [0.5, 0.2]
    assert keras_model.layers[0].kernel_regularizer.l1 == pytest.approx(0.01)
    torch_rates = [m.p for m in mlp.build_torch(spec).modules() if type(m).__name__ == "Dropout"]
    assert torch_rates == [0.5, 0.2]


def test_sklearn_reports_what_it_cannot_express():
    spec = MLPSpec(n_inputs=3, hidden=(4,), dropout=0.5, l1=0.1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="dropout=0.5.*l1=0.1.*optimizer='rmsprop'"):
        mlp.build_sklearn(spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlp.build_sklearn(spec, strict=False)
    assert len([w for w in caught if "left out for scikit-learn" in str(w.message)]) == 3


def test_sklearn_alpha_is_twice_lambda_times_batch_size():
    spec = MLPSpec(n_inputs=3, hidden=(4,), l2=0.01, batch_size=16, optimizer="sgd")
    assert mlp.build_sklearn(spec).alpha == pytest.approx(2 * 0.01 * 16)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"hidden": (4, -2)}, r"hidden\[1\] must be an int >= 1, got -2"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"optimizer": "adamw"}, "optimizer must be one of .* got 'adamw'"),
        ({"activation": "gelu"}, "activation must be one of"),
        ({"lr": -1.0}, "lr must be a finite number > 0, got -1.0"),
        ({"batch_size": 0}, "batch_size must be an int >= 1, got 0"),
        ({"dropout": (0.1, 0.2, 0.3)}, "one per hidden layer"),
        ({"output": "softmax", "n_outputs": 1}, "n_outputs must be >= 2"),
        ({"l2": -0.1}, "l2 must be a finite number >= 0, got -0.1"),
        ({"patience": -3}, "patience must be"),
        ({"shuffle": "no"}, "shuffle must be a bool"),
        ({"dropout": (0.1, "0.2")}, r"dropout\[1\] must be in \[0, 1\), got '0.2'"),
        ({"lr": "0.01"}, "lr must be a finite number > 0 or a schedule"),
        ({"n_inputs": 4.0}, "n_inputs must be an int >= 1, got 4.0"),
    ],
)
def test_bad_specs_name_the_field(changes, match):
    with pytest.raises(ValueError, match=match):
        MLPSpec(**{"n_inputs": 4, "hidden": (4, 4), **changes})


def test_unknown_framework_is_named():
    with pytest.raises(ValueError, match="framework must be one of .* got 'jax'"):
        mlp.build("jax", MLPSpec(n_inputs=2))


def test_learning_rate_schedule_reaches_torch_and_keras():
    """A schedule that is zero after the first step freezes the weights after one update."""
    X, y, _, _ = _overfitting_problem()
    spec = MLPSpec(
        n_inputs=10,
        hidden=(4,),
        optimizer="sgd",
        batch_size=10,
        epochs=2,
        shuffle=False,
        lr=lambda step: 0.5 if step == 0 else 1e-30,
    )
    one_step = spec.with_(lr=0.5, epochs=1)
    for framework in ("keras", "torch"):
        kwargs = {"dtype": "float64"}
        if framework == "keras":
            kwargs["steps_per_epoch"] = 4
        scheduled = mlp.build(framework, spec, **kwargs)
        mlp.fit(scheduled, spec, X[:10], y[:10])
        single = mlp.build(framework, one_step, dtype="float64")
        mlp.fit(single, one_step, X[:10], y[:10])
        for (W1, _), (W2, _) in zip(
            mlp.get_weights(scheduled), mlp.get_weights(single), strict=True
        ):
            np.testing.assert_allclose(W1, W2, rtol=1e-12, err_msg=framework)


@pytest.mark.parametrize("output, n_outputs", [("sigmoid", 1), ("softmax", 3), ("linear", 2)])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_numpy_mlp_gradients_equal_finite_differences(output, n_outputs, activation):
    from coursekit import gradcheck

    spec = MLPSpec(
        n_inputs=4,
        hidden=(5, 3),
        n_outputs=n_outputs,
        output=output,
        activation=activation,
        l1=0.01,
        l2=0.02,
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 4))
    y = (
        rng.normal(size=(7, 2))
        if output == "linear"
        else rng.integers(0, n_outputs if n_outputs > 1 else 2, 7)
    )
    model = mlp.build_numpy(spec, mlp.init_weights(spec, seed=1))
    _, grads = model.loss_and_grads(X, y)

    def as_dict(layers):
        return {f"{k}{i}": v for i, (W, b) in enumerate(layers) for k, v in (("W", W), ("b", b))}

    def loss_of(p):
        layers = [(p[f"W{i}"], p[f"b{i}"]) for i in range(3)]
        return mlp.build_numpy(spec, layers).loss_and_grads(X, y)[0]

    result = gradcheck.check_gradients(loss_of, as_dict(model.layers_), as_dict(grads), tol=1e-6)
    assert result.passed, str(result)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_numpy_loop_follows_the_torch_loop(optimizer):
    """Same start, same batches, same optimizer: same weights after two epochs."""
    X, y, Xv, yv = _overfitting_problem()
    spec = MLPSpec(
        n_inputs=10,
        hidden=(6, 4),
        optimizer=optimizer,
        lr=0.05,
        batch_size=8,
        epochs=2,
        shuffle=False,
        l2=0.001,
    )
    start = mlp.init_weights(spec, seed=9)
    ours, theirs = mlp.build_numpy(spec, start), mlp.build_torch(spec, start, dtype="float64")
    h_ours = mlp.fit(ours, spec, X, y, (Xv, yv))
    h_theirs = mlp.fit(theirs, spec, X, y, (Xv, yv))
    np.testing.assert_allclose(h_ours.loss, h_theirs.loss, rtol=1e-9)
    np.testing.assert_allclose(h_ours.val_loss, h_theirs.val_loss, rtol=1e-9)
    for (W1, b1), (W2, b2) in zip(mlp.get_weights(ours), mlp.get_weights(theirs), strict=True):
        np.testing.assert_allclose(W1, W2, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b1, b2, rtol=1e-9, atol=1e-12)


def test_numpy_dropout_is_off_at_prediction_and_on_in_training():
    spec = MLPSpec(n_inputs=3, hidden=(50,), dropout=0.5)
    model = mlp.build_numpy(spec)
    X = np.ones((4, 3))
    np.testing.assert_array_equal(model.predict(X), model.predict(X))
    assert not np.array_equal(model.logits(X), model.logits(X))


@pytest.mark.slow
def test_the_review_notes_recipes_train_and_report_test_scores():
    from coursekit import data
    from coursekit.mlp import recipes

    spec = recipes.small_classifier_spec(30)
    assert (spec.hidden, spec.lr, spec.batch_size, spec.epochs, spec.patience) == (
        (5,),
        1e-3,
        16,
        500,
        20,
    )
    result = recipes.small_classifier(data.load("breast_cancer"), epochs=60, patience=5)
    assert result.test["accuracy"] > 0.9
    assert result.history.epochs_run <= 60
    reg = recipes.small_regressor(data.load("diabetes"), epochs=60, patience=5)
    split = data.load("diabetes")
    assert reg.y_scaler.mean_[0] == pytest.approx(split.y_train.mean())  # training targets only
    baseline = float(np.sqrt(np.mean((split.y_test - split.y_train.mean()) ** 2)))
    assert reg.test["rmse"] < baseline  # better than predicting the training mean


def test_a_float64_keras_model_stays_float64_after_a_float32_one():
    """Keras caches its dtype policy at first use; builders must not depend on it."""
    spec = MLPSpec(n_inputs=3, hidden=(4,), dropout=0.2, l2=1e-4)
    mlp.build_keras(spec, dtype="float32")
    model = mlp.build_keras(spec, dtype="float64")
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    assert all(str(layer.kernel.dtype) == "float64" for layer in dense)
    X = np.random.default_rng(0).normal(size=(5, 3))
    assert mlp.predict_keras(model, X).dtype == np.float64
