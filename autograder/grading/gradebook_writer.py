"""The gradebook's one writer: every change the grader makes to nbgrader's gradebook, in one place.

nbgrader's gradebook is the one truth of every score (:mod:`autograder.grading.gradebook` reads
it). Besides formgrader's own server (nbgrader's code, bounded by ``formgrade_server``), the
project changes it only through the functions here, each one transaction (committed whole, or
rolled back and raised):

- :func:`write_result`: a graded submission's automatic scores and its submission time (the
  grading parent process, one student at a time);
- :func:`withdraw`: a run that could not grade a student sets the automatic scores of an
  earlier run to 0, so none is shown as current; what a person entered stays;
- :func:`write_derived`: nbgrader's own copies of what is derived when read (the assignment's
  due date, a submission's late penalty), rewritten where they differ;
- :func:`write_due`: the assignment's due date (``deadlines --set``);
- :func:`write_hand_marks`: hand-entered scores and comments (``handgrade``).

Hand-entered scores are never touched by the automatic writers: a regrade, a failed run or a
grader error keeps them. A test walks the package for gradebook mutations outside this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator, Mapping

from autograder.grading.records import GradeResult, Kind

__all__ = [
    "quiet",
    "transaction",
    "withdraw",
    "write_derived",
    "write_due",
    "write_hand_marks",
    "write_result",
]


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


@contextlib.contextmanager
def transaction(gb) -> Iterator[None]:
    """Commit what the block changed in ``gb`` (nbgrader's ``Gradebook``), or roll it back."""
    with quiet():
        try:
            yield
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise


def _naive_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A time as nbgrader keeps it (naive UTC)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment else None


def write_result(gb, assignment: str, result: GradeResult, timestamp: dt.datetime | None) -> None:
    """Write one graded submission's automatic scores (and its time) to the gradebook.

    Hand-entered scores and comments are kept; a cell graded automatically no longer needs a
    person, a hand-graded cell needs one until a manual score is entered. No penalty is
    written here: it is derived when read. No time known: none (not an earlier one).
    """
    from nbgrader.api import MissingEntry

    outcomes = {o.grade_id: o for o in result.outcomes}
    with transaction(gb):
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
                if outcome.kind is Kind.PENDING:
                    grade.auto_score = None
                    grade.needs_manual_grade = grade.manual_score is None
                else:
                    grade.auto_score = outcome.earned
                    grade.needs_manual_grade = False
        submission.timestamp = _naive_utc(timestamp)


def withdraw(gb, assignment: str, student: str) -> None:
    """A run could not grade ``student``: no automatic score of an earlier run stays in the
    gradebook to be shown as current (formgrader, exports); hand-entered scores and comments
    are kept."""
    from nbgrader.api import MissingEntry

    with transaction(gb):
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.auto_score:
                    grade.auto_score = 0.0


def write_derived(gb, submission, penalty: float, due: dt.datetime | None = None,
                  *, sync_due: bool = True) -> None:  # fmt: skip
    """nbgrader's copies of derived values, rewritten where they differ: the late penalty on the
    submission's first notebook (which formgrader shows) and, with ``sync_due``, the
    assignment's due date (``due``; ``None``: none). A read never fails for them: a write that
    fails is rolled back and left for the next read."""
    naive = _naive_utc(due)
    due_differs = sync_due and submission.assignment.duedate != naive
    stored = [nb.late_submission_penalty for nb in submission.notebooks]
    wanted = [penalty if i == 0 else None for i in range(len(stored))]
    penalty_differs = [s or 0.0 for s in stored] != [w or 0.0 for w in wanted]
    if not (due_differs or penalty_differs):
        return
    try:
        with transaction(gb):
            if due_differs:
                submission.assignment.duedate = naive
            if penalty_differs:
                for nb, value in zip(submission.notebooks, wanted, strict=True):
                    nb.late_submission_penalty = value
    except Exception:  # the copy formgrader shows waits for the next read
        pass


def write_due(gb, assignment: str, due: dt.datetime | None) -> None:
    """The assignment's due date in the gradebook (``Assignment.duedate``)."""
    with transaction(gb):
        gb.update_or_create_assignment(assignment, duedate=_naive_utc(due))


def write_hand_marks(
    gb, scores: Mapping[str, float | None], comments: Mapping[str, str | None]
) -> None:
    """Hand-entered scores and comments, in one transaction: ``scores`` maps a ``Grade`` row's
    id to its manual score (``None``: none, and the cell waits for a person again),
    ``comments`` a ``Comment`` row's id to its text (``None``: none). One ``UPDATE`` by primary
    key for each table (``executemany``): a rubric change re-scores hundreds of answers at once.
    """
    from nbgrader.api import Comment, Grade
    from sqlalchemy import bindparam, update

    grade, comment = Grade.__table__, Comment.__table__
    with transaction(gb):
        if scores:
            rows = [{"key": k, "score": v, "pending": v is None} for k, v in scores.items()]
            gb.db.execute(
                update(grade)
                .where(grade.c.id == bindparam("key"))
                .values(manual_score=bindparam("score"), needs_manual_grade=bindparam("pending")),
                rows,
            )
        if comments:
            rows = [{"key": k, "text": v} for k, v in comments.items()]
            gb.db.execute(
                update(comment)
                .where(comment.c.id == bindparam("key"))
                .values(manual_comment=bindparam("text")),
                rows,
            )
