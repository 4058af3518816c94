"""numpy optimizers against torch.optim (default convention) and Keras (convention="keras")."""

import numpy as np
import pytest

from coursekit import optim, schedules

SHAPES = {"W": (3, 2), "b": (2,)}
RNG = np.random.default_rng(0)
START = {k: RNG.normal(size=s) for k, s in SHAPES.items()}
GRADS = [{k: RNG.normal(size=s) for k, s in SHAPES.items()} for _ in range(10)]


def _run_ours(opt):
    params = {k: v.copy() for k, v in START.items()}
    for g in GRADS:
        params = opt.step(params, g)
    return params


def _run_torch(make):
    import torch

    torch.set_num_threads(1)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in START.items()}
    opt = make(list(t.values()))
    for g in GRADS:
        for k, p in t.items():
            p.grad = torch.tensor(g[k])
        opt.step()
    return {k: p.detach().numpy() for k, p in t.items()}


def _run_keras(make):
    import keras

    before = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        variables = {k: keras.Variable(v, dtype="float64") for k, v in START.items()}
        opt = make()
        for g in GRADS:
            opt.apply_gradients([(keras.ops.convert_to_tensor(g[k]), variables[k]) for k in SHAPES])
        return {k: np.asarray(v.numpy()) for k, v in variables.items()}
    finally:
        keras.config.set_floatx(before)


def _moves(params):
    """How far each parameter moved: compares updates, not the much larger parameters."""
    return {k: params[k] - START[k] for k in SHAPES}


def _assert_same(ours, theirs, rtol=1e-10):
    for k in SHAPES:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=rtol, atol=1e-12, err_msg=k)


def _torch_cases():
    import torch

    return {
        "sgd": (optim.SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        "momentum": (
            optim.SGD(lr=0.1, momentum=0.9),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        ),
        "nesterov": (
            optim.SGD(lr=0.1, momentum=0.9, nesterov=True),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        ),
        "weight_decay": (
            optim.SGD(lr=0.1, weight_decay=0.01),
            lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01),
        ),
        "rmsprop": (optim.RMSprop(lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
        "adagrad": (optim.Adagrad(lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
        "adam": (optim.Adam(lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    }


@pytest.mark.parametrize(
    "name", ["sgd", "momentum", "nesterov", "weight_decay", "rmsprop", "adagrad", "adam"]
)
def test_updates_match_torch_optim(name):
    ours, make = _torch_cases()[name]
    _assert_same(_run_ours(ours), _run_torch(make))


def _keras_cases():
    import keras

    return {
        "sgd": (optim.SGD(lr=0.1, convention="keras"), lambda: keras.optimizers.SGD(0.1)),
        "momentum": (
            optim.SGD(lr=0.1, momentum=0.9, convention="keras"),
            lambda: keras.optimizers.SGD(0.1, momentum=0.9),
        ),
        "nesterov": (
            optim.SGD(lr=0.1, momentum=0.9, nesterov=True, convention="keras"),
            lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
        ),
        "rmsprop": (
            optim.RMSprop(lr=0.01, convention="keras"),
            lambda: keras.optimizers.RMSprop(0.01),
        ),
        "adagrad": (
            optim.Adagrad(lr=0.1, convention="keras"),
            lambda: keras.optimizers.Adagrad(0.1),
        ),
        "adam": (optim.Adam(lr=0.01, convention="keras"), lambda: keras.optimizers.Adam(0.01)),
    }


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam"])
def test_updates_match_keras_with_the_keras_convention(name):
    """Keras keeps some hyperparameters (momentum, the initial accumulator) in float32, so
    agreement is to 1e-6; the torch convention misses by far more (next test)."""
    ours, make = _keras_cases()[name]
    _assert_same(_moves(_run_ours(ours)), _moves(_run_keras(make)), rtol=1e-5)


@pytest.mark.parametrize("name", ["rmsprop", "adagrad", "adam"])
def test_the_torch_convention_does_not_match_keras(name):
    _, make = _keras_cases()[name]
    torch_style = {
        "rmsprop": optim.RMSprop(lr=0.01, eps=0.1),
        "adagrad": optim.Adagrad(lr=0.1, eps=0.1),
        "adam": optim.Adam(lr=0.01, eps=0.1),
    }[name]
    theirs = _moves(_run_keras(make))["W"]
    assert not np.allclose(_moves(_run_ours(torch_style))["W"], theirs, rtol=1e-2, atol=0)


@pytest.mark.parametrize("name", ["rmsprop", "adagrad", "adam"])
def test_the_two_conventions_really_differ(name):
    torch_like = _run_ours(_torch_cases()[name][0])
    keras_like = _run_ours(_keras_cases()[name][0])
    assert not np.allclose(torch_like["W"], keras_like["W"], rtol=1e-9, atol=0)


def test_momentum_conventions_agree_at_constant_lr_and_differ_under_a_schedule():
    const = [optim.SGD(lr=0.1, momentum=0.9, convention=c) for c in ("torch", "keras")]
    _assert_same(_run_ours(const[0]), _run_ours(const[1]))
    sched = schedules.step_decay(0.1, 0.5, 2)
    varying = [optim.SGD(lr=sched, momentum=0.9, convention=c) for c in ("torch", "keras")]
    assert not np.allclose(_run_ours(varying[0])["W"], _run_ours(varying[1])["W"])


@pytest.mark.filterwarnings(r"ignore:Seems like `optimizer.step\(\)` has been overridden")
def test_schedule_reaches_the_optimizer_like_torch_steplr():
    import torch

    ours = optim.SGD(lr=schedules.step_decay(0.1, 0.5, 3), momentum=0.9)

    def make(p):
        opt = torch.optim.SGD(p, lr=0.1, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, 3, 0.5)
        original = opt.step

        def step():
            original()
            sched.step()

        opt.step = step
        return opt

    _assert_same(_run_ours(ours), _run_torch(make))


def test_inputs_are_never_modified_in_place():
    params = {k: v.copy() for k, v in START.items()}
    grads = {k: v.copy() for k, v in GRADS[0].items()}
    for opt in (optim.SGD(0.1, momentum=0.9), optim.Adam(), optim.RMSprop(), optim.Adagrad()):
        opt.step(params, grads)
        opt.step(params, grads)
        for k in SHAPES:
            np.testing.assert_array_equal(params[k], START[k])
            np.testing.assert_array_equal(grads[k], GRADS[0][k])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: optim.SGD(lr=-0.1), "lr must be a finite number >= 0, got -0.1"),
        (lambda: optim.SGD(lr=0.1, momentum=1.2), "momentum must be in"),
        (lambda: optim.Adam(betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\)"),
        (lambda: optim.Adam(eps=0), "eps must be a number > 0"),
        (lambda: optim.RMSprop(convention="tf"), "convention must be 'torch' or 'keras', got 'tf'"),
        (lambda: optim.SGD(0.1).step({"W": np.zeros(2)}, {"V": np.zeros(2)}), r"missing \['W'\]"),
        (lambda: optim.SGD(0.1).step({"W": np.zeros(2)}, {"W": np.zeros(3)}), r"shape \(3,\)"),
    ],
)
def test_bad_input_names_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()
