"""numpy optimizers against torch.optim (convention="torch", the default) and keras.optimizers
(convention="keras"), on the same sequence of random gradients."""

import inspect

import numpy as np
import pytest

from coursekit import optim, schedules

SHAPES = {"W": (3, 2), "b": (2,)}
_rng = np.random.default_rng(0)
START = {k: _rng.normal(size=s) for k, s in SHAPES.items()}
GRADS = [{k: _rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(10)]

#: every optimizer in both conventions, for the properties they all share
REGISTRY = {
    f"{name}-{convention}": (make, convention)
    for name, make in {
        "sgd": lambda c: optim.SGD(lr=0.1, convention=c),
        "momentum": lambda c: optim.SGD(lr=0.1, momentum=0.9, convention=c),
        "nesterov": lambda c: optim.SGD(lr=0.1, momentum=0.9, nesterov=True, convention=c),
        "rmsprop": lambda c: optim.RMSprop(lr=0.01, convention=c),
        "adagrad": lambda c: optim.Adagrad(lr=0.1, convention=c),
        "adam": lambda c: optim.Adam(lr=0.01, convention=c),
        "adam-decay": lambda c: optim.Adam(lr=0.01, weight_decay=0.1, convention=c),
    }.items()
    for convention in optim.CONVENTIONS
}


def _make(name):
    make, convention = REGISTRY[name]
    return make(convention)


def _run_ours(opt, start=START, grads=GRADS):
    params = {k: v.copy() for k, v in start.items()}
    for g in grads:
        params = opt.step(params, g)
    return params


def _run_torch(make_opt, make_scheduler=None):
    """torch.optim on float64 tensors; ``make_scheduler(opt)`` steps after every update."""
    import torch

    torch.set_num_threads(1)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in START.items()}
    opt = make_opt(list(tensors.values()))
    scheduler = make_scheduler(opt) if make_scheduler else None
    for g in GRADS:
        for k, p in tensors.items():
            p.grad = torch.tensor(g[k])
        opt.step()
        if scheduler:
            scheduler.step()
    return {k: p.detach().numpy() for k, p in tensors.items()}


def _run_keras(make_opt, dtype="float64"):
    """keras.optimizers through ``apply_gradients`` on variables of ``dtype``."""
    import keras

    before = keras.config.floatx()
    keras.config.set_floatx(dtype)  # the optimizer's learning-rate variable takes floatx
    try:
        variables = {k: keras.Variable(v.astype(dtype), dtype=dtype) for k, v in START.items()}
        opt = make_opt(keras)
        for g in GRADS:
            pairs = [
                (keras.ops.convert_to_tensor(g[k].astype(dtype)), variables[k]) for k in SHAPES
            ]
            opt.apply_gradients(pairs)
        return {k: np.asarray(v.numpy(), dtype=np.float64) for k, v in variables.items()}
    finally:
        keras.config.set_floatx(before)


def _moves(params):
    """How far each parameter moved: compares updates, not the larger parameters themselves."""
    return {k: params[k] - START[k] for k in SHAPES}


def _assert_same_moves(ours, theirs, rtol=1e-10):
    ours, theirs = _moves(ours), _moves(theirs)
    for k in SHAPES:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=rtol, atol=1e-14, err_msg=k)


# --- against torch.optim ------------------------------------------------------------------------

