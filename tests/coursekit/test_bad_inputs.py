"""Does every public function of coursekit name the parameter and the value it refuses?

One property across a registry (every public function, class and method of every public
module of coursekit, found by walking the package with ``pkgutil``, from each module's
``__all__``; no hand-kept list of modules): each declares constraints for every parameter
(``validate_params``), or, for a class coursekit returns and never takes, says so
(``result_record``), and for each parameter the classes of bad input that fit its kind (a
string for a number or a bool, NaN and infinity, a bool for a number, a wrong kind of object,
NaN inside arrays and dicts of arrays, ...) raise a ``ValueError``/``TypeError`` whose message
starts with the parameter's name and shows the value. The bad values are fixed here, by kind,
not derived from the constraints; the second half calls the functions on real data with the
inputs the issues found accepted or failing deep inside numpy.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import warnings
from numbers import Integral

import numpy as np
import pytest

import coursekit
from coursekit import _params as P


def _public_modules() -> list[str]:
    """Every module of coursekit whose dotted name has no part starting with ``_``."""
    names = ["coursekit"]
    for info in pkgutil.walk_packages(coursekit.__path__, prefix="coursekit."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


MODULES = _public_modules()


def _is_result(cls) -> bool:
    return getattr(cls, "__coursekit_result__", False) is True


def _instance(cls):
    """A valid instance of a public class, to call its methods on."""
    from coursekit import initialization, schedules
    from coursekit.mlp import MLPSpec, NumpyMLP
    from coursekit.scaling import Standardizer
    from coursekit.tuning import Choice, IntRange, LogUniform, SearchResult, Uniform

    makers = {
        schedules.Constant: lambda: schedules.Constant(0.1),
        schedules.StepDecay: lambda: schedules.StepDecay(0.1, 0.5, 2),
        schedules.ExponentialDecay: lambda: schedules.ExponentialDecay(0.1, 10, 0.9),
        schedules.CosineAnnealing: lambda: schedules.CosineAnnealing(0.1, 10),
        schedules.Warmup: lambda: schedules.Warmup(schedules.Constant(0.1), 2),
        Standardizer: lambda: Standardizer().fit([[0.0, 1.0], [1.0, 0.0]]),
        NumpyMLP: lambda: NumpyMLP(MLPSpec(n_inputs=2, hidden=(2,))),
        SearchResult: SearchResult,
        Choice: lambda: Choice([1, 2]),
        IntRange: lambda: IntRange(1, 3),
        Uniform: lambda: Uniform(0.0, 1.0),
        LogUniform: lambda: LogUniform(0.1, 1.0),
        initialization.GradientNorms: lambda: initialization.GradientNorms(
            0.7, np.ones(3), np.ones(2), np.ones(2)
        ),
    }
    if cls in makers:
        return makers[cls]()
    assert not _is_result(cls), f"{cls.__qualname__} is a result record: add a maker here"
    return cls(**_required_examples(_constraints(cls.__init__), cls.__init__))


def _constraints(fn) -> dict:
    return getattr(fn, "__coursekit_params__", None)


def _required_examples(constraints, fn, skip=()) -> dict:
    """A valid value for every parameter without a default (other than ``skip``)."""
    sig = inspect.signature(fn)
    out = {}
    for name, param in sig.parameters.items():
        if name in ("self", "cls") or name in skip or param.default is not param.empty:
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        out[name] = _example(constraints[name])
    return out


def _example(constraints):
    for c in constraints:
        try:
            return c.example()
        except NotImplementedError:
            continue
    raise AssertionError(f"no example value for {constraints}")


def _public_objects():
    """(module name, object) for every name in the ``__all__`` of every public module."""
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        assert hasattr(module, "__all__"), f"{module_name} has no __all__"
        for name in module.__all__:
            yield module_name, getattr(module, name)


def _registry():
    """(id, callable, owner class or None) for every public function, class and method.

    A method is called on an instance of the first public class that has it and no public
    subclass (``Schedule.__call__`` through ``Constant``), so a base class need not be built.
    """
    objects = [obj for _, obj in _public_objects()]
    classes = [
        o for o in objects if inspect.isclass(o) and not issubclass(o, BaseException | Warning)
    ]

    def has_subclass(cls):
        return any(other is not cls and issubclass(other, cls) for other in classes)

    seen, entries = set(), []
    for obj in objects:
        if id(obj) in seen:
            continue
        if inspect.isfunction(obj):
            seen.add(id(obj))
            entries.append((f"{obj.__module__}.{obj.__qualname__}", obj, None))
    for cls in sorted(classes, key=has_subclass):  # leaves first: they own the methods
        if id(cls) in seen:
            continue
        seen.add(id(cls))
        entries.append((f"{cls.__module__}.{cls.__qualname__}", cls, None))
        for method_name, method in inspect.getmembers(cls, inspect.isfunction):
            public = not method_name.startswith("_") or method_name == "__call__"
            mine = method.__module__.startswith("coursekit")
            if public and mine and id(method) not in seen and _has_params(method):
                seen.add(id(method))
                entries.append((method.__qualname__, method, cls))
    return entries


def _has_params(fn) -> bool:
    return any(
        p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in inspect.signature(fn).parameters.values()
    )


REGISTRY = _registry()
IDS = [entry[0] for entry in REGISTRY]


def _target(entry):
    """What to call and the function whose constraints apply."""
    _, obj, owner = entry
    if owner is not None:
        return getattr(_instance(owner), obj.__name__), obj
    if inspect.isclass(obj):
        return obj, obj.__init__
    return obj, obj


def test_the_walk_finds_every_public_module_without_a_list():
    """The modules the hand-kept list of round two left out are found by the walk."""
    for module in (
        "coursekit.initialization",
        "coursekit.landscapes",
        "coursekit.lr_experiments",
        "coursekit.xor",
        "coursekit.claims",
        "coursekit.display",
        "coursekit.errata",
        "coursekit.exercises",
        "coursekit.seeding",
        "coursekit.tuning.halving",
        "coursekit.mlp.torch_mlp",
    ):
        assert module in MODULES
    assert not any(part.startswith("_") for m in MODULES for part in m.split("."))
    # a module file added tomorrow is found too: every .py of the package is walked
    from pathlib import Path

    root = Path(coursekit.__file__).parent
    on_disk = {
        ".".join(("coursekit", *p.relative_to(root).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for p in root.rglob("*.py")
        if not any(part.startswith("_") and part != "__init__.py" for part in p.parts[-3:])
        and "__pycache__" not in p.parts
    }
    assert on_disk <= set(MODULES) | {"coursekit"}, on_disk - set(MODULES)


def test_every_public_function_and_class_a_module_defines_is_in_its_all():
    """The walk reads ``__all__``: a public name left out of it would escape every check."""
    left_out = [
        f"{module_name}.{name}"
        for module_name in MODULES
        for name, obj in vars(importlib.import_module(module_name)).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module_name
        and name not in importlib.import_module(module_name).__all__
    ]
    assert not left_out


def test_the_registry_holds_the_public_api():
    names = set(IDS)
    for expected in (
        "coursekit.initialization.init_std",
        "coursekit.initialization.gradient_norms",
        "GradientNorms.spread",
        "coursekit.landscapes.trajectory",
        "coursekit.landscapes.Landscape",
        "coursekit.lr_experiments.learning_rate_experiment",
        "coursekit.divergence.diverged_epoch",
        "coursekit.xor.train",
        "coursekit.claims.claim",
        "coursekit.exercises.check",
        "coursekit.metrics.curves.roc_curve",
        "coursekit.optim.Adam",
        "Optimizer.step",
        "EarlyStopping.step",
        "Schedule.__call__",
        "coursekit.tuning.keras_search.slides_hypermodel",
        "coursekit.mlp.recipes.small_classifier",
        "coursekit.gradcheck.check_gradients",
    ):
        assert expected in names
    assert len(REGISTRY) > 100


@pytest.mark.parametrize("entry", REGISTRY, ids=IDS)
def test_every_parameter_of_every_public_function_has_declared_constraints(entry):
    _, obj, _ = entry
    checked = obj.__init__ if inspect.isclass(obj) else obj
    params = [
        p.name
        for p in inspect.signature(checked).parameters.values()
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    declared = _constraints(checked)
    if inspect.isclass(obj) and _is_result(obj):  # coursekit builds it; its methods are checked
        assert declared is None, f"{entry[0]} is a result record and declares fields too"
        return
    if not params:
        assert declared in (None, {})
        return
    assert declared is not None, (
        f"{entry[0]} declares no constraints (use @validate_params, or @result_record for a "
        "class that coursekit returns and never takes)"
    )
    assert set(declared) == set(params)


def test_result_records_are_only_returned_never_taken():
    """A class marked as a result is no parameter's declared type (else it is an input)."""
    results = {id(o) for _, o in _public_objects() if inspect.isclass(o) and _is_result(o)}
    assert len(results) >= 8
    for entry in REGISTRY:
        checked = entry[1].__init__ if inspect.isclass(entry[1]) else entry[1]
        for name, constraints in (_constraints(checked) or {}).items():
            for c in constraints:
                classes = getattr(c, "cls", ())
                classes = classes if isinstance(classes, tuple) else (classes,)
                taken = [k.__qualname__ for k in classes if id(k) in results]
                if entry[0].endswith(("plot_lr_range_test", "plot_learning_curves")):
                    continue  # plotting a result takes it back: that is its point
                assert not taken, f"{entry[0]}({name}) takes the result record {taken}"


