"""Derived numbers are derived when read, through the command line.

Late penalties, days late and final scores come from the gradebook, the submission times and
the course's policy *as it is when a command reads them* (feedback, report, export, the
progress line), never as they were at grading time: a hand grade after grading, an extension
after grading, and an extension given before or after collecting all show at the next read,
with no regrade. A change to an assignment's prose leaves its results standing.

One course, graded once (assignment 1: four students; assignment 4: one late student who
submitted the untouched release), shared by the tests; each test changes only its own student.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from autograder.config import COURSE_ID, default_db_url
from autograder.grading import authoring, deadlines, state

pytestmark = pytest.mark.slow
A1, A4 = "a1_metrics", "a4_mlp"
DUE = datetime(2026, 12, 1, 22, 59, tzinfo=UTC)
PER_DAY = {A1: 0.1, A4: 0.25}
POINTS = {A1: 10.0, A4: 14.0}
#: login, Canvas name, Canvas user id
PEOPLE = [("early", "earlyed", "201"), ("later", "latered", "202"), ("ext", "exted", "203"),
          ("late4", "latefour", "204")]  # fmt: skip


def cli(*args, ok=True):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def rule(assignment: str, earned: float, days: int) -> float:
    """The README's rule, written out: fraction x points x started days, at most the earned."""
    return min(PER_DAY[assignment] * POINTS[assignment] * days, earned)


def export_csv(course: Path, assignment: str, out: Path) -> dict[str, dict]:
    cli("export", assignment, "--course", str(course), "--format", "csv", "--out", str(out))
    with out.open() as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def feedback_summary(course: Path, student: str, assignment: str = A1) -> str:
    page = (course / "feedback" / student / assignment / "feedback.html").read_text()
    return page.split("<p><strong>", 1)[1].split("</strong>", 1)[0]


