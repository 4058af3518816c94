"""Through nbgrader's exchange, as on JupyterHub: handout, the students' own ``nbgrader
fetch_assignment`` / ``submit``, ``collect`` with their times, feedback back by
``fetch_feedback``; and the LMS zips (hand-out without solutions, feedback named for the LMS)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.grading import deadlines
from autograder.term import collect, delivery, handout
from tests.autograder.term.test_term_intake import STUDENTS, canvas_roster, notebook

A = "a1_metrics"
COURSE_ID = "ml101"


def nbgrader(*args, cwd, cache):
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONWARNINGS": "ignore"}
    command = [str(Path(sys.executable).with_name("nbgrader")), *args, f"--Exchange.cache={cache}"]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def course(tmp_path_factory, released_course):
    course = tmp_path_factory.mktemp("exchange") / "course"
    released_course(A, course)
    return course


def test_handout_zip_holds_the_release_and_no_solution(course, tmp_path):
    done = handout.main(assignment=A, course=course, zip_path=tmp_path / "h.zip")
    with zipfile.ZipFile(done.zip_path) as zf:
        names = zf.namelist()
        text = b"".join(zf.read(n) for n in names)
    assert f"{A}/{A}.ipynb" in names and len(names) == len(done.files)
    assert sorted(n.removeprefix(f"{A}/") for n in names) == sorted(done.files)
    assert b"BEGIN SOLUTION" not in text and b"HIDDEN TESTS" not in text
    (course / "release" / A / "leak.py").write_text("### BEGIN HIDDEN TESTS\n")
    try:
        with pytest.raises(ValueError, match="leak.py contains '### BEGIN HIDDEN TESTS'"):
            handout.main(assignment=A, course=course, zip_path=tmp_path / "h2.zip")
    finally:
        (course / "release" / A / "leak.py").unlink()
    with pytest.raises(ValueError, match="'a9' is not released"):
        handout.main(assignment="a9", course=course)


def _pages_as_written(monkeypatch):
    """The pages on disk taken as ``feedback`` would write them now: the exchange's and the
    zips' handling is tested here, the pages' being written from the gradebook when delivered
    in the term scenario's ``test_8_deliver_current``."""
    monkeypatch.setattr(delivery, "current_pages", lambda c, a, *_: delivery._pages(c, a))