def test_the_issue_cases_of_the_unwalked_modules_are_refused():
    """``init_std(..., naive_std=True)`` returned 1.0 while ``optim.SGD(lr=True)`` raised."""
    from coursekit import initialization, landscapes, lr_experiments, optim

    calls = [
        (lambda: initialization.init_std("he", 3, 3, naive_std=True), "naive_std", "True"),
        (lambda: optim.SGD(lr=True), "lr", "True"),
        (lambda: initialization.deep_mlp("he", depth=2, width=4, seed="0"), "seed", "'0'"),
        (
            lambda: landscapes.trajectory(optim.SGD(lr=0.1), landscapes.SADDLE, (1, 0), True),
            "steps",
            "True",
        ),
        (lambda: lr_experiments.learning_rate_experiment(lrs=(0.1, True)), "lrs[1]", "True"),
        (lambda: lr_experiments.chance_loss(None), "y", "None"),
    ]
    for call, name, shown in calls:
        with pytest.raises(ValueError) as raised:
            call()
        message = str(raised.value)
        assert message.startswith(name) and shown in message, message


# -- the classes of bad input, by the kind of parameter ----------------------------------------

NAN, INF = float("nan"), float("inf")


def _bad_values(constraints) -> list:
    """Inputs that no parameter of this kind may take, chosen by kind (not by the constraints)."""
    kinds = {type(c) for c in constraints}
    bad = []  # (value, the kind of constraint that must refuse it)

    def add(kind, *values):
        bad.extend((v, kind) for v in values)

    if P.Interval in kinds:
        intervals = [c for c in constraints if isinstance(c, P.Interval)]
        add(P.Interval, "3", "0.1", True, NAN)
        if not any(c.right == math.inf for c in intervals):
            add(P.Interval, INF)
        if not any(c.left == -math.inf for c in intervals):
            add(P.Interval, -INF)
        if all(c.kind is Integral for c in intervals):
            add(P.Interval, 2.5)
        if all(c.left is not None and c.left >= 0 for c in intervals):
            add(P.Interval, -1)
    if P.Boolean in kinds:
        add(P.Boolean, "no", "yes", "False", 1.5)
    if P.Options in kinds:
        add(P.Options, "not-an-option", True)
    if P.ArrayLike in kinds:
        arrays = [c for c in constraints if isinstance(c, P.ArrayLike)]
        add(P.ArrayLike, "abc", {"a": 1})
        if all(c.numeric for c in arrays):
            add(P.ArrayLike, ["a", "b"])
        if all(c.finite for c in arrays):
            add(P.ArrayLike, [1.0, NAN], [INF, 1.0])
    if P.ArrayDict in kinds:
        dicts = [c for c in constraints if isinstance(c, P.ArrayDict)]
        add(P.ArrayDict, [1.0, 2.0], {"W": "x"})
        if all(c.finite for c in dicts):
            add(P.ArrayDict, {"W": np.array([[1.0, NAN]])}, {"W": [INF]})
    if P.CallableConstraint in kinds:
        add(P.CallableConstraint, 3, "f")
    if P.SequenceOf in kinds:
        add(P.SequenceOf, "ab", 3)
    if P.AnyReal in kinds:
        add(P.AnyReal, "0.5", [0.5], True)
    if P._NoneConstraint not in kinds and kinds - {P.Anything}:
        add(None, None, object())
    # a value that a constraint of *another* kind accepts is not bad (3 for an lr that may be
    # a number or a schedule); one that the kind which must refuse it accepts stays, and fails
    return [
        v
        for v, kind in bad
        if not any(type(c) is not kind and c.problem("x", v) is None for c in constraints)
    ]


