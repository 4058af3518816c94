"""coursecheck: the visible checks of the course's assignments, run before you submit.

This one file ships beside every released assignment notebook. It needs only numpy (and, to
run a whole notebook from a terminal, nbformat, nbclient and ipykernel, which every Jupyter
installation has). It holds no solution and no hidden check: its inputs are public examples,
its expected values are the numbers of those examples only. The hidden checks run at
grading, on other inputs.

In the notebook (Jupyter, JupyterLab, Colab): each check cell calls one check, e.g.
``check_backward(forward, backward)``; it prints one line when the check passes and raises
``CheckFailed`` saying what is wrong and which lesson section to revisit when it does not. An
error in your own code is shown as ``ErrorInYourCode`` with your line and a hint. The last
cell, ``summary("a2_backprop")``, says which visible checks passed in this session;
``check_saved()`` runs the notebook as last saved in a fresh kernel (as the grader will), from
a cell.

From a terminal, in the assignment's folder::

    python coursecheck.py a2_backprop.ipynb

runs the notebook *as last saved* in a fresh kernel and reports each check; the exit status
is 0 when every visible check passed, 1 when one failed, 2 when the notebook could not be
run. In Colab, upload this file next to the notebook (the Files panel, folder ``/content``),
or mount Google Drive and give the notebook's path:
``!python coursecheck.py /content/drive/MyDrive/a2_backprop.ipynb``.
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import os
import re
import sys
import sysconfig
import traceback
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "CHECKS",
    "CheckFailed",
    "ErrorInYourCode",
    "Outcome",
    "Report",
    "check_saved",
    "main",
    "run_notebook",
    "summary",
]

HERE = Path(__file__).resolve()
#: The book's lessons, by page name (lesson links in failure messages).
LESSONS = {
    "01_evaluating_classifiers": "lesson 1, Evaluating classifiers",
    "02_forward_backward": "lesson 2, The forward and backward pass",
    "04_learning_rate": "lesson 4, The learning rate",
    "05_regularization": "lesson 5, Regularization",
    "07_hands_on_mlps": "lesson 7, Hands-on MLPs",
}


class _Plain:
    """IPython and Jupyter show these as their message alone: no frames of this module."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class CheckFailed(_Plain, AssertionError):
    """A visible check found a wrong value; the message says what and where to look."""


class ErrorInYourCode(_Plain, Exception):
    """Your function raised an exception; the message shows your line and a hint."""


@dataclass(frozen=True)
class Check:
    """One visible check: the test cell it belongs to and the lesson section it teaches."""

    assignment: str
    grade_id: str
    lesson: str  # "page#anchor", as the cell's ``autograder`` metadata
    section: str  # the section's title, in words
    run: object  # the check, called with the student's functions

    def revisit(self) -> str:
        page = self.lesson.partition("#")[0]
        return f"Revisit {LESSONS.get(page, page)}, section “{self.section}”."


#: assignment -> its visible checks, in notebook order.
CHECKS: dict[str, list[Check]] = {}
# (assignment, grade_id) -> (failure message or None, {name: code of each function checked})
_OUTCOMES: dict[tuple[str, str], tuple[str | None, dict]] = {}


def _check(assignment: str, grade_id: str, lesson: str, section: str):
    """Register a visible check; record its outcome and add the lesson pointer to a failure."""

    def decorate(body):
        @functools.wraps(body)
        def run(*functions):
            codes = {getattr(f, "__name__", "?"): getattr(f, "__code__", None) for f in functions}
            try:
                body(*functions)
            except (CheckFailed, ErrorInYourCode) as exc:
                message = f"{exc}\n{check.revisit()}"
                _OUTCOMES[assignment, grade_id] = (message, codes)
                raise type(exc)(message) from None
            _OUTCOMES[assignment, grade_id] = (None, codes)
            print(f"✓ {grade_id}: the visible checks pass (hidden checks run at grading)")

        check = Check(assignment, grade_id, lesson, section, run)
        CHECKS.setdefault(assignment, []).append(check)
        return run

    return decorate


# -- calling the student's code ---------------------------------------------------------------

_LIBRARIES = tuple(
    {
        str(Path(p).resolve())
        for k, p in sysconfig.get_paths().items()
        if k in ("stdlib", "purelib", "platlib")
    }
)


def _your_frame(tb) -> str:
    """``in NAME, cell In[5], line 3: CODE`` for the deepest frame of the student's code."""
    frames = [
        f
        for f in traceback.extract_tb(tb)
        if f.filename != str(HERE) and not str(Path(f.filename).resolve()).startswith(_LIBRARIES)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    where = Path(frame.filename).name
    shell = _ipython()
    label = shell.compile.format_code_name(frame.filename) if shell is not None else None
    if label:
        where = f"{label[0].lower()} {label[1]}"
    code = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    return f"in {frame.name}, {where}, line {frame.lineno}: {code}"


def _ipython():
    ipython = sys.modules.get("IPython")  # only when running inside IPython or Jupyter
    return ipython.get_ipython() if ipython is not None else None


def _hint(exc: BaseException, hints: dict) -> str:
    text = str(exc)
    if isinstance(exc, NotImplementedError):
        return "not written yet: replace `raise NotImplementedError()` with your code"
    if isinstance(exc, ModuleNotFoundError | ImportError):
        return hints.get("import", "graded functions use numpy only: no coursekit, no scikit-learn")
    if isinstance(exc, KeyError):
        return hints.get("keys", "a dict has no such key: check the keys the text above names")
    if isinstance(exc, ZeroDivisionError):
        return hints.get("zero", "a denominator is 0 here: the text above says what to return")
    if isinstance(exc, TypeError) and "argument" in text:
        return hints.get("signature", "check the function's signature in the text above")
    shape_words = ("shape", "broadcast", "matmul", "dimension", "aligned", "index")
    if isinstance(exc, ValueError | IndexError) and any(w in text for w in shape_words):
        return hints.get("shapes", "check the shapes of the arrays on that line")
    return hints.get("other", "read your line above: what does it get, what should it compute?")


@contextlib.contextmanager
def _own_code(name: str):
    """Fail if the call reaches the course's reference implementation (coursekit)."""
    used = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_globals.get("__name__", "").startswith("coursekit"):
            used.append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)
    if used:
        raise CheckFailed(
            f"{name} calls the course's reference implementation (coursekit, {used[0]}): "
            "graded functions must be your own numpy code, and the grader gives this check 0"
        )


def _call(name: str, fn, *args, hints: dict | None = None, guard: bool = True):
    """Call the student's ``fn``; an exception becomes ErrorInYourCode with the line and a hint.

    Every call is also checked for modified inputs (the assignments say no function may modify
    its inputs): the arrays, lists and dicts it was given must hold their values afterwards.
    """
    if not callable(fn):
        raise CheckFailed(f"{name} must be a function, got {type(fn).__name__}")
    before = [_snapshot(a) for a in args]
    try:
        with _own_code(name) if guard else contextlib.nullcontext():
            value = fn(*args)
    except CheckFailed:
        raise
    except Exception as exc:  # the student's code failed: say where and why
        where = _your_frame(exc.__traceback__)
        lines = [f"{name} raised {type(exc).__name__}" + (f": {exc}" if str(exc) else "")]
        if where:
            lines.append(f"  {where}")
        lines.append(f"  hint: {_hint(exc, hints or {})}")
        raise ErrorInYourCode("\n".join(lines)) from None
    _unchanged(name, fn, args, before, (hints or {}).get("modified"))
    return value


# -- inputs must not change -------------------------------------------------------------------


class _Opaque:
    """Stands for an argument a function may change (a random generator, a model, a callback)."""