def test_exchange_round_trip_fetch_submit_collect_feedback(course, tmp_path, monkeypatch):
    _pages_as_written(monkeypatch)
    root = tmp_path / "exchange"
    root.mkdir()
    root.chmod(0o777)
    done = handout.main(assignment=A, course=course, exchange=root, course_id=COURSE_ID)
    assert (done.exchange / f"{A}.ipynb").exists()
    for student in ("jdoe", "rroe"):
        home, cache = tmp_path / student, tmp_path / f"{student}-cache"
        home.mkdir()
        common = ["--course", COURSE_ID, f"--Exchange.root={root}"]
        nbgrader("fetch_assignment", A, *common, cwd=home, cache=cache)
        assert (home / A / f"{A}.ipynb").exists()
        nbgrader("submit", A, *common, f"--student={student}", cwd=home, cache=cache)
    got = collect.main(assignment=A, source=root / COURSE_ID, course=course)
    assert sorted(c.student_id for c in got.collected) == ["jdoe", "rroe"]
    assert all(c.kind == "exchange" and c.submitted_at for c in got.collected)
    folder = course / "submitted" / "jdoe" / A
    assert deadlines.read_timestamp(folder) == got.collected[0].submitted_at
    assert (folder / "submission_secret.txt").exists()
    # feedback pages as `feedback` writes them, then delivered and fetched by the student
    for student in ("jdoe", "rroe", "epoe"):
        page = course / "feedback" / student / A / "feedback.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<p>feedback for {student}</p>")
    sent = delivery.main(assignment=A, course=course, exchange=root, course_id=COURSE_ID)
    assert sent.delivered == ("jdoe", "rroe")
    assert sent.not_delivered == (
        ("epoe", "not submitted through the exchange (no submission secret)"),
    )
    home, cache = tmp_path / "jdoe", tmp_path / "jdoe-cache"
    nbgrader("fetch_feedback", A, "--course", COURSE_ID, f"--Exchange.root={root}",
             "--student=jdoe", cwd=home, cache=cache)  # fmt: skip
    fetched = list((home / A / "feedback").glob(f"*/{A}.html"))
    assert len(fetched) == 1 and "feedback for jdoe" in fetched[0].read_text()
    # nbgrader's own release_feedback now works on the course's folders (it crashed before)
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}
    own = subprocess.run(
        [str(Path(sys.executable).with_name("nbgrader")), "release_feedback", A,
         f"--CourseDirectory.root={course}", "--course", COURSE_ID, f"--Exchange.root={root}",
         "--student=jdoe"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert own.returncode == 0, own.stderr


def test_feedback_zip_named_for_canvas_and_moodle(tmp_path, monkeypatch):
    _pages_as_written(monkeypatch)
    course = tmp_path / "course"
    z = tmp_path / "subs.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(f"doejane_101_5001_{A}.ipynb", notebook("x"))
        zf.writestr(f"roerick_late_102_5002_{A}.ipynb", notebook("y"))
    collect.main(
        assignment=A, source=z, course=course, roster=canvas_roster(tmp_path / "r.csv", STUDENTS)
    )
    moodle = tmp_path / "moodle" / "Edgar Poe_88_assignsubmission_file_"
    moodle.mkdir(parents=True)
    (moodle / f"{A}.ipynb").write_bytes(notebook("z"))
    with (tmp_path / "m.csv").open("w") as handle:
        handle.write("First name,Last name,ID number,Email address\nEdgar,Poe,epoe,e@x.org\n")
    collect.main(assignment=A, source=tmp_path / "moodle", course=course, roster=tmp_path / "m.csv")
    for student in ("jdoe", "rroe", "epoe"):
        page = course / "feedback" / student / A / "feedback.html"
        page.parent.mkdir(parents=True)
        page.write_text(student)
    canvas = delivery.main(assignment=A, course=course, lms="canvas", out=tmp_path / "c.zip")
    with zipfile.ZipFile(canvas.target) as zf:
        assert sorted(zf.namelist()) == [
            f"doejane_101_5001_{A}_feedback.html",
            f"roerick_late_102_5002_{A}_feedback.html",
        ]
        assert zf.read(f"doejane_101_5001_{A}_feedback.html") == b"jdoe"
    assert canvas.not_delivered == (("epoe", "not collected from canvas (moodle): no canvas name"),)
    moodle_zip = delivery.main(assignment=A, course=course, lms="moodle", out=tmp_path / "m.zip")
    with zipfile.ZipFile(moodle_zip.target) as zf:
        assert zf.namelist() == ["Edgar Poe_88_assignsubmission_file_/feedback.html"]
    with pytest.raises(ValueError, match="exactly one of --exchange ROOT and --zip"):
        delivery.main(assignment=A, course=course)


@pytest.mark.skipif(os.geteuid() != 0, reason="making another account's folder needs root")
def test_an_exchange_folder_of_another_account_is_refused_and_the_real_one_stays_newest(tmp_path):
    """``s101+a1_metrics+<later>+x`` made by another account (here ``nobody``) is refused and
    named; s101's real submission (made by the collecting account) stays the newest, and a
    folder ``nobody`` made under its own name is collected as usual."""
    import pwd

    other = pwd.getpwnam("nobody")
    inbound = tmp_path / "exchange" / COURSE_ID / "inbound"

    def send(student, when, text, owner=None):
        folder = inbound / f"{student}+{A}+{when} UTC+r{len(text)}"
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_bytes(notebook(text))
        (folder / "timestamp.txt").write_text(f"{when} UTC")
        for path in (folder, folder / f"{A}.ipynb", folder / "timestamp.txt") if owner else ():
            os.chown(path, owner.pw_uid, owner.pw_gid)

    send("rroe", "2026-12-01 09:00:00.000000", "rick")
    send("s101", "2026-12-01 10:00:00.000000", "the real one")
    send("s101", "2026-12-05 10:00:00.000000", "forged by nobody", owner=other)
    send("nobody", "2026-12-01 11:00:00.000000", "nobody's own", owner=other)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "collect", A, "--course", str(tmp_path / "c"),
         "--from", str(inbound.parent)], capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "collected 3 submissions" in done.stdout

    def text_of(student):
        return (tmp_path / "c" / "submitted" / student / A / f"{A}.ipynb").read_text()

    assert "the real one" in text_of("s101") and "rick" in text_of("rroe")
    assert "nobody's own" in text_of("nobody")
    assert "exchange folder of 's101' owned by nobody, not by s101: refused" in done.stdout
    assert "superseded" not in done.stdout  # the real one is not "superseded (later)"
