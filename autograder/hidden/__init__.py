"""Helpers that hidden tests call at grading time, in the trusted grader.

One module per assignment (``metrics``, ``backprop``, ``regularization``, ``mlp``); shared here
and in :mod:`autograder.hidden.strict` (the one comparison every check goes through). While
grading, the student's functions they receive are
:class:`~autograder.grading.steps.sandboxed_execute.Remote` stand-ins: calling one runs the student's
code in the submission's sandbox and returns the plain values it produced, which the check
compares here. The checks can also be called with ordinary local functions (the tests do).

Three rules every check keeps:

- **Private inputs.** The expectation is computed from inputs the student's code never touched:
  :func:`call` and :func:`call_observed` hand the student copies (a ``Remote`` sends copies
  through the wire; a local function gets deep copies), so nothing the student's function does
  to its arguments changes what a check compares against. No function may change its inputs:
  :func:`call` compares the student's copies after the call with the inputs and fails with
  :class:`InputModified` when one changed (:func:`call_observed` returns them unjudged).
- **One strict comparison.** Every value a student's function returned is read through
  :mod:`autograder.hidden.strict`: exact shape, a real numeric dtype of a plain array, finite
  values where the contract says so, then the tolerance; anything else is an
  :class:`AssertionError` with a message safe to show the student.
- **Per-student inputs.** Hidden inputs are drawn from :func:`student_rng`, whose seed the
  grader sets with :func:`seeded` around each hidden block (0 outside one: local tests).
  The seed never travels through the environment.

A student function that calls ``coursekit`` fails its check: in the sandbox ``coursekit`` is a
stand-in that raises; a local function is called under :func:`reference_guard`, which fails if
the call reaches any code of ``coursekit`` (however it was imported).

Failure messages describe *what* was checked, never the hidden inputs or the expected values.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import sys
from pathlib import Path

import numpy as np

__all__ = [
    "InputModified",
    "ReferenceUsed",
    "StudentRaised",
    "call",
    "call_observed",
    "note",
    "noting",
    "reference_guard",
    "seeded",
    "student_rng",
    "unchanged",
]

_COURSEKIT = str(Path(__file__).resolve().parents[2] / "coursekit")
_SEED: contextvars.ContextVar[int | None] = contextvars.ContextVar("autograder_seed", default=None)
_NOTES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "autograder_notes", default=None
)


class ReferenceUsed(AssertionError):
    """The graded function called coursekit's reference implementation."""


class InputModified(AssertionError):
    """The graded function changed an argument it was given (no function may).

    ``path`` names the argument as the grader knows it (``params['W1']``); ``largest`` is the
    largest change of an array's entry (``inf`` when the argument changed kind or shape).
    """

    def __init__(self, message: str, path: str, largest: float):
        super().__init__(message)
        self.path, self.largest = path, largest


class StudentRaised(AssertionError):
    """A graded function called locally raised (the sandbox reports its own the same way)."""


def note(text: str) -> None:
    """Tell the student something about a check that passes (e.g. the accuracy reached), in the
    check's own words: its outcome's message, shown in feedback beside "passed". Outside
    :func:`noting` (local calls) it is dropped."""
    notes = _NOTES.get()
    if notes is not None:
        notes.append(str(text)[:200])


@contextlib.contextmanager
def noting():
    """Collect what the checks run inside the block :func:`note` (a list, read after it)."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


@contextlib.contextmanager
def seeded(seed: int):
    """Draw this block's hidden inputs from ``seed`` (the grader's per-student seed)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    token = _SEED.set(seed)
    try:
        yield
    finally:
        _SEED.reset(token)


def student_rng(salt: int = 0) -> np.random.Generator:
    """The generator of this student's hidden inputs (the :func:`seeded` seed, 0 outside)."""
    seed = _SEED.get()
    return np.random.default_rng([0 if seed is None else seed, salt])


@contextlib.contextmanager
def reference_guard(name: str):
    """Fail if anything called inside the block runs code from the coursekit package."""
    hit = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(_COURSEKIT):
            hit.append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)
    if hit:
        raise ReferenceUsed(
            f"{name} calls the course's reference implementation ({hit[0]}); "
            "graded functions must be your own code: this check scores 0"
        )


