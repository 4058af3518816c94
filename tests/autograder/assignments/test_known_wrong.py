"""Every assignment's hidden checks pass the reference solution and catch the known mistakes.

Each known-wrong solution is the reference with one classic mistake; the check aimed at it
must fail (and so lose that check's points), while the reference passes every check.
"""

import re

import numpy as np
import pytest

from autograder.assignments.a2_backprop import hidden as backprop
from autograder.assignments.a3_regularization import hidden as regularization
from autograder.grading import authoring
from tests.autograder.assignment_helpers import reference
from tests.autograder.assignments import mistakes

A2, A3 = reference("a2_backprop"), reference("a3_regularization")


def test_assignment_2_reference_passes_every_hidden_check():
    backprop.expect_forward(A2["forward"])
    backprop.expect_backward(A2["forward"], A2["backward"])
    backprop.expect_sgd_step(A2["sgd_step"])
    backprop.expect_numerical_gradient(A2["numerical_gradient"])


def test_assignment_3_reference_passes_every_hidden_check():
    regularization.expect_l2(A3["l2_penalty"], A3["l2_grad"])
    regularization.expect_dropout(A3["dropout"])
    regularization.expect_early_stopping(A3["early_stopping"])
    regularization.expect_decay(A3["per_epoch_decay"], A3["keras_decay"])


# -- assignment 2 ---------------------------------------------------------------------------


def _one_sided_difference(loss, params, eps=1e-6):
    out = {}
    for k, v in params.items():
        g = np.zeros_like(v)
        base = loss(params)
        for idx in np.ndindex(v.shape):
            v[idx] += eps
            g[idx] = (loss(params) - base) / eps
            v[idx] -= eps
        out[k] = g
    return out


# -- assignment 3 ---------------------------------------------------------------------------


def _early_stopping_keeps_the_last(losses, patience):
    stop, _ = A3["early_stopping"](losses, patience)
    return stop, (stop if stop is not None else len(losses) - 1)


def _keras_decay_always_staircase(step, lr0, decay_steps, decay_rate, staircase=False):
    return lr0 * decay_rate ** np.floor(step / decay_steps)


