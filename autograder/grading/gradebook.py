"""The gradebook is the one truth: every score any command shows is read from it here.

nbgrader's gradebook (SQLite by default, any SQLAlchemy URL) holds per cell the automatic
score, the manual score and extra credit a person entered in formgrader, whether the cell still
needs a person, and per submission the time it was submitted and the late penalty. A student's
score is nbgrader's:

.. math:: \\text{score} = \\max\\Big(0,\\ \\sum_{\\text{cells}} \\big(\\text{manual or else auto}
          + \\text{extra credit}\\big) - \\text{late penalty}\\Big)

:mod:`autograder.grading.gradebook_writer` is its one writer (:meth:`Book.write` and
:meth:`Book.withdraw` in the grading parent process go through it);
:func:`read_grades` is what the CSV, the progress line, feedback, the report and the exports
read. What the gradebook cannot hold (why a check failed, whether a result is stale) comes
from the grader's records (:mod:`autograder.grading.state`) and is joined here.

**A failed row keeps what a person entered.** A run that cannot grade a student withdraws the
automatic scores of earlier runs (0), never the manual scores and extra credit a person entered
in formgrader or ``handgrade``: the failed row, formgrader, the CSV, the exports and feedback all
show those hand-entered points (late penalty derived as for any row), and a later regrade
counts them again with the new automatic scores.

**Derived numbers are derived when read.** The late penalty and the days late are never taken
from what was stored at grading time: :meth:`Book.grade` computes them from the gradebook's
scores (hand grades included), the submission's time and the course's *current* policy (due
date, extensions: :func:`autograder.grading.deadlines.late_penalty`), so a hand grade, an extension or
a new due date shows everywhere at the next read, in any order of commands. nbgrader's own
copy (``late_submission_penalty`` on the submitted notebooks, which formgrader shows, and the
assignment's ``duedate``) is rewritten to the derived value whenever a read finds it differs.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

from autograder.config import COURSE_ID, default_db_url
from autograder.grading import gradebook_writer as writer
from autograder.grading.gradebook_writer import quiet
from autograder.grading.records import CheckOutcome, GradedRecord, GradeResult, Status

__all__ = ["Book", "CellGrade", "StudentGrade", "quiet", "read_grades"]


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of one student, as the gradebook holds it."""

    grade_id: str
    max_score: float
    auto: float | None = None
    manual: float | None = None
    extra_credit: float | None = None
    needs_manual_grade: bool = False
    comment: str | None = None  # the grader's comment (manual, else automatic)
    outcome: CheckOutcome | None = None  # why, from the grader's record

    @property
    def score(self) -> float | None:
        """nbgrader's: manual if entered, else automatic, plus extra credit; None if pending."""
        base = self.manual if self.manual is not None else self.auto
        if base is None:
            return None
        return base + (self.extra_credit or 0.0)

    @property
    def pending(self) -> bool:
        return self.needs_manual_grade and self.manual is None


@dataclass(frozen=True)
class StudentGrade:
    """A student's grade of one assignment: the gradebook's numbers and the grader's why."""

    student_id: str
    status: Status  # graded, failed (could not be graded), stale (graded an old version)
    reason: str
    max_score: float
    cells: dict[str, CellGrade] = field(default_factory=dict)
    penalty: float = 0.0
    timestamp: dt.datetime | None = None
    days_late: int = 0

    def __post_init__(self):
        object.__setattr__(self, "status", Status(self.status))

    @property
    def scores(self) -> dict[str, float | None]:
        """grade_id -> the cell's score (None while it waits for hand grading)."""
        return {g: (None if c.pending else c.score) for g, c in self.cells.items()}

    @property
    def raw_score(self) -> float:
        return sum(c.score or 0.0 for c in self.cells.values())

    @property
    def score(self) -> float:
        """The gradebook's score after the late penalty (a stale row: 0, regrade it)."""
        return 0.0 if self.status is Status.STALE else max(0.0, self.raw_score - self.penalty)

    @property
    def auto_score(self) -> float:
        return sum(c.auto or 0.0 for c in self.cells.values() if c.manual is None)

    @property
    def manual_score(self) -> float:
        return sum(c.manual for c in self.cells.values() if c.manual is not None)

    @property
    def extra_credit(self) -> float:
        return sum(c.extra_credit or 0.0 for c in self.cells.values())

    @property
    def pending(self) -> list[str]:
        return [g for g, c in self.cells.items() if c.pending]


