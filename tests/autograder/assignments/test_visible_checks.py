"""The visible checks students run (``coursecheck.py``): do they teach?

For each assignment: the reference solution passes every visible check; the checks' expected
numbers agree with coursekit on the same public inputs; each known-wrong variant that a
public input can reveal fails the check aimed at it with a message that says what is wrong
and which lesson section to revisit; an exception in the student's code shows the student's
line and a hint; the summary says "all N visible checks passed".
"""

import contextlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder.assignments import generate, names
from autograder.grading import authoring
from tests.autograder.assignment_helpers import coursecheck, reference
from tests.autograder.assignments import mistakes

#: each assignment's coursecheck.py, as release generates it
CC = {name: coursecheck(name) for name in names()}
C1, C2, C3, C4 = (CC[n] for n in ("a1_metrics", "a2_backprop", "a3_regularization", "a4_mlp"))
A1, A2, A3 = (reference(n) for n in ("a1_metrics", "a2_backprop", "a3_regularization"))


def _a1():
    return (
        (C1.check_counts, (A1["confusion_counts"],)),
        (C1.check_rates, (A1["precision"], A1["recall"], A1["specificity"])),
        (C1.check_f1_mcc, (A1["f1"], A1["mcc"])),
        (C1.check_roc, (A1["roc_points"],)),
        (C1.check_auc, (A1["auc_trapezoid"], A1["roc_points"])),
    )


def _a2():
    return (
        (C2.check_forward, (A2["forward"],)),
        (C2.check_backward, (A2["forward"], A2["backward"])),
        (C2.check_sgd_step, (A2["sgd_step"],)),
        (C2.check_numerical_gradient, (A2["numerical_gradient"],)),
    )


def _a3():
    return (
        (C3.check_l2, (A3["l2_penalty"], A3["l2_grad"])),
        (C3.check_dropout, (A3["dropout"],)),
        (C3.check_early_stopping, (A3["early_stopping"],)),
        (C3.check_decay, (A3["per_epoch_decay"], A3["keras_decay"])),
    )


@pytest.mark.parametrize("assignment", ["a1_metrics", "a2_backprop", "a3_regularization"])
def test_the_reference_solution_passes_every_visible_check_and_the_summary_says_so(
    assignment, capsys
):
    checks = {"a1_metrics": _a1, "a2_backprop": _a2, "a3_regularization": _a3}[assignment]()
    for check, functions in checks:
        check(*functions)
    namespace = {fn.__name__: fn for _, functions in checks for fn in functions}
    assert CC[assignment]._status(assignment, namespace) == [
        (c.grade_id, None) for c in CC[assignment].CHECKS[assignment]
    ]
    capsys.readouterr()
    namespace["summary"] = CC[assignment].summary  # as the notebook's last cell imports it
    exec(f"ok = summary({assignment!r})", namespace)
    out = capsys.readouterr().out
    n = len(CC[assignment].CHECKS[assignment])
    assert namespace["ok"] is True
    assert f"all {n} visible checks passed; hidden checks run at grading" in out


def test_the_summary_names_checks_not_run_and_functions_changed_since(capsys):
    C2._OUTCOMES.pop(("a2_backprop", "test-gradcheck"), None)
    C2.check_forward(A2["forward"])
    namespace = dict(A2)

    def forward(params, X):  # redefined after its check ran
        return A2["forward"](params, X)

    namespace["forward"] = forward
    rows = dict(C2._status("a2_backprop", namespace))
    assert "forward changed since" in rows["test-forward"]
    assert "not run yet" in rows["test-gradcheck"]
    with pytest.raises(ValueError, match="assignment must be one of .*'a9'"):
        C2.summary("a9")


# -- the expected numbers are coursekit's on the same public inputs ---------------------------


@contextlib.contextmanager
def _reference_allowed(monkeypatch):
    for module in CC.values():
        monkeypatch.setattr(
            module, "reference_guard", lambda name, roots=(): contextlib.nullcontext()
        )
    yield


@pytest.mark.filterwarnings("ignore:MCC is ill-defined")
def test_the_public_expected_values_agree_with_coursekit(monkeypatch):
    from coursekit import gradcheck, metrics, regularization, schedules, xor

    with _reference_allowed(monkeypatch):

        def counts(y, p):
            return tuple(int(v) for v in metrics.confusion_matrix(y, p).ravel())

        C1.check_counts(counts)
        C1.check_rates(
            lambda y, p: metrics.precision_score(y, p, zero_division=0.0),
            lambda y, p: metrics.recall_score(y, p, zero_division=0.0),
            lambda y, p: metrics.specificity_score(y, p, zero_division=0.0),
        )
        C1.check_f1_mcc(
            lambda y, p: metrics.f1_score(y, p, zero_division=0.0), metrics.matthews_corrcoef
        )

        def roc(y, s):
            return metrics.roc_curve(y, s, drop_intermediate=False)

        C1.check_roc(roc)
        C1.check_auc(metrics.auc, roc)

        def backward(params, cache, X, y):
            return xor.backward(params, cache, y, reduction="mean", relu_grad_at_zero=0.0)

        C2.check_forward(xor.forward)
        C2.check_backward(xor.forward, backward)
        C2.check_sgd_step(xor.sgd_step)
        C2.check_numerical_gradient(gradcheck.numerical_gradient)
        C3.check_l2(regularization.l2_penalty, regularization.l2_grad)

        def early_stopping(losses, patience):
            stopper = regularization.EarlyStopping(patience=patience)
            for epoch, value in enumerate(losses):
                if stopper.step(value, epoch):
                    return epoch, stopper.best_epoch
            return None, stopper.best_epoch

        C3.check_early_stopping(early_stopping)
        C3.check_decay(
            lambda lr0, rate, epoch: schedules.exponential(lr0, rate)(epoch),
            schedules.exponential_decay,
        )