def _cases():
    for entry in REGISTRY:
        checked = entry[1].__init__ if inspect.isclass(entry[1]) else entry[1]
        for name, constraints in (_constraints(checked) or {}).items():
            for value in _bad_values(constraints):
                shown = "<object>" if type(value) is object else repr(value)  # no address: ids
                yield pytest.param(
                    entry, name, value, id=f"{entry[0]}-{name}={shown}"[:120]
                )  # agree across xdist workers


CASES = list(_cases())


def test_the_bad_inputs_cover_every_kind_of_parameter():
    assert len(CASES) > 1000
    named = {(c.values[0][0], c.values[1]) for c in CASES}
    assert ("coursekit.metrics.curves.roc_curve", "drop_intermediate") in named
    assert ("coursekit.schedules.exponential_decay", "step") in named


@pytest.mark.parametrize("entry, name, value", CASES)
def test_a_bad_input_raises_an_error_naming_the_parameter_and_the_value(entry, name, value):
    call, checked = _target(entry)
    kwargs = _required_examples(_constraints(checked), checked, skip=(name,))
    kwargs[name] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((ValueError, TypeError)) as raised:
            call(**kwargs)
    message = str(raised.value)
    assert message.startswith((f"{name} ", f"{name}[")), message
    assert "got" in message, message
    if isinstance(value, str | bool | float | int) and not (
        isinstance(value, float) and math.isnan(value) and "nan" in message
    ):
        assert repr(value) in message or str(value) in message, message