def _snapshot(value):
    """A private copy of the data in ``value`` (arrays, lists, tuples, dicts, numbers, str)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_snapshot(v) for v in value]
    if isinstance(value, int | float | complex | str | np.number | np.bool_) or value is None:
        return value
    return _Opaque()


def _change(now, before, path: str) -> tuple[str, str, float] | None:
    """The first change from ``before``: (path, what changed, largest change), or None."""
    if isinstance(before, _Opaque):
        return None
    if isinstance(before, np.ndarray):
        if not isinstance(now, np.ndarray) or now.shape != before.shape:
            return path, f"{path} was an array of shape {before.shape}, now {_kind(now)}", np.inf
        same = now == before
        if before.dtype.kind in "fc" and now.dtype.kind in "fc":
            # a value put back by arithmetic (x + eps - eps) may differ in its last bits
            same |= np.isclose(now, before, rtol=1e-12, atol=0.0, equal_nan=True)
        if np.all(same):
            return None
        at = tuple(int(i) for i in np.argwhere(~same)[0])
        try:
            largest = float(np.max(np.abs(now.astype(float) - before.astype(float))))
        except (TypeError, ValueError):
            largest = np.inf
        entry = f"[{', '.join(map(str, at))}]" if at else ""
        return (
            path,
            f"{path}{entry} was {_show(before[at])}, it is now {_show(now[at])}; "
            f"{int(np.sum(~same))} of its {before.size} entries changed",
            largest,
        )
    if isinstance(before, dict):
        if not isinstance(now, dict) or set(now) != set(before):
            return path, f"the keys of {path} were {list(before)}, now {_keys(now)}", np.inf
        for key, value in before.items():
            found = _change(now[key], value, f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(before, list):
        if not isinstance(now, list | tuple) or len(now) != len(before):
            return path, f"{path} had {len(before)} items, now {_size(now)}", np.inf
        for i, (n, b) in enumerate(zip(now, before, strict=True)):
            found = _change(n, b, f"{path}[{i}]")
            if found:
                return found
        return None
    if now is before or (type(now) is type(before) and now == before):
        return None
    return path, f"{path} was {_show(before)}, it is now {_show(now)}", np.inf


def _show(value) -> str:
    """A value in a message: a real number to 10 digits, anything else by its repr (short)."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        return f"{float(value):.10g}"
    return f"{value!r:.40}"


def _keys(value) -> str:
    return str(list(value)) if isinstance(value, dict) else _kind(value)


def _size(value) -> str:
    return f"{len(value)} items" if isinstance(value, list | tuple) else _kind(value)


def _parameters(fn, n: int) -> list[str]:
    """The names of ``fn``'s first ``n`` parameters (``argument 1``, ... where unknown)."""
    code = getattr(fn, "__code__", None)
    names = list(code.co_varnames[: code.co_argcount]) if code is not None else []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def _unchanged(name: str, fn, args: tuple, before: list, hint) -> None:
    """CheckFailed if the call changed an argument it was given: inputs must not change.

    ``hint``: what to do instead, or a function of the largest change that says it.
    """
    for arg, now, then in zip(_parameters(fn, len(args)), args, before, strict=True):
        found = _change(now, then, arg)
        if found:
            _, what, largest = found
            advice = hint(largest) if callable(hint) else hint
            raise CheckFailed(
                f"{name} must not modify {arg} in place: {what}. Inputs must not change: "
                + (advice or MODIFIED)
            )


#: What to do instead of modifying an input (every assignment).
MODIFIED = "work on a copy (x = x.copy()) or build new arrays (x * mask, not x *= mask)"


# -- comparing values -------------------------------------------------------------------------


_INTEGERS = (int, np.integer)
_REALS = (int, float, np.integer, np.floating)


def _kind(value) -> str:
    """What ``value`` is, in a student's words."""
    if isinstance(value, bool | np.bool_):
        return "a bool"
    if type(value) is np.ndarray:
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return type(value).__name__


def _array(what: str, value, shape: tuple, finite: bool = True) -> np.ndarray:
    """``value`` as a float array of exactly ``shape`` with finite entries, or CheckFailed.

    As the hidden checks read it: a plain numpy array (or a list/tuple of numbers) of real
    numbers (no bool, no object dtype, no subclass such as np.matrix), the exact shape, finite.
    """
    if type(value) in (list, tuple):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            raise CheckFailed(f"{what} must be an array of numbers") from None
    if type(value) is not np.ndarray:
        plain = " (a plain numpy array: np.asarray(...))" if isinstance(value, np.ndarray) else ""
        raise CheckFailed(f"{what} must be a numpy array{plain}, got {_kind(value)}")
    if value.dtype.kind not in "fiu":
        raise CheckFailed(f"{what} has dtype {value.dtype}: an array of real numbers is asked for")
    if value.shape != shape:
        raise CheckFailed(f"{what} has shape {value.shape}, it must have shape {shape}")
    array = value.astype(float)
    if np.isnan(array).any() or (finite and not np.isfinite(array).all()):
        raise CheckFailed(f"{what} contains nan{'' if not finite else ' or inf'}")
    return array


def _number(what: str, value) -> float:
    """A plain int/float (or numpy real scalar, or 0-d array), finite, as the hidden checks ask."""
    if type(value) is np.ndarray and value.shape == () and value.dtype.kind in "fiu":
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, _REALS):
        raise CheckFailed(f"{what} must be a number (a float), got {_kind(value)}")
    number = float(value)
    if not np.isfinite(number):
        raise CheckFailed(f"{what} is {number}: a finite number is asked for")
    return number


def _ints(what: str, value, n: int, none: bool = False) -> tuple:
    """A tuple or list of ``n`` ints (``None`` allowed where ``none``)."""
    if type(value) not in (tuple, list) or len(value) != n:
        raise CheckFailed(f"{what} must return a tuple of {n} values, got {value!r}")
    for v in value:
        if (v is None and not none) or (
            v is not None and (isinstance(v, bool | np.bool_) or not isinstance(v, _INTEGERS))
        ):
            raise CheckFailed(
                f"{what} must return ints{' (or None)' if none else ''}, got {v!r} "
                f"({_kind(v)}): use int(...)"
            )
    return tuple(None if v is None else int(v) for v in value)


def _dict(what: str, value, keys) -> dict:
    if type(value) is not dict:
        raise CheckFailed(f"{what} must return a plain dict, got {_kind(value)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise CheckFailed(
            f"{what} must return a dict with the keys {list(keys)}, got the keys {list(value)}"
        )
    return value


def _close(got, want, rtol=1e-7, atol=1e-10) -> bool:
    return bool(np.allclose(got, want, rtol=rtol, atol=atol))


# == assignment 1: classification metrics ====================================================

A1 = "a1_metrics"
_A1_HINTS = {
    "zero": "a denominator is 0 for these labels: return 0.0 then (scikit-learn's zero_division=0)",
    "signature": "each function takes (y_true, y_pred) lists or arrays of 0s and 1s",
}


@_check(A1, "test-counts", "01_evaluating_classifiers#the-confusion-matrix", "The confusion matrix")
def check_counts(confusion_counts):
    """The lecture's example, one with a single class, and one with no predicted positives."""
    cases = [
        (([0, 1, 0, 1], [1, 1, 1, 0]), (0, 2, 1, 1)),
        (([0, 0, 0], [0, 1, 0]), (2, 1, 0, 0)),
        (([1, 0, 1, 1], [0, 0, 0, 0]), (1, 0, 3, 0)),
    ]
    for (y_true, y_pred), want in cases:
        got = _call("confusion_counts", confusion_counts, y_true, y_pred, hints=_A1_HINTS)
        shown = f"confusion_counts({y_true}, {y_pred})"
        got = _ints(shown, got, 4)  # (tn, fp, fn, tp)
        if got != want:
            hint = ""
            if (got[0], got[2], got[1], got[3]) == want:
                hint = " (fp and fn are swapped: fp counts predicted 1 where the truth is 0)"
            elif got[::-1] == want:
                hint = " (the order is reversed: return (tn, fp, fn, tp))"
            raise CheckFailed(f"{shown} gives {got}; (tn, fp, fn, tp) = {want} is expected{hint}")


def _scores(name, fn, cases):
    """``cases``: ((y_true, y_pred), expected); every expected 0.0 has a zero denominator."""
    for (y_true, y_pred), want in cases:
        shown = f"{name}({y_true}, {y_pred})"
        value = _call(name, fn, y_true, y_pred, hints=_A1_HINTS)
        if type(value) is np.ndarray and value.shape == ():
            value = value[()]
        if isinstance(value, bool | np.bool_) or not isinstance(value, _REALS):
            raise CheckFailed(f"{shown} must return a float, got {_kind(value)}")
        got = float(value)
        if not abs(got - want) <= 1e-12:  # nan included
            zero = " (a denominator is 0 here: return 0.0)" if want == 0.0 else ""
            raise CheckFailed(f"{shown} gives {got:.6g}, not {want:.6g}{zero}")


