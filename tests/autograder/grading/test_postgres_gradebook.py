"""Does ``--db`` work with a gradebook that is not SQLite? A throwaway PostgreSQL server.

The server runs as the ``postgres`` user (PostgreSQL refuses root), listens on a Unix socket
only, in a temporary folder, and is removed afterwards. Its tests skip where PostgreSQL's server
programs or that user are missing (``.ci/run`` installs Debian's ``postgresql`` when it can).
"""

import csv
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder.grading import authoring, grade, state
from autograder.term import release

pytestmark = pytest.mark.slow  # a server, and subprocesses that import nbgrader

ASSIGNMENT = "a1_metrics"
#: Only names the socket file: with ``listen_addresses=''`` no TCP port is opened, so it is
#: free in the server's private socket folder even with other servers on the machine.
PORT = 5433


def _server_bin() -> Path | None:
    """The newest installed PostgreSQL's ``bin`` folder (Debian: /usr/lib/postgresql/15/bin)."""
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    for folder in sorted(versions, key=lambda f: float(f.parent.name), reverse=True):
        if all((folder / tool).exists() for tool in ("postgres", "initdb", "pg_ctl", "createdb")):
            return folder
    return None


@pytest.fixture(scope="module")
def postgres_url():
    """A SQLAlchemy URL of an empty database on a private server, stopped and deleted after."""
    folder = _server_bin()
    if folder is None:
        pytest.skip("PostgreSQL's server programs are not installed (Debian package postgresql)")
    if shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("starting PostgreSQL as the postgres user needs root and runuser")
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user to run the PostgreSQL server as")
    root = Path(tempfile.mkdtemp(prefix="pg-gradebook-"))  # short: socket paths are limited
    os.chown(root, user.pw_uid, user.pw_gid)
    data, log = root / "data", root / "server.log"
    as_postgres = ["runuser", "-u", "postgres", "--"]

    def pg_ctl(*args, **kwargs):
        return subprocess.run(
            [*as_postgres, str(folder / "pg_ctl"), "-D", str(data), *args], **kwargs
        )

    try:
        subprocess.run(
            [*as_postgres, str(folder / "initdb"), "-D", str(data), "-A", "trust"],
            check=True,
            capture_output=True,
        )
        started = pg_ctl(
            *("-o", f"-k {root} -p {PORT} -c listen_addresses=''", "-l", str(log)),
            *("-w", "-t", "60", "start"),
            stdout=subprocess.DEVNULL,  # the server must not inherit our pipes
            stderr=subprocess.DEVNULL,
            timeout=120,
        )
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text()[-2000:]}")
        subprocess.run(
            [*as_postgres, str(folder / "createdb"), "-h", str(root), "-p", str(PORT), "gradebook"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://postgres@/gradebook?host={root}&port={PORT}"
    finally:
        pg_ctl("-m", "immediate", "stop", capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _submit(course: Path, subs: Path) -> None:
    """ada: the reference solution; ben: the release untouched (as in test_grade.py)."""
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    solution = authoring.solutions(source)
    for student, code in (("ada", solution), ("ben", {})):
        nb = authoring.submission(released, code)
        (subs / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(nb, subs / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def _gradebook(url: str) -> dict:
    """{student: {grade cell: auto score}} and the row counts, read back through nbgrader."""
    from nbgrader.api import Grade, Gradebook, SubmittedAssignment

    with Gradebook(url) as gb:
        cells = {
            s.student.id: {g.name: g.auto_score for nb in s.notebooks for g in nb.grades}
            for s in gb.find_assignment(ASSIGNMENT).submissions
        }
        rows = (gb.db.query(SubmittedAssignment).count(), gb.db.query(Grade).count())
    return {"cells": cells, "rows": rows}


def _zero_scores(url: str, student: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        for nb in gb.find_submission(ASSIGNMENT, student).notebooks:
            for g in nb.grades:
                g.auto_score = 0.0
        gb.db.commit()


def test_release_grade_resume_force_feedback_and_report_on_a_postgresql_gradebook(
    postgres_url, tmp_path
):
    course, subs, csv_path = tmp_path / "course", tmp_path / "submitted", tmp_path / "g.csv"
    release.main(assignment=ASSIGNMENT, course=course, db_url=postgres_url)
    _submit(course, subs)
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course", str(course)]
    command += ["--submissions", str(subs), "--db", postgres_url, "--csv", str(csv_path)]
    out = subprocess.run(command, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]

    rows = {r["student_id"]: r for r in csv.DictReader(csv_path.open())}
    checks = list(rows["ada"])[5 : -len(grade.CSV_EXTRA)]  # the CSV's grade-cell columns
    from_csv = {s: {c: float(r[c]) for c in checks} for s, r in rows.items()}
    assert [float(rows[s]["score"]) for s in ("ada", "ben")] == [10, 0]
    expected = {"cells": from_csv, "rows": (2, 2 * len(checks))}
    assert _gradebook(postgres_url) == expected
    assert not (course / "gradebook.db").exists()  # nothing fell back to SQLite

    # killed after ada's gradebook write, before her result marker: the rerun regrades her
    _zero_scores(postgres_url, "ada")
    state.remove_record(course, ASSIGNMENT, "ada")
    regraded = []
    options = {"assignment": ASSIGNMENT, "submissions": subs, "course": course}
    options["db_url"] = postgres_url
    grade.main(**options, progress=lambda n, t, r: regraded.append(r.student_id))
    assert regraded == ["ada"]
    assert _gradebook(postgres_url) == expected  # her row updated, not added again

    _zero_scores(postgres_url, "ben")
    _zero_scores(postgres_url, "ada")
    grade.main(**options, force=True, progress=lambda *a: None)
    assert _gradebook(postgres_url) == expected
    assert state.load_record(course, ASSIGNMENT, "ada").result.cells == from_csv["ada"]

    # feedback and report read the same PostgreSQL gradebook through --db; nothing falls back
    # to (or creates) a SQLite file beside the course
    cli = [sys.executable, "-m", "autograder"]
    where = [ASSIGNMENT, "--course", str(course), "--db", postgres_url]
    for command in ("feedback", "report"):
        out = subprocess.run([*cli, command, *where], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
    page = (course / "feedback" / "ada" / ASSIGNMENT / "feedback.html").read_text()
    assert "10 of 10 points" in page
    assert (
        "0 of 10 points" in (course / "feedback" / "ben" / ASSIGNMENT / "feedback.html").read_text()
    )
    report_md = (course / "reports" / ASSIGNMENT / "report.md").read_text()
    assert "2 graded, 0 failed or stale" in report_md
    assert "mean 5.00" in report_md  # ada 10, ben 0: the database's scores
    assert not (course / "gradebook.db").exists()
    for command in ("feedback", "report"):  # without --db: the course's SQLite file is missing
        out = subprocess.run([*cli, command, ASSIGNMENT, "--course", str(course)],
                             capture_output=True, text=True)  # fmt: skip
        assert out.returncode == 2 and "no gradebook at" in out.stderr, out.stderr[-2000:]
        assert str(course / "gradebook.db") in out.stderr and "Traceback" not in out.stderr
        assert not (course / "gradebook.db").exists()


def _fake_release(course: Path, subs: Path, assignment: str) -> None:
    """Just enough of a course for ``grade.main`` to reach the gradebook."""
    (course / "source" / assignment).mkdir(parents=True)
    (course / "source" / assignment / f"{assignment}.ipynb").write_text("{}")
    subs.mkdir()


def test_grading_into_a_database_without_the_release_stops_before_grading(postgres_url, tmp_path):
    course, subs = tmp_path / "course", tmp_path / "submitted"
    _fake_release(course, subs, "a2_backprop")  # never released into this database
    with pytest.raises(ValueError, match=r"has no assignment 'a2_backprop'.*release a2_backprop"):
        grade.main(assignment="a2_backprop", submissions=subs, course=course, db_url=postgres_url)
    assert not (course / "autograded").exists()


BAD_URLS = [
    ("not a url", r"--db must be a SQLAlchemy URL, got 'not a url'"),
    (
        "postgresql+psycopg2://grader:s3cret@/gradebook?host=/nonexistent&port=1",
        r"cannot open the gradebook postgresql\+psycopg2://grader:\*\*\*@/gradebook.*"
        r"/nonexistent/\.s\.PGSQL\.1",
    ),
    ("nosuchdb://x/y", r"cannot open the gradebook nosuchdb://x/y: Can't load plugin"),
]


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_grade_names_a_gradebook_it_cannot_open_without_its_password(url, message, tmp_path):
    course, subs = tmp_path / "course", tmp_path / "submitted"
    _fake_release(course, subs, ASSIGNMENT)
    with pytest.raises(ValueError, match=message) as error:
        grade.main(assignment=ASSIGNMENT, submissions=subs, course=course, db_url=url)
    assert "s3cret" not in str(error.value)
    assert not (course / "gradebook.db").exists() and not (course / "autograded").exists()


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_release_names_a_gradebook_it_cannot_open_without_its_password(url, message, tmp_path):
    command = [sys.executable, "-m", "autograder", "release", ASSIGNMENT]
    out = subprocess.run(
        [*command, "--course", str(tmp_path / "course"), "--db", url],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and re.search(message, out.stderr), out.stderr[-2000:]
    assert "s3cret" not in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "course" / "release").exists()