def stored_penalty(course: Path, assignment: str, student: str) -> float:
    """nbgrader's own late_submission_penalty, which formgrader shows."""
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:
        return float(gb.find_submission(assignment, student).late_submission_penalty or 0.0)


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    base = tmp_path_factory.mktemp("derived")
    course = base / "course"
    c = str(course)
    with (base / "canvas.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                    "A1 metrics (4242)", "A4 mlp (4243)"])  # fmt: skip
        w.writerow(["    Points Possible", "", "", "", "", "10", "14"])
        for login, name, uid in PEOPLE:
            w.writerow([f"{name.title()}, Given", uid, f"U{uid}", login, "Lecture 1", "", ""])
    cli("roster", "--course", c, "--from", str(base / "canvas.csv"))
    for a in (A1, A4):
        cli("release", a, "--course", c, "--due", DUE.isoformat(),
            "--late-penalty-per-day", str(PER_DAY[a]))  # fmt: skip
    until = (DUE + timedelta(days=2)).isoformat()
    # early's extension is given before collecting, later's after: Canvas marked both late
    cli("extend", A1, "--course", c, "--student", "early", "--until", until)
    released = nbformat.read(course / "release" / A1 / f"{A1}.ipynb", as_version=4)
    reference = authoring.solutions(authoring.read_source(A1))
    notebook = nbformat.writes(authoring.submission(released, reference)).encode()
    with zipfile.ZipFile(base / "a1.zip", "w") as zf:
        zf.writestr(f"earlyed_late_201_5001_{A1}.ipynb", notebook)
        zf.writestr(f"latered_late_202_5002_{A1}.ipynb", notebook)
        zf.writestr(f"exted_203_5003_{A1}.ipynb", notebook)
    cli("collect", A1, "--course", c, "--from", str(base / "a1.zip"))
    cli("extend", A1, "--course", c, "--student", "later", "--until", until)
    # ext's time, written by hand as the README says: 1 day 1 hour after the due date
    deadlines.write_timestamp(course / "submitted" / "ext" / A1, DUE + timedelta(hours=25))
    # a folder that is a link: refused, its reason ("the student's folder ...") in the report
    (course / "submitted" / "linky").symlink_to(course / "submitted" / "ext")
    graded_a1 = cli("grade", A1, "--course", c, "--jobs", "2")
    # a4: the release untouched, submitted 2 hours late; its four questions wait for a person
    folder = course / "submitted" / "late4" / A4
    folder.mkdir(parents=True)
    (folder / f"{A4}.ipynb").write_bytes((course / "release" / A4 / f"{A4}.ipynb").read_bytes())
    deadlines.write_timestamp(folder, DUE + timedelta(hours=2))
    cli("grade", A4, "--course", c, "--jobs", "1")
    return {"base": base, "course": course, "graded_a1": graded_a1}


def test_a_hand_grade_after_grading_gets_the_rules_penalty_everywhere(term):
    """A late a4 student scoring 0 automatically, then 8/8 by hand: exports show 8 - 3.5."""
    course, base = term["course"], term["base"]
    before = export_csv(course, A4, base / "a4_before.csv")["late4"]
    assert (before["auto"], before["penalty"], before["score"], before["days_late"]) == (
        "0",
        "0",
        "0",
        "1",
    )  # fmt: skip  (the penalty is capped at the 0 points earned)
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:  # as formgrader does
        for question in ("q1", "q2", "q3", "q4"):
            gb.find_grade(question, A4, A4, "late4").manual_score = 2.0
        gb.db.commit()
    row = export_csv(course, A4, base / "a4_after.csv")["late4"]
    want = 8.0 - rule(A4, 8.0, 1)
    assert want == 4.5
    assert (float(row["manual"]), float(row["penalty"]), float(row["score"])) == (8, 3.5, want)
    cli("export", A4, "--course", str(course), "--format", "canvas", "--out",
        str(base / "canvas4.csv"))  # fmt: skip
    with (base / "canvas4.csv").open() as handle:
        canvas = {r["SIS Login ID"]: r for r in csv.DictReader(handle)}
    assert float(canvas["late4"]["A4 mlp (4243)"]) == want
    assert stored_penalty(course, A4, "late4") == 3.5  # formgrader's copy follows the read


def test_an_extension_after_grading_changes_feedback_and_export_without_a_regrade(term):
    course, base = term["course"], term["base"]
    record = state.load_record(course, A1, "ext")
    cli("feedback", A1, "--course", str(course), "--book-url", "https://book.example.org/")
    assert feedback_summary(course, "ext") == (
        "8 of 10 points (after a late penalty of 2: 2 days late)"
    )
    row = export_csv(course, A1, base / "ext_before.csv")["ext"]
    assert (row["days_late"], float(row["penalty"]), float(row["score"])) == ("2", 2, 8)
    assert stored_penalty(course, A1, "ext") == 2

    cli("extend", A1, "--course", str(course), "--student", "ext",
        "--until", (DUE + timedelta(days=3)).isoformat())  # fmt: skip
    cli("feedback", A1, "--course", str(course), "--book-url", "https://book.example.org/")
    assert feedback_summary(course, "ext") == "10 of 10 points"
    row = export_csv(course, A1, base / "ext_after.csv")["ext"]
    assert (row["days_late"], float(row["penalty"]), float(row["score"])) == ("0", 0, 10)
    assert stored_penalty(course, A1, "ext") == 0
    assert state.load_record(course, A1, "ext") == record  # nothing was regraded


def test_an_extension_before_or_after_collect_gives_the_same_grade(term):
    course, base = term["course"], term["base"]
    rows = export_csv(course, A1, base / "order.csv")
    # Canvas's late mark: one started day after each student's own (extended) due date
    for who in ("early", "later"):
        row = rows[who]
        assert (row["days_late"], float(row["penalty"])) == ("1", rule(A1, 10.0, 1)), who
        assert float(row["score"]) == 10.0 - rule(A1, 10.0, 1) == 9.0
        assert row["submitted_at"] == "2026-12-03 22:59:01 UTC"  # the extension + 1 second
    assert not (course / "submitted" / "early" / A1 / "timestamp.txt").exists()


def test_the_progress_line_report_and_feedback_say_the_penalised_score_in_plain_words(term):
    course = term["course"]
    progress = term["graded_a1"].stderr
    assert "ext: graded 8/10 (late penalty 2)" in progress  # after the penalty
    assert "early: graded 9/10 (late penalty 1)" in progress
    cli("report", A1, "--course", str(course))
    report = (course / "reports" / A1 / "report.md").read_text()
    assert "linky: invalid submission: the student's folder is a symbolic link" in report
    assert "&#x27;" not in report and "&amp;" not in report
    assert "1 day late: 2 students" in report
    cli("feedback", A1, "--course", str(course), "--book-url", "https://book.example.org/")
    assert feedback_summary(course, "early").endswith("1 day late)")


def test_feedback_without_a_book_url_warns_that_links_point_at_this_disk(term, tmp_path):
    course = term["course"]
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_BOOK_URL"}
    done = subprocess.run([sys.executable, "-m", "autograder", "feedback", A1, "--course",
                           str(course)], capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "warning: lesson links point at file:///" in done.stderr
    assert "--book-url" in done.stderr
    done = cli("feedback", A1, "--course", str(course), "--book-url", "https://b.example.org/")
    assert "warning" not in done.stderr


def test_reading_a_missing_gradebook_is_refused_by_name_and_creates_nothing(tmp_path):
    course = tmp_path / "empty"
    course.mkdir()
    for command in ("feedback", "report", "grade"):
        done = cli(command, A1, "--course", str(course), ok=False)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        if command != "grade":  # grade first says the assignment is not released
            assert f"no gradebook at '{course / 'gradebook.db'}'" in done.stderr
        assert not (course / "gradebook.db").exists()


def test_a_change_to_the_prose_alone_leaves_results_standing(term, tmp_path):
    """Cheaper truth: a typo fixed in the text is released without --force and regrades no
    one; a change to a check's code is still refused (and would make results stale)."""
    from autograder.term import release

    course = term["course"]
    before = {s: state.load_record(course, A1, s) for s in ("early", "later", "ext")}
    version = state.assignment_digest(course, A1)
    text = authoring.source_path(A1).read_text()
    prose = tmp_path / "prose"
    (prose / A1).mkdir(parents=True)
    assert text.count("# # Assignment 1") == 1
    authoring.source_path(A1, prose).write_text(
        text.replace("# # Assignment 1", "# # Assignment one", 1)
    )
    release.main(assignment=A1, course=course, sources=prose)  # no --force needed
    assert state.assignment_digest(course, A1) == version
    done = cli("grade", A1, "--course", str(course))
    assert "graded 3 of 4 students" in done.stdout  # linky stays refused
    assert {s: state.load_record(course, A1, s) for s in before} == before  # no regrade
    rows = export_csv(course, A1, tmp_path / "after_prose.csv")
    assert all(rows[s]["status"] == "graded" for s in before)

    code = tmp_path / "code"
    (code / A1).mkdir(parents=True)
    marker = "### BEGIN HIDDEN TESTS\n"
    assert marker in text
    authoring.source_path(A1, code).write_text(text.replace(marker, marker + "assert True\n", 1))
    with pytest.raises(release.ReleaseError, match="the code the checks run changed"):
        release.main(assignment=A1, course=course, sources=code)