def test_the_known_wrong_tables_are_the_hidden_checks_variants_on_the_public_cases():
    """The visible diagnosis and the hidden one recognise the same mistakes by the same values."""
    from autograder.assignments.a2_backprop.hidden import known_wrong_backward
    from coursekit import xor

    for (params, X, y), table in zip(C2._public_cases(), C2._BACKWARD_WRONG, strict=True):
        right = xor.backward(params, xor.forward(params, X), y, reduction="mean")
        variants = known_wrong_backward(params, X, y)
        # the hidden checks' Mistake is the package's; the generated module has its own copy
        table = {mistake.name: grads for mistake, grads in table.items()}
        assert set(table) == {m.name for m in variants} <= {m.name for m in C2.Mistake}
        for mistake, grads in variants.items():
            for name, value in grads.items():
                if name in table[mistake.name]:
                    assert np.allclose(table[mistake.name][name], value, rtol=1e-9, atol=1e-12)
                else:  # left out: the same as the right gradient on this case
                    assert np.allclose(value, right[name], rtol=1e-7, atol=1e-10), (mistake, name)


# -- known-wrong variants: each fails the check aimed at it, with a message that teaches -----


def _a1_wrong(**replace):
    """Assignment 1's checks with some of the reference functions replaced."""
    fns = {**A1, **replace}
    return {
        "test-counts": lambda: C1.check_counts(fns["confusion_counts"]),
        "test-rates": lambda: C1.check_rates(fns["precision"], fns["recall"], fns["specificity"]),
        "test-f1-mcc": lambda: C1.check_f1_mcc(fns["f1"], fns["mcc"]),
        "test-roc": lambda: C1.check_roc(fns["roc_points"]),
        "test-auc": lambda: C1.check_auc(fns["auc_trapezoid"], fns["roc_points"]),
    }


def _counts_swapped(y, p):
    tn, fp, fn, tp = A1["confusion_counts"](y, p)
    return tn, fn, fp, tp


def _mcc_nan(y, p):
    tn, fp, fn, tp = A1["confusion_counts"](y, p)
    with np.errstate(all="ignore"):
        return (tp * tn - fp * fn) / np.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))


def _mcc_divides(y, p):
    tn, fp, fn, tp = A1["confusion_counts"](y, p)
    return (tp * tn - fp * fn) / ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) ** 0.5


def _precision_divides(y, p):
    _, fp, _, tp = A1["confusion_counts"](y, p)
    return tp / (tp + fp)


def _roc_unsorted(y, s):
    fpr, tpr, thr = A1["roc_points"](y, s)
    return fpr[::-1], tpr[::-1], thr[::-1]


def _roc_no_start(y, s):
    fpr, tpr, thr = A1["roc_points"](y, s)
    return fpr[1:], tpr[1:], thr[1:]


def _roc_strict(y, s):
    y, s = np.asarray(y).astype(bool), np.asarray(s, dtype=float)
    thr = np.r_[np.inf, np.unique(s)[::-1]]
    tpr = np.array([np.sum(y & (s > t)) / y.sum() for t in thr])
    fpr = np.array([np.sum(~y & (s > t)) / (~y).sum() for t in thr])
    return fpr, tpr, thr


def _auc_left_rectangles(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.sum(np.diff(x) * y[:-1]))


def _precision_calls_coursekit(y, p):
    from coursekit.metrics import precision_score

    return precision_score(y, p, zero_division=0.0)


def _counts_as_floats(y, p):
    return tuple(float(v) for v in A1["confusion_counts"](y, p))


def _roc_sorts_in_place(y, s):
    order = sorted(range(len(s)), key=lambda i: -s[i])
    y[:], s[:] = [y[i] for i in order], [s[i] for i in order]  # the caller's lists, reordered
    return A1["roc_points"](y, s)