TORCH_CASES = {
    "sgd-defaults": (lambda: optim.SGD(), "SGD", {}),
    "sgd": (lambda: optim.SGD(lr=0.1), "SGD", {"lr": 0.1}),
    "momentum": (lambda: optim.SGD(lr=0.1, momentum=0.9), "SGD", {"lr": 0.1, "momentum": 0.9}),
    "nesterov": (
        lambda: optim.SGD(lr=0.1, momentum=0.9, nesterov=True),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    ),
    "momentum-weight_decay": (
        lambda: optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.05),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05},
    ),
    "rmsprop-defaults": (lambda: optim.RMSprop(), "RMSprop", {}),
    "rmsprop": (
        lambda: optim.RMSprop(lr=0.05, rho=0.9, eps=1e-3, weight_decay=0.05),
        "RMSprop",
        {"lr": 0.05, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.05},
    ),
    "adagrad-defaults": (lambda: optim.Adagrad(), "Adagrad", {}),
    "adagrad": (
        lambda: optim.Adagrad(lr=0.1, initial_accumulator_value=0.2, eps=1e-3, weight_decay=0.05),
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-3, "weight_decay": 0.05},
    ),
    "adam-defaults": (lambda: optim.Adam(), "Adam", {}),
    "adam": (
        lambda: optim.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05),
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.05},
    ),
}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_updates_match_torch_optim_to_1e_10(case):
    import torch

    ours, torch_name, kwargs = TORCH_CASES[case]
    theirs = _run_torch(lambda p: getattr(torch.optim, torch_name)(p, **kwargs))
    _assert_same_moves(_run_ours(ours()), theirs)


@pytest.mark.parametrize(
    "ours, torch_name, kwargs, make_scheduler",
    [
        (
            lambda: optim.SGD(lr=schedules.step_decay(0.1, 0.5, 3), momentum=0.9),
            "SGD",
            {"lr": 0.1, "momentum": 0.9},
            lambda o, lr_scheduler: lr_scheduler.StepLR(o, 3, 0.5),
        ),
        (
            lambda: optim.Adam(lr=schedules.cosine_annealing(0.01, T_max=12)),
            "Adam",
            {"lr": 0.01},
            lambda o, lr_scheduler: lr_scheduler.CosineAnnealingLR(o, T_max=12),
        ),
    ],
    ids=["momentum-steplr", "adam-cosine"],
)
def test_a_schedule_drives_the_optimizer_like_a_torch_lr_scheduler(
    ours, torch_name, kwargs, make_scheduler
):
    """Does step t use lr(t), from t = 0, as torch does when the scheduler steps after each update?"""
    import torch

    theirs = _run_torch(
        lambda p: getattr(torch.optim, torch_name)(p, **kwargs),
        lambda o: make_scheduler(o, torch.optim.lr_scheduler),
    )
    _assert_same_moves(_run_ours(ours()), theirs)


# --- against keras.optimizers -------------------------------------------------------------------

#: Hyperparameters exact in float32 (0.75, 0.875, 1 - 2**-10, 0.125, 0.0625): Keras (TensorFlow
#: backend) converts Python-float momentum, betas, the initial accumulator and weight decay to
#: float32 tensors before casting them to the variables' float64, so 0.9 would become
#: 0.89999998 and hide the algorithm behind a 1e-7 difference.
KERAS_CASES = {
    "sgd-defaults": (lambda: optim.SGD(convention="keras"), "SGD", {}),
    "momentum": (
        lambda: optim.SGD(lr=0.1, momentum=0.75, convention="keras"),
        "SGD",
        {"learning_rate": 0.1, "momentum": 0.75},
    ),
    "nesterov": (
        lambda: optim.SGD(lr=0.1, momentum=0.75, nesterov=True, convention="keras"),
        "SGD",
        {"learning_rate": 0.1, "momentum": 0.75, "nesterov": True},
    ),
    "momentum-weight_decay": (
        lambda: optim.SGD(lr=0.1, momentum=0.75, weight_decay=0.0625, convention="keras"),
        "SGD",
        {"learning_rate": 0.1, "momentum": 0.75, "weight_decay": 0.0625},
    ),
    "rmsprop": (
        lambda: optim.RMSprop(lr=0.01, rho=0.875, convention="keras"),
        "RMSprop",
        {"learning_rate": 0.01, "rho": 0.875},
    ),
    "rmsprop-eps": (
        lambda: optim.RMSprop(lr=0.01, rho=0.875, eps=1e-2, convention="keras"),
        "RMSprop",
        {"learning_rate": 0.01, "rho": 0.875, "epsilon": 1e-2},
    ),
    "adagrad": (
        lambda: optim.Adagrad(lr=0.1, initial_accumulator_value=0.125, convention="keras"),
        "Adagrad",
        {"learning_rate": 0.1, "initial_accumulator_value": 0.125},
    ),
    "adagrad-eps": (
        lambda: optim.Adagrad(
            lr=0.1, initial_accumulator_value=0.125, eps=1e-2, convention="keras"
        ),
        "Adagrad",
        {"learning_rate": 0.1, "initial_accumulator_value": 0.125, "epsilon": 1e-2},
    ),
    "adam": (
        lambda: optim.Adam(lr=0.01, betas=(0.875, 1 - 2**-10), convention="keras"),
        "Adam",
        {"learning_rate": 0.01, "beta_1": 0.875, "beta_2": 1 - 2**-10},
    ),
    "adam-eps-weight_decay": (
        lambda: optim.Adam(
            lr=0.01, betas=(0.875, 1 - 2**-10), eps=1e-2, weight_decay=0.0625, convention="keras"
        ),
        "Adam",
        {
            "learning_rate": 0.01,
            "beta_1": 0.875,
            "beta_2": 1 - 2**-10,
            "epsilon": 1e-2,
            "weight_decay": 0.0625,
        },
    ),
}