WRONG = {
    "gradient of the sum where the mean is asked": (
        lambda: backprop.expect_backward(A2["forward"], mistakes.backward_of_the_sum),
        "off by the batch size",
    ),
    "ReLU'(0) = 1": (
        lambda: backprop.expect_backward(A2["forward"], mistakes.backward_relu_prime_zero_is_one),
        r"ReLU'\(0\)",
    ),
    "transposed dW1": (
        lambda: backprop.expect_backward(A2["forward"], mistakes.backward_transposed),
        "dW1",
    ),
    "forward with X @ W1.T": (
        lambda: backprop.expect_forward(mistakes.forward_W1_transposed),
        r"forward: z1 is wrong on hidden case 1 \(this is X @ W1.T: z1 = X @ W1 \+ b1",
    ),
    "dz1 = da1 * a1": (
        lambda: backprop.expect_backward(
            A2["forward"], mistakes.backward_with(dz1_of=lambda da1, cache: da1 * cache["a1"])
        ),
        r"dW1 is wrong on hidden case 1 \(dz1 = da1 \* a1 multiplies by the activation; "
        r"ReLU'\(z1\) is 1 where z1 > 0 and 0 elsewhere: dz1 = da1 \* \(z1 > 0\)\)$",
    ),
    "no ReLU' (told apart from ReLU'(0) = 1 by the other cases)": (
        lambda: backprop.expect_backward(
            A2["forward"], mistakes.backward_with(dz1_of=lambda d, c: d)
        ),
        r"db1 is wrong on hidden case 1 \(the ReLU's derivative is missing[^;]*\)$",
    ),
    "bias gradients keep the batch axis": (
        lambda: backprop.expect_backward(
            A2["forward"], mistakes.backward_with(keep_batch_axis=True)
        ),
        r"backward: db1 has the wrong shape on hidden case 1 \(it keeps the batch axis: a bias "
        r"gradient sums over the examples, dz.sum\(axis=0\)\)$",
    ),
    "a gradient off in one entry (no known mistake)": (
        lambda: backprop.expect_backward(A2["forward"], mistakes.backward_off_in_one_entry),
        r"dW2 is wrong on hidden case 1 \(one entry differs, by more than 1% of the expected "
        r"size\)$",
    ),
    "numerical_gradient never restores the entry it perturbs": (
        lambda: backprop.expect_numerical_gradient(mistakes.numerical_gradient_never_restores),
        r"numerical_gradient must not modify params in place: params\['W1'\] changed \(its "
        r"entries are off by about eps: each entry it perturbs is never put back.*\)\. Inputs "
        r"must not change",
    ),
    "dropout modifies its input in place": (
        lambda: regularization.expect_dropout(mistakes.dropout_in_place),
        r"must not modify a in place: a changed\. Inputs must not change",
    ),
    "gradient ascent": (lambda: backprop.expect_sgd_step(mistakes.sgd_ascent), "updated wrongly"),
    "update in place": (lambda: backprop.expect_sgd_step(mistakes.sgd_in_place), "in place"),
    "one-sided differences": (
        lambda: backprop.expect_numerical_gradient(_one_sided_difference),
        "central differences",
    ),
    "L2 penalty twice too large": (
        lambda: regularization.expect_l2(
            lambda p, lam: 2 * A3["l2_penalty"](p, lam), A3["l2_grad"]
        ),
        r"l2_penalty is wrong on hidden case 1 \(the penalty is lam \* sum\(w\*\*2\), without a "
        r"factor 2\)$",
    ),
    "L2 penalty off by a constant (no known mistake)": (
        lambda: regularization.expect_l2(
            lambda p, lam: A3["l2_penalty"](p, lam) + 0.5, A3["l2_grad"]
        ),
        r"l2_penalty is wrong on hidden case 1 \(it is off by more than 1% of the expected "
        r"size\)$",
    ),
    "L2 gradient without the 2": (
        lambda: regularization.expect_l2(
            A3["l2_penalty"],
            lambda p, lam: {k: v / 2 for k, v in A3["l2_grad"](p, lam).items()},
        ),
        r"l2_grad: W1 is wrong on hidden case 1 \(the gradient of lam \* sum\(W\*\*2\) is "
        r"2 \* lam \* W\)$",
    ),
    "dropout keeps with probability rate": (
        lambda: regularization.expect_dropout(
            lambda a, rate, rng, training=True: a * (rng.random(a.shape) < rate) / (1 - rate)
        ),
        r"dropout\(rate=0.2\) zeroes too many of the units: about 20% is asked for \(it keeps a "
        r"unit with probability rate",
    ),
    "dropout multiplies by 1 - rate": (
        lambda: regularization.expect_dropout(
            lambda a, rate, rng, training=True: (
                a * (rng.random(a.shape) >= rate) * (1 - rate) if training else a
            )
        ),
        r"scaled by 1 / \(1 - rate\) while training \(they are multiplied by 1 - rate",
    ),
    "early stopping one epoch late": (
        lambda: regularization.expect_early_stopping(
            lambda losses, patience: A3["early_stopping"](losses, patience + 1)
        ),
        "it stops one epoch late",
    ),
    "staircase never applied": (
        lambda: regularization.expect_decay(
            A3["per_epoch_decay"],
            lambda step, lr0, steps, rate, staircase=False: lr0 * rate ** (step / steps),
        ),
        r"keras_decay \(staircase=True\) is wrong on a step (before|after) decay_steps \(with staircase "
        r"the exponent is floor\(step / decay_steps\)\)$",
    ),
    "L2 applied to biases": (
        lambda: regularization.expect_l2(mistakes.l2_on_biases, A3["l2_grad"]),
        "biases",
    ),
    "dropout not rescaled": (
        lambda: regularization.expect_dropout(mistakes.dropout_not_rescaled),
        "scaled",
    ),
    "dropout still on at eval": (
        lambda: regularization.expect_dropout(mistakes.dropout_on_at_eval),
        "identity",
    ),
    "early stopping keeps the last weights": (
        lambda: regularization.expect_early_stopping(_early_stopping_keeps_the_last),
        "that is the stop epoch: restore the epoch with the lowest loss",
    ),
    "off-by-one decay": (
        lambda: regularization.expect_decay(mistakes.decay_off_by_one, A3["keras_decay"]),
        "epoch 0",
    ),
    "staircase ignored": (
        lambda: regularization.expect_decay(A3["per_epoch_decay"], _keras_decay_always_staircase),
        "staircase=False",
    ),
}


