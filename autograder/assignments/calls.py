"""How a hidden check calls a student's function, at grading time, in the trusted grader.

While grading, the student's functions a hidden check receives are
:class:`~autograder.grading.steps.sandboxed_execute.Remote` stand-ins: calling one runs the
student's code in the submission's sandbox and returns the plain values it produced, which the
check compares. The checks can also be called with ordinary local functions (the tests do).

Three rules every hidden check keeps (the reading of values and the comparison of inputs are
:mod:`autograder.assignments.rules`, the same the visible checks use):

- **Private inputs.** The expectation is computed from inputs the student's code never touched:
  :func:`call` and :func:`call_observed` hand the student copies (a ``Remote`` sends copies
  through the wire; a local function gets deep copies), so nothing the student's function does
  to its arguments changes what a check compares against. No function may change its inputs:
  :func:`call` compares the student's copies after the call with the inputs and fails with
  :class:`InputModified` when one changed (:func:`call_observed` returns them unjudged).
- **Per-student inputs.** Hidden inputs are drawn from :func:`student_rng`, whose seed the
  grader sets with :func:`seeded` around each hidden block (0 outside one: local tests).
  The seed never travels through the environment.
- **Own code.** A student function that calls ``coursekit`` fails its check: in the sandbox
  ``coursekit`` is a stand-in that raises; a local function is called under the reference
  guard, which fails if the call reaches any code of ``coursekit`` (however it was imported).

Failure messages describe *what* was checked, never the hidden inputs or the expected values.
"""

from __future__ import annotations

import contextlib
import contextvars
from pathlib import Path

import numpy as np

from autograder.assignments.rules import (
    CheckFailed,
    ReferenceUsed,
    changed,
    private,
    reference_guard,
)

__all__ = [
    "InputModified",
    "ReferenceUsed",
    "StudentRaised",
    "call",
    "call_observed",
    "note",
    "noting",
    "seeded",
    "student_rng",
    "unchanged",
]

_COURSEKIT = str(Path(__file__).resolve().parents[2] / "coursekit")
_SEED: contextvars.ContextVar[int | None] = contextvars.ContextVar("autograder_seed", default=None)
_NOTES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "autograder_notes", default=None
)


class InputModified(CheckFailed):
    """The graded function changed an argument it was given (no function may).

    ``path`` names the argument as the grader knows it (``params['W1']``); ``largest`` is the
    largest change of an array's entry (``inf`` when the argument changed kind or shape).
    """

    def __init__(self, message: str, path: str, largest: float):
        super().__init__(message)
        self.path, self.largest = path, largest


class StudentRaised(CheckFailed):
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


def _is_remote(fn) -> bool:
    return getattr(fn, "remote", False) is True


def _name(fn) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else "the function"


def _local(fn, args: tuple):
    name = _name(fn)
    try:
        with reference_guard(name, roots=(_COURSEKIT,)):
            return fn(*args)
    except AssertionError:
        raise
    except Exception as exc:  # as in the sandbox: the student's exception fails the check
        raise StudentRaised(f"{name} raised {type(exc).__name__}") from exc


def call(fn, *args, names: tuple[str, ...] = ()):
    """Call a student's function on copies of ``args``: in its sandbox, or locally.

    A ``Remote`` works on the sandbox's own copies (nothing comes back into ``args``); a local
    function gets deep copies and runs under the reference guard. Either way the copies are
    compared with ``args`` after the call: :class:`InputModified` if one changed, naming it by
    ``names`` (the contract's parameter names) or its position.
    """
    value, after = call_observed(fn, *args)
    unchanged(_name(fn), args, after, names)
    return value


def unchanged(name: str, args: tuple, after, names: tuple[str, ...] = ()) -> None:
    """:class:`InputModified` unless ``after`` (the student's copies after the call) equals ``args``."""
    if type(after) is not list or len(after) != len(args):
        raise InputModified(
            f"{name}: its inputs could not be read back after the call", "its inputs", np.inf
        )
    for i, (before, now) in enumerate(zip(args, after, strict=True)):
        label = names[i] if i < len(names) else f"its argument {i + 1}"
        found = changed(now, before, label)
        if found:
            path, what, largest = found
            raise InputModified(
                f"{name} must not modify {label} in place: {what}. Inputs must not "
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
    copies = tuple(private(a) for a in args)
    return _local(fn, copies), list(copies)
