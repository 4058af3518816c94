"""``export``: Canvas and Moodle grade imports and the per-question CSV, from gradebook records."""

from __future__ import annotations

import csv
from datetime import datetime

import nbformat
import pytest

from autograder.grading import deadlines
from autograder.grading.gradebook import CellGrade, StudentGrade
from autograder.term import export
from tests.autograder.term.test_term_intake import STUDENTS, canvas_roster, moodle_roster

A = "a1_metrics"


@pytest.fixture
def course(tmp_path):
    """A course whose source notebook has two graded cells (q1: 4 points, q2: 6 by hand)."""
    nb = nbformat.v4.new_notebook()
    for grade_id, points in (("q1", 4), ("q2", 6)):
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": points}
        nb.cells.append(cell)
    (tmp_path / "source" / A).mkdir(parents=True)
    nbformat.write(nb, tmp_path / "source" / A / f"{A}.ipynb")
    deadlines.set_policy(tmp_path, A, due="2026-12-01T12:00Z", late_penalty_per_day=0.1)
    return tmp_path


def grade(student, q1, q2_manual, penalty=0.0, status="graded", days=0, reason=""):
    cells = {
        "q1": CellGrade("q1", 4.0, auto=q1),
        "q2": CellGrade("q2", 6.0, manual=q2_manual, needs_manual_grade=q2_manual is None),
    }
    stamp = datetime(2026, 12, 3, 12, 0) if days else None
    return StudentGrade(student, status, reason, 10.0, cells, penalty, stamp, days)


@pytest.fixture
def graded(course, monkeypatch):
    records = {
        "jdoe": grade("jdoe", 4.0, 5.5),
        "rroe": grade("rroe", 3.0, 6.0, penalty=2.0, days=2),
        "=evil": grade("=evil", 1.0, 1.0),  # not on the roster, a formula for a name
    }
    for student in records:
        (course / "submitted" / student / A).mkdir(parents=True)

    def fake(course_, assignment, db_url, students):
        if students is None:
            return dict(records)
        return {
            s: records.get(s) or StudentGrade(s, "failed", "not graded", 10.0) for s in students
        }

    monkeypatch.setattr(export, "_grades", fake)
    return records


def read(path):
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_canvas_export_has_roster_columns_and_points_missing_is_empty(course, graded, tmp_path):
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    done = export.main(
        assignment=A, format="canvas", out=tmp_path / "c.csv", course=course, roster=r
    )
    rows = read(done.path)
    assert rows[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "A1 metrics (901)",
    ]
    by_login = {row[3]: row for row in rows[1:]}
    assert by_login["jdoe"][:5] == ["Doe, Jane", "101", "S1", "jdoe", "Section 1"]
    assert by_login["jdoe"][5] == f"{graded['jdoe'].score:g}" == "9.5"
    assert by_login["rroe"][5] == "7"  # 3 + 6 - 2
    assert by_login["epoe"][5] == ""  # no submission: empty, not 0
    assert any("=evil" in n and "not on the roster" in n for n in done.notes)
    zero = export.main(assignment=A, format="canvas", out=tmp_path / "z.csv", course=course,
                       roster=r, missing_as_zero=True)  # fmt: skip
    assert {row[3]: row[5] for row in read(zero.path)[1:]}["epoe"] == "0"


def test_moodle_export_identifier_and_grade(course, graded, tmp_path):
    r = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "jdoe", "j@x.org"),
                                           ("Nobody", "Here", "nob", "n@x.org")])  # fmt: skip
    rows = read(export.main(assignment=A, format="moodle", out=tmp_path / "m.out", course=course,
                            roster=r).path)  # fmt: skip
    assert rows == [["ID number", "Email address", A], ["jdoe", "j@x.org", "9.5"],
                    ["nob", "n@x.org", ""]]  # fmt: skip


def test_plain_csv_per_question_and_csv_injection_defused(course, graded, tmp_path):
    rows = read(export.main(assignment=A, format="csv", out=tmp_path / "p.csv", course=course).path)
    header, body = rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert header[-2:] == ["q1", "q2"]
    assert "'=evil" in body and "=evil" not in body
    rick = body["rroe"]
    assert (rick["auto"], rick["manual"], rick["penalty"], rick["score"], rick["days_late"]) == (
        "3",
        "6",
        "2",
        "7",
        "2",
    )
    assert rick["submitted_at"] == "2026-12-03 12:00:00 UTC"


def test_pending_hand_grading_is_noted_not_hidden(course, graded, tmp_path):
    graded["jdoe"] = grade("jdoe", 4.0, None)
    done = export.main(assignment=A, format="csv", out=tmp_path / "p.csv", course=course)
    body = {row[0]: row for row in read(done.path)[1:]}
    assert body["jdoe"][-1] == ""  # q2 pending: empty, not 0
    assert any("jdoe" in n and "pending (q2)" in n for n in done.notes)