# -- the inputs the issue found, on real data -------------------------------------------------


def _issue_cases():
    from coursekit import gradcheck, metrics, optim, regularization, schedules, xor

    y, s = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    W = {"W": np.array([[0.5, -0.2], [0.1, 0.3]]), "b": np.zeros(2)}

    def loss(q):
        return float((q["W"] ** 2).sum() + q["b"].sum())

    grads = {"W": 2 * W["W"], "b": np.ones(2)}
    mixed = np.array(["a", 1, "a", 0], dtype=object)
    cases = [
        (lambda: metrics.roc_curve(y, s, drop_intermediate="no"), "drop_intermediate", "'no'"),
        (lambda: metrics.precision_recall_curve(y, s, drop_intermediate="no"), "drop_", "'no'"),
        (lambda: metrics.accuracy_score(y, y, normalize="yes"), "normalize", "'yes'"),
        (lambda: metrics.confusion_matrix(y, y, normalize="yes"), "normalize", "'yes'"),
        (lambda: metrics.roc_auc_score(y, s, max_fpr="0.5"), "max_fpr", "'0.5'"),
        (lambda: metrics.precision_score(y, y, zero_division="1"), "zero_division", "'1'"),
        (lambda: metrics.auc([0, NAN, 1], [0, 1, 1]), "x", "nan"),
        (lambda: metrics.auc([0, 0.5, 1], [0, INF, 1]), "y", "inf"),
        (lambda: schedules.exponential_decay(0, 0.1, 10, 0.9, staircase="no"), "staircase", "no"),
        (lambda: schedules.ExponentialDecay(0.1, 10, 0.9, staircase="no"), "staircase", "no"),
        (lambda: schedules.exponential_decay("3", 0.1, 10, 0.9), "step", "'3'"),
        (lambda: schedules.step_decay(0.1)("3"), "step", "'3'"),
        (lambda: schedules.cosine_annealing(0.1, 10)(INF), "step", "inf"),
        (lambda: schedules.cosine_annealing(0.1, 10)([1, NAN]), "step", "nan"),
        (lambda: schedules.warmup(schedules.constant(0.1), True), "warmup_steps", "True"),
        (lambda: regularization.l2_penalty(W, "0.1"), "lam", "'0.1'"),
        (lambda: regularization.l1_grad(W, "0.1"), "lam", "'0.1'"),
        (lambda: regularization.l2_penalty({"W": [[NAN, 1.0]]}, 0.1), "params['W']", "nan"),
        (lambda: regularization.l1_penalty({"W": [[INF, 1.0]]}, 0.1), "params['W']", "inf"),
        (lambda: regularization.l2_penalty(W, 0.1, include_biases="no"), "include_biases", "no"),
        (lambda: regularization.EarlyStopping(min_delta="0.1"), "min_delta", "'0.1'"),
        (lambda: regularization.EarlyStopping(restore_best="no"), "restore_best", "'no'"),
        (lambda: regularization.EarlyStopping().step("0.5"), "value", "'0.5'"),
        (lambda: regularization.dropout_forward(np.ones(3), 0.5, training="no"), "training", "no"),
        (lambda: regularization.Dropout("0.5"), "rate", "'0.5'"),
        (lambda: optim.SGD(lr=0.1, nesterov="yes", momentum=0.9), "nesterov", "'yes'"),
        (lambda: optim.SGD(lr=True), "lr", "True"),
        (lambda: optim.Adam(betas=(0.9, "0.999")), "betas[1]", "'0.999'"),
        (lambda: gradcheck.numerical_gradient(lambda q: q["W"] * 2, W), "loss_fn", "shape (2, 2)"),
        (lambda: gradcheck.numerical_gradient(lambda q: None, W), "loss_fn", "None"),
        (lambda: gradcheck.numerical_gradient(loss, W, eps="1e-6"), "eps", "'1e-6'"),
        (
            lambda: gradcheck.check_gradients(loss, W, {**grads, "W": grads["W"][:1]}),
            "grads['W']",
            "shape (1, 2)",
        ),
        (
            lambda: gradcheck.check_gradients(loss, W, {**grads, "b": np.ones((2, 1))}),
            "grads['b']",
            "(2, 1)",
        ),
        (lambda: gradcheck.check_gradients(loss, W, grads, tol=-1e-6), "tol", "-1e-06"),
        (lambda: gradcheck.check_gradients(loss, W, grads, batch_size=0), "batch_size", "0"),
        (lambda: gradcheck.rel_error(np.ones((1, 2)), np.ones((2, 1))), "a and b", "(2, 1)"),
        (lambda: xor.train(xor.lecture_params(), *xor.dataset(), lr="0.1"), "lr", "'0.1'"),
        (lambda: xor.train(xor.lecture_params(), *xor.dataset(), shuffle="no"), "shuffle", "no"),
        (
            lambda: xor.sgd_step(xor.lecture_params(), {"W1": np.ones((2, 2))}, 0.1),
            "sgd_step needs",
            "dW1",
        ),
    ]
    label_metrics = [
        metrics.accuracy_score,
        metrics.precision_score,
        metrics.recall_score,
        metrics.sensitivity_score,
        metrics.specificity_score,
        metrics.f1_score,
        metrics.matthews_corrcoef,
        metrics.confusion_matrix,
    ]
    for metric in label_metrics:
        cases.append((lambda m=metric: m(mixed, [0, 1, 1, 0]), "y_true mixes label types", "'a'"))
        cases.append((lambda m=metric: m([0, 1, 1, 0], mixed), "y_pred mixes label types", "1"))
    return cases