@pytest.mark.parametrize("mistake", sorted(WRONG))
def test_each_known_mistake_fails_the_check_aimed_at_it(mistake):
    run, match = WRONG[mistake]
    with pytest.raises(AssertionError, match=match) as failure:
        run()
    # the diagnosis names the mistake, never a hidden input or an expected value
    assert not re.search(r"\d\.\d{3}", str(failure.value)), str(failure.value)


def test_a_diagnosis_spells_nothing_the_students_values_chose():
    """A wrong value that encodes a hidden input (which entry is off, and by how much) gets the
    same words whatever the hidden input: the message is no channel out of the grader."""
    from autograder.assignments.calls import seeded

    def leaky_backward(params, cache, X, y):
        grads = A2["backward"](params, cache, X, y)
        secret = float(X[-1, 0])  # a hidden input, to be smuggled into the feedback
        dW1 = grads["dW1"].copy()
        dW1.flat[int(abs(secret) * 1000) % 4] += secret  # where and how much: the secret
        return {**grads, "dW1": dW1}

    def leaky_dropout(a, rate, rng, training=True):
        keep = rng.random(a.shape) >= rate + 0.1 + 0.3 * (float(a[0, 0]) % 1)  # fraction: secret
        return a * keep / (1 - rate) if training else a

    messages = set()
    for seed in range(1, 7):
        with seeded(seed), pytest.raises(AssertionError) as backward:
            backprop.expect_backward(A2["forward"], leaky_backward)
        with seeded(seed), pytest.raises(AssertionError) as dropout:
            regularization.expect_dropout(leaky_dropout)
        messages.add(re.sub(r"hidden case \d", "hidden case N", str(backward.value)))
        messages.add(str(dropout.value))
    assert len(messages) <= 4, messages  # a few fixed phrasings, not one per hidden input


def test_a_wrong_forward_costs_forwards_points_only():
    """backward is given the right cache: it is graded on its own (no ReLU'(0) blame)."""
    with pytest.raises(AssertionError, match="this is X @ W1.T"):
        backprop.expect_forward(mistakes.forward_W1_transposed)
    backprop.expect_backward(mistakes.forward_W1_transposed, A2["backward"])


def test_rounding_left_by_x_plus_eps_minus_eps_is_no_modification():
    """Entries put back by arithmetic may differ in their last bits: that is not a change."""
    backprop.expect_numerical_gradient(_numerical_gradient_restored_by_arithmetic)


def _numerical_gradient_restored_by_arithmetic(loss, params, eps=1e-6):
    out = {}
    for k, v in params.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            v[idx] += eps
            plus = loss(params)
            v[idx] -= 2 * eps
            g[idx] = (plus - loss(params)) / (2 * eps)
            v[idx] += eps
        out[k] = g
    return out


# -- assignment 4 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def a4():
    import torch

    torch.set_num_threads(1)
    return reference("a4_mlp")


@pytest.mark.slow
def test_assignment_4_reference_passes_and_known_mistakes_fail(a4):
    import torch

    from autograder.assignments.a4_mlp import hidden as mlp

    mlp.expect_architecture(a4["build_and_train"])
    mlp.expect_accuracy(a4["build_and_train"], a4["predict_proba"])

    def wrong_layers(X, y, Xv, yv, epochs):
        return torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
        )

    with pytest.raises(AssertionError, match="hidden layers of"):
        mlp.expect_architecture(wrong_layers)

    def never_trained(X, y, Xv, yv, epochs):
        return a4["build_and_train"](X, y, Xv, yv, 0)

    with pytest.raises(AssertionError, match="below the required"):
        mlp.expect_accuracy(never_trained, a4["predict_proba"])


# -- the registry: every hidden check refuses malformed returns -------------------------------
#
# Each check is fed the reference with one graded function's return value distorted (empty,
# broadcastable, transposed, NaN, object or bool dtype, a subclass) or with a function that
# zeroes its inputs in place and answers for the zeroed inputs: each must fail the check.

import functools  # noqa: E402
from pathlib import Path  # noqa: E402