def test_export_refuses_bad_input_by_name(course, graded, tmp_path):
    with pytest.raises(ValueError, match="--format must be one of"):
        export.main(assignment=A, format="xlsx", out=tmp_path / "x", course=course)
    with pytest.raises(ValueError, match="--format canvas needs the class list"):
        export.main(assignment=A, format="canvas", out=tmp_path / "x", course=course)
    m = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "jdoe", "j@x.org")])
    with pytest.raises(ValueError, match="needs a canvas roster, but the roster is a moodle"):
        export.main(assignment=A, format="canvas", out=tmp_path / "x", course=course, roster=m)
    with pytest.raises(ValueError, match="'a9' is not released"):
        export.main(assignment="a9", format="csv", out=tmp_path / "x", course=course)


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_every_formula_start(cell):
    assert export.neutralise(cell) == "'" + cell
    assert export.neutralise(-1.5) == "-1.5"  # numbers stay numbers


def test_an_export_column_that_matches_nothing_is_refused_by_name(course, graded, tmp_path):
    """Canvas: a roster without the assignment's column, or a ``--column`` typo, is refused
    (through the command line, before anything is written); the matching column, an exact
    ``--column`` and ``--new-column`` are exported as asked."""
    import os
    import subprocess
    import sys

    def cli(*args):
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        return subprocess.run([sys.executable, "-m", "autograder", "export", A, "--course",
                               str(course), *args], capture_output=True, text=True, env=env)  # fmt: skip

    other = tmp_path / "other.csv"  # a roster whose grade column is another assignment's
    with other.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A4 MLP (904)",
                    "Current Score"])  # fmt: skip
        w.writerow(["Doe, Jane", "101", "S1", "jdoe", "Section 1", "", "90"])
    out = tmp_path / "out.csv"
    nothing = cli("--format", "canvas", "--out", str(out), "--roster", str(other))
    assert nothing.returncode == 2
    assert "the roster has no column for 'a1_metrics' (its grade columns: 'A4 MLP (904)')" in (
        nothing.stderr
    )
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    typo = cli("--format", "canvas", "--out", str(out), "--roster", str(r),
               "--column", "A1 metric (901)")  # fmt: skip
    assert typo.returncode == 2
    assert "--column 'A1 metric (901)' matches no column of the roster" in typo.stderr
    assert "'A1 metrics (901)'" in typo.stderr and not out.exists()
    m = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "jdoe", "j@x.org")])
    moodle_typo = cli("--format", "moodle", "--out", str(out), "--roster", str(m),
                      "--column", "Assignment: a1_metrix (Real)")  # fmt: skip
    assert moodle_typo.returncode == 2 and "matches no column" in moodle_typo.stderr
    # the honest controls, in process (the gradebook is the fixture's)
    for column, expected in ((None, "A1 metrics (901)"), ("A1 metrics (901)", "A1 metrics (901)"),
                             ("a1 METRICS", "A1 metrics (901)")):  # fmt: skip
        done = export.main(assignment=A, format="canvas", out=out, course=course, roster=r,
                           column=column)  # fmt: skip
        assert read(done.path)[0][-1] == expected
    created = export.main(assignment=A, format="canvas", out=out, course=course, roster=other,
                          new_column=True)  # fmt: skip
    assert read(created.path)[0][-1] == A and read(created.path)[1][-1] == "9.5"
    moodle = export.main(assignment=A, format="moodle", out=out, course=course, roster=m,
                         column="Assignment: a1_metrics (Real)")  # fmt: skip
    assert read(moodle.path)[0][-1] == "Assignment: a1_metrics (Real)"


def test_a_student_not_on_the_roster_is_where_the_note_says(course, graded, tmp_path):
    """A stranger saw "=evil: graded but not on the roster; not exported" beside a CSV that
    held =evil's row: the plain CSV keeps the row (after the roster's) and says so; an LMS
    format leaves it out and says that."""
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    plain = export.main(assignment=A, format="csv", out=tmp_path / "p.csv", course=course,
                        roster=r)  # fmt: skip
    ids = [row[0] for row in read(plain.path)[1:]]
    assert ids[-1] == "'=evil" and ids.count("'=evil") == 1  # last, neutralised
    (note,) = [n for n in plain.notes if "=evil" in n]
    assert note.endswith("in the CSV after the roster's students"), note
    lms = export.main(assignment=A, format="canvas", out=tmp_path / "c.csv", course=course,
                      roster=r)  # fmt: skip
    assert not any("evil" in cell for row in read(lms.path) for cell in row)
    (note,) = [n for n in lms.notes if "=evil" in n]
    assert note.endswith("not exported"), note
