"""A failed row keeps its hand-entered scores, and every reader shows the same number.

A person enters a manual score and extra credit in the gradebook (as formgrader does); then a
regrade fails, once by the student's doing (a resubmission that is not a notebook) and once by
the grader's (a grader error recorded for the row). Either way the automatic scores of the
earlier run are withdrawn, the hand-entered ones stay: the gradebook (what formgrader shows),
the row of ``read_grades``, the CSV, the export and the feedback page all show those points.
A later successful regrade counts them again beside the new automatic scores.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from autograder.grading import authoring, grade, state
from autograder.grading.gradebook import Book, read_grades
from autograder.grading.options import GradingOptions
from autograder.grading.records import GradeResult, Kind, Status
from autograder.term import export, feedback, release

pytestmark = pytest.mark.slow
A = "a1_metrics"
MANUAL, EXTRA = 1.0, 0.5  # on test-counts (2 points): by hand instead of its automatic 2
OPTIONS = GradingOptions(cell_timeout=20)


def _url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


def _gradebook_cells(course: Path, student: str) -> dict[str, tuple]:
    """grade id -> (auto, manual, extra credit), and nbgrader's own total (formgrader's)."""
    from nbgrader.api import Gradebook

    with Gradebook(_url(course), course_id="default_course") as gb:
        submission = gb.find_submission(A, student)
        [nb] = submission.notebooks
        cells = {g.name: (g.auto_score, g.manual_score, g.extra_credit) for g in nb.grades}
        return cells, float(submission.score)


def _grade(course: Path, csv_path: Path):
    grades = grade.main(
        assignment=A,
        course=course,
        jobs=1,
        options=OPTIONS,
        csv_path=csv_path,
        progress=lambda *a: None,
    )
    rows = {r["student_id"]: r for r in csv.DictReader(csv_path.open())}
    return {g.student_id: g for g in grades}, rows


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """ana graded in full (10), then hand scores entered on test-counts."""
    from nbgrader.api import Gradebook

    course = tmp_path_factory.mktemp("hand") / "course"
    folder = release.main(assignment=A, course=course)
    handout = nbformat.read(folder / f"{A}.ipynb", as_version=4)
    solution = authoring.solutions(
        nbformat.read(course / "source" / A / f"{A}.ipynb", as_version=4)
    )
    submitted = course / "submitted" / "ana" / A
    submitted.mkdir(parents=True)
    nbformat.write(authoring.submission(handout, solution), submitted / f"{A}.ipynb")
    grades, _ = _grade(course, course / "first.csv")
    assert grades["ana"].status is Status.GRADED and grades["ana"].score == 10
    with Gradebook(_url(course), course_id="default_course") as gb:  # as formgrader writes
        cell = gb.find_grade("test-counts", A, A, "ana")
        cell.manual_score, cell.extra_credit = MANUAL, EXTRA
        gb.db.commit()
    assert read_grades(course, A)[0].score == 10 - 2 + MANUAL + EXTRA
    return course, submitted, handout, solution


def _every_reader_shows(course: Path, csv_row: dict, points: float) -> None:
    [ana] = read_grades(course, A)
    assert ana.score == points
    assert float(csv_row["score"]) == points
    assert float(csv_row["test-counts"]) == MANUAL + EXTRA
    assert float(csv_row["manual_score"]) == MANUAL and float(csv_row["extra_credit"]) == EXTRA
    exported = export.main(assignment=A, course=course, format="csv", out=course / "out.csv")
    [row] = list(csv.DictReader((course / "out.csv").open()))
    assert float(row["score"]) == points, exported.notes
    feedback.main(assignment=A, course=course, book=course)
    page = (course / "feedback" / "ana" / A / "feedback.html").read_text()
    assert f"{points:g} of 10 points" in page


def test_a_failed_resubmission_keeps_what_a_person_entered(course, tmp_path):
    course, submitted, handout, solution = course
    (submitted / f"{A}.ipynb").write_bytes(b"\xff\xfe not a notebook")
    grades, rows = _grade(course, tmp_path / "failed.csv")
    ana = grades["ana"]
    assert ana.status is Status.FAILED and ana.reason == "invalid notebook: not UTF-8 text"
    cells, nbgrader_total = _gradebook_cells(course, "ana")
    assert cells["test-counts"] == (0.0, MANUAL, EXTRA)  # the automatic 2 withdrawn
    assert all(auto == 0.0 for auto, _, _ in cells.values())
    # formgrader's number, the row's, the CSV's, the export's and feedback's agree
    assert nbgrader_total == MANUAL + EXTRA
    assert rows["ana"]["status"] == "failed"
    _every_reader_shows(course, rows["ana"], MANUAL + EXTRA)

    nbformat.write(authoring.submission(handout, solution), submitted / f"{A}.ipynb")
    grades, rows = _grade(course, tmp_path / "again.csv")
    assert grades["ana"].status is Status.GRADED
    assert grades["ana"].score == 10 - 2 + MANUAL + EXTRA  # counted again beside the new ones
    assert _gradebook_cells(course, "ana")[0]["test-counts"] == (2.0, MANUAL, EXTRA)


def test_a_grader_error_keeps_what_a_person_entered_and_is_regraded(course, tmp_path):
    course = course[0]
    batch = grade.plan(A, course, course / "submitted", students=("ana",))
    [todo] = batch.todo
    from autograder.grading.worker import GradeTask

    task = GradeTask(A, "ana", str(todo.folder), "", "", str(tmp_path / "work"), 0)
    broken = GradeResult.failed(
        "ana", Kind.GRADER_ERROR, "the check test-counts itself failed (NameError: x)"
    )
    with Book(course, A) as book:
        recorded = grade.record(batch, task, broken, book)
    assert recorded.kind is Kind.GRADER_ERROR
    assert state.load_record(course, A, "ana").result.grader_fault
    cells, nbgrader_total = _gradebook_cells(course, "ana")
    assert cells["test-counts"] == (0.0, MANUAL, EXTRA) and nbgrader_total == MANUAL + EXTRA
    [ana] = read_grades(course, A)
    assert ana.status is Status.FAILED and ana.reason.startswith("grader error: the check")
    assert ana.score == MANUAL + EXTRA
    # the grader's fault: the next run regrades the unchanged submission
    assert [s.student for s in grade.plan(A, course, course / "submitted").todo] == ["ana"]