@pytest.mark.parametrize("case", KERAS_CASES)
def test_updates_match_keras_in_float64_with_the_keras_convention(case):
    ours, keras_name, kwargs = KERAS_CASES[case]
    theirs = _run_keras(lambda keras: getattr(keras.optimizers, keras_name)(**kwargs))
    _assert_same_moves(_run_ours(ours()), theirs)


def test_a_schedule_drives_the_optimizer_like_a_keras_learningrateschedule():
    """Keras momentum with a decaying rate, where its velocity form differs from torch's buffer."""
    ours = optim.SGD(
        lr=schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True),
        momentum=0.75,
        convention="keras",
    )

    def make(keras):
        lr = keras.optimizers.schedules.ExponentialDecay(
            np.float64(0.1), 3, np.float64(0.5), staircase=True
        )
        return keras.optimizers.SGD(learning_rate=lr, momentum=0.75)

    _assert_same_moves(_run_ours(ours), _run_keras(make))


@pytest.mark.parametrize("keras_name", ["SGD", "RMSprop", "Adagrad", "Adam"])
def test_keras_defaults_in_float32_agree_to_1e_6(keras_name):
    """Keras as most people run it: float32 variables, default hyperparameters (momentum 0.9
    for SGD). Keras rounds every operation to float32 (about 6e-8 relative), we compute in
    float64 from the same float32 inputs, so parameters of size ~1 agree to about 1e-6."""
    kwargs = {"momentum": 0.9} if keras_name == "SGD" else {}
    ours = getattr(optim, keras_name)(convention="keras", **kwargs)
    as_float32 = {k: v.astype(np.float32).astype(np.float64) for k, v in START.items()}
    grads = [{k: v.astype(np.float32).astype(np.float64) for k, v in g.items()} for g in GRADS]
    theirs = _run_keras(lambda keras: getattr(keras.optimizers, keras_name)(**kwargs), "float32")
    mine = _run_ours(ours, as_float32, grads)
    for k in SHAPES:
        np.testing.assert_allclose(mine[k], theirs[k], rtol=1e-6, atol=1e-6, err_msg=k)


# --- where the two conventions differ -----------------------------------------------------------


@pytest.mark.parametrize("case", ["rmsprop-eps", "adagrad-eps", "adam-eps-weight_decay"])
def test_the_torch_convention_misses_keras_by_far_more_than_rounding(case):
    """Same hyperparameters, other convention: where epsilon goes (and for Adam, how weight
    decay is applied) changes the update by more than 1%."""
    ours, keras_name, kwargs = KERAS_CASES[case]
    keras_style = ours()
    torch_style = ours()
    torch_style.convention = "torch"
    theirs = _moves(_run_keras(lambda keras: getattr(keras.optimizers, keras_name)(**kwargs)))
    np.testing.assert_allclose(_moves(_run_ours(keras_style))["W"], theirs["W"], rtol=1e-10)
    assert not np.allclose(_moves(_run_ours(torch_style))["W"], theirs["W"], rtol=1e-2, atol=0)