A1_WRONG = {
    "counts as floats": (
        _a1_wrong(confusion_counts=_counts_as_floats),
        "test-counts",
        r"where an int is asked for \(got 0.0\): use int\(...\)",
    ),
    "fp and fn swapped": (
        _a1_wrong(confusion_counts=_counts_swapped),
        "test-counts",
        "fp and fn are swapped",
    ),
    "MCC divides by zero (nan)": (
        _a1_wrong(mcc=_mcc_nan),
        "test-f1-mcc",
        r"mcc\(.*\) returned NaN \(a denominator is 0 here: return 0.0",
    ),
    "MCC divides by zero (raises)": (
        _a1_wrong(mcc=_mcc_divides),
        "test-f1-mcc",
        r"mcc raised ZeroDivisionError(.|\n)*hint: a denominator is 0 for these labels: return 0.0",
    ),
    "precision divides by zero": (
        _a1_wrong(precision=_precision_divides),
        "test-rates",
        "precision raised ZeroDivisionError(.|\n)*in _precision_divides(.|\n)*return tp / \\(tp \\+ fp\\)",
    ),
    "specificity is recall": (
        _a1_wrong(specificity=A1["recall"]),
        "test-rates",
        r"specificity\(\[0, 1, 1, 0, 1\], \[0, 1, 0, 1, 1\]\) gives 0.666667, not 0.5",
    ),
    "roc_points sorts its inputs in place": (
        _a1_wrong(roc_points=_roc_sorts_in_place),
        "test-roc",
        r"roc_points must not modify y in place: y\[0\] was 0, it is now 1\. Inputs must not "
        r"change",
    ),
    "unsorted thresholds": (_a1_wrong(roc_points=_roc_unsorted), "test-roc", "decreasing order"),
    "no (0, 0) point at inf": (
        _a1_wrong(roc_points=_roc_no_start),
        "test-roc",
        "the thresholds are wrong \\(the first threshold must be np.inf",
    ),
    "score > threshold": (
        _a1_wrong(roc_points=_roc_strict),
        "test-roc",
        r"positive when score >= threshold",
    ),
    "AUC with left rectangles": (
        _a1_wrong(auc_trapezoid=_auc_left_rectangles),
        "test-auc",
        r"these are rectangles, \(x\[i\+1\] - x\[i\]\) \* y\[i\]: a trapezoid averages",
    ),
    "precision calls coursekit": (
        _a1_wrong(precision=_precision_calls_coursekit),
        "test-rates",
        "calls the course's reference implementation",
    ),
}


def _a2_wrong(**replace):
    fns = {**A2, **replace}
    return {
        "test-forward": lambda: C2.check_forward(fns["forward"]),
        "test-backward": lambda: C2.check_backward(fns["forward"], fns["backward"]),
        "test-step": lambda: C2.check_sgd_step(fns["sgd_step"]),
        "test-gradcheck": lambda: C2.check_numerical_gradient(fns["numerical_gradient"]),
    }


def _forward_no_relu(params, X):
    cache = A2["forward"](params, X)
    z1 = X @ params["W1"] + params["b1"]
    z2 = z1 @ params["W2"] + params["b2"]
    return {**cache, "a1": z1, "z2": z2, "a2": 1 / (1 + np.exp(-z2))}


def _backward_y_not_reshaped(params, cache, X, y):
    n = len(y)
    dz2 = (cache["a2"] - y) / n
    dz1 = (dz2 @ params["W2"].T) * (cache["z1"] > 0)
    return {"dW1": X.T @ dz1, "db1": dz1.sum(0), "dW2": cache["a1"].T @ dz2, "db2": dz2.sum(0)}


def _backward_sign(params, cache, X, y):
    return {k: -v for k, v in A2["backward"](params, cache, X, y).items()}


def _sgd_wrong_keys(params, grads, lr):
    return {k: v - lr * grads[k] for k, v in params.items()}


def _one_sided(loss, params, eps=1e-6):
    out = {}
    for k, v in params.items():
        g, base = np.zeros_like(v), loss(params)
        for idx in np.ndindex(v.shape):
            v[idx] += eps
            g[idx] = (loss(params) - base) / eps
            v[idx] -= eps
        out[k] = g
    return out


def _gradient_keys_with_d(loss, params, eps=1e-6):
    return {"d" + k: v for k, v in A2["numerical_gradient"](loss, params, eps).items()}


def _not_written(*args):
    raise NotImplementedError()


class _Matrix(np.ndarray):
    """Like np.matrix: an ndarray subclass, which the hidden checks refuse."""


def _forward_subclass(params, X):
    return {k: v.view(_Matrix) for k, v in A2["forward"](params, X).items()}