@_check(
    A1, "test-rates", "01_evaluating_classifiers#scores-from-the-counts", "Scores from the counts"
)
def check_rates(precision, recall, specificity):
    """Two public label sets, and the three cases where a denominator is 0."""
    a, b = ([0, 1, 1, 0, 1], [0, 1, 0, 1, 1]), ([1, 1, 1, 0, 0], [1, 0, 0, 1, 0])
    no_pred, no_pos, no_neg = ([0, 0, 1], [0, 0, 0]), ([0, 0], [1, 0]), ([1, 1], [1, 0])
    _scores("precision", precision, [(a, 2 / 3), (b, 1 / 2), (no_pred, 0.0)])
    _scores("recall", recall, [(a, 2 / 3), (b, 1 / 3), (no_pos, 0.0)])
    _scores("specificity", specificity, [(a, 1 / 2), (b, 1 / 2), (no_neg, 0.0)])


@_check(
    A1, "test-f1-mcc", "01_evaluating_classifiers#scores-from-the-counts", "Scores from the counts"
)
def check_f1_mcc(f1, mcc):
    """F1 and MCC on public labels, and with a zero denominator (no division by zero)."""
    a, b = ([0, 1, 1, 0, 1], [0, 1, 0, 1, 1]), ([1, 1, 1, 0, 0], [1, 0, 0, 1, 0])
    _scores("f1", f1, [(a, 2 / 3), (b, 2 / 5), (([0, 0], [0, 0]), 0.0)])
    one_class = ([0, 0, 0, 0], [0, 1, 0, 1])  # TP + FN = 0: the denominator is 0
    _scores("mcc", mcc, [(([0, 1, 1, 0], [0, 1, 1, 0]), 1.0), (b, -1 / 6), (one_class, 0.0)])


@_check(
    A1,
    "test-roc",
    "01_evaluating_classifiers#the-roc-curve-step-by-step",
    "The ROC curve, step by step",
)
def check_roc(roc_points):
    """The lecture's four scores, and scores with ties."""
    cases = [
        (
            ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
            ([0, 0, 0.5, 0.5, 1], [0, 0.5, 0.5, 1, 1], [np.inf, 0.8, 0.4, 0.35, 0.1]),
        ),
        (
            ([0, 1, 1, 0, 1], [0.3, 0.7, 0.3, 0.7, 0.9]),
            ([0, 0, 0.5, 1], [0, 1 / 3, 2 / 3, 1], [np.inf, 0.9, 0.7, 0.3]),
        ),
    ]
    for (y_true, scores), (fpr, tpr, thr) in cases:
        shown = f"roc_points({y_true}, {scores})"
        got = _call("roc_points", roc_points, y_true, scores)
        if type(got) not in (tuple, list) or len(got) != 3:
            raise CheckFailed(f"{shown} must return (fpr, tpr, thresholds), got {got!r}")
        if np.shape(got[2]) != (len(thr),):
            raise CheckFailed(
                f"{shown} gives thresholds of shape {np.shape(got[2])}; one per distinct score "
                f"plus np.inf first is ({len(thr)},)"
            )
        g_thr = _array(f"{shown}: thresholds", got[2], (len(thr),), finite=False)
        if not np.all(np.diff(g_thr) < 0):
            raise CheckFailed(f"{shown}: the thresholds must be in decreasing order")
        if g_thr[0] != np.inf:
            raise CheckFailed(f"{shown}: the first threshold must be np.inf (the point (0, 0))")
        if not _close(g_thr[1:], thr[1:]):
            raise CheckFailed(f"{shown}: the thresholds must be the distinct scores, {thr[1:]}")
        g_fpr = _array(f"{shown}: fpr", got[0], (len(thr),))
        g_tpr = _array(f"{shown}: tpr", got[1], (len(thr),))
        if not (_close(g_fpr, fpr) and _close(g_tpr, tpr)):
            raise CheckFailed(
                f"{shown}: the (fpr, tpr) points are wrong; fpr = {fpr}, tpr = "
                f"{np.round(tpr, 4).tolist()} are expected (positive when score >= threshold)"
            )


@_check(
    A1,
    "test-auc",
    "01_evaluating_classifiers#the-roc-curve-step-by-step",
    "The ROC curve, step by step",
)
def check_auc(auc_trapezoid, roc_points):
    """A small curve, and the lecture's ROC curve."""
    cases = [
        (([0, 0.5, 1], [0, 0.75, 1]), 0.625),
        (([0, 0, 0.5, 0.5, 1], [0, 0.5, 0.5, 1, 1]), 0.75),
    ]
    for (x, y), want in cases:
        got = _number(f"auc_trapezoid({x}, {y})", _call("auc_trapezoid", auc_trapezoid, x, y))
        if abs(got - want) > 1e-12:
            raise CheckFailed(
                f"auc_trapezoid({x}, {y}) gives {got:.6g}, not {want:.6g}: each trapezoid is "
                "(x[i+1] - x[i]) * (y[i] + y[i+1]) / 2, with x along the horizontal axis"
            )


# == assignment 2: backpropagation by hand ===================================================

A2 = "a2_backprop"
_A2_HINTS = {
    "keys": "params are keyed 'W1', 'b1', 'W2', 'b2'; the gradients 'dW1', 'db1', 'dW2', 'db2' "
    "(a 'd' before the parameter's name); forward's cache 'z1', 'a1', 'z2', 'a2'",
    "shapes": "the shapes: X (n, 2), W1 (2, 2), b1 (2,), W2 (2, 1), b2 (1,), z2 and a2 (n, 1), "
    "and y (n,): a2 - y broadcasts to (n, n) unless y is reshaped to (n, 1) first "
    "(y.reshape(-1, 1))",
    "signature": "the signatures are forward(params, X), backward(params, cache, X, y), "
    "sgd_step(params, grads, lr) and numerical_gradient(loss, params, eps=1e-6)",
}

# -- recognising the mistake: known-wrong variants (the hidden checks use the same) -----------


