"""A term end to end, through the command line: a roster of 30, release with a deadline,
hand-out to the exchange, a Canvas zip (late, resubmitted, misnamed, unknown files) and two
JupyterHub submissions collected, one graded batch, hand grading through nbgrader's API,
late penalties, similarity with a planted copy, Canvas and Moodle exports checked cell by
cell against the gradebook, feedback delivered through the exchange and as a Canvas zip."""

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

from autograder.config import COURSE_ID as GRADEBOOK_COURSE
from autograder.config import default_db_url
from autograder.grading import authoring
from tests.autograder.test_term_similarity import COPY, HONEST_BINCOUNT, HONEST_LOOPS

A = "a1_metrics"
COURSE_ID = "ml101"
PER_DAY = 0.1
STYLES = ("ref", "loops", "bincount")


def cli(*args, ok=True):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def nbgrader(*args, cwd):
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONWARNINGS": "ignore"}
    command = [str(Path(sys.executable).with_name("nbgrader")), *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def student(i: int) -> dict:
    return {"name": f"Student{i:02d}, Given", "canvas": f"student{i:02d}given", "id": str(1000 + i),
            "login": f"s{i:02d}"}  # fmt: skip


def styles_of(i: int) -> tuple[str, str, str]:
    """Each student writes a different combination of styles for the three answer cells
    (27 combinations: students 1-25, 29 and 30; student 26 copies student 1)."""
    k = {26: 0, 29: 25, 30: 26}.get(i, i - 1)  # 26's copy is student 1's code
    return STYLES[k % 3], STYLES[(k // 3) % 3], STYLES[(k // 9) % 3]


def answers_of(i: int, reference: dict) -> dict:
    if i == 26:
        return COPY  # the planted copy of student 1 (who writes the reference in every cell)
    pool = {"ref": reference, "loops": HONEST_LOOPS, "bincount": HONEST_BINCOUNT}
    cells = dict(zip(("counts", "scores", "roc"), styles_of(i), strict=True))
    answers = {cell: pool[style][cell] for cell, style in cells.items()}
    if i in (24, 25):
        del answers["roc"]  # left as the template: the ROC and AUC checks fail
    return answers


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    base = tmp_path_factory.mktemp("term")
    course, exchange = base / "course", base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    people = [student(i) for i in range(1, 31)]
    with (base / "canvas.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A1 metrics (4242)"])
        w.writerow(["    Points Possible", "", "", "", "", "10"])
        for p in people:
            w.writerow([p["name"], p["id"], f"U{p['id']}", p["login"], "Lecture 1", ""])
    with (base / "moodle.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["First name", "Last name", "ID number", "Institution", "Department",
                    "Email address"])  # fmt: skip
        for i, p in enumerate(people, start=1):
            w.writerow(
                ["Given", f"Student{i:02d}", p["login"], "", "", f"{p['login']}@uni.example"]
            )
    now = datetime.now(UTC).replace(microsecond=0)
    due = now - timedelta(days=2, hours=12)
    return {"base": base, "course": course, "exchange": exchange, "people": people, "due": due}


def test_a_term_from_roster_to_export(term):
    base, course, exchange, due = term["base"], term["course"], term["exchange"], term["due"]
    c = str(course)
    # 1. roster, release with a deadline, an extension, hand-out
    assert "30 students" in cli("roster", "--course", c, "--from", str(base / "canvas.csv")).stdout
    cli(
        "release",
        A,
        "--course",
        c,
        "--due",
        due.isoformat(),
        "--late-penalty-per-day",
        str(PER_DAY),
    )
    cli(
        "extend",
        A,
        "--course",
        c,
        "--student",
        "s30",
        "--until",
        (due + timedelta(days=4)).isoformat(),
    )
    out = cli(
        "handout", A, "--course", c, "--exchange", str(exchange), "--course-id", COURSE_ID
    ).stdout
    assert f"handout/{A}.zip" in out
    with zipfile.ZipFile(course / "handout" / f"{A}.zip") as zf:
        assert f"{A}/{A}.ipynb" in zf.namelist()
        assert not any(b"BEGIN SOLUTION" in zf.read(n) for n in zf.namelist())

    reference = authoring.solutions(authoring.read_source(A))
    released = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)

    def notebook_of(i):
        return nbformat.writes(authoring.submission(released, answers_of(i, reference))).encode()

    # 2. the Canvas download: students 1-26, with late, resubmitted, misnamed and unknown files
    people = term["people"]
    entries = {}
    for i in range(1, 27):
        p = people[i - 1]
        late = "late_" if i in (3, 7) else ""
        name = f"{A}-Copy1.ipynb" if i == 9 else f"{A}.ipynb"
        entries[f"{p['canvas']}_{late}{p['id']}_{5000 + i}_{name}"] = notebook_of(i)
    # student 5 first uploaded the untouched template, then resubmitted (Canvas: "-1")
    first = f"{people[4]['canvas']}_{people[4]['id']}_5005_{A}.ipynb"
    entries[first] = nbformat.writes(released).encode()
    entries[f"{people[4]['canvas']}_{people[4]['id']}_6005_{A}-1.ipynb"] = notebook_of(5)
    entries[f"stranger_9999_7777_{A}.ipynb"] = notebook_of(1)
    entries[f"{people[9]['canvas']}_{people[9]['id']}_8000_notes.txt"] = b"my notes"
    with zipfile.ZipFile(base / "submissions.zip", "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    out = cli("collect", A, "--course", c, "--from", str(base / "submissions.zip")).stdout
    assert "collected 26 submissions" in out
    assert "stranger_9999_7777" in out and "9999 (stranger) is not on the roster" in out
    assert "notes.txt: not a notebook" in out
    assert "s09: renamed a1_metrics-Copy1.ipynb to a1_metrics.ipynb" in out
    assert "s03: marked late by Canvas without a time: counted as 1 day late" in out
    assert "superseded by" in out

    # 3. students 29 and 30 on JupyterHub: nbgrader's own fetch_assignment and submit
    for i in (29, 30):
        home = base / f"home{i}"
        home.mkdir()
        common = [
            "--course",
            COURSE_ID,
            f"--Exchange.root={exchange}",
            f"--Exchange.cache={home}/.cache",
        ]
        nbgrader("fetch_assignment", A, *common, cwd=home)
        (home / A / f"{A}.ipynb").write_bytes(notebook_of(i))
        nbgrader("submit", A, *common, f"--student=s{i}", cwd=home)
    out = cli("collect", A, "--course", c, "--from", str(exchange / COURSE_ID)).stdout
    assert "collected 2 submissions of a1_metrics (exchange)" in out

    # 4. one graded batch
    out = cli("grade", A, "--course", c, "--jobs", "2").stdout
    assert "graded 28 of 28 students" in out

    # 5. hand grading through nbgrader's API: an override with a comment, extra credit
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course), course_id=GRADEBOOK_COURSE) as gb:
        grade = gb.find_grade("test-counts", A, A, "s02")
        grade.manual_score = 1.0
        gb.find_comment("counts", A, A, "s02").manual_comment = "Right counts, wrong order."
        gb.find_grade("test-auc", A, A, "s04").extra_credit = 0.5
        gb.db.commit()
        assert gb.find_assignment(A).duedate == due.replace(tzinfo=None)  # release --due

    from autograder.grading.gradebook import read_grades

    grades = {g.student_id: g for g in read_grades(course, A)}
    assert sorted(grades) == sorted(f"s{i:02d}" for i in (*range(1, 27), 29, 30))
    assert all(g.status == "graded" for g in grades.values())
    assert grades["s02"].cells["test-counts"].manual == 1.0
    assert grades["s04"].cells["test-auc"].extra_credit == 0.5
    assert grades["s24"].cells["test-roc"].score == 0.0 < grades["s01"].cells["test-roc"].score

    # 6. penalties: Canvas's late mark is one started day; s29 submitted now, 3 days late
    def expected_penalty(days, g):
        return min(PER_DAY * 10 * days, g.raw_score)

    for who, days in (("s03", 1), ("s07", 1), ("s29", 3)):
        assert grades[who].penalty > 0
        assert grades[who].penalty == pytest.approx(expected_penalty(days, grades[who]))
        assert grades[who].score == pytest.approx(grades[who].raw_score - grades[who].penalty)
    on_time = [s for s in grades if s not in ("s03", "s07", "s29")]
    assert all(grades[s].penalty == 0 for s in on_time)  # s30 has an extension

    # 7. similarity: the planted copy is flagged; no two students who share no cell's style
    # are (students who share cells are: s24 left the ROC cell blank, so all of its answer
    # code is in s06's)
    from autograder.term import similarity

    cli("similarity", A, "--course", c)
    found = similarity.main(assignment=A, course=course)
    planted = next(p for p in found.pairs if (p.student_a, p.student_b) == ("s01", "s26"))
    assert planted in found.flagged and planted.score > 0.9

    def shared_style(a, b):
        sa, sb = styles_of(int(a[1:])), styles_of(int(b[1:]))
        return any(x == y for x, y in zip(sa, sb, strict=True))

    for pair in found.flagged:
        if (pair.student_a, pair.student_b) != ("s01", "s26"):
            assert shared_style(pair.student_a, pair.student_b), pair

    # 8. exports, cell by cell against the gradebook
    cli("export", A, "--course", c, "--format", "canvas", "--out", str(base / "canvas_import.csv"))
    with (base / "canvas_import.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "A1 metrics (4242)",
    ]
    assert len(rows) == 31
    for row in rows[1:]:
        p = next(p for p in people if p["login"] == row[3])
        assert row[:5] == [p["name"], p["id"], f"U{p['id']}", p["login"], "Lecture 1"]
        g = grades.get(row[3])
        assert row[5] == ("" if g is None else f"{round(g.score, 4):g}"), row
    assert {row[3] for row in rows[1:] if row[5] == ""} == {"s27", "s28"}  # no submission
    moodle = base / "moodle_import.csv"
    cli("export", A, "--course", c, "--format", "moodle", "--out", str(moodle),
        "--roster", str(base / "moodle.csv"))  # fmt: skip
    with moodle.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["ID number", "Email address", A]
    for login, email, value in rows[1:]:
        g = grades.get(login)
        assert email == f"{login}@uni.example"
        assert value == ("" if g is None else f"{round(g.score, 4):g}")
    plain = base / "plain.csv"
    cli("export", A, "--course", c, "--format", "csv", "--out", str(plain))
    with plain.open(newline="") as handle:
        table = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(table["s03"]["penalty"]) == grades["s03"].penalty
    assert table["s29"]["days_late"] == "3" and table["s03"]["days_late"] == "1"
    assert table["s30"]["days_late"] == "0" and table["s30"]["submitted_at"]  # extension
    assert float(table["s02"]["test-counts"]) == 1.0 and float(table["s02"]["manual"]) == 1.0

    # 9. feedback: through the exchange for the two JupyterHub students, a zip for Canvas
    cli("feedback", A, "--course", c)
    out = cli(
        "deliver", A, "--course", c, "--exchange", str(exchange), "--course-id", COURSE_ID
    ).stdout
    assert (
        "delivered 2 feedback pages" in out
        and out.count("not submitted through the exchange") == 26
    )
    home = base / "home29"
    nbgrader("fetch_feedback", A, "--course", COURSE_ID, f"--Exchange.root={exchange}",
             f"--Exchange.cache={home}/.cache", "--student=s29", cwd=home)  # fmt: skip
    fetched = list((home / A / "feedback").glob(f"*/{A}.html"))
    assert len(fetched) == 1 and "late" in fetched[0].read_text().lower()
    out = cli("deliver", A, "--course", c, "--zip", "canvas", "--out", str(base / "fb.zip")).stdout
    assert "delivered 26 feedback pages" in out
    with zipfile.ZipFile(base / "fb.zip") as zf:
        assert f"student03given_late_1003_5003_{A}_feedback.html" in zf.namelist()
        assert f"student05given_1005_6005_{A}_feedback.html" in zf.namelist()