def test_momentum_conventions_agree_at_a_constant_rate_and_differ_under_a_schedule():
    const = [optim.SGD(lr=0.1, momentum=0.9, convention=c) for c in optim.CONVENTIONS]
    _assert_same_moves(_run_ours(const[0]), _run_ours(const[1]))
    decaying = schedules.step_decay(0.1, 0.5, 2)
    varying = [optim.SGD(lr=decaying, momentum=0.9, convention=c) for c in optim.CONVENTIONS]
    assert not np.allclose(_run_ours(varying[0])["W"], _run_ours(varying[1])["W"], rtol=1e-3)


def test_weight_decay_conventions_agree_for_plain_sgd_and_differ_with_momentum():
    """Coupled L2 and decoupled decay give the same plain-SGD step; momentum then carries the
    L2 term of the gradient (torch) but not the decoupled decay (Keras)."""
    plain = [optim.SGD(lr=0.1, weight_decay=0.1, convention=c) for c in optim.CONVENTIONS]
    _assert_same_moves(_run_ours(plain[0]), _run_ours(plain[1]))
    mom = [optim.SGD(0.1, momentum=0.9, weight_decay=0.1, convention=c) for c in optim.CONVENTIONS]
    assert not np.allclose(_run_ours(mom[0])["W"], _run_ours(mom[1])["W"], rtol=1e-3)


def test_defaults_are_those_of_the_framework_the_convention_names():
    import keras
    import torch

    def torch_default(cls, name):
        return inspect.signature(getattr(torch.optim, cls)).parameters[name].default

    def keras_default(cls, name):
        return inspect.signature(getattr(keras.optimizers, cls)).parameters[name].default

    for cls in ("SGD", "RMSprop", "Adagrad", "Adam"):
        assert getattr(optim, cls)().lr == torch_default(cls, "lr")
        assert getattr(optim, cls)(convention="keras").lr == keras_default(cls, "learning_rate")
    for cls in ("RMSprop", "Adagrad", "Adam"):
        assert getattr(optim, cls)().eps == torch_default(cls, "eps")
        assert getattr(optim, cls)(convention="keras").eps == keras_default(cls, "epsilon")
    assert optim.RMSprop().rho == torch_default("RMSprop", "alpha")
    assert optim.RMSprop(convention="keras").rho == keras_default("RMSprop", "rho")
    for convention, default in (("torch", torch_default), ("keras", keras_default)):
        value = optim.Adagrad(convention=convention).initial_accumulator_value
        assert value == default("Adagrad", "initial_accumulator_value")
    assert (optim.Adam().beta1, optim.Adam().beta2) == torch_default("Adam", "betas")
    assert optim.Adam(convention="keras").beta1 == keras_default("Adam", "beta_1")
    assert optim.Adam(convention="keras").beta2 == keras_default("Adam", "beta_2")


# --- properties of every optimizer --------------------------------------------------------------


@pytest.mark.parametrize("name", REGISTRY)
def test_step_returns_new_arrays_and_never_modifies_its_inputs(name):
    opt = _make(name)
    params = {k: v.copy() for k, v in START.items()}
    grads = {k: v.copy() for k, v in GRADS[0].items()}
    for _ in range(3):
        new = opt.step(params, grads)
        for k in SHAPES:
            np.testing.assert_array_equal(params[k], START[k])
            np.testing.assert_array_equal(grads[k], GRADS[0][k])
            assert not np.shares_memory(new[k], params[k])
            assert not np.shares_memory(new[k], grads[k])
            assert not any(np.shares_memory(new[k], s) for s in opt.state[k].values())


@pytest.mark.parametrize("name", REGISTRY)
def test_float32_parameters_stay_float32(name):
    params = {k: v.astype(np.float32) for k, v in START.items()}
    grads = {k: v.astype(np.float32) for k, v in GRADS[0].items()}
    new = _make(name).step(params, grads)
    assert all(new[k].dtype == np.float32 for k in SHAPES)


