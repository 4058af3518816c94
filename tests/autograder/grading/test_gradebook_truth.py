"""The gradebook is the one truth: resubmissions, --student, re-release, hidden-block names.

One released copy of assignment 1 (from a private copy of its source, so the test can change
the assignment) and one graded batch, shared by the tests in order.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading import authoring, grade, state
from autograder.grading.options import GradingOptions
from autograder.term import release

pytestmark = pytest.mark.slow
A = "a1_metrics"
OPTIONS = GradingOptions(cell_timeout=20)

# the hidden block of test-counts, rewritten to use builtins the student shadows below
BUILTINS_BLOCK = """from autograder.assignments.a1_metrics.hidden import expect_counts

assert len(tuple([1, 2])) == 2 and abs(-3) == 3  # instructor code using builtins
expect_counts(confusion_counts)
"""
SHADOWS = "\nlen = lambda *a: 0\ntuple = list\nabs = lambda x: -1\n"


def _source_with(block: str | None, folder: Path, points: str | None = None) -> Path:
    """A copy of assignment 1's source whose test-counts hidden block (or points) changed."""
    text = authoring.source_path(A).read_text()
    if block is not None:
        start = text.index(
            "### BEGIN HIDDEN TESTS\nfrom autograder.assignments.a1_metrics.hidden import expect_counts"
        )
        end = text.index("### END HIDDEN TESTS", start)
        text = text[:start] + "### BEGIN HIDDEN TESTS\n" + block + text[end:]
    if points is not None:
        marker = '"grade_id": "test-counts", "locked": true, "points": 2'
        assert marker in text
        text = text.replace(marker, marker[:-1] + points)
    authoring.source_path(A, folder).parent.mkdir(parents=True, exist_ok=True)
    authoring.source_path(A, folder).write_text(text)
    return folder


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    root = tmp_path_factory.mktemp("truth")
    course = root / "course"
    sources = _source_with(BUILTINS_BLOCK, root / "sources")
    folder = release.main(assignment=A, course=course, sources=sources)
    released = nbformat.read(folder / f"{A}.ipynb", as_version=4)
    solution = authoring.solutions(
        nbformat.read(course / "source" / A / f"{A}.ipynb", as_version=4)
    )

    def submit(student, answers):
        target = course / "submitted" / student / A
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(authoring.submission(released, answers), target / f"{A}.ipynb")

    shadowing = dict(solution)
    shadowing["counts"] += SHADOWS  # the student's own len, tuple, abs
    submit("ada", solution)
    submit("ben", shadowing)
    submit("cy", {})
    grades = grade.main(
        assignment=A, course=course, jobs=2, options=OPTIONS, progress=lambda *a: None
    )
    return root, course, sources, submit, solution, {g.student_id: g for g in grades}


def _grade(course, **kw):
    seen = []
    grades = grade.main(
        assignment=A,
        course=course,
        jobs=2,
        options=OPTIONS,
        progress=lambda n, t, g: seen.append(g.student_id),
        **kw,
    )
    return seen, {g.student_id: g for g in grades}


def test_hidden_blocks_use_real_builtins_even_when_the_student_shadows_them(term):
    grades = term[5]
    assert grades["ada"].score == 10 and grades["ben"].score == 10, grades["ben"].reason
    assert grades["cy"].status == "graded" and grades["cy"].score == 0


def test_no_a1_cell_needs_manual_grading(term):
    from nbgrader.api import Gradebook

    course = term[1]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="default_course") as gb:
        for student in ("ada", "ben", "cy"):
            [nb] = gb.find_submission(A, student).notebooks
            assert [g.needs_manual_grade for g in nb.grades] == [False] * 5, student


@pytest.mark.parametrize(
    ("entered", "counted"),
    [(None, None), (1.5, 1.5), (44.0, 2.0), (-3.0, 0.0), (float("inf"), 0.0), (float("nan"), 0.0)],
)
def test_a_person_entered_score_counts_only_within_the_cells_points(entered, counted):
    from autograder.grading.gradebook import bounded

    assert bounded(entered, 2) == counted


def test_out_of_range_hand_scores_in_the_gradebook_are_bounded_where_read(term):
    """Scores written past formgrader's guard (an old gradebook, another tool) never show."""
    from nbgrader.api import Gradebook

    from autograder.grading.gradebook import read_grades

    course = term[1]
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url, course_id="default_course") as gb:
        cell = gb.find_grade("test-counts", A, A, "cy")
        cell.manual_score, cell.extra_credit = 44.0, 30.0
        gb.db.commit()
    try:
        [cy, ada] = read_grades(course, A, students=["cy", "ada"])
        counts = cy.cells["test-counts"]
        assert (counts.manual, counts.extra_credit, counts.score) == (2.0, 2.0, 4.0)
        assert cy.score == 4.0 and ada.score == 10  # the others untouched
        assert cy.score <= 2 * cy.max_score
    finally:
        with Gradebook(url, course_id="default_course") as gb:
            cell = gb.find_grade("test-counts", A, A, "cy")
            cell.manual_score, cell.extra_credit = None, None
            gb.db.commit()


def test_a_rerun_with_nothing_changed_grades_nobody_and_rewrites_the_csv(term, tmp_path):
    course = term[1]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            A,
            "--course",
            str(course),
            "--csv",
            str(tmp_path / "g.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "[1/" not in out.stderr  # no progress line: nobody graded
    for noise in ("SAWarning", "without encryption", "Traceback"):
        assert noise not in out.stderr + out.stdout
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "g.csv").open())}
    assert [float(rows[s]["score"]) for s in ("ada", "ben", "cy")] == [10, 10, 0]


