"""The typed records that cross a boundary of the grading path, and the one vocabulary of outcomes.

- :class:`Kind`: every kind of outcome, of one check or of a whole submission, with the words
  every reader shows for it (:attr:`Kind.words`), whose doing it is (:attr:`Kind.fault`) and
  the error name the graded notebook shows (:attr:`Kind.ename`). Nothing decides from text: a
  reason is written from a kind, never read back into one;
- :class:`CheckOutcome`: one per graded cell, written once by the step that decides it
  (:mod:`autograder.grading.steps.verdicts`), never re-derived from notebook outputs or log text;
- :class:`StepReport`: what the sandboxed step hands the worker (its outcomes, the limits the
  student's own cells hit, or that the sandbox could not start);
- :class:`GradeResult`: what grading one submission produced, sent from a worker to the parent;
- :class:`GradedRecord`: what the parent remembers of a graded submission (kept outside the
  submitted tree, see :mod:`autograder.grading.state`): which files and which version of the
  assignment it graded, so a rerun knows whom to regrade.

Scores shown to anyone come from the gradebook (:mod:`autograder.grading.gradebook`); these
records carry the *why*: the kind of each outcome and a message safe to show the student.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass

__all__ = [
    "CheckOutcome",
    "Fault",
    "GradeResult",
    "GradedRecord",
    "Kind",
    "Status",
    "StepReport",
]

#: characters of a failed row's reason (and of the reason line of a graded one)
MAX_REASON = 300
MAX_SUMMARY = 500


class Fault(enum.StrEnum):
    """Whose doing an outcome is."""

    NONE = "none"  # passed, or waiting for a person
    STUDENT = "student"  # the submission's code, values or files
    GRADER = "grader"  # the instructor's check or the grading machine: fix it, then regrade


class Kind(enum.StrEnum):
    """The kind of an outcome, decided by the trusted side (never read from text).

    Each member is ``value, words, fault, ename``: the value records store, the words every
    reader shows (CSV reason, feedback, report, exports), whose doing it is, and the error
    name written on a test cell of the graded notebook (check kinds that cost points). The
    kinds from :attr:`REFUSED` on describe a whole submission that could not be graded (a
    failed row), never one check.
    """

    words: str
    fault: Fault
    ename: str

    def __new__(cls, value: str, words: str, fault: Fault, ename: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.words, member.fault, member.ename = words, fault, ename
        return member

    # -- one check's outcome
    PASSED = "passed", "passed", Fault.NONE
    FAILED = "failed", "failed", Fault.STUDENT, "CheckFailed"  # the check's verdict
    #: the student's function raised, or sent something unreadable
    STUDENT_ERROR = "student_error", "error in your code", Fault.STUDENT, "CheckFailed"
    #: the check's own code raised on valid inputs (a whole row: the machine failed)
    GRADER_ERROR = "grader_error", "grader error", Fault.GRADER, "CheckFailed"
    TIMEOUT = "timeout", "timeout", Fault.STUDENT, "GradingTimeout"
    MEMORY = "memory", "memory limit", Fault.STUDENT, "MemoryLimit"
    CRASH = "crash", "crash", Fault.STUDENT, "SubmissionDied"  # the sandbox's process ended
    NOT_RUN = "not_run", "not run", Fault.STUDENT, "NotRun"  # the notebook's time ran out first
    PENDING = "pending", "manual grading pending", Fault.NONE  # graded by hand, not yet
    # -- a submission that could not be graded at all (its row says failed)
    REFUSED = "refused", "refused", Fault.STUDENT  # a folder that cannot be a student's
    INVALID_SUBMISSION = "invalid_submission", "invalid submission", Fault.STUDENT
    MISSING_NOTEBOOK = "missing_notebook", "missing notebook", Fault.STUDENT
    INVALID_NOTEBOOK = "invalid_notebook", "invalid notebook", Fault.STUDENT

    @property
    def of_check(self) -> bool:
        """Whether one check can have this outcome (else only a whole submission can)."""
        return self not in _ROW_ONLY

    @property
    def costs_points(self) -> bool:
        """Whether a check with this outcome earned nothing for a reason the student is told."""
        return self.of_check and self not in (Kind.PASSED, Kind.PENDING)

    def says(self, detail: str = "") -> str:
        """The reason a reader shows: ``words: detail`` (the words alone without one)."""
        return f"{self.words}: {detail}" if detail else self.words


_ROW_ONLY = frozenset(
    {Kind.REFUSED, Kind.INVALID_SUBMISSION, Kind.MISSING_NOTEBOOK, Kind.INVALID_NOTEBOOK}
)


class Status(enum.StrEnum):
    """Where a student's row stands."""

    GRADED = "graded"
    FAILED = "failed"  # could not be graded (the row's kind says why)
    STALE = "stale"  # graded against an earlier version of the assignment


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one graded cell."""

    grade_id: str
    earned: float
    possible: float
    kind: Kind
    message: str = ""  # safe to show the student: no hidden input, no expected value

    def __post_init__(self):
        try:
            kind = Kind(self.kind)
        except ValueError:
            raise ValueError(
                f"outcome kind must be one of {[k.value for k in Kind if k.of_check]}, "
                f"got {self.kind!r}"
            ) from None
        if not kind.of_check:
            raise ValueError(f"{kind.value!r} is the kind of a whole submission, not of a check")
        object.__setattr__(self, "kind", kind)
        if not 0 <= self.earned <= self.possible:
            raise ValueError(f"earned {self.earned!r} is not within 0..{self.possible!r}")


@dataclass(frozen=True)
class StepReport:
    """What the sandboxed step tells the worker, in ``outcomes.json``.

    ``unavailable``: the sandbox could not start (the machine's problem: the student is
    reported failed with a grader error, never scored 0), with the first line of why.
    """

    outcomes: tuple[CheckOutcome, ...] = ()
    notes: tuple[str, ...] = ()  # the limits the student's own cells hit, in words
    unavailable: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StepReport:
        data = json.loads(text)
        unavailable = data.get("unavailable")
        return cls(
            outcomes=tuple(CheckOutcome(**o) for o in data.get("outcomes", ())),
            notes=tuple(str(n) for n in data.get("notes", ())),
            unavailable=None if unavailable is None else str(unavailable),
        )


@dataclass(frozen=True)
class GradeResult:
    """One submission graded (or not) by a worker.

    A failed result has a ``kind`` (:meth:`failed` writes its reason from it); a graded one has
    none: its checks' outcomes say what happened.
    """

    student_id: str
    status: Status
    reason: str = ""
    outcomes: tuple[CheckOutcome, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. what the repair step restored
    kind: Kind | None = None  # of a failed result: why it could not be graded

    def __post_init__(self):
        object.__setattr__(self, "status", Status(self.status))
        if self.status is Status.STALE:
            raise ValueError("a grading result is graded or failed, never stale")
        kind = None if self.kind is None else Kind(self.kind)
        if (kind is None) != (self.status is Status.GRADED):
            raise ValueError(
                f"a {self.status.value} result {'has no' if kind is None else 'has'} kind, "
                f"got {self.kind!r}"
            )
        object.__setattr__(self, "kind", kind)

    @classmethod
    def failed(
        cls, student_id: str, kind: Kind, detail: str = "", outcomes=(), notes=()
    ) -> GradeResult:
        """A submission that could not be graded; its reason is ``kind``'s words and ``detail``."""
        reason = Kind(kind).says(detail)[:MAX_REASON]
        return cls(student_id, Status.FAILED, reason, tuple(outcomes), tuple(notes), kind)

    @property
    def fault(self) -> Fault:
        """Whose doing a failed result is (a graded one: nobody's)."""
        return self.kind.fault if self.kind is not None else Fault.NONE

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> GradeResult:
        outcomes = tuple(CheckOutcome(**o) for o in data.get("outcomes", ()))
        status = Status(data["status"])
        kind = data.get("kind")
        if kind is None and status is Status.FAILED:  # a record written before kinds were kept
            grader = data.get("fault") == Fault.GRADER
            kind = Kind.GRADER_ERROR if grader else Kind.INVALID_SUBMISSION
        return cls(
            student_id=str(data["student_id"]),
            status=status,
            reason=str(data.get("reason", "")),
            outcomes=outcomes,
            notes=tuple(str(n) for n in data.get("notes", ())),
            kind=kind,
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
        return {o.grade_id: o.earned for o in self.outcomes if o.kind is not Kind.PENDING}

    def summary(self, pending: list[str] | None = None) -> str:
        """The reason line of the CSV: repairs and limits hit, each kind of lost points with its
        cells, then the cells waiting for a person: ``pending`` as the gradebook says now (the
        outcomes' own at grading time when not given)."""
        if self.status is Status.FAILED:
            return self.reason
        parts = list(self.notes)
        by_kind: dict[Kind, list[CheckOutcome]] = {}
        for o in self.outcomes:
            if o.kind.costs_points and o.kind is not Kind.FAILED:
                by_kind.setdefault(o.kind, []).append(o)
        for kind, found in by_kind.items():
            ids = ", ".join(o.grade_id for o in found)
            parts.append(kind.says(f"{ids} ({found[0].message})" if found[0].message else ids))
        if pending is None:
            pending = [o.grade_id for o in self.outcomes if o.kind is Kind.PENDING]
        if pending:
            parts.append(Kind.PENDING.says(", ".join(pending)))
        return "; ".join(parts)[:MAX_SUMMARY]


@dataclass(frozen=True)
class GradedRecord:
    """What the parent keeps of one graded submission (see :mod:`autograder.grading.state`)."""

    result: GradeResult
    submission_digest: str  # of the submitted files
    assignment_digest: str  # of the source notebook and the hidden checks it was graded with
    graded_at: str  # ISO-8601, UTC
    max_score: float = 0.0
    late_mark: bool = False  # an LMS marked it late without a time (collect's mark)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GradedRecord:
        data = json.loads(text)
        # records written before the mark was a field kept it under "extra"
        late = data.get("late_mark", data.get("extra", {}).get("late_without_time", False))
        return cls(
            result=GradeResult.from_dict(data["result"]),
            submission_digest=str(data["submission_digest"]),
            assignment_digest=str(data["assignment_digest"]),
            graded_at=str(data["graded_at"]),
            max_score=float(data.get("max_score", 0.0)),
            late_mark=bool(late),
        )