@pytest.mark.parametrize("name", REGISTRY)
def test_every_optimizer_descends_a_quadratic_bowl(name):
    """f(phi) = sum of phi^2 / 2 (gradient phi): after 200 steps f is smaller."""
    opt, params = _make(name), dict(START)
    for _ in range(200):
        params = opt.step(params, params)
    assert sum(np.sum(p**2) for p in params.values()) < 0.5 * sum(
        np.sum(p**2) for p in START.values()
    )


@pytest.mark.parametrize("name", REGISTRY)
def test_a_schedule_is_called_with_the_step_count_from_zero(name):
    make, convention = REGISTRY[name]
    seen = []
    opt = make(convention)
    opt.lr = lambda t: seen.append(t) or 0.01
    _run_ours(opt)
    assert seen == list(range(len(GRADS)))


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: optim.SGD(lr=-0.1), "lr must be a finite number >= 0, got -0.1"),
        (lambda: optim.Adam(lr=float("nan")), "lr must be a finite number >= 0, got nan"),
        (
            lambda: optim.SGD(lr="0.1"),
            "lr must be a finite number >= 0 or a schedule lr.t. or None, got .0.1.",
        ),
        (lambda: optim.SGD(lr=0.1, momentum=1.2), r"momentum must be in \[0, 1\), got 1.2"),
        (lambda: optim.SGD(lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda: optim.SGD(lr=0.1, weight_decay=-1), "weight_decay must be .* >= 0, got -1"),
        (lambda: optim.Adam(betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\), got 1.0"),
        (lambda: optim.Adam(betas=(-0.1, 0.9)), r"betas\[0\] must be in \[0, 1\), got -0.1"),
        (lambda: optim.Adam(betas=(0.9,)), r"betas must be a pair \(beta1, beta2\)"),
        (lambda: optim.Adam(eps=0), "eps must be a finite number > 0 or None, got 0"),
        (lambda: optim.RMSprop(eps=-1e-8), "eps must be a finite number > 0 or None, got -1e-08"),
        (lambda: optim.RMSprop(rho=1.0), r"rho must be in \[0, 1\) or None, got 1.0"),
        (
            lambda: optim.Adagrad(initial_accumulator_value=-0.1),
            "initial_accumulator_value must be .* >= 0 or None, got -0.1",
        ),
        (lambda: optim.RMSprop(convention="tf"), "convention must be 'torch' or 'keras', got 'tf'"),
    ],
)
def test_bad_hyperparameters_raise_valueerror_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "params, grads, match",
    [
        ({"W": np.zeros(2)}, {"V": np.zeros(2)}, r"grads keys must match .*missing \['W'\]"),
        ({"W": np.zeros(2)}, {"W": np.zeros(2), "b": 0.0}, r"unexpected \['b'\]"),
        ({"W": np.zeros(2)}, {"W": np.zeros(3)}, r"grads\['W'\] has shape \(3,\)"),
        (np.zeros(2), np.zeros(2), "params must be a dict of arrays, got ndarray"),
        ({"W": np.zeros(2)}, [np.zeros(2)], "grads must be a dict of arrays, got list"),
    ],
)
def test_mismatched_params_and_grads_raise_valueerror_naming_them(params, grads, match):
    opt = optim.Adam()
    with pytest.raises(ValueError, match=match):
        opt.step(params, grads)
    assert opt.t == 0 and opt.state == {}  # a rejected step changes nothing


def test_a_schedule_that_goes_negative_is_caught_at_the_step_where_it_does():
    opt = optim.SGD(lr=lambda t: 0.1 - 0.05 * t)
    params = {"W": np.ones(2)}
    for _ in range(3):
        params = opt.step(params, {"W": np.ones(2)})
    with pytest.raises(ValueError, match=r"lr must be .* \(the schedule at step 3\), got -0.05"):
        opt.step(params, {"W": np.ones(2)})