def test_a_resubmission_is_regraded_and_the_unchanged_are_not(term):
    _, course, _, submit, solution, _ = term
    submit("cy", solution)  # cy resubmits a full solution
    seen, grades = _grade(course)
    assert seen == ["cy"] and grades["cy"].score == 10
    record = state.load_record(course, A, "cy")
    assert record.submission_digest == state.submission_digest(course / "submitted" / "cy" / A)


def test_student_regrades_only_the_named(term):
    course = term[1]
    seen, _ = _grade(course, students=("ada",))
    assert seen == ["ada"]
    with pytest.raises(ValueError, match="no submission folder for --student 'zed'"):
        _grade(course, students=("zed",))


def test_a_shipped_record_file_is_never_trusted(term):
    """A forged marker anywhere in the submission, or a tampered record, is ignored."""
    course = term[1]
    (course / "submitted" / "ada" / A / ".result.json").write_text('{"student_id": "ada"}')
    path = state.record_path(course, A, "ben")
    path.write_text(path.read_text().replace('"status": "graded"', '"status": "graded" '))
    seen, grades = _grade(course)
    assert sorted(seen) == ["ada", "ben"]  # ada's folder changed; ben's record did not verify
    assert (
        grades["ada"].score == 10
        and not (course / "autograded" / "ada" / A / ".result.json").exists()
    )


def test_changing_a_graded_assignment_is_refused_then_stale_after_force(term):
    root, course, _, _, _, _ = term
    changed = _source_with(BUILTINS_BLOCK, root / "sources-3-points", points="3")
    with pytest.raises(release.ReleaseError, match="points changed: test-counts 2 -> 3"):
        release.main(assignment=A, course=course, sources=changed)
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "release", A, "--course", str(course)],
        capture_output=True,
        text=True,
    )  # the repository's own source differs from the test's copy too
    assert out.returncode == 2 and "--force" in out.stderr
    release.main(assignment=A, course=course, sources=changed, force=True)
    from autograder.grading.gradebook import read_grades

    stale = read_grades(course, A)
    assert {g.status for g in stale} == {"stale"} and all(g.max_score == 11 for g in stale)
    seen, grades = _grade(course)
    assert sorted(seen) == ["ada", "ben", "cy"]
    assert {s: g.score for s, g in grades.items()} == {"ada": 11, "ben": 11, "cy": 11}


def test_instructor_code_that_breaks_is_a_grader_error_not_the_students(term, tmp_path):
    course = tmp_path / "course"
    broken = _source_with("undefined_helper_of_the_instructor()\n", tmp_path / "src")
    release.main(assignment=A, course=course, sources=broken)
    shutil.copytree(term[1] / "submitted" / "ada", course / "submitted" / "ada")
    _, grades = _grade(course)
    ada = grades["ada"]
    assert ada.status == "failed" and ada.reason.startswith("grader error")
    assert "test-counts" in ada.reason and "NameError" in ada.reason
    assert ada.max_score == 10  # a failed row still shows the assignment's maximum


def test_workers_run_the_code_of_the_checkout_that_started_them(tmp_path):
    """A copy of the packages first on the parent's path is what the workers import."""
    repo = Path(grade.__file__).resolve().parents[2]
    for package in ("autograder", "coursekit"):
        shutil.copytree(repo / package, tmp_path / package, ignore=shutil.ignore_patterns("course"))
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from autograder.grading.pool import _Worker; w = _Worker(0); w._check_ready(); "
        "import autograder; print(autograder.__file__); w.close()"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(tmp_path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "autograder" / "__init__.py")


def test_the_assignments_version_is_what_grading_runs_not_its_prose(tmp_path):
    """Prose and feedback wording leave the version alone; code, points, cell types, the
    folder's other files and the hidden modules the checks import change it."""
    import json

    source = {
        "cells": [
            {"cell_type": "markdown", "source": "# Assignment 1: metrics", "metadata": {}},
            {"cell_type": "code", "source": "from autograder.assignments.a1_metrics.hidden import x\nx()",
             "metadata": {"nbgrader": {"grade": True, "grade_id": "t", "points": 2},
                          "autograder": {"expects": "the counts"}}},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip

    def version(change=None, extra_file=None):
        nb = json.loads(json.dumps(source))
        if change:
            change(nb["cells"])
        folder = tmp_path / "c" / "source" / A
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        (folder / f"{A}.ipynb").write_text(json.dumps(nb, indent=1))
        if extra_file:
            (folder / "data.csv").write_text(extra_file)
        return state.assignment_digest(tmp_path / "c", A)

    base = version()

    def prose(cells):
        cells[0]["source"] = "# Assignment 1: classification metrics"

    def wording(cells):
        cells[1]["metadata"]["autograder"]["expects"] = "the four confusion counts"

    def code(cells):
        cells[1]["source"] += "\nx()"

    def points(cells):
        cells[1]["metadata"]["nbgrader"]["points"] = 3

    def kind(cells):
        cells[0]["cell_type"] = "code"

    assert version(prose) == version(wording) == base
    assert len({base, version(code), version(points), version(kind), version(None, "1,2")}) == 5
    root = Path(__file__).resolve().parents[3]
    used = state.hidden_modules(["from autograder.assignments.a1_metrics.hidden import x"])
    used = {p.relative_to(root / "autograder" / "assignments").as_posix() for p in used}
    assert used == {  # its own checks and the shared rules: not a4's, nor the notebook sources
        "__init__.py",
        "a1_metrics/__init__.py",
        "a1_metrics/hidden.py",
        "a1_metrics/visible.py",
        "calls.py",
        "rules.py",
        "runner.py",
    }
