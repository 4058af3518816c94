"""The gradebook is the one truth: every score any command shows is read from it here.

nbgrader's gradebook (SQLite by default, any SQLAlchemy URL) holds per cell the automatic
score, the manual score and extra credit a person entered in formgrader, whether the cell still
needs a person, and per submission the time it was submitted and the late penalty. A student's
score is nbgrader's:

.. math:: \\text{score} = \\max\\Big(0,\\ \\sum_{\\text{cells}} \\big(\\text{manual or else auto}
          + \\text{extra credit}\\big) - \\text{late penalty}\\Big)

:func:`write_result` is the only writer (the grading parent process calls it);
:func:`read_grades` is what the CSV, the progress line, feedback, the report and the exports
read. What the gradebook cannot hold (why a check failed, whether a result is stale) comes
from the grader's records (:mod:`autograder.grading.state`) and is joined here.

**Derived numbers are derived when read.** The late penalty and the days late are never taken
from what was stored at grading time: :meth:`Book.grade` computes them from the gradebook's
scores (hand grades included), the submission's time and the course's *current* policy (due
date, extensions: :func:`autograder.grading.deadlines.late_penalty`), so a hand grade, an extension or
a new due date shows everywhere at the next read, in any order of commands. nbgrader's own
copy (``late_submission_penalty`` on the submitted notebooks, which formgrader shows, and the
assignment's ``duedate``) is rewritten to the derived value whenever a read finds it differs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from autograder.config import COURSE_ID, default_db_url
from autograder.grading.records import CheckOutcome, GradeResult

#: in a record's ``extra``: the submission was marked late without a time (collect's mark)
LATE_MARK_KEY = "late_without_time"

__all__ = ["Book", "CellGrade", "StudentGrade", "quiet", "read_grades", "write_result"]


@contextlib.contextmanager
def quiet():
    """Silence nbgrader's harmless SQLAlchemy and transport warnings (never shown to users)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*TCP.*encryption.*")
        warnings.filterwarnings("ignore", module="sqlalchemy")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        try:
            from sqlalchemy.exc import SAWarning

            warnings.filterwarnings("ignore", category=SAWarning)
        except ImportError:  # pragma: no cover
            pass
        yield


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
    status: str  # "graded", "failed" (could not be graded), "stale" (graded an old version)
    reason: str
    max_score: float
    cells: dict[str, CellGrade] = field(default_factory=dict)
    penalty: float = 0.0
    timestamp: dt.datetime | None = None
    days_late: int = 0

    @property
    def scores(self) -> dict[str, float | None]:
        """grade_id -> the cell's score (None while it waits for hand grading)."""
        return {g: (None if c.pending else c.score) for g, c in self.cells.items()}

    @property
    def raw_score(self) -> float:
        return sum(c.score or 0.0 for c in self.cells.values())

    @property
    def score(self) -> float:
        return max(0.0, self.raw_score - self.penalty) if self.status == "graded" else 0.0

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
        """Write one graded submission (see :func:`write_result`) and commit."""
        _write(self.gb, self.assignment, result, timestamp)

    def withdraw(self, student: str) -> None:
        """A run could not grade ``student`` (the row says failed, 0): no automatic score of
        an earlier run stays in the gradebook to be shown as current (formgrader, exports);
        hand-entered scores and comments are kept."""
        from nbgrader.api import MissingEntry

        with quiet():
            try:
                submission = self.gb.find_submission(self.assignment, student)
            except MissingEntry:
                return
            try:
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if grade.auto_score:
                            grade.auto_score = 0.0
                self.gb.db.commit()
            except Exception:
                self.gb.db.rollback()
                raise

    def grade(self, student: str) -> StudentGrade:
        """This student's grade: the gradebook's numbers and the grader's record."""
        from nbgrader.api import MissingEntry

        from autograder.grading import state

        max_score = self.max_score
        record = state.load_record(self.course, self.assignment, student)
        if record is None:
            return StudentGrade(student, "failed", "not graded", max_score)
        result = record.result
        if record.assignment_digest != self.version:
            reason = "stale: graded against an earlier version of the assignment; regrade"
            return StudentGrade(student, "stale", reason, max_score)
        if result.status != "graded":
            return StudentGrade(student, "failed", result.reason, max_score)
        with quiet():
            self.gb.db.expire_all()  # see what formgrader or another process wrote meanwhile
            try:
                submission = self.gb.find_submission(self.assignment, student)
            except MissingEntry:
                reason = "graded, but the gradebook has no submission: regrade"
                return StudentGrade(student, "failed", reason, max_score)
            grade = _from_gradebook(submission, result, max_score, self.policy, record.extra)
            self._keep_nbgrader_consistent(submission, grade)
            return grade

    def _keep_nbgrader_consistent(self, submission, grade: StudentGrade) -> None:
        """Rewrite nbgrader's stored penalty (and due date) where they differ from the derived."""
        changed = False
        if not self._due_synced:
            due = self.policy.due
            naive = due.astimezone(dt.UTC).replace(tzinfo=None) if due else None
            if submission.assignment.duedate != naive:
                submission.assignment.duedate = naive
                changed = True
            self._due_synced = True
        stored = [nb.late_submission_penalty for nb in submission.notebooks]
        wanted = [grade.penalty if i == 0 else None for i in range(len(stored))]
        if [s or 0.0 for s in stored] != [w or 0.0 for w in wanted]:
            for nb, value in zip(submission.notebooks, wanted, strict=True):
                nb.late_submission_penalty = value
            changed = True
        if changed:
            try:
                self.gb.db.commit()
            except Exception:  # a read never fails for the copy formgrader shows
                self.gb.db.rollback()


