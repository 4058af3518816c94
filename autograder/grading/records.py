"""The typed records that cross a boundary of the grading path.

- :class:`CheckOutcome`: one per graded cell, written once by the step that decides it
  (``steps.sandboxed_execute``), never re-derived from notebook outputs or log text;
- :class:`GradeResult`: what grading one submission produced, sent from a worker to the parent;
- :class:`GradedRecord`: what the parent remembers of a graded submission (kept outside the
  submitted tree, see :mod:`autograder.grading.state`): which files and which version of the
  assignment it graded, so a rerun knows whom to regrade.

Scores shown to anyone come from the gradebook (:mod:`autograder.grading.gradebook`); these records
carry the *why*: the kind of each outcome and a message safe to show the student.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

__all__ = ["KINDS", "CheckOutcome", "Fault", "GradeResult", "GradedRecord", "Kind"]


class Fault(enum.StrEnum):
    """Whose doing an outcome is."""

    NONE = "none"  # passed, or waiting for a person
    STUDENT = "student"  # the submission's code or values
    GRADER = "grader"  # the instructor's check: fix it, then regrade


class Kind(enum.StrEnum):
    """The kind of one check's outcome, decided by the trusted side (never read from text)."""

    PASSED = "passed"
    FAILED = "failed"  # the check's verdict: the values were wrong (or unreadable)
    STUDENT_ERROR = "student_error"  # the student's function raised, sent something unreadable
    GRADER_ERROR = "grader_error"  # the check's own code raised on valid inputs
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CRASH = "crash"
    NOT_RUN = "not_run"  # the notebook's time ran out before this check
    PENDING = "pending"  # a cell graded by hand, not graded yet

    @property
    def fault(self) -> Fault:
        if self in (Kind.PASSED, Kind.PENDING):
            return Fault.NONE
        return Fault.GRADER if self is Kind.GRADER_ERROR else Fault.STUDENT

    @property
    def words(self) -> str:
        """How the CSV reason names the kind."""
        return KIND_WORDS.get(self.value, self.value)


KINDS: tuple[str, ...] = tuple(k.value for k in Kind)

#: how the CSV reason names a kind that cost points
KIND_WORDS = {
    "failed": "failed",
    "student_error": "error in your code",
    "grader_error": "grader error",
    "timeout": "timeout",
    "memory": "memory limit",
    "crash": "crash",
    "not_run": "not run",
    "pending": "manual grading pending",
}


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one graded cell."""

    grade_id: str
    earned: float
    possible: float
    kind: Kind
    message: str = ""  # safe to show the student: no hidden input, no expected value

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"outcome kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "kind", Kind(self.kind))
        if not 0 <= self.earned <= self.possible:
            raise ValueError(f"earned {self.earned!r} is not within 0..{self.possible!r}")


@dataclass(frozen=True)
class GradeResult:
    """One submission graded (or not) by a worker."""

    student_id: str
    status: Literal["graded", "failed"]
    reason: str = ""
    outcomes: tuple[CheckOutcome, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. what the repair step restored
    fault: Fault = Fault.NONE  # of a failed result: GRADER (regraded at every run until fixed)

    def __post_init__(self):
        object.__setattr__(self, "fault", Fault(self.fault))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> GradeResult:
        outcomes = tuple(CheckOutcome(**o) for o in data.get("outcomes", ()))
        return cls(
            student_id=str(data["student_id"]),
            status=data["status"],
            reason=str(data.get("reason", "")),
            outcomes=outcomes,
            notes=tuple(str(n) for n in data.get("notes", ())),
            fault=Fault(data.get("fault", Fault.NONE)),
        )

    @property
    def grader_fault(self) -> bool:
        """Whether the grader is to blame: its result is not kept as final (regraded)."""
        return self.fault is Fault.GRADER or any(
            o.kind.fault is Fault.GRADER for o in self.outcomes
        )

    @property
    def cells(self) -> dict[str, float]:
        """grade_id -> points earned, for the automatically graded cells."""
        return {o.grade_id: o.earned for o in self.outcomes if o.kind != "pending"}

    def summary(self) -> str:
        """The reason line of the CSV: repairs, then each kind of lost points with its cells."""
        if self.status == "failed":
            return self.reason
        parts = list(self.notes)
        by_kind: dict[str, list[CheckOutcome]] = {}
        for o in self.outcomes:
            if o.kind not in ("passed", "failed"):
                by_kind.setdefault(o.kind, []).append(o)
        for kind, found in by_kind.items():
            ids = ", ".join(o.grade_id for o in found)
            why = f" ({found[0].message})" if found[0].message and kind != "pending" else ""
            parts.append(f"{Kind(kind).words}: {ids}{why}")
        return "; ".join(parts)[:500]


@dataclass(frozen=True)
class GradedRecord:
    """What the parent keeps of one graded submission (see :mod:`autograder.grading.state`)."""

    result: GradeResult
    submission_digest: str  # of the submitted files
    assignment_digest: str  # of the source notebook and the hidden checks it was graded with
    graded_at: str  # ISO-8601, UTC
    max_score: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GradedRecord:
        data = json.loads(text)
        return cls(
            result=GradeResult.from_dict(data["result"]),
            submission_digest=str(data["submission_digest"]),
            assignment_digest=str(data["assignment_digest"]),
            graded_at=str(data["graded_at"]),
            max_score=float(data.get("max_score", 0.0)),
            extra=dict(data.get("extra", {})),
        )