ISSUE_CASES = _issue_cases()


@pytest.mark.parametrize("call, name, shown", ISSUE_CASES)
def test_the_inputs_the_issue_found_get_a_named_error(call, name, shown):
    with pytest.raises((ValueError, TypeError)) as raised:
        call()
    message = str(raised.value)
    assert message.startswith(name) and shown in message, message


def test_labels_as_python_objects_of_one_kind_still_work():
    from coursekit import metrics

    text = np.array(["spam", "ham", "spam", "ham"], dtype=object)
    assert metrics.accuracy_score(text, text) == 1.0
    assert metrics.precision_score(text, text[::-1], pos_label="spam") == 0.0
    numbers = np.array([0, 1, 1, 0], dtype=object)
    assert metrics.f1_score(numbers, [0, 1, 0, 0]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_optimizers_pass_nan_and_inf_through_as_torch_does(name):
    """By design (the module's docstring): NaN gradients and inf parameters are not checked."""
    import torch

    from coursekit import optim

    torch.set_num_threads(1)
    phi0 = np.array([1.0, INF, 2.0])
    g0 = np.array([NAN, 1.0, 0.5])
    ours = getattr(optim, name)(lr=0.1).step({"w": phi0}, {"w": g0})["w"]
    w = torch.tensor(phi0, requires_grad=True)
    w.grad = torch.tensor(g0)
    getattr(torch.optim, name)([w], lr=0.1).step()
    theirs = w.detach().numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-12)
    assert np.isnan(ours[0]) and np.isinf(ours[1])