from autograder.assignments.a1_metrics import hidden as metrics  # noqa: E402
from autograder.assignments.a4_mlp import hidden as mlp  # noqa: E402

A1 = reference("a1_metrics")


class _SubArray(np.ndarray):
    def __eq__(self, other):  # an array that claims to equal anything
        return np.ones(np.shape(self), dtype=bool)


class _Float(float):
    pass


class _Int(int):
    pass


class _Dict(dict):
    pass


class _Tuple(tuple):
    pass


def _leaves(value, leaf):
    """``value`` with every array and number replaced by ``leaf(it)`` (None: keep it)."""
    if isinstance(value, dict):
        return {k: _leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_leaves(v, leaf) for v in value)
    if isinstance(value, (np.ndarray, int, float, np.number)) and not isinstance(value, bool):
        new = leaf(value)
        return value if new is None else new
    return value


def _transposed(x):
    x = np.asarray(x)
    if x.ndim >= 2:
        return x.T if (x.shape != x.T.shape or not np.array_equal(x, x.T)) else None
    return x[:, None] if x.ndim == 1 else None


def _nan(x):
    x = np.array(x, dtype=float)
    x.flat[0] = np.nan
    return x if x.ndim else float(x)


def _subclass(value):
    if isinstance(value, dict):
        return _Dict({k: _subclass(v) for k, v in value.items()})
    if isinstance(value, tuple):
        return _Tuple(_subclass(v) for v in value)
    if isinstance(value, list):
        return [_subclass(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.view(_SubArray)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return _Int(value)
    if isinstance(value, (float, np.floating)):
        return _Float(value)
    return value


MUTATIONS = {
    "empty": lambda v: _leaves(v, lambda x: np.zeros((0, 1, 1))),
    "broadcastable": lambda v: _leaves(
        v, lambda x: np.full((1,) * max(np.ndim(x), 1), np.asarray(x).flat[0])
    ),
    "transposed": lambda v: _leaves(v, _transposed),
    "nan": lambda v: _leaves(v, _nan),
    "object dtype": lambda v: _leaves(v, lambda x: np.array(x, dtype=object)),
    "bool dtype": lambda v: _leaves(
        v, lambda x: np.array(x).astype(bool) if np.ndim(x) else bool(x)
    ),
    "subclass": _subclass,
}


def _zero_in_place(value) -> bool:
    """Zero every array and list inside ``value`` in place; whether anything was there."""
    if isinstance(value, np.ndarray) and value.size and value.flags.writeable:
        value[...] = 0
        return True
    if isinstance(value, list):
        for i, v in enumerate(value):
            if not _zero_in_place(v):
                value[i] = 0
        return bool(value)
    if isinstance(value, dict):
        return any([_zero_in_place(v) for v in value.values()])
    return False


def _distorted(fn, how: str, applied: list):
    def student(*args):
        if how == "in place":
            if any([_zero_in_place(a) for a in args]):
                applied.append(how)
            return fn(*args)  # the right answer for the inputs as they are now
        value = fn(*args)
        new = MUTATIONS[how](value)
        if not _same(new, value):
            applied.append(how)
        return new

    student.__name__ = fn.__name__
    return student


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b or (a != a and b != b)


def _memo(fn):
    """The same trained model for the same data: a4's reference is trained once per split."""
    cache = {}

    def build_and_train(X, y, Xv, yv, epochs):
        key = (np.asarray(X).tobytes(), epochs)
        if key not in cache:
            cache[key] = fn(X, y, Xv, yv, epochs)
        return cache[key]

    build_and_train.__name__ = fn.__name__
    return build_and_train


def _scores(names):
    return lambda *fns: metrics.expect_scores(dict(zip(names, fns, strict=True)))


RATES, F1_MCC = ("precision", "recall", "specificity"), ("f1", "mcc")
#: check -> (the check, the reference functions it is given, which of them to distort)
REGISTRY = {
    "expect_counts": (metrics.expect_counts, ("confusion_counts",), (0,)),
    "expect_scores (rates)": (_scores(RATES), RATES, (0, 1, 2)),
    "expect_scores (f1, mcc)": (_scores(F1_MCC), F1_MCC, (0, 1)),
    "expect_roc": (metrics.expect_roc, ("roc_points",), (0,)),
    "expect_auc": (metrics.expect_auc, ("auc_trapezoid", "roc_points"), (0,)),
    "expect_forward": (backprop.expect_forward, ("forward",), (0,)),
    "expect_backward": (backprop.expect_backward, ("forward", "backward"), (1,)),
    "expect_sgd_step": (backprop.expect_sgd_step, ("sgd_step",), (0,)),
    "expect_numerical_gradient": (
        backprop.expect_numerical_gradient,
        ("numerical_gradient",),
        (0,),
    ),
    "expect_l2": (regularization.expect_l2, ("l2_penalty", "l2_grad"), (0, 1)),
    "expect_dropout": (regularization.expect_dropout, ("dropout",), (0,)),
    "expect_early_stopping": (regularization.expect_early_stopping, ("early_stopping",), (0,)),
    "expect_decay": (regularization.expect_decay, ("per_epoch_decay", "keras_decay"), (0, 1)),
    "expect_architecture": (mlp.expect_architecture, ("build_and_train",), (0,)),
    "expect_accuracy": (mlp.expect_accuracy, ("build_and_train", "predict_proba"), (0, 1)),
}
A4_CHECKS = {"expect_architecture", "expect_accuracy"}
#: distortions that do not apply to what a function returns (nothing to distort)
NOT_APPLICABLE = {
    # the scalar-argument functions have no input to modify in place
    ("expect_decay", 0, "in place"),
    ("expect_decay", 1, "in place"),
    # a model is not an array: only in-place modification of the training data applies
    *(("expect_architecture", 0, how) for how in MUTATIONS),
    *(("expect_accuracy", 0, how) for how in MUTATIONS),
    # the architecture does not depend on the data it was trained on
    ("expect_architecture", 0, "in place"),
    # a number (or a tuple of ints) has no transpose
    *(
        (check, i, "transposed")
        for check, i in [
            *(("expect_scores (rates)", i) for i in range(3)),
            *(("expect_scores (f1, mcc)", i) for i in range(2)),
            ("expect_counts", 0),
            ("expect_early_stopping", 0),
            ("expect_auc", 0),
            ("expect_l2", 0),
            ("expect_decay", 0),
            ("expect_decay", 1),
        ]
    ),
}


@functools.cache
def _a4() -> dict:
    import torch

    torch.set_num_threads(1)
    ns = reference("a4_mlp")
    return {**ns, "build_and_train": _memo(ns["build_and_train"])}


def _namespace(check) -> dict:
    return _a4() if check in A4_CHECKS else {**A1, **A2, **A3}


def _cases():
    for check, (_, names, targets) in REGISTRY.items():
        for i in targets:
            for how in (*MUTATIONS, "in place"):
                if (check, i, how) not in NOT_APPLICABLE:
                    marks = [pytest.mark.slow] if check in A4_CHECKS else []
                    yield pytest.param(check, i, how, id=f"{check}-{names[i]}-{how}", marks=marks)


def test_the_registry_holds_every_check_the_assignments_use():
    used = set()
    for path in Path(authoring.ASSIGNMENTS).glob(f"*/{authoring.NOTEBOOK}"):
        for block in re.findall(
            r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", path.read_text(), re.S
        ):
            used |= set(re.findall(r"^(expect_\w+)\(", block, re.M))
    assert used == {name.split(" ")[0] for name in REGISTRY}


@pytest.mark.parametrize(
    "check", [pytest.param(c, marks=[pytest.mark.slow] if c in A4_CHECKS else []) for c in REGISTRY]
)
def test_every_reference_passes_its_registered_check(check):
    run, names, _ = REGISTRY[check]
    ns = _namespace(check)
    run(*(ns[n] for n in names))


@pytest.mark.parametrize(("check", "index", "how"), list(_cases()))
def test_every_check_refuses_every_distorted_return(check, index, how):
    run, names, _ = REGISTRY[check]
    ns = _namespace(check)
    applied: list = []
    fns = [ns[n] for n in names]
    fns[index] = _distorted(fns[index], how, applied)
    with pytest.raises(AssertionError) as failure:
        run(*fns)
    assert applied, f"the distortion {how!r} never applied to {names[index]}"
    message = str(failure.value)
    assert "Traceback" not in message and len(message) < 400


def test_hidden_blocks_read_only_their_own_imports_and_the_graded_functions():
    """A name the student defines can replace nothing a hidden block uses but its arguments."""
    import ast

    for name in authoring.assignment_names():
        notebook = authoring.read_source(name)
        graded = set()
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.metadata["nbgrader"]["solution"]:
                tree = ast.parse(cell.source)
                graded |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        for cell in notebook.cells:
            for block in re.findall(
                r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S
            ):
                tree = ast.parse(block)
                imported = {
                    alias.asname or alias.name
                    for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom)
                    for alias in node.names
                }
                assert all(
                    isinstance(n, ast.ImportFrom)
                    and n.module == f"autograder.assignments.{name}.hidden"
                    for n in ast.walk(tree)
                    if isinstance(n, (ast.Import, ast.ImportFrom))
                ), (name, block)
                read = {
                    n.id
                    for n in ast.walk(tree)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                }
                assert read - imported <= graded, (name, read - imported - graded)


# -- the seed and the grader's callbacks ----------------------------------------------------


def test_the_seed_comes_from_seeded_never_from_the_environment(monkeypatch):
    from autograder.assignments.calls import seeded, student_rng

    default = student_rng(1).random(3)
    monkeypatch.setenv("AUTOGRADER_SEED", "12345")
    assert np.array_equal(student_rng(1).random(3), default)
    with seeded(12345):
        inside = student_rng(1).random(3)
        with seeded(7):
            nested = student_rng(1).random(3)
        assert np.array_equal(student_rng(1).random(3), inside)
    assert not np.array_equal(inside, default) and not np.array_equal(nested, inside)
    assert np.array_equal(student_rng(1).random(3), default)
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="seed must be a non-negative int"):
            with seeded(bad):
                pass