class Mistake(Enum):
    """A classic mistake of assignments 2 and 3; its value is the hint that names it.

    A wrong value gets the hint of the variant it equals (:func:`recognise`); when it equals
    none, :func:`differs` says what differs. The hidden checks use the same members.
    """

    W1_TRANSPOSED = "this is X @ W1.T: z1 = X @ W1 + b1, with W1 of shape (inputs, hidden units)"
    B1_MISSING = "b1 is not added: z1 = X @ W1 + b1"
    NO_RELU = "the ReLU is missing: a1 = ReLU(z1) = np.maximum(z1, 0)"
    SIGMOID_HIDDEN = "that is the sigmoid of z1: the hidden units are ReLU, np.maximum(z1, 0)"
    Z2_FROM_Z1 = "z2 is computed from z1: z2 = a1 @ W2 + b2, from the activation a1"
    NO_SIGMOID = "the sigmoid is missing: a2 = sigmoid(z2) = 1 / (1 + exp(-z2))"
    SUM = "off by the batch size: the loss is the mean over the batch, divide by n"
    SIGN = "the sign is flipped: dz2 = a2 - y, not y - a2"
    TRANSPOSED = "transposed: dW1 = X.T @ dz1 has the shape of W1, inputs × hidden units"
    RELU_PRIME_0_IS_1 = (
        "an input of this batch has z1 = 0 exactly: what is ReLU'(0)? This "
        "assignment uses 0, as TensorFlow and PyTorch"
    )
    TIMES_A1 = (
        "dz1 = da1 * a1 multiplies by the activation; ReLU'(z1) is 1 where z1 > 0 and "
        "0 elsewhere: dz1 = da1 * (z1 > 0)"
    )
    NO_RELU_PRIME = (
        "the ReLU's derivative is missing: dz1 = da1 * ReLU'(z1), with ReLU'(z1) = (z1 > 0)"
    )
    SIGMOID_PRIME_TWICE = (
        "the sigmoid's derivative is counted twice: with binary cross-entropy, "
        "dL/dz2 = (a2 - y) / n already includes it"
    )
    BATCH_AXIS = "it keeps the batch axis: a bias gradient sums over the examples, dz.sum(axis=0)"
    ASCENT = "it adds the gradient: a descent step subtracts lr * gradient"
    ONE_SIDED = "these are one-sided differences: use (f(x + eps) - f(x - eps)) / (2 eps)"
    # assignment 3
    BIASES_PENALIZED = "the biases are in it: only the weight matrices, the 2-D arrays, count"
    FACTOR_2 = "the penalty is lam * sum(w**2), without a factor 2"
    NO_FACTOR_2 = "the gradient of lam * sum(W**2) is 2 * lam * W"
    BIAS_GRADIENT = "a bias is not penalized: its gradient is zeros"
    NOT_RESCALED = "they are not rescaled: inverted dropout divides them by 1 - rate"
    MULTIPLIED = "they are multiplied by 1 - rate: divide instead"
    KEEPS_RATE = "it keeps a unit with probability rate: keep it where rng.random(a.shape) >= rate"
    TIES_IMPROVE = "a loss equal to the best is no improvement"
    ONE_LATE = (
        "it stops one epoch late: the epoch that makes `patience` epochs in a row without "
        "improvement is the stop"
    )
    KEEPS_THE_STOP = "that is the stop epoch: restore the epoch with the lowest loss"
    OFF_BY_ONE = "epoch 0 gives the initial rate: lr0 * rate**epoch"
    FLOORED = "without staircase the exponent is step / decay_steps, not floored"
    NOT_FLOORED = "with staircase the exponent is floor(step / decay_steps)"

    @property
    def hint(self) -> str:
        return self.value


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward_variants(params: dict, X, want: dict) -> dict[str, dict[str, np.ndarray]]:
    """cache key -> {mistake: what that mistake gives}, from the right cache ``want``."""
    z1, z2 = np.asarray(want["z1"], float), np.asarray(want["z2"], float)
    W1, b1, W2, b2 = (np.asarray(params[k], float) for k in ("W1", "b1", "W2", "b2"))
    return {
        "z1": {
            Mistake.W1_TRANSPOSED: np.asarray(X, float) @ W1.T + b1,
            Mistake.B1_MISSING: z1 - b1,
        },
        "a1": {Mistake.NO_RELU: z1, Mistake.SIGMOID_HIDDEN: _sigmoid(z1)},
        "z2": {Mistake.Z2_FROM_Z1: z1 @ W2 + b2},
        "a2": {Mistake.NO_SIGMOID: z2},
    }


def backward_related(name: str, want, n: int) -> dict[str, np.ndarray]:
    """{mistake: gradient} of the mistakes that follow from the right gradient ``want``."""
    want = np.asarray(want, float)
    variants = {Mistake.SUM: n * want, Mistake.SIGN: -want}
    if name == "dW1" and want.ndim == 2 and want.shape[0] == want.shape[1]:
        variants[Mistake.TRANSPOSED] = want.T
    return variants


def diagnose(
    got, want, variants: dict, *, values: bool = True, others=(), rtol=1e-7, atol=1e-10
) -> str:
    """`` (hint)``: the hint of the variant ``got`` equals, else what differs (:func:`differs`).

    A variant that equals the right value on this input cannot be told apart: it is skipped.
    Where two variants give the same wrong value, ``others`` (``(got, want, variants)`` of
    other inputs, computed only when asked) keeps those that match there too; if still more
    than one, each hint is given.
    """
    got, want = np.asarray(got, float), np.asarray(want, float)
    matches = recognise(got, want, variants, rtol=rtol, atol=atol)
    if len(matches) > 1:
        for other_got, other_want, other_variants in others:
            kept = [
                m
                for m in matches
                if np.shape(other_got) == np.shape(other_want)
                and _close(other_got, other_variants.get(m, other_want), rtol, atol)
            ]
            matches = kept or matches
            if len(matches) == 1:
                break
    if matches:
        return " (" + "; or ".join(m.hint for m in matches) + ")"
    return f" ({differs(got, want, values=values, rtol=rtol, atol=atol)})"


def recognise(got, want, variants: dict, *, rtol=1e-7, atol=1e-10) -> list[str]:
    """The mistakes (keys of ``variants``) whose value ``got`` equals, where they differ from
    the right value ``want`` on this input."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    return [
        mistake
        for mistake, wrong in variants.items()
        if np.shape(wrong) == want.shape
        and not _close(wrong, want, rtol, atol)
        and _close(got, wrong, rtol, atol)
    ]


def hint_for(got, want, variants: dict, *, rtol=1e-7, atol=1e-10) -> str:
    """`` (hint)`` of the one mistake ``got`` is recognised as (all of them if several), or ""."""
    matches = recognise(got, want, variants, rtol=rtol, atol=atol)
    return " (" + "; or ".join(m.hint for m in matches) + ")" if matches else ""


def differs(got, want, *, values: bool = True, rtol=1e-7, atol=1e-10) -> str:
    """Where ``got`` differs from ``want`` (same shape) and by how much, guessing no cause.

    ``values=True`` (the visible checks, public inputs): the first differing entry with both
    values, how many differ and the largest difference. ``values=False`` (the hidden checks):
    fixed words only, since the student's values are the student's to choose and could spell
    out a hidden input: one, some or every entry, and whether by more than 1% of the
    expected size (:data:`SMALL`).
    """
    got, want = np.asarray(got, float), np.asarray(want, float)
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    largest = float(np.max(np.abs(got - want)))
    if not values:
        size = "under 1%" if largest <= SMALL * max(float(np.max(np.abs(want))), atol) else "more"
        amount = (
            "by under 1% of the expected size"
            if size == "under 1%"
            else "by more than 1% of the expected size"
        )
        if want.size == 1:
            return f"it is off {amount}"
        which = "every entry" if bad.all() else "one entry" if bad.sum() == 1 else "some entries"
        return f"{which} {'differs' if which == 'one entry' else 'differ'}, {amount}"
    if want.size == 1:
        return f"it is {float(got.ravel()[0]):.6g} where {float(want.ravel()[0]):.6g} is expected"
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    where = f"[{', '.join(map(str, at))}]"
    return (
        f"{int(bad.sum())} of its {want.size} entries differ: entry {where} is {got[at]:.6g} "
        f"where {want[at]:.6g} is expected; the largest difference is {largest:.3g}"
    )


#: The relative size below which a hidden check calls a difference small (fixed words).
SMALL = 0.01


# -- public cases -----------------------------------------------------------------------------


def _lecture():
    """The lecture's parameters and data (public)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    params = {
        "W1": np.array([[0.1, 0.2], [0.3, 0.4]]),
        "b1": np.zeros(2),
        "W2": np.array([[0.5], [0.6]]),
        "b2": np.zeros(1),
    }
    return params, X, np.array([0, 1, 1, 0])


def _second():
    """A public case where some z1 < 0 (ReLU matters) and b2 is not 0."""
    params, X, y = _lecture()
    params["b1"] = np.array([-0.25, 0.1])
    params["W2"] = np.array([[0.5], [-0.6]])
    params["b2"] = np.array([0.2])
    return params, X, y


def _public_cases():
    """(params, X, y) of the two public cases: the lecture's batch X[:2], the second case."""
    lecture, X, y = _lecture()
    return [(lecture, X[:2], y[:2]), _second()]


_FORWARD = [
    (  # the lecture's batch X[:2]
        "the lecture's batch X[:2]",
        {
            "z1": [[0.0, 0.0], [0.3, 0.4]],
            "a1": [[0.0, 0.0], [0.3, 0.4]],
            "z2": [[0.0], [0.39]],
            "a2": [[0.5], [0.5962826992967879]],
        },
    ),
    (
        "the second public case (b1 = [-0.25, 0.1], all four inputs)",
        {
            "z1": [[-0.25, 0.1], [0.05, 0.5], [-0.15, 0.3], [0.15, 0.7]],
            "a1": [[0.0, 0.1], [0.05, 0.5], [0.0, 0.3], [0.15, 0.7]],
            "z2": [[0.14], [-0.075], [0.02], [-0.145]],
            "a2": [
                [0.5349429451582145],
                [0.4812587841214647],
                [0.5049998333399998],
                [0.4638133797682053],
            ],
        },
    ),
]


