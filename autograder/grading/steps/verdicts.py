"""Step helper: each check's verdict, classified from what the trusted grader observed.

A check's hidden block (read from the instructor's source notebook, never from the submission)
runs here with the real builtins; the names the assignment's own cells define stand for the
student's objects in the sandbox (:class:`~autograder.grading.steps.remote.CheckNames`). Its
:class:`~autograder.grading.records.Kind` comes from, in this order:

=====================================================  ===============================
observed                                               kind
=====================================================  ===============================
the notebook's time ran out before the check           ``NOT_RUN``
the grader's clock (cell or notebook limit)            ``TIMEOUT``
the sandbox's end as seen from outside                 ``MEMORY`` or ``CRASH`` (:func:`died`)
the student's function raised or sent something        ``STUDENT_ERROR``
unreadable (:class:`~autograder.grading.steps.remote.StudentError`)
the check's own assertion                              ``FAILED``
any other exception of the instructor's check          ``GRADER_ERROR`` (never the student's)
none                                                   ``PASSED``
=====================================================  ===============================

A value the student's function returned is either refused by the wire decoder (a student
error) or read by :mod:`autograder.assignments.rules`, which fails the check for anything it
cannot read, so it can never surface as the check's own exception. The cause of a death is
the sandbox's trusted observation (:attr:`~autograder.sandbox.SandboxDied.cause`), never a
name or text the sandbox produced.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat

from autograder.grading.options import GradingOptions
from autograder.grading.records import CheckOutcome, Kind
from autograder.grading.steps.remote import CheckNames, Runner, StudentError
from autograder.sandbox import SandboxDied, SandboxTimeout, SandboxUnavailable

__all__ = ["Checks", "died", "error_output", "outputs"]

#: the message of a sandbox that ended, by its trusted cause
_DEATHS = {
    "memory": (Kind.MEMORY, "the code ran out of memory (the sandbox's limit was reached)"),
    "cpu": (Kind.CRASH, "the code used up its CPU time"),
    "output": (Kind.CRASH, "the code printed more than the output limit"),
}
_DIED = (Kind.CRASH, "the code's process ended during this check (a crash or an exit)")


def died(exc: SandboxDied) -> tuple[Kind, str]:
    """Kind and message of a sandbox that ended, from what the grader saw of it."""
    return _DEATHS.get(getattr(exc, "cause", None), _DIED)


def error_output(ename: str, evalue: str) -> dict:
    """An error output of the graded notebook, written by the grader (no traceback)."""
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[evalue])


def outputs(outcome: CheckOutcome) -> list:
    """The test cell's outputs in the graded notebook: none when passed, else the kind's
    error name with the outcome's message (nbgrader's ``SaveAutoGrades`` scores them)."""
    if outcome.kind is Kind.PASSED:
        return []
    return [error_output(outcome.kind.ename, outcome.message)]


@dataclass
class Checks:
    """The assignment's hidden checks, as the instructor's source notebook holds them.

    ``blocks``: grade id -> (hidden block's code, points); ``graded_names``: the names the
    assignment's own cells define; ``prepared``: waits for what the checks import
    (:func:`~autograder.grading.steps.analysis.prepare_checks`).
    """

    blocks: dict[str, tuple[str, float]]
    graded_names: frozenset[str]
    options: GradingOptions = field(default_factory=GradingOptions)
    prepared: Callable[[], None] = lambda: None

    def decide(self, grade_id: str, runner: Runner, deadline: float) -> CheckOutcome:
        """Run one check's hidden block here; its outcome, from what the grader observed."""
        from autograder.assignments import calls as hidden

        if grade_id not in self.blocks:
            return CheckOutcome(
                str(grade_id), 0.0, 0.0, Kind.GRADER_ERROR, "not a check of this assignment"
            )
        code, possible = self.blocks[grade_id]
        self.prepared()

        def outcome(kind: Kind, message: str = "") -> CheckOutcome:
            earned = possible if kind is Kind.PASSED else 0.0
            return CheckOutcome(grade_id, earned, possible, kind, message)

        limit, limit_s = self.options.cell_timeout, self.options.notebook_timeout
        if time.monotonic() >= deadline:
            return outcome(Kind.NOT_RUN, f"the notebook's time limit ({limit_s} s) ran out")
        notebook_binds = deadline < time.monotonic() + limit
        runner.check_deadline = min(deadline, time.monotonic() + limit)
        try:
            compiled = compile(code, f"<hidden check {grade_id}>", "exec")
            with hidden.noting() as notes:  # what a passing check tells the student
                exec(compiled, {"__builtins__": builtins}, CheckNames(runner, self.graded_names))
        except SandboxTimeout:
            if notebook_binds:
                return outcome(Kind.TIMEOUT, f"the notebook's time limit ({limit_s} s) ran out")
            return outcome(Kind.TIMEOUT, f"this check ran longer than {limit} s")
        except SandboxDied as exc:
            return outcome(*died(exc))
        except SandboxUnavailable:
            raise  # the machine's problem: this student is reported failed, not scored 0
        except StudentError as exc:
            return outcome(Kind.STUDENT_ERROR, str(exc))
        except AssertionError as exc:  # the check's own message: written to show students
            return outcome(Kind.FAILED, str(exc) or "the check failed")
        except Exception as exc:  # the instructor's code broke: never the student's fault
            return outcome(
                Kind.GRADER_ERROR,
                f"the check {grade_id} itself failed ({type(exc).__name__}: {exc})"[:300],
            )
        return outcome(Kind.PASSED, "; ".join(notes)[:300])