def _calls_loss_with(bad, *, catch=True):
    def numerical_gradient(loss, params, eps=1e-6):
        try:
            loss(bad(params))
        except Exception:
            if not catch:
                raise
        return A2["numerical_gradient"](loss, params, eps)

    return numerical_gradient


BAD_LOSS_CALLS = {
    "huge broadcasting": (
        lambda p: {**p, "b1": np.zeros((3000, 1, 2)), "W2": np.zeros((2, 3000))},
        r"the wrong kind of value for 'b1' \(a float64 array of shape \(2,\) is expected\)",
    ),
    "long double": (
        lambda p: {k: v.astype(np.longdouble) for k, v in p.items()},
        r"the wrong kind of value for 'W1' \(a float64 array of shape \(2, 2\) is expected\)",
    ),
    "float32": (
        lambda p: {k: v.astype(np.float32) for k, v in p.items()},
        "the wrong kind of value for 'W1'",
    ),
    "a list": (lambda p: {**p, "W1": p["W1"].tolist()}, "the wrong kind of value for 'W1'"),
    "a subclass": (lambda p: {**p, "W1": p["W1"].view(_SubArray)}, "for 'W1'"),
    "an extra key": (lambda p: {**p, "W3": np.zeros((1000, 1000))}, "a dict of"),
    "a missing key": (lambda p: {k: v for k, v in p.items() if k != "b2"}, "a dict of"),
    "NaN": (lambda p: {**p, "W1": np.full((2, 2), np.nan)}, "non-finite"),
    "not a dict": (lambda p: list(p.values()), "a dict of"),
}


@pytest.mark.parametrize("how", sorted(BAD_LOSS_CALLS))
@pytest.mark.parametrize("catch", [True, False], ids=["refusal caught", "refusal raised"])
def test_the_graders_loss_refuses_every_call_not_shaped_like_the_parameters(how, catch):
    bad, message = BAD_LOSS_CALLS[how]
    with pytest.raises(AssertionError, match=message):
        backprop.expect_numerical_gradient(_calls_loss_with(bad, catch=catch))


def test_the_graders_loss_refuses_calls_past_its_bound():
    calls = []

    def numerical_gradient(loss, params, eps=1e-6):
        for _ in range(10_000):
            try:
                loss(params)
                calls.append(1)
            except AssertionError:
                break
        return A2["numerical_gradient"](loss, params, eps)

    with pytest.raises(AssertionError, match="loss was called more than 44 times"):
        backprop.expect_numerical_gradient(numerical_gradient)
    assert len(calls) == 44  # 4 x 9 entries + 8, then refused