A2_WRONG = {
    "forward returns an ndarray subclass": (
        _a2_wrong(forward=_forward_subclass),
        "test-forward",
        r"forward: z1 .* returned a subclass of numpy.ndarray .*\(a plain numpy array: np.asarray\(...\)\)",
    ),
    "forward without ReLU": (
        _a2_wrong(forward=_forward_no_relu),
        "test-forward",
        r"a1 is wrong .*np.maximum\(z1, 0\)",
    ),
    "forward with X @ W1.T": (
        _a2_wrong(forward=mistakes.forward_W1_transposed),
        "test-forward",
        r"forward: z1 is wrong on the lecture's batch X\[:2\] \(this is X @ W1.T: z1 = X @ W1 \+ b1",
    ),
    "dz1 = da1 * a1": (
        _a2_wrong(backward=mistakes.backward_with(dz1_of=lambda da1, cache: da1 * cache["a1"])),
        "test-backward",
        r"dW1 is wrong on the lecture's batch X\[:2\] \(dz1 = da1 \* a1 multiplies by the "
        r"activation; ReLU'\(z1\) is 1 where z1 > 0 and 0 elsewhere[^;]*\)\n",
    ),
    "no ReLU' (told apart from ReLU'(0) = 1 by the second case)": (
        _a2_wrong(backward=mistakes.backward_with(dz1_of=lambda da1, cache: da1)),
        "test-backward",
        r"db1 is wrong on the lecture's batch X\[:2\] \(the ReLU's derivative is missing[^;]*\)\n",
    ),
    "sigmoid' applied twice": (
        _a2_wrong(
            backward=mistakes.backward_with(dz2_of=lambda dz2, c: dz2 * c["a2"] * (1 - c["a2"]))
        ),
        "test-backward",
        r"dW1 is wrong .*the sigmoid's derivative is counted twice",
    ),
    "bias gradients keep the batch axis": (
        _a2_wrong(backward=mistakes.backward_with(keep_batch_axis=True)),
        "test-backward",
        r"db1 has shape \(2, 2\) on the lecture's batch X\[:2\]; it must have the shape of b1, "
        r"\(2,\) \(it keeps the batch axis: a bias gradient sums over the examples, "
        r"dz.sum\(axis=0\)\)\n",
    ),
    "a gradient off in one entry (no known mistake)": (
        _a2_wrong(backward=mistakes.backward_off_in_one_entry),
        "test-backward",
        r"dW2 is wrong on the lecture's batch X\[:2\] \(1 of its 2 entries differ: entry "
        r"\[1, 0\] is -0.0707435 where -0.0807435 is expected; the largest "
        r"difference is 0.01\)\n",
    ),
    "numerical_gradient never restores the entry it perturbs": (
        _a2_wrong(numerical_gradient=mistakes.numerical_gradient_never_restores),
        "test-gradcheck",
        r"numerical_gradient must not modify params in place: params\['W'\]\[0, 0\] was 1, it "
        r"is now 0.999999; 4 of its 4 entries changed. Inputs must not change: its entries are "
        r"off by up to 1e-06, about eps: each entry you perturb is never put back",
    ),
    "gradient of the sum": (
        _a2_wrong(backward=mistakes.backward_of_the_sum),
        "test-backward",
        "off by the batch size: the loss is the mean over the batch, divide by n",
    ),
    "ReLU'(0) = 1": (
        _a2_wrong(backward=mistakes.backward_relu_prime_zero_is_one),
        "test-backward",
        r"db1 is wrong on the lecture's batch X\[:2\] \(an input of this batch has z1 = 0 "
        r"exactly: what is ReLU'\(0\)\? This assignment uses 0[^;]*\)\n",
    ),
    "transposed dW1": (
        _a2_wrong(backward=mistakes.backward_transposed),
        "test-backward",
        r"dW1 is wrong.*transposed: dW1 = X.T @ dz1",
    ),
    "sign flipped": (_a2_wrong(backward=_backward_sign), "test-backward", "the sign is flipped"),
    "y not reshaped to (n, 1)": (
        _a2_wrong(backward=_backward_y_not_reshaped),
        "test-backward",
        r"backward raised ValueError: matmul(.|\n)*in _backward_y_not_reshaped, .*line \d+: "
        r"dz1 = \(dz2 @ params\[\"W2\"\].T\)(.|\n)*hint: .*y \(n,\): a2 - y broadcasts to \(n, n\) "
        r"unless y is reshaped to \(n, 1\)",
    ),
    "gradient ascent": (
        _a2_wrong(sgd_step=mistakes.sgd_ascent),
        "test-step",
        "it adds the gradient",
    ),
    "sgd_step in place": (
        _a2_wrong(sgd_step=mistakes.sgd_in_place),
        "test-step",
        r"sgd_step must not modify params in place: params\['W1'\]\[0, 0\] was 0.1, it is now 0;"
        r".*Inputs must not change: return new arrays \(v - lr \* g\)",
    ),
    "grads indexed by the parameter's name": (
        _a2_wrong(sgd_step=_sgd_wrong_keys),
        "test-step",
        r"sgd_step raised KeyError: 'W1'(.|\n)*hint: params are keyed 'W1'.*the gradients 'dW1'",
    ),
    "one-sided differences": (
        _a2_wrong(numerical_gradient=_one_sided),
        "test-gradcheck",
        r"these are one-sided differences: use \(f\(x \+ eps\) - f\(x - eps\)\) / \(2 eps\)",
    ),
    "numerical_gradient keyed dW": (
        _a2_wrong(numerical_gradient=_gradient_keys_with_d),
        "test-gradcheck",
        r"must return the keys of params \(\['W', 'b'\]\), got \['dW', 'db'\]",
    ),
    "forward not written": (
        _a2_wrong(forward=_not_written),
        "test-forward",
        r"forward raised NotImplementedError(.|\n)*hint: not written yet: replace `raise NotImplementedError\(\)`",
    ),
}