def _is_remote(fn) -> bool:
    return getattr(fn, "remote", False) is True


def _name(fn) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else "the function"


def _private(value):
    """A copy of an argument that shares no mutable state with ``value``."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, dict):
        return {k: _private(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_private(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_private(v) for v in value)
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value)
    return value  # numbers, strings, functions (the grader's callbacks), models


def _local(fn, args: tuple):
    name = _name(fn)
    try:
        with reference_guard(name):
            return fn(*args)
    except AssertionError:
        raise
    except Exception as exc:  # as in the sandbox: the student's exception fails the check
        raise StudentRaised(f"{name} raised {type(exc).__name__}") from exc


def call(fn, *args, names: tuple[str, ...] = ()):
    """Call a student's function on copies of ``args``: in its sandbox, or locally.

    A ``Remote`` works on the sandbox's own copies (nothing comes back into ``args``); a local
    function gets deep copies and runs under :func:`reference_guard`. Either way the copies
    are compared with ``args`` after the call: :class:`InputModified` if one changed, naming
    it by ``names`` (the contract's parameter names) or its position.
    """
    value, after = call_observed(fn, *args)
    unchanged(_name(fn), args, after, names)
    return value


#: A change of an entry by at most this fraction of it counts as rounding, not as a change.
ROUNDOFF = 1e-12


def _changed(now, before, path: str):
    """``(path, largest change)`` of the first difference of ``now`` from ``before``, or None.

    ``path`` names the argument and the grader's own dict keys only: which list item or array
    entry changed is the student's choice and is not repeated (it could spell a hidden input).

    Only data is compared (arrays, lists, tuples, dicts, numbers, str); a random generator, a
    model or a callback may change. The sandbox's report is judged only against the student:
    anything unreadable counts as changed.
    """
    if isinstance(before, np.ndarray):
        if type(now) is not np.ndarray or now.shape != before.shape:
            return path, np.inf
        try:
            diff = np.abs(now.astype(np.float64) - before.astype(np.float64))
        except (TypeError, ValueError):
            return path, np.inf
        diff[np.isnan(now) & np.isnan(before)] = 0.0
        if np.isnan(diff).any():
            return path, np.inf
        # a value put back by arithmetic (x + eps - eps) may differ from x in its last bits
        moved = diff > ROUNDOFF * np.abs(before.astype(np.float64))
        return (path, float(diff.max())) if moved.any() else None
    if isinstance(before, dict):
        if type(now) is not dict or set(now) != set(before):
            return path, np.inf
        for key, value in before.items():
            found = _changed(now[key], value, f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(before, list | tuple):
        if type(now) not in (list, tuple) or len(now) != len(before):
            return path, np.inf
        for n, b in zip(now, before, strict=True):  # no index: the student chose which
            found = _changed(n, b, path)
            if found:
                return found
        return None
    if isinstance(before, bool | int | float | str | np.number) and before is not None:
        if type(now) not in (bool, int, float, str) and not isinstance(now, np.number):
            return path, np.inf
        return None if now == before else (path, np.inf)
    return None  # a generator, a model, a callback: not data


def unchanged(name: str, args: tuple, after, names: tuple[str, ...] = ()) -> None:
    """:class:`InputModified` unless ``after`` (the student's copies after the call) equals ``args``."""
    if type(after) is not list or len(after) != len(args):
        raise InputModified(
            f"{name}: its inputs could not be read back after the call", "its inputs", np.inf
        )
    for i, (before, now) in enumerate(zip(args, after, strict=True)):
        label = names[i] if i < len(names) else f"its argument {i + 1}"
        found = _changed(now, before, label)
        if found:
            path, largest = found
            raise InputModified(
                f"{name} must not modify {label} in place: {path} changed. Inputs must not "
                "change: work on a copy or build new arrays",
                path,
                largest,
            )


def call_observed(fn, *args) -> tuple:
    """``(value, args_after)``: the call's result and the student's copies of ``args`` after it.

    The grader's ``args`` never change; ``args_after`` shows what the student's function did to
    the arguments it was given (to report in-place modification the contract forbids).
    """
    if _is_remote(fn):
        result = fn.call_observed(*args)
        return result.value, list(result.args_after)
    copies = tuple(_private(a) for a in args)
    return _local(fn, copies), list(copies)