class Book:
    """One assignment's gradebook, open for a whole batch (one connection, course facts read once).

    Opening nbgrader's ``Gradebook`` costs a fresh engine and a schema check each time (about
    0.3 s on a busy machine): a batch opens it once. ``write`` commits every student at once, so
    a run killed between two students loses nothing that was written.
    """

    def __init__(
        self, course: Path, assignment: str, db_url: str | None = None, *, must_exist: bool = False
    ):
        from nbgrader.api import Gradebook

        from autograder.grading import deadlines, state
        from autograder.grading.authoring import graded_cells

        self.course, self.assignment = Path(course).resolve(), assignment
        url = db_url or default_db_url(self.course)
        if must_exist:  # a reader: name what is missing, make nothing
            check_exists(url)
            if not (self.course / "source" / assignment / f"{assignment}.ipynb").is_file():
                raise ValueError(
                    f"{assignment!r} is not released in {self.course}: run "
                    f"`python -m autograder release {assignment}` first"
                )
        self.checks = graded_cells(self.course, assignment)
        self.max_score = sum(c["points"] for c in self.checks)
        self.version = state.assignment_digest(self.course, assignment)
        self.policy = deadlines.load_policy(self.course).get(assignment)
        with quiet():
            self.gb = Gradebook(url, course_id=COURSE_ID)
        self._due_synced = False

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.gb.close()

    def write(self, result: GradeResult, *, timestamp: dt.datetime | None = None) -> None:
        """Write one graded submission's automatic scores and time, and commit
        (:func:`~autograder.grading.gradebook_writer.write_result`)."""
        writer.write_result(self.gb, self.assignment, result, timestamp)

    def withdraw(self, student: str) -> None:
        """A run could not grade ``student``: automatic scores of earlier runs are withdrawn,
        hand-entered ones kept (:func:`~autograder.grading.gradebook_writer.withdraw`)."""
        writer.withdraw(self.gb, self.assignment, student)

    def grade(self, student: str) -> StudentGrade:
        """This student's grade: the gradebook's numbers and the grader's record."""
        from nbgrader.api import MissingEntry

        from autograder.grading import state

        max_score = self.max_score
        record = state.load_record(self.course, self.assignment, student)
        if record is None:
            return StudentGrade(student, Status.FAILED, "not graded", max_score)
        result = record.result
        if record.assignment_digest != self.version:
            reason = "stale: graded against an earlier version of the assignment; regrade"
            return StudentGrade(student, Status.STALE, reason, max_score)
        with quiet():
            self.gb.db.expire_all()  # see what formgrader or another process wrote meanwhile
            try:
                submission = self.gb.find_submission(self.assignment, student)
            except MissingEntry:
                if result.status is Status.FAILED:  # never graded: nothing a person entered
                    return StudentGrade(student, Status.FAILED, result.reason, max_score)
                reason = "graded, but the gradebook has no submission: regrade"
                return StudentGrade(student, Status.FAILED, reason, max_score)
            grade = _from_gradebook(submission, record, max_score, self.policy)
            # nbgrader's copies of the derived values, which formgrader shows
            writer.write_derived(
                self.gb, submission, grade.penalty, self.policy.due, sync_due=not self._due_synced
            )
            self._due_synced = True
            return grade


def read_grades(
    course: Path, assignment: str, db_url: str | None = None, students: list[str] | None = None
) -> list[StudentGrade]:
    """Every student with a graded record of ``assignment`` (or ``students``, in this order).

    A named student with nothing yet is ``failed`` with reason "not graded". A SQLite
    gradebook that does not exist is refused by name (never made, empty, by reading it).
    """
    from autograder.grading import state

    names = students if students is not None else state.recorded_students(course, assignment)
    with Book(course, assignment, db_url, must_exist=True) as book:
        return [book.grade(student) for student in names]


def _from_gradebook(submission, record: GradedRecord, max_score: float, policy) -> StudentGrade:
    """The gradebook's cells and the penalty derived now (see the module docstring); a failed
    row keeps its reason and the scores a person entered (its automatic ones are withdrawn)."""
    from autograder.grading import deadlines

    result = record.result
    outcomes = {o.grade_id: o for o in result.outcomes}
    comments: dict[str, str | None] = {}
    for nb in submission.notebooks:
        for comment in nb.comments:
            comments[comment.name] = comment.manual_comment or comment.auto_comment or None
    cells = {
        grade.name: CellGrade(
            grade_id=grade.name,
            max_score=float(grade.max_score),
            auto=grade.auto_score,
            manual=bounded(grade.manual_score, grade.max_score),
            extra_credit=bounded(grade.extra_credit, grade.max_score),
            needs_manual_grade=bool(grade.needs_manual_grade),
            comment=comments.get(grade.name),
            outcome=outcomes.get(grade.name),
        )
        for nb in submission.notebooks
        for grade in nb.grades
    }
    # which cells wait for a person: the gradebook's state now, not the record's
    reason = result.summary(pending=[g for g, c in cells.items() if c.pending])
    student = result.student_id
    stamp = deadlines.submission_time(policy, student, submission.timestamp, record.late_mark)
    raw = sum(c.score or 0.0 for c in cells.values())
    late = deadlines.late_penalty(policy, policy.assignment, student, stamp, raw, max_score)
    return StudentGrade(
        student_id=student,
        status=result.status,
        reason=reason,
        max_score=max_score,
        cells=cells,
        penalty=late.penalty,
        timestamp=stamp,
        days_late=late.days_late,
    )


def bounded(value: float | None, max_score: float) -> float | None:
    """A score a person entered, as it counts: within ``[0, max_score]``, 0 if not finite.

    formgrader's guarded server refuses anything else, but a gradebook may hold values written
    before it or by other tools (an attack once entered 44 points of 14 through its API):
    reading bounds them, so no number shown anywhere exceeds what the cell allows.

    .. math:: \\operatorname{bounded}(v) = \\min(\\max(v, 0), m)
    """
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return 0.0
    return min(max(value, 0.0), float(max_score))


def check_exists(db_url: str) -> None:
    """Refuse a SQLite gradebook file that does not exist (opening it would make an empty one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        url = make_url(db_url)
    except SQLAlchemyError as exc:
        raise ValueError(f"--db must be a SQLAlchemy URL, got {db_url!r}") from exc
    if url.get_backend_name() != "sqlite":
        return
    database = url.database or ""
    if database in ("", ":memory:") or not Path(database).is_file():
        raise ValueError(
            f"no gradebook at {database or db_url!r}: run `python -m autograder release` and "
            "`grade` on this course first, or give the gradebook with --db URL"
        )