def _a3_wrong(**replace):
    fns = {**A3, **replace}
    return {
        "test-l2": lambda: C3.check_l2(fns["l2_penalty"], fns["l2_grad"]),
        "test-dropout": lambda: C3.check_dropout(fns["dropout"]),
        "test-es": lambda: C3.check_early_stopping(fns["early_stopping"]),
        "test-decay": lambda: C3.check_decay(fns["per_epoch_decay"], fns["keras_decay"]),
    }


def _l2_grad_on_biases(params, lam):
    return {k: 2 * lam * v for k, v in params.items()}


def _l2_grad_no_factor_two(params, lam):
    return {k: lam * v if np.ndim(v) >= 2 else np.zeros_like(v) for k, v in params.items()}


def _dropout_keeps_rate(a, rate, rng, training=True):
    return a * (rng.random(a.shape) < rate) / (1 - rate) if training else a


def _es_keeps_the_last(losses, patience):
    stop, best = A3["early_stopping"](losses, patience)
    return stop, (stop if stop is not None else best)


def _es_one_late(losses, patience):
    return A3["early_stopping"](losses, patience + 1)


def _es_ties_improve(losses, patience):
    best, best_epoch, wait = np.inf, None, 0
    for epoch, value in enumerate(losses):
        if value <= best:
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


def _keras_always_staircase(step, lr0, decay_steps, decay_rate, staircase=False):
    return lr0 * decay_rate ** np.floor(step / decay_steps)


def _keras_never_staircase(step, lr0, decay_steps, decay_rate, staircase=False):
    return lr0 * decay_rate ** (step / decay_steps)


def _es_float_epochs(losses, patience):
    stop, best = A3["early_stopping"](losses, patience)
    return (None if stop is None else float(stop)), float(best)


A3_WRONG = {
    "early stopping epochs as floats": (
        _a3_wrong(early_stopping=_es_float_epochs),
        "test-es",
        r"where an int or None is asked for \(got 3.0\): use int\(...\)",
    ),
    "L2 on biases": (
        _a3_wrong(l2_penalty=mistakes.l2_on_biases),
        "test-l2",
        "the biases are in it: only the weight matrices",
    ),
    "L2 gradient on biases": (
        _a3_wrong(l2_grad=_l2_grad_on_biases),
        "test-l2",
        "l2_grad: b is wrong .*a bias is not penalized: its gradient is zeros",
    ),
    "L2 gradient without the 2": (
        _a3_wrong(l2_grad=_l2_grad_no_factor_two),
        "test-l2",
        r"is 2 \* lam \* W",
    ),
    "dropout not rescaled": (
        _a3_wrong(dropout=mistakes.dropout_not_rescaled),
        "test-dropout",
        r"scaled by 1 / \(1 - rate\) = 1.25 while training \(they are not rescaled",
    ),
    "dropout modifies its input in place": (
        _a3_wrong(dropout=mistakes.dropout_in_place),
        "test-dropout",
        r"dropout must not modify a in place: a\[0, \d+\] was 0.5, it is now 0(.625)?; \d+ of its "
        r"10000 entries changed. Inputs must not change: work on a copy",
    ),
    "dropout on at evaluation": (
        _a3_wrong(dropout=mistakes.dropout_on_at_eval),
        "test-dropout",
        "training=False\\) must return a unchanged: at evaluation dropout is the identity",
    ),
    "dropout keeps with probability rate": (
        _a3_wrong(dropout=_dropout_keeps_rate),
        "test-dropout",
        r"zeroes 80% of the units; rate=0.2 asks for about 20%",
    ),
    "early stopping keeps the last weights": (
        _a3_wrong(early_stopping=_es_keeps_the_last),
        "test-es",
        "keeps the weights of epoch 3, not of epoch 1.*that is the stop epoch",
    ),
    "early stopping one epoch late": (
        _a3_wrong(early_stopping=_es_one_late),
        "test-es",
        "stops at epoch None; it stops at epoch 3",
    ),
    "a tie counts as an improvement": (
        _a3_wrong(early_stopping=_es_ties_improve),
        "test-es",
        "a loss equal to the best is no improvement",
    ),
    "off-by-one decay": (
        _a3_wrong(per_epoch_decay=mistakes.decay_off_by_one),
        "test-decay",
        "epoch 0 gives the initial rate",
    ),
    "staircase ignored": (
        _a3_wrong(keras_decay=_keras_always_staircase),
        "test-decay",
        "without staircase the exponent is step / decay_steps, not floored",
    ),
    "staircase never applied": (
        _a3_wrong(keras_decay=_keras_never_staircase),
        "test-decay",
        r"with staircase the exponent is floor\(step / decay_steps\)",
    ),
}

