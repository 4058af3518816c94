"""Extensions: one student's later due date for one assignment, given, listed and removed.

``python -m autograder extend A --student S --until WHEN`` gives one;
``python -m autograder extensions A`` lists them and ``--remove S`` takes one back. They live
in the course's policy file (:mod:`autograder.grading.deadlines`), beside the due date, and every
number derived from them (days late, penalties) is derived when it is read, so an extension
given after grading counts at once.

Nonsense is refused by name before anything is written: an assignment without a due date
(unknown, or released without ``--due``: it is never added to the course file), a student
who is not on the roster (or, without one, has no submission in ``C/submitted``), a date
that is not after the assignment's due date (that would not extend anything), and removing
an extension that does not exist.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.config import DEFAULT_COURSE
from autograder.grading import deadlines
from autograder.grading.deadlines import load_policy
from autograder.term.roster import check_student_id, resolve

__all__ = ["Extension", "grant", "listing", "main", "revoke"]


@dataclass(frozen=True)
class Extension:
    """One student's due date for one assignment, later than everyone else's."""

    assignment: str
    student: str
    due: datetime  #: the assignment's due date
    until: datetime  #: the student's


def _policy(course: Path, assignment: str):
    check_student_id(assignment, where="assignment")
    policy = load_policy(course)
    current = policy.assignments.get(assignment)
    if current is not None and current.due is not None:
        return policy, current
    if (Path(course) / "source" / assignment / f"{assignment}.ipynb").exists():
        raise ValueError(
            f"{assignment} has no due date, so nothing to extend: set one with "
            f"`python -m autograder release {assignment} --due 2026-12-08T23:59+01:00`"
        )
    known = sorted(a for a, p in policy.assignments.items() if p.due is not None)
    hint = _close(assignment, known)
    raise ValueError(
        f"unknown assignment {assignment!r}{hint}: assignments with a due date in {course}: "
        f"{', '.join(known) or 'none'}"
    )


def _close(value: str, known: list[str]) -> str:
    near = difflib.get_close_matches(value, known, n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _check_student(course: Path, student: str, roster: Path | None, id_column: str | None):
    check_student_id(student, where="--student")
    the_roster = resolve(Path(course), roster, id_column)
    if the_roster is not None:
        if the_roster.find(student) is None:
            hint = _close(student, the_roster.ids)
            raise ValueError(f"--student {student!r} is not on the roster{hint}")
        return
    submitted = Path(course) / "submitted"
    known = sorted(p.name for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
    if student not in known:
        raise ValueError(
            f"--student {student!r} is unknown: no roster is imported (`python -m autograder "
            f"roster`) and {submitted} holds no submission of theirs{_close(student, known)}"
        )


def grant(
    *,
    course: Path = DEFAULT_COURSE,
    assignment: str,
    student: str,
    until: str | datetime,
    roster: Path | None = None,
    id_column: str | None = None,
) -> Extension:
    """Give ``student`` the due date ``until`` for ``assignment`` (replacing an earlier one)."""
    _, current = _policy(course, assignment)
    _check_student(course, student, roster, id_column)
    updated = deadlines.set_extension(course, assignment, student, until)
    return Extension(assignment, student, current.due, updated.extensions[student])


def revoke(*, course: Path = DEFAULT_COURSE, assignment: str, student: str) -> Extension:
    """Take back ``student``'s extension on ``assignment``; ``ValueError`` if there is none."""
    _, current = _policy(course, assignment)
    until = deadlines.remove_extension(course, assignment, student)
    return Extension(assignment, student, current.due, until)


def listing(*, course: Path = DEFAULT_COURSE, assignment: str) -> tuple[Extension, ...]:
    """Every extension of ``assignment``, by student."""
    _, current = _policy(course, assignment)
    return tuple(
        Extension(assignment, s, current.due, d) for s, d in sorted(current.extensions.items())
    )


def main(
    *, assignment: str, course: Path = DEFAULT_COURSE, remove: str | None = None
) -> tuple[Extension, ...]:
    """``extensions A [--remove STUDENT]``: remove one if asked, then the extensions left."""
    if remove is not None:
        revoke(course=course, assignment=assignment, student=remove)
    return listing(course=course, assignment=assignment)
