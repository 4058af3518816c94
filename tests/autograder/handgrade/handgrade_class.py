"""A released a4 and a class of N students whose review answers wait for hand grading.

Grading a4 trains a network per student (minutes for a class), and hand grading needs only
the graded notebooks and the gradebook: the class is written directly, through the project's
own writers, as ``grade`` would leave it: each student's notebook in ``submitted/`` and
``autograded/``, the automatic checks' outcomes in the gradebook (``gradebook.Book.write``,
the grading path's writer: the four questions pending) and the grader's record
(``state.save_record``). Used by ``tests/autograder/handgrade/test_handgrade*.py`` and
``benchmarks/bench_handgrade.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

A = "a4_mlp"
QUESTIONS = ("q1", "q2", "q3", "q4")


def released(course: Path, db_url: str | None = None) -> Path:
    """a4 released into ``course`` (nbgrader's source, release and gradebook: ``db_url``, else
    the course's SQLite file)."""
    from autograder.term import release

    release.main(assignment=A, course=course, db_url=db_url)
    return course


def add_students(
    course: Path, answers: dict[str, dict[str, str]], db_url: str | None = None
) -> list[str]:
    """Students ``answers`` keys, each with those answers (question -> markdown), graded:
    the automatic checks passed (a student whose id ends in an odd digit fails the accuracy
    check), the questions pending."""
    import nbformat

    from autograder.grading import authoring, state
    from autograder.grading.gradebook import Book
    from autograder.grading.records import CheckOutcome, GradedRecord, GradeResult

    handout = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    checks = authoring.graded_cells(course, A)
    version = state.assignment_digest(course, A)
    when = dt.datetime.now(dt.UTC).isoformat()
    with Book(course, A, db_url) as book:
        for student, given in answers.items():
            nb = authoring.submission(handout, given)
            for kind in ("submitted", "autograded"):
                folder = course / kind / student / A
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, folder / f"{A}.ipynb")
            fails = student[-1:].isdigit() and int(student[-1]) % 2 == 1
            outcomes = []
            for c in checks:
                if c["manual"]:
                    outcomes.append(CheckOutcome(c["grade_id"], 0.0, c["points"], "pending"))
                elif fails and c["grade_id"] == "test-accuracy":
                    outcomes.append(CheckOutcome(c["grade_id"], 0.0, c["points"], "failed",
                                                 "the accuracy is below 93%"))  # fmt: skip
                else:
                    outcomes.append(CheckOutcome(c["grade_id"], c["points"], c["points"], "passed"))
            result = GradeResult(student, "graded", outcomes=tuple(outcomes))
            book.write(result)
            digest = state.submission_digest(course / "submitted" / student / A)
            record = GradedRecord(result, digest, version, when, sum(c["points"] for c in checks))
            state.save_record(course, A, record)
    return list(answers)


def served_copy(course: Path, owner: int, where: Path | None = None) -> Path:
    """A copy of ``course`` the grading server can serve: run as root, the server drops to the
    course folder's owner, which must reach the folder (pytest's temporary folders are root's
    alone), so the copy is in a folder of its own (in ``where``) given to ``owner``."""
    import os
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="handgrade-", dir=where))
    copy = home / "course"
    shutil.copytree(course, copy)
    if os.geteuid() == 0:
        os.chown(home, owner, owner)
        os.chown(copy, owner, owner)
    return copy


def grade_of(course: Path, student: str, question: str = "q1"):
    """(manual score, needs manual grade, manual comment) of one answer, from the gradebook."""
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, default_db_url

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:
        grade = gb.find_grade(question, A, A, student)
        comment = gb.find_comment(question, A, A, student)
        return grade.manual_score, grade.needs_manual_grade, comment.manual_comment