def _copy(params):
    return {k: np.array(v, dtype=float) for k, v in params.items()}


@_check(
    A2,
    "test-forward",
    "02_forward_backward#the-worked-example-quantity-by-quantity",
    "The worked example, quantity by quantity",
)
def check_forward(forward):
    """The lecture's batch, and a public case with negative pre-activations."""
    for (case, want), (params, X, _) in zip(_FORWARD, _public_cases(), strict=True):
        got = _call("forward", forward, _copy(params), X.copy(), hints=_A2_HINTS)
        cache = _dict("forward", got, want)
        want = {k: np.array(v) for k, v in want.items()}
        variants = forward_variants(params, X, want)
        for name, values in want.items():
            value = _array(f"forward: {name} on {case}", cache[name], values.shape)
            if not _close(value, values):
                hint = diagnose(value, values, variants[name])
                raise CheckFailed(f"forward: {name} is wrong on {case}{hint}")


_BACKWARD = [
    (
        "the lecture's batch X[:2]",
        {
            "dW1": [[0.0, 0.0], [-0.10092932517580303, -0.12111519021096362]],
            "db1": [-0.10092932517580303, -0.12111519021096362],
            "dW2": [[-0.06055759510548181], [-0.08074346014064243]],
            "db2": [0.04814134964839395],
        },
    ),
    (
        "the second public case (b1 = [-0.25, 0.1], all four inputs)",
        {
            "dW1": [
                [0.05797667247102566, 0.004678018033769243],
                [-0.006865979513791247, 0.008239175416549505],
            ],
            "db1": [-0.006865979513791247, 0.0022477586418173656],
            "dW2": [[0.010908736542826012], [-0.007426749395925629]],
            "db2": [-0.003746264403028929],
        },
    ),
]

#: What the known-wrong backward passes give on the two public cases, where it differs from
#: the right gradients (the hidden checks compute them: ``known_wrong_backward``; a test
#: checks these numbers against it).
_BACKWARD_WRONG = [
    {
        Mistake.RELU_PRIME_0_IS_1: {"db1": [0.024070674824, 0.028884809789]},
        Mistake.TIMES_A1: {
            "dW1": [[0.0, 0.0], [-0.030278797553, -0.048446076084]],
            "db1": [-0.030278797553, -0.048446076084],
        },
        Mistake.NO_RELU_PRIME: {"db1": [0.024070674824, 0.028884809789]},
        Mistake.SIGMOID_PRIME_TWICE: {
            "dW1": [[0.0, 0.0], [-0.024296680298, -0.029156016358]],
            "db1": [-0.024296680298, -0.029156016358],
            "dW2": [[-0.014578008179], [-0.019437344239]],
            "db2": [0.013906639403],
        },
    },
    {
        Mistake.RELU_PRIME_0_IS_1: {},
        Mistake.TIMES_A1: {
            "dW1": [[0.008696500871, -0.026425397376], [0.005454368271, -0.009794813685]],
            "db1": [0.005454368271, 0.004456049638],
        },
        Mistake.NO_RELU_PRIME: {
            "dW1": [[-0.003898348361, 0.004678018034], [-0.006865979514, 0.008239175417]],
            "db1": [-0.001873132202, 0.002247758642],
        },
        Mistake.SIGMOID_PRIME_TWICE: {
            "dW1": [[0.014418249318, 0.001258750941], [-0.001769638787, 0.002123566545]],
            "db1": [-0.001769638787, 0.00072183178],
            "dW2": [[0.002706685985], [-0.001955599974]],
            "db2": [-0.001203052967],
        },
    },
]


def _backward_shape(name: str, got, shape: tuple, n: int) -> str:
    """Why a gradient has the wrong shape, when the shape says it."""
    if len(shape) == 1 and got.shape == (n, *shape):
        return f" ({Mistake.BATCH_AXIS.hint})"
    if name in ("dW2", "db2") and n in got.shape and 1 in shape:
        return (
            " (did y of shape (n,) broadcast against a2 of shape (n, 1)? reshape it: "
            "y.reshape(-1, 1))"
        )
    return ""


@_check(
    A2,
    "test-backward",
    "02_forward_backward#the-worked-example-quantity-by-quantity",
    "The worked example, quantity by quantity",
)
def check_backward(forward, backward):
    """All four gradients on the lecture's batch (z1 = 0 for one input) and a second case.

    ``backward`` gets the right cache (with any extra keys your ``forward`` adds), so a
    mistake in ``forward`` fails ``forward``'s check only.
    """
    cases = list(zip(_BACKWARD, _FORWARD, _BACKWARD_WRONG, _public_cases(), strict=True))

    def run(index):
        (_, want), (_, right_cache), _, (params, X, y) = cases[index]
        try:
            theirs = _call("forward", forward, _copy(params), X.copy(), hints=_A2_HINTS)
        except (CheckFailed, ErrorInYourCode):  # forward's own check says what
            theirs = {}
        cache = {**(theirs if type(theirs) is dict else {})}
        cache.update({k: np.array(v) for k, v in right_cache.items()})
        grads = _call(
            "backward", backward, _copy(params), cache, X.copy(), y.copy(), hints=_A2_HINTS
        )
        return _dict("backward", grads, want)

    def variants(index, name):
        (_, want), _, wrong, (_, X, _) = cases[index]
        return {
            **backward_related(name, want[name], len(X)),
            **{m: grads[name] for m, grads in wrong.items() if name in grads},
        }

    def elsewhere(index, name):
        """(got, want, variants) of ``name`` on the other public cases, for diagnose."""
        for other in range(len(cases)):
            if other != index:
                try:
                    got = np.asarray(run(other)[name], dtype=float)
                except (CheckFailed, ErrorInYourCode, TypeError, ValueError):
                    continue  # that case tells nothing more
                want = np.array(cases[other][0][1][name])
                yield got, want, variants(other, name)

    for index, ((case, want), _, _, (_, X, _)) in enumerate(cases):
        grads = run(index)
        for name, values in want.items():
            values = np.array(values)
            shape = values.shape
            got = grads[name]
            if isinstance(got, np.ndarray) and got.shape != shape:
                raise CheckFailed(
                    f"backward: {name} has shape {got.shape} on {case}; it must have the shape "
                    f"of {name[1:]}, {shape}{_backward_shape(name, got, shape, len(X))}"
                )
            got = _array(f"backward: {name} on {case}", got, shape)
            if not _close(got, values):
                hint = diagnose(got, values, variants(index, name), others=elsewhere(index, name))
                raise CheckFailed(f"backward: {name} is wrong on {case}{hint}")


@_check(
    A2,
    "test-step",
    "02_forward_backward#the-worked-example-quantity-by-quantity",
    "The worked example, quantity by quantity",
)
def check_sgd_step(sgd_step):
    """One step from the lecture's parameters; params must be left unchanged."""
    params = _lecture()[0]
    before = _copy(params)
    grads = {
        "dW1": np.array([[1.0, -2.0], [0.5, 3.0]]),
        "db1": np.array([1.0, -1.0]),
        "dW2": np.array([[2.0], [-0.5]]),
        "db2": np.array([4.0]),
    }
    hints = dict(
        _A2_HINTS, modified="return new arrays (v - lr * g) instead of updating them (v -= lr * g)"
    )
    new = _dict("sgd_step", _call("sgd_step", sgd_step, params, grads, 0.1, hints=hints), params)
    for name in before:
        want = before[name] - 0.1 * grads["d" + name]
        got = _array(f"sgd_step: {name}", new[name], want.shape)
        if not _close(got, want):
            ascent = {Mistake.ASCENT: before[name] + 0.1 * grads["d" + name]}
            raise CheckFailed(
                f"sgd_step: {name} is updated wrongly; the step is phi - lr * dL/dphi"
                + diagnose(got, want, ascent)
            )


