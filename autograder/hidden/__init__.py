"""Helpers that hidden tests call at grading time, in the trusted grader.

One module per assignment (``metrics``, ``backprop``, ``regularization``, ``mlp``); shared here.
While grading, the student's functions they receive are
:class:`~autograder.steps.sandboxed_execute.Remote` stand-ins: calling one runs the student's
code in the submission's sandbox and returns the plain values it produced, which the check
compares here. The checks can also be called with ordinary local functions (the tests do).

Expected values are computed here, at grading time, with ``coursekit`` on inputs drawn from a
seed that differs per student (``AUTOGRADER_SEED``, derived from the student id by the
grader), so the test code itself holds no answer and each student gets other numbers.

A student function that calls ``coursekit`` fails its check: in the sandbox ``coursekit`` is a
stand-in that raises; a local function is called under :func:`reference_guard`, which fails if
the call reaches any code of ``coursekit`` (however it was imported).

Failure messages describe *what* was checked, never the expected values.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["ReferenceUsed", "call", "reference_guard", "student_rng"]

_COURSEKIT = str(Path(__file__).resolve().parents[2] / "coursekit")


class ReferenceUsed(AssertionError):
    """The graded function called coursekit's reference implementation."""


def student_rng(salt: int = 0) -> np.random.Generator:
    """The generator of this student's hidden inputs (``AUTOGRADER_SEED``, 0 when unset)."""
    seed = int(os.environ.get("AUTOGRADER_SEED", "0"))
    return np.random.default_rng([seed, salt])


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


def call(fn, *args):
    """Call a student's function: in its sandbox, or locally under :func:`reference_guard`."""
    if getattr(fn, "remote", False):
        return fn(*args)
    with reference_guard(getattr(fn, "__name__", "the function")):
        return fn(*args)