WRONG = {**A1_WRONG, **A2_WRONG, **A3_WRONG}
_ASSIGNMENT = {
    **dict.fromkeys(A1_WRONG, "a1_metrics"),
    **dict.fromkeys(A2_WRONG, "a2_backprop"),
    **dict.fromkeys(A3_WRONG, "a3_regularization"),
}


def _lesson_line(assignment, grade_id):
    check = next(c for c in CC[assignment].CHECKS[assignment] if c.grade_id == grade_id)
    return check.revisit()


@pytest.mark.parametrize("mistake", sorted(WRONG))
def test_each_known_mistake_fails_its_visible_check_with_a_message_that_teaches(mistake):
    checks, grade_id, match = WRONG[mistake]
    assignment = _ASSIGNMENT[mistake]
    with pytest.raises((CC[assignment].CheckFailed, CC[assignment].ErrorInYourCode)) as failure:
        checks[grade_id]()
    message = str(failure.value)
    assert re.search(match, message), message
    assert message.endswith(_lesson_line(assignment, grade_id))  # where to look
    assert (
        CC[assignment]._OUTCOMES[assignment, grade_id][0] == message
    )  # the summary counts it failed
    # one mistake fails only the check aimed at it (backward's check gets the right cache)
    for other in [g for g in checks if g != grade_id]:
        checks[other]()


# -- the checks and the notebooks agree --------------------------------------------------------


@pytest.mark.parametrize("name", authoring.assignment_names())
def test_each_check_cell_calls_its_visible_check_with_the_cells_lesson(name):
    notebook = authoring.read_source(name)
    cells = [
        c
        for c in notebook.cells
        if c.cell_type == "code"
        and c.metadata["nbgrader"]["grade"]
        and not c.metadata["nbgrader"]["solution"]
    ]
    checks = CC[name].CHECKS[name]
    assert [c.metadata["nbgrader"]["grade_id"] for c in cells] == [c.grade_id for c in checks]
    for cell, check in zip(cells, checks, strict=True):
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert f"{check.run.__name__}(" in visible
        assert cell.metadata["autograder"]["lesson"] == check.lesson
    last = notebook.cells[-1]
    assert f'summary("{name}")' in last.source and not last.metadata["nbgrader"]["grade"]


def test_the_contract_is_in_the_assignment_texts():
    text = "\n".join(
        c.source for c in authoring.read_source("a2_backprop").cells if c.cell_type == "markdown"
    )
    assert "`y` | int array `(n,)`" in text and "`a2` is `(n, 1)`" in text
    assert 'the same keys as\n`params`** (`"W1"`, not `"dW1"`)' in text
    for key, shape in (("dW1", "(2, 2)"), ("db1", "(2,)"), ("dW2", "(2, 1)"), ("db2", "(1,)")):
        assert f'"{key}": {shape}' in text


def test_the_landing_page_gives_students_the_command_they_have(capsys):
    """Students get the notebook and coursecheck.py, not the repository: the book says so."""
    intro = (generate.ROOT.parents[1] / "book" / "intro.md").read_text()
    students = intro.split("## Assignments", 1)[1].split("Instructors", 1)[0]
    assert "\npython coursecheck.py a1_metrics.ipynb\n" in students
    assert "-m autograder" not in students and ".venv" not in students
    with pytest.raises(SystemExit):
        C1.main(["--help"])
    assert "usage: python coursecheck.py" in capsys.readouterr().out


# -- the command line: quiet, with the student's own line ---------------------------------------