def _cubic_loss(p):
    """A public loss: sum(W**3) + 2 sum(b**2)."""
    return float(np.sum(np.asarray(p["W"]) ** 3) + 2 * np.sum(np.asarray(p["b"]) ** 2))


def _not_restored(largest: float, eps: float = 1e-6) -> str:
    """What to do when numerical_gradient left params changed (by about eps: never restored)."""
    off = (
        f"its entries are off by up to {largest:.2g}, about eps: each entry you perturb is "
        "never put back. "
        if 0.5 * eps <= largest <= 2.5 * eps
        else ""
    )
    return (
        f"{off}params must hold its original values afterwards: save the entry (old = v[idx]) "
        "and put it back after the two loss calls (v[idx] = old)"
    )


@_check(A2, "test-gradcheck", "02_forward_backward#gradient-checking", "Gradient checking")
def check_numerical_gradient(numerical_gradient):
    """Central differences of a cubic loss, whose one-sided differences are measurably off."""
    params = {"W": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.5])}
    exact = {"W": 3 * params["W"] ** 2, "b": 4 * params["b"]}  # the derivatives of the loss
    one_sided = {"W": exact["W"] + 3 * params["W"] * 1e-6, "b": exact["b"] + 2e-6}
    hints = dict(_A2_HINTS, modified=_not_restored)
    got = _call("numerical_gradient", numerical_gradient, _cubic_loss, _copy(params), hints=hints)
    if isinstance(got, dict) and set(got) == {"d" + k for k in params}:
        raise CheckFailed(
            f"numerical_gradient must return the keys of params ({list(params)}), got "
            f"{list(got)}: the gradient with respect to params['W'] is stored under 'W'"
        )
    _dict("numerical_gradient", got, params)
    for name, want in exact.items():
        value = _array(f"numerical_gradient: {name}", got[name], want.shape)
        if not _close(value, want, rtol=0, atol=1e-7):
            if _close(value, one_sided[name], rtol=0, atol=2e-7):
                hint = f" ({Mistake.ONE_SIDED.hint})"
            else:
                hint = f" ({differs(value, want, rtol=0, atol=1e-7)})"
            raise CheckFailed(
                f"numerical_gradient: {name} does not match central differences of "
                f"sum(W**3) + 2 sum(b**2) at the public params{hint}"
            )


# == assignment 3: regularization and schedules ==============================================

A3 = "a3_regularization"
_A3_HINTS = {
    "keys": "return a dict with the same keys as params",
    "signature": "the signatures are l2_penalty(params, lam), l2_grad(params, lam), "
    "dropout(a, rate, rng, training=True), early_stopping(val_losses, patience), "
    "per_epoch_decay(lr0, rate, epoch), keras_decay(step, lr0, decay_steps, decay_rate, staircase=False)",
}


def l2_penalty_variants(params: dict, lam: float, want: float) -> dict[str, float]:
    """{mistake: the penalty it gives}, from the right penalty ``want``."""
    biases = lam * sum(float(np.sum(np.square(v))) for v in params.values() if np.ndim(v) == 1)
    return {Mistake.BIASES_PENALIZED: want + biases, Mistake.FACTOR_2: 2 * want}


def dropout_variants(kept, rate: float) -> dict[str, np.ndarray]:
    """{mistake: what the kept units become}, from their inputs ``kept``."""
    return {Mistake.NOT_RESCALED: kept, Mistake.MULTIPLIED: kept * (1 - rate)}


def keras_decay_variants(step, lr0, decay_steps, decay_rate, staircase) -> dict[str, float]:
    """{mistake: the rate it gives}: the staircase applied when it is off, or ignored when on."""
    exponent = step / decay_steps
    if staircase:
        return {Mistake.NOT_FLOORED: lr0 * decay_rate**exponent}
    return {Mistake.FLOORED: lr0 * decay_rate ** np.floor(exponent)}


@_check(A3, "test-l2", "05_regularization#penalties-l1-and-l2", "Penalties: L1 and L2")
def check_l2(l2_penalty, l2_grad):
    """Penalty and gradient on two public parameter dicts; biases (1-D) are left out."""
    cases = [
        ({"W": np.array([[1.0, -2.0]]), "b": np.array([3.0])}, 0.1, 0.5),
        (
            {
                "W1": np.array([[0.5, -1.0], [2.0, 0.0]]),
                "b1": np.array([1.0, -1.0]),
                "W2": np.array([[3.0], [-0.5]]),
                "b2": np.array([2.0]),
            },
            0.01,
            0.01 * (0.25 + 1 + 4 + 9 + 0.25),
        ),
    ]
    for params, lam, want in cases:
        shown = f"l2_penalty(params with keys {list(params)}, {lam})"
        got = _number(shown, _call("l2_penalty", l2_penalty, _copy(params), lam, hints=_A3_HINTS))
        if abs(got - want) > 1e-12:
            hint = hint_for(got, want, l2_penalty_variants(params, lam, want), atol=1e-12)
            raise CheckFailed(f"{shown} gives {got:.6g}, not {want:.6g}{hint}")
        grads = _dict(
            "l2_grad", _call("l2_grad", l2_grad, _copy(params), lam, hints=_A3_HINTS), params
        )
        for name, value in params.items():
            want_grad = 2 * lam * value if value.ndim >= 2 else np.zeros_like(value)
            got_grad = _array(f"l2_grad: {name}", grads[name], value.shape)
            if not _close(got_grad, want_grad):
                hint = (
                    f" ({(Mistake.BIAS_GRADIENT if value.ndim == 1 else Mistake.NO_FACTOR_2).hint})"
                )
                raise CheckFailed(f"l2_grad: {name} is wrong{hint}")


@_check(A3, "test-dropout", "05_regularization#dropout", "Dropout")
def check_dropout(dropout):
    """Training: the fraction zeroed and the 1 / (1 - rate) scaling; evaluation: identity."""
    a = np.linspace(0.5, 2.0, 10_000).reshape(100, 100)
    hints = dict(_A3_HINTS, shapes="draw the mask with rng.random(a.shape), the shape of a")
    for rate in (0.2, 0.5):
        shown = f"dropout(a, rate={rate}, rng, training=True)"
        out = _call("dropout", dropout, a.copy(), rate, np.random.default_rng(0), True, hints=hints)
        out = _array(shown, out, a.shape)
        kept = out != 0
        zeroed = 1 - kept.mean()
        if abs(zeroed - rate) > 0.03:
            raise CheckFailed(
                f"{shown} zeroes {zeroed:.0%} of the units; rate={rate} asks for about "
                f"{rate:.0%} (keep a unit where rng.random(a.shape) >= rate)"
            )
        if not _close(out[kept], a[kept] / (1 - rate)):
            hint = hint_for(out[kept], a[kept] / (1 - rate), dropout_variants(a[kept], rate))
            raise CheckFailed(
                f"{shown}: the kept units must be scaled by 1 / (1 - rate) = {1 / (1 - rate):g} "
                f"while training{hint}"
            )
        evaluated = _call(
            "dropout", dropout, a.copy(), rate, np.random.default_rng(0), False, hints=hints
        )
        if not np.array_equal(np.asarray(evaluated), a):
            raise CheckFailed(
                f"dropout(a, rate={rate}, rng, training=False) must return a unchanged: at "
                "evaluation dropout is the identity (no unit dropped, nothing scaled)"
            )