def write_result(
    result: GradeResult,
    assignment: str,
    db_url: str,
    *,
    timestamp: dt.datetime | None = None,
) -> None:
    """Write one graded submission's automatic scores (and its time) to the gradebook.

    Hand-entered scores and comments are kept; a cell graded automatically no longer needs a
    person, a hand-graded cell needs one until a manual score is entered. No penalty is
    written here: it is derived when read (see the module docstring).
    """
    from nbgrader.api import Gradebook

    with quiet(), Gradebook(db_url, course_id=COURSE_ID) as gb:
        _write(gb, assignment, result, timestamp)


def _write(gb, assignment: str, result: GradeResult, timestamp) -> None:
    from nbgrader.api import MissingEntry

    outcomes = {o.grade_id: o for o in result.outcomes}
    with quiet():
        try:
            gb.update_or_create_student(result.student_id)
            try:
                submission = gb.find_submission(assignment, result.student_id)
            except MissingEntry:
                submission = gb.add_submission(assignment, result.student_id)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    outcome = outcomes.get(grade.name)
                    if outcome is None:
                        continue
                    if outcome.kind == "pending":
                        grade.auto_score = None
                        grade.needs_manual_grade = grade.manual_score is None
                    else:
                        grade.auto_score = outcome.earned
                        grade.needs_manual_grade = False
            # the time as nbgrader keeps it (naive UTC); none known: none (not the old one)
            stamp = timestamp.astimezone(dt.UTC).replace(tzinfo=None) if timestamp else None
            submission.timestamp = stamp
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise


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


def _from_gradebook(
    submission, result: GradeResult, max_score: float, policy, extra: dict
) -> StudentGrade:
    """The gradebook's cells and the penalty derived now (see the module docstring)."""
    from autograder.grading import deadlines

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
    pending = [g for g, c in cells.items() if c.pending]
    words = "manual grading pending"  # the record's note is replaced by the gradebook's state
    reason = "; ".join(p for p in result.summary().split("; ") if p and not p.startswith(words))
    if pending:
        reason = "; ".join(filter(None, [reason, f"{words}: {', '.join(pending)}"]))
    student = result.student_id
    late_mark = bool(extra.get(LATE_MARK_KEY))
    stamp = deadlines.submission_time(policy, student, submission.timestamp, late_mark)
    raw = sum(c.score or 0.0 for c in cells.values())
    late = deadlines.late_penalty(policy, policy.assignment, student, stamp, raw, max_score)
    return StudentGrade(
        student_id=student,
        status="graded",
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