def test_the_command_line_reports_each_check_with_no_library_noise(tmp_path):
    source = authoring.read_source("a2_backprop")
    answers = authoring.solutions(source)
    answers["backward"] = answers["backward"].replace(".reshape(n, 1)", "")
    released = authoring.submission(source, answers)
    for cell in released.cells:  # the hidden blocks are not in a student's notebook
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    import nbformat

    notebook = tmp_path / "a2_backprop.ipynb"
    nbformat.write(released, notebook)
    run = subprocess.run(
        [sys.executable, str(C2.HERE), str(notebook)], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr == ""  # no "running over TCP without encryption", no warnings
    assert "✗ test-backward (4 points)" in run.stdout and "✓ test-forward (2 points)" in run.stdout
    assert re.search(r"in backward, cell In\[\d+\], line \d+: dz1 = \(dz2 @ params", run.stdout)
    assert "hint: the shapes:" in run.stdout
    assert "3 of 4 visible checks passed" in run.stdout
    missing = subprocess.run(
        [sys.executable, str(C2.HERE), str(tmp_path / "nope.ipynb")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no notebook at" in missing.stderr


def test_an_answer_cell_that_fails_is_named(tmp_path):
    import nbformat

    source = authoring.read_source("a3_regularization")
    answers = authoring.solutions(source)
    answers["es"] = "def early_stopping(val_losses, patience)\n    return None"
    nb = authoring.submission(source, answers)
    for cell in nb.cells:
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    nbformat.write(nb, tmp_path / "a3.ipynb")
    report = C3.run_notebook(tmp_path / "a3.ipynb")
    assert [c.grade_id for c in report.checks if not c.passed] == ["test-es"]
    assert any("(es) raised SyntaxError" in p for p in report.problems)
    failed = next(c for c in report.checks if not c.passed)
    assert "early_stopping' is not defined (an earlier cell failed" in failed.message


@pytest.mark.parametrize("name", names())
def test_the_shipped_module_imports_nothing_of_the_instructors(name):
    folder = CC[name].HERE.parent
    script = textwrap.dedent(
        f"""
        import sys
        sys.path = [p for p in sys.path if p not in ("", {str(generate.ROOT.parents[1])!r})]
        sys.path.insert(0, {str(folder)!r})
        import coursecheck
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("coursekit", "autograder")))
        print(sorted(coursecheck.CHECKS))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", str([name])]
    import ast

    assert generate._imports(ast.parse(CC[name].HERE.read_text())) <= {
        "__future__",
        "argparse",
        "contextlib",
        "copy",
        "dataclasses",
        "enum",
        "functools",
        "linecache",
        "nbclient",
        "nbformat",
        "numpy",
        "os",
        "pathlib",
        "re",
        "sklearn",
        "sys",
        "sysconfig",
        "tempfile",
        "traceback",
        "typing",
        "warnings",
    }


def test_generation_refuses_an_assignment_without_checks_and_a_part_that_would_leak(tmp_path):
    with pytest.raises(ValueError, match="assignment must be one of .* got 'a9'"):
        generate.ship(tmp_path, "a9")
    with pytest.raises(generate.GenerationError, match="must not ship: it holds"):
        generate.verify("import coursekit\n", "a1_metrics")
    with pytest.raises(generate.GenerationError, match="must not ship: it holds"):
        generate.verify("x = '### BEGIN SOLUTION'\n", "a1_metrics")


# -- assignment 4 (trains networks) ----------------------------------------------------------


@pytest.mark.slow
def test_assignment_4_reference_passes_and_known_mistakes_fail_visibly():
    import torch

    torch.set_num_threads(1)
    a4 = reference("a4_mlp")
    C4.check_architecture(a4["build_and_train"], a4["predict_proba"])
    C4.check_accuracy(a4["build_and_train"], a4["predict_proba"])

    def wrong_layers(X, y, Xv, yv, epochs):
        return torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
        )

    def logits(model, X):
        with torch.no_grad():
            return model(torch.tensor(X, dtype=torch.float32)).numpy().ravel() * 10

    def never_trained(X, y, Xv, yv, epochs):
        return a4["build_and_train"](X, y, Xv, yv, 0)

    def column(model, X):
        return a4["predict_proba"](model, X).reshape(-1, 1)

    def not_a_model(X, y, Xv, yv, epochs):
        return "model"

    def tanh_network(X, y, Xv, yv, epochs):
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], 16),
            torch.nn.Tanh(),
            torch.nn.Linear(16, 8),
            torch.nn.Tanh(),
            torch.nn.Linear(8, 1),
        )

    def standardizes_in_place(X, y, Xv, yv, epochs):
        X -= X.mean(axis=0)  # the caller's training data, changed
        return a4["build_and_train"](X, y, Xv, yv, epochs)

    cases = [
        (
            lambda: C4.check_architecture(standardizes_in_place, a4["predict_proba"]),
            r"build_and_train must not modify X in place: X\[0, 0\] was .* Inputs must not change",
        ),
        (
            lambda: C4.check_architecture(wrong_layers, a4["predict_proba"]),
            r"must have hidden layers of 16 and 8 units, .* \(its weight arrays have the shapes ",
        ),
        (
            lambda: C4.check_architecture(a4["build_and_train"], logits),
            r"probabilities in \[0, 1\] \(apply the sigmoid",
        ),
        (
            lambda: C4.check_architecture(a4["build_and_train"], column),
            r"wrong shape \(a column of shape \(n, 1\): return a 1-D array",
        ),
        (
            lambda: C4.check_architecture(not_a_model, a4["predict_proba"]),
            "must return a Keras or PyTorch model",
        ),
        (
            lambda: C4.check_architecture(tanh_network, a4["predict_proba"]),
            "does not match the network's own weights \\(the hidden layers apply tanh",
        ),
        (lambda: C4.check_accuracy(never_trained, a4["predict_proba"]), "below the 93% asked for"),
    ]
    for run, match in cases:
        with pytest.raises(C4.CheckFailed, match=match):
            run()


def test_inside_a_notebook_each_check_cell_says_what_happened_and_the_last_cell_sums_up(tmp_path):
    """In a Jupyter kernel: a pass prints one line, a failure shows its message alone."""
    import os

    import nbformat
    from nbclient import NotebookClient

    source = authoring.read_source("a2_backprop")
    answers = authoring.solutions(source)
    answers["backward"] = answers["backward"].replace('(cache["z1"] > 0)', '(cache["z1"] >= 0)')
    nb = authoring.submission(source, answers)
    for cell in nb.cells:
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    env = dict(os.environ, PYTHONPATH=str(C2.HERE.parent))
    client = NotebookClient(nb, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env, stderr=subprocess.DEVNULL)
    outputs = {
        c.metadata["nbgrader"]["grade_id"]: c.outputs for c in nb.cells if c.cell_type == "code"
    }
    assert outputs["test-forward"][0]["text"].startswith("✓ test-forward: the visible checks pass")
    (error,) = outputs["test-backward"]
    assert error["ename"] == "CheckFailed" and "what is ReLU'(0)?" in error["evalue"]
    assert error["traceback"] == [f"CheckFailed: {error['evalue']}"]  # no frames of coursecheck
    last = outputs["summary"][0]["text"]
    assert "✗ test-backward: backward: db1 is wrong" in last
    assert "3 of 4 visible checks passed" in last
    nbformat.validate(nb)


def test_after_a_syntax_error_the_summary_points_at_the_error_not_at_an_unrun_check(tmp_path):
    """In a kernel: a SyntaxError in an answer cell is named by the summary, with its line."""
    import os

    from nbclient import NotebookClient

    source = authoring.read_source("a3_regularization")
    answers = authoring.solutions(source)
    answers["es"] = "def early_stopping(val_losses, patience)\n    return None"
    nb = authoring.submission(source, answers)
    for cell in nb.cells:
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    env = dict(os.environ, PYTHONPATH=str(C3.HERE.parent))
    client = NotebookClient(nb, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env, stderr=subprocess.DEVNULL)
    last = next(c for c in nb.cells if c.metadata["nbgrader"].get("grade_id") == "summary")
    text = last.outputs[0]["text"]
    assert "✗ test-es: the cell defining early_stopping has a SyntaxError at its line 1: " in text
    assert "def early_stopping(val_losses, patience)" in text and "not run yet" not in text
    assert "3 of 4 visible checks passed" in text


def test_a_broken_latest_definition_is_reported_even_if_an_older_one_passed():
    """The check ran an older early_stopping; the cell as it is now would not compile."""
    C3.check_early_stopping(A3["early_stopping"])
    history = ["def early_stopping(val_losses, patience):\n    return None, 0", "x = (1,"]
    rows = dict(C3._status("a3_regularization", dict(A3), history=history))
    assert rows["test-es"] is None  # the latest defining cell compiles
    history.append("def early_stopping(val_losses, patience)\n    return None")
    rows = dict(C3._status("a3_regularization", dict(A3), history=history))
    assert rows["test-es"].startswith(
        "the cell defining early_stopping has a SyntaxError at its line 1"
    )
    namespace = {k: v for k, v in A3.items() if k != "dropout"}
    rows = dict(C3._status("a3_regularization", namespace, history=[]))
    assert rows["test-dropout"].startswith("dropout is not defined: run the cell that defines it")


def test_check_saved_runs_the_saved_notebook_once_even_from_its_own_cell(
    tmp_path, monkeypatch, capsys
):
    """A cell calling check_saved() on its own notebook does not start a run inside the run."""
    import nbformat

    source = authoring.read_source("a3_regularization")
    nb = authoring.submission(source, {})
    for cell in nb.cells:
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    path = tmp_path / "a3_regularization.ipynb"
    nb.cells.append(
        nbformat.v4.new_code_cell(
            f"from coursecheck import check_saved\ncheck_saved({str(path)!r})"
        )
    )
    nbformat.write(nb, path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(ValueError, match="Colab and VS Code do not say"):
        C3.check_saved()
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # what Jupyter and JupyterLab set
    assert C3.check_saved() is True
    out = capsys.readouterr().out
    assert "all 4 visible checks passed; hidden checks run at grading" in out
    monkeypatch.setenv("COURSECHECK_RUNNING", "1")
    assert C3.check_saved() is None


def test_a_check_cell_that_runs_too_long_is_stopped_and_the_others_still_run(tmp_path):
    import nbformat

    source = authoring.read_source("a3_regularization")
    answers = authoring.solutions(source)
    answers["dropout"] = "def dropout(a, rate, rng, training=True):\n    while True:\n        pass"
    nb = authoring.submission(source, answers)
    for cell in nb.cells:
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    nbformat.write(nb, tmp_path / "a3.ipynb")
    report = C3.run_notebook(tmp_path / "a3.ipynb", timeout=3)
    outcome = {c.grade_id: c for c in report.checks}
    assert "ran longer than 3 s and was stopped" in outcome["test-dropout"].message
    assert outcome["test-es"].passed and outcome["test-decay"].passed