@_check(A3, "test-es", "05_regularization#early-stopping", "Early stopping")
def check_early_stopping(early_stopping):
    """Four public loss curves: a stop, no stop, ties (not improvements), patience 1."""
    cases = [
        (([1.0, 0.8, 0.9, 0.95, 0.7], 2), (3, 1)),
        (([1.0, 0.9, 0.8, 0.7], 2), (None, 3)),
        (([1.0, 0.8, 0.8, 0.8, 0.5], 2), (3, 1)),
        (([0.5, 0.6, 0.4], 1), (1, 0)),
    ]
    for (losses, patience), (stop, best) in cases:
        shown = f"early_stopping({losses}, patience={patience})"
        got = _call("early_stopping", early_stopping, list(losses), patience, hints=_A3_HINTS)
        g_stop, g_best = _ints(shown, got, 2, none=True)  # (stop_epoch, best_epoch)
        if g_stop != stop:
            ties = f" ({Mistake.TIES_IMPROVE.hint})" if losses[1] == losses[2] else ""
            never = " (None when it never stops)" if stop is None else ""
            raise CheckFailed(
                f"{shown} stops at epoch {g_stop}; it stops at epoch {stop}: the epoch (counted "
                f"from 0) that makes `patience` epochs in a row without improvement{ties}{never}"
            )
        if g_best != best:
            hint = f" ({Mistake.KEEPS_THE_STOP.hint})" if g_best == g_stop else ""
            raise CheckFailed(
                f"{shown} keeps the weights of epoch {g_best}, not of epoch {best}, the lowest "
                f"validation loss up to the stop{hint}"
            )


@_check(
    A3,
    "test-decay",
    "04_learning_rate#schedules-change-the-rate-during-training",
    "Schedules: change the rate during training",
)
def check_decay(per_epoch_decay, keras_decay):
    """Per-epoch decay from epoch 0; Keras' decay with and without staircase."""
    for epoch, want in ((0, 0.1), (3, 0.1 * 0.95**3)):
        shown = f"per_epoch_decay(0.1, 0.95, {epoch})"
        got = _number(
            shown, _call("per_epoch_decay", per_epoch_decay, 0.1, 0.95, epoch, hints=_A3_HINTS)
        )
        if abs(got - want) > 1e-12:
            first = f" ({Mistake.OFF_BY_ONE.hint})" if epoch == 0 else ""
            first = first or hint_for(
                got, want, {Mistake.OFF_BY_ONE: want * 0.95}, rtol=0, atol=1e-12
            )
            raise CheckFailed(f"{shown} gives {got:.6g}, not {want:.6g}{first}")
    for step, staircase, want in (
        (0, False, 0.1),
        (270_000, False, 0.1 * 0.96**2.7),
        (270_000, True, 0.1 * 0.96**2),
    ):
        shown = f"keras_decay({step}, 0.1, 100000, 0.96, staircase={staircase})"
        got = _number(
            shown,
            _call("keras_decay", keras_decay, step, 0.1, 100_000, 0.96, staircase, hints=_A3_HINTS),
        )
        if abs(got - want) > 1e-12:
            variants = keras_decay_variants(step, 0.1, 100_000, 0.96, staircase)
            hint = hint_for(got, want, variants, rtol=0, atol=1e-12)
            raise CheckFailed(f"{shown} gives {got:.6g}, not {want:.6g}{hint}")


# == assignment 4: an MLP to a spec ==========================================================

A4 = "a4_mlp"
SPEC_UNITS = (16, 8)


def _dense(model) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] of a PyTorch or Keras model's dense layers, kernels (in, out)."""
    module = type(model).__module__
    arrays: list[np.ndarray] = []
    if module.startswith("torch"):
        import torch

        for layer in (m for m in model.modules() if isinstance(m, torch.nn.Linear)):
            kernel = layer.weight.detach().double().numpy().T
            bias = layer.bias
            arrays += [
                kernel,
                np.zeros(kernel.shape[1]) if bias is None else bias.detach().double().numpy(),
            ]
        return arrays
    if module.startswith("keras") or module.startswith("tensorflow"):
        for layer in model.layers:
            if type(layer).__name__ == "Dense":
                kernel, *bias = (np.asarray(w, dtype=float) for w in layer.get_weights())
                arrays += [kernel, bias[0] if bias else np.zeros(kernel.shape[1])]
        return arrays
    raise CheckFailed(
        f"build_and_train must return a PyTorch or Keras model, got {type(model).__name__}"
    )


def _layers(model, n_inputs: int) -> list[np.ndarray]:
    arrays = _dense(model)
    units = tuple(int(k.shape[1]) for k in arrays[0::2])
    if units != (*SPEC_UNITS, 1):
        raise CheckFailed(
            f"the network's dense layers have {units} units; hidden layers of 16 and 8 units "
            "and one output unit, (16, 8, 1), are asked for"
        )
    if int(arrays[0].shape[0]) != n_inputs:
        raise CheckFailed(f"the first layer takes {arrays[0].shape[0]} inputs, not {n_inputs}")
    return arrays


def _probabilities(arrays, X) -> np.ndarray:
    a = np.asarray(X, dtype=float)
    for i in range(0, len(arrays), 2):
        z = a @ arrays[i] + arrays[i + 1]
        a = np.maximum(z, 0.0) if i < len(arrays) - 2 else 0.5 * (1 + np.tanh(0.5 * z))
    return a.reshape(-1)


def _predictions(predict_proba, model, X, arrays) -> np.ndarray:
    proba = _call("predict_proba", predict_proba, model, X, guard=False)
    proba = _array(f"predict_proba(model, X) on {len(X)} rows", np.ravel(proba), (len(X),))
    if np.any((proba < 0) | (proba > 1)):
        raise CheckFailed(
            "predict_proba must return probabilities in [0, 1] (apply the sigmoid to the output)"
        )
    if not _close(proba, _probabilities(arrays, X), rtol=0, atol=1e-4):
        raise CheckFailed(
            "predict_proba does not match the network's own weights: ReLU hidden layers and a "
            "sigmoid output are asked for"
        )
    return proba


_A4_HINTS = {
    "import": "install the framework you use: pip install torch (PyTorch) or tensorflow (Keras)",
    "signature": "the signatures are build_and_train(X_train, y_train, X_val, y_val, epochs) "
    "and predict_proba(model, X)",
    "shapes": "X_train has shape (n, 30), y_train (n,); a PyTorch loss wants targets of shape "
    "(n, 1) and float32 tensors",
}


def _public_split():
    """The notebook's own public split: the breast-cancer data, standardized on training rows."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return (X_train - mean) / std, y_train, (X_val - mean) / std, y_val


@_check(A4, "test-architecture", "07_hands_on_mlps#pytorch", "PyTorch")
def check_architecture(build_and_train, predict_proba):
    """One epoch on 50 public rows: the layers' sizes, and predict_proba against the weights."""
    X, y, Xv, yv = _public_split()
    model = _call(
        "build_and_train",
        build_and_train,
        X[:50],
        y[:50],
        Xv[:20],
        yv[:20],
        1,
        hints=_A4_HINTS,
        guard=False,
    )
    _predictions(predict_proba, model, Xv[:5], _layers(model, X.shape[1]))


@_check(
    A4,
    "test-accuracy",
    "07_hands_on_mlps#the-small-binary-classifier-of-the-review-notes",
    "A binary classifier",
)
def check_accuracy(build_and_train, predict_proba):
    """Trained for up to 100 epochs: at least 93% accuracy on the public validation rows."""
    X, y, Xv, yv = _public_split()
    model = _call(
        "build_and_train", build_and_train, X, y, Xv, yv, 100, hints=_A4_HINTS, guard=False
    )
    proba = _predictions(predict_proba, model, Xv, _layers(model, X.shape[1]))
    accuracy = float(np.mean((proba >= 0.5) == (yv == 1)))
    if accuracy < 0.93:
        raise CheckFailed(
            f"validation accuracy {accuracy:.1%}, below the 93% asked for (the grader measures "
            "it on a test split of its own): does training run for the epochs given, with Adam "
            "at 1e-3 and early stopping that restores the best weights?"
        )


# -- in the notebook: what passed in this session --------------------------------------------


def _status(
    assignment: str, namespace: dict, history: list[str] | None = None
) -> list[tuple[str, str | None]]:
    """(grade_id, None if passed else why) for each check of ``assignment``, in order.

    ``history``: the cells run in this kernel, oldest first (IPython's ``In``). A function
    whose latest defining cell does not compile is reported with its error, whether or not
    its check ran (an older definition may have passed; the saved notebook will not run).
    """
    history = _history() if history is None else history
    rows = []
    for check in CHECKS[assignment]:
        body = getattr(check.run, "__wrapped__", check.run).__code__
        needs = body.co_varnames[: body.co_argcount]
        broken = [why for why in (_broken(name, namespace, history) for name in needs) if why]
        outcome = _OUTCOMES.get((assignment, check.grade_id))
        if broken:
            rows.append((check.grade_id, broken[0]))
            continue
        if outcome is None:
            rows.append((check.grade_id, "not run yet: run its cell"))
            continue
        message, codes = outcome
        stale = [
            name
            for name, code in codes.items()
            if code is not None and getattr(namespace.get(name), "__code__", code) is not code
        ]
        if stale:
            rows.append((check.grade_id, f"{stale[0]} changed since: run this check's cell again"))
        else:
            rows.append((check.grade_id, message and message.splitlines()[0]))
    return rows


def _history() -> list[str]:
    """The cells run in this kernel, oldest first (empty outside IPython)."""
    shell = _ipython()
    cells = shell.user_ns.get("In", []) if shell is not None else []
    return [c for c in cells if isinstance(c, str)]


def _broken(name: str, namespace: dict, history: list[str]) -> str | None:
    """Why ``name`` cannot be checked: its latest defining cell has a SyntaxError, or it is
    not defined at all; None when it is defined by a cell that compiles."""
    defines = re.compile(rf"^\s*(def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*=", re.M)
    for source in reversed(history):
        if defines.search(source):
            try:
                compile(_python(source), "<cell>", "exec")
            except SyntaxError as exc:
                line = (exc.text or "").strip()
                return (
                    f"the cell defining {name} has a SyntaxError at its line {exc.lineno}: "
                    f"{line} ({exc.msg}): fix it and run that cell, then this check's cell"
                )
            break
    if name not in namespace:
        return f"{name} is not defined: run the cell that defines it, then this check's cell"
    return None


def _python(source: str) -> str:
    """A cell's source as Python (IPython's magics and ! lines transformed), if in IPython."""
    shell = _ipython()
    return shell.transform_cell(source) if shell is not None else source


def summary(assignment: str) -> bool:
    """Print which visible checks of ``assignment`` passed in this session; True if all did.

    Checks run in this kernel count; a function redefined after its check ran counts as not
    checked. For the notebook as it will be graded (saved, in a fresh kernel), run
    ``python coursecheck.py NOTEBOOK`` from a terminal.
    """
    if assignment not in CHECKS:
        raise ValueError(f"assignment must be one of {sorted(CHECKS)}, got {assignment!r}")
    namespace = sys._getframe(1).f_globals
    rows = _status(assignment, namespace)
    for grade_id, why in rows:
        print(f"✓ {grade_id}" if why is None else f"✗ {grade_id}: {why}")
    passed = sum(why is None for _, why in rows)
    print(_verdict(passed, len(rows)))
    return passed == len(rows)


def _verdict(passed: int, total: int) -> str:
    if passed == total:
        return f"all {total} visible checks passed; hidden checks run at grading"
    return (
        f"{passed} of {total} visible checks passed; fix what is marked ✗ and run again "
        "(hidden checks run at grading)"
    )


# -- from a terminal: the notebook as last saved, in a fresh kernel --------------------------


class Outcome(NamedTuple):
    """One visible check of a notebook run: its cell's grade id, points, and why it failed."""

    grade_id: str
    points: float
    passed: bool
    message: str  # empty when passed


@dataclass
class Report:
    """The visible checks of one notebook run, in notebook order."""

    notebook: str
    checks: list[Outcome]
    problems: list[str]  # errors in the notebook's other cells (answers, set-up)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def report(self) -> str:
        lines = [f"{self.notebook}: visible checks"]
        lines += [f"! {p}" for p in self.problems]
        for c in self.checks:
            head = f"{'✓' if c.passed else '✗'} {c.grade_id} ({c.points:g} points)"
            lines.append(head if c.passed else f"{head}:\n    " + c.message.replace("\n", "\n    "))
        lines.append(_verdict(sum(c.passed for c in self.checks), len(self.checks)))
        return "\n".join(lines)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _is_check(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _error(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("ename", "Error"), _ANSI.sub("", str(output.get("evalue", "")))
    return None


def run_notebook(notebook: str | Path, timeout: int = 120) -> Report:
    """Run ``notebook`` in a fresh kernel, in its own folder; report each visible check.

    The kernel finds this module even when it does not sit beside the notebook. Nothing the
    kernel or Jupyter prints (start-up and transport warnings) reaches the terminal; the
    kernel's own error output is shown only if it fails to start.
    """
    import tempfile
    import warnings

    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        raise RuntimeError(
            "running a notebook needs nbformat, nbclient and ipykernel (they come with "
            "Jupyter): pip install nbformat nbclient ipykernel"
        ) from None
    path = Path(notebook).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nb = nbformat.read(path, as_version=4)
    if not any(_is_check(c) for c in nb.cells):
        raise ValueError(
            f"{path.name} has no check cells (cells with nbgrader metadata): is it the "
            "assignment's notebook?"
        )
    env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    env[_RUNNING] = "1"  # a check_saved() cell inside the run does not start another run
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent), env.get("PYTHONPATH")) if p)
    env.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,  # a cell over the limit is stopped; the others still run
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    with tempfile.TemporaryFile("w+") as stderr, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            client.execute(env=env, stderr=stderr, stdout=stderr)
        except Exception as exc:  # the kernel did not start or died: show what it said
            stderr.seek(0)
            said = stderr.read().strip()[-2000:]
            raise RuntimeError(
                f"the notebook could not be run ({type(exc).__name__}: {exc})"
                + (f"\nthe kernel said:\n{said}" if said else "")
            ) from None
    checks, problems, first_problem = [], [], None
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        error = _error(cell)
        if not _is_check(cell):
            if error:
                where = f"cell {index + 1}" + (
                    f" ({meta['grade_id']})" if meta.get("grade_id") else ""
                )
                problems.append(
                    f"{where} raised {error[0]}: {error[1].splitlines()[0] if error[1] else ''}"
                )
                first_problem = first_problem or problems[-1]
            continue
        if error is None:
            message = ""
        elif error[0] in ("CheckFailed", "ErrorInYourCode"):
            message = error[1]
        elif error[0] == "KeyboardInterrupt":
            message = f"this cell ran longer than {timeout} s and was stopped (an endless loop?)"
        elif error[0] == "NameError" and first_problem:
            message = f"{error[0]}: {error[1]} (an earlier cell failed: {first_problem})"
        else:
            message = f"{error[0]}: {error[1]}"
        checks.append(
            Outcome(
                meta.get("grade_id", f"cell {index + 1}"),
                float(meta.get("points", 0)),
                error is None,
                message,
            )
        )
    return Report(path.name, checks, problems)


_RUNNING = "COURSECHECK_RUNNING"


def check_saved(notebook: str | Path | None = None, timeout: int = 120) -> bool | None:
    """From a notebook cell: run this notebook *as last saved* in a fresh kernel, print each check.

    Jupyter and JupyterLab tell the kernel its notebook's path (``JPY_SESSION_NAME``); in
    Colab, VS Code or a console pass it: ``check_saved("/content/drive/MyDrive/a2.ipynb")``.
    Inside such a run it does nothing (returns None), so the cell may stay in the notebook.
    """
    if os.environ.get(_RUNNING):
        return None
    path = notebook or os.environ.get("JPY_SESSION_NAME")
    if not path:
        raise ValueError(
            "cannot tell which notebook this is (Colab and VS Code do not say): "
            "call check_saved('path/to/your_notebook.ipynb')"
        )
    report = run_notebook(path, timeout=timeout)
    print(report.report())
    return report.passed


def main(argv: list[str] | None = None) -> int:
    """``python coursecheck.py NOTEBOOK [--timeout S]``: 0 all passed, 1 a check failed, 2 error."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python coursecheck.py",
        description="Run an assignment notebook's visible checks, as last saved, in a fresh kernel.",
        epilog="example: python coursecheck.py a2_backprop.ipynb",
    )
    parser.add_argument("notebook", type=Path, help="the assignment notebook (.ipynb)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    args = parser.parse_args(argv)
    try:
        report = run_notebook(args.notebook, timeout=args.timeout)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.report())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
