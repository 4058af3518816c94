"""Roster import, deadlines and late penalties, and ``collect`` from Canvas, Moodle, nbgrader."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder.grading import deadlines
from autograder.term import collect, roster

A = "a1_metrics"
DUE = datetime(2026, 12, 1, 23, 59, tzinfo=timezone(timedelta(hours=1)))


def notebook(marker: str) -> bytes:
    cell = {"cell_type": "code", "metadata": {}, "source": marker, "outputs": [],
            "execution_count": None}  # fmt: skip
    return json.dumps(
        {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    ).encode()


def canvas_roster(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """rows: (name "Last, First", canvas id, sis user id, sis login id)."""
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A1 metrics (901)"])
        w.writerow(["    Points Possible", "", "", "", "", "10"])
        for name, cid, sis, login in rows:
            w.writerow([name, cid, sis, login, "Section 1", ""])
    return path


def moodle_roster(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """rows: (first, last, id number, email)."""
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["First name", "Last name", "ID number", "Institution", "Department",
                    "Email address", "Assignment: a1_metrics (Real)"])  # fmt: skip
        for first, last, idn, email in rows:
            w.writerow([first, last, idn, "", "", email, "-"])
    return path


STUDENTS = [("Doe, Jane", "101", "S1", "jdoe"), ("Roe, Rick", "102", "S2", "rroe"),
            ("Poe, Edgar", "103", "S3", "epoe")]  # fmt: skip


def test_canvas_roster_skips_points_possible_and_uses_sis_login_id(tmp_path):
    r = roster.read_roster(canvas_roster(tmp_path / "r.csv", STUDENTS))
    assert r.kind == "canvas" and r.id_column == "SIS Login ID"
    assert r.ids == ["jdoe", "rroe", "epoe"]
    assert r.by_lms_id("102")[0].student_id == "rroe"
    other = roster.read_roster(tmp_path / "r.csv", id_column="SIS User ID")
    assert other.ids == ["S1", "S2", "S3"]


def test_roster_lists_duplicates_and_empty_ids_by_name(tmp_path):
    rows = [*STUDENTS, ("Doe, John", "104", "S4", "jdoe"), ("Student, Test", "105", "", "")]
    r = roster.read_roster(canvas_roster(tmp_path / "r.csv", rows))
    assert r.ids == ["jdoe", "rroe", "epoe"]
    assert any("Doe, John" in p and "already belongs to Doe, Jane" in p for p in r.problems)
    assert any("Student, Test" in p and "no SIS Login ID" in p for p in r.problems)


@pytest.mark.parametrize(
    "bad", ["-rf", ".hidden", "a/b", "x y", "é", "a" * 65, "../up", "_lead", "@lead"]
)
def test_roster_refuses_an_id_outside_the_character_set_by_name(tmp_path, bad):
    """The roster's rule is the grader's (``names``): an id it accepts, ``grade`` accepts."""
    from autograder import names

    assert not names.is_student_id(bad)
    path = canvas_roster(tmp_path / "r.csv", [("Bad, Name", "1", "S", bad)])
    with pytest.raises(ValueError, match=r"Bad, Name.*not a valid student id"):
        roster.read_roster(path)
    ok = canvas_roster(tmp_path / "ok.csv", [("Good, Name", "1", "S", "j.doe_2@uni-x")])
    assert roster.read_roster(ok).ids == ["j.doe_2@uni-x"] and names.is_student_id("j.doe_2@uni-x")


def test_moodle_roster_and_unknown_layout(tmp_path):
    r = roster.read_roster(moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "1001", "j@x.org")]))
    assert (r.kind, r.ids, r.students[0].name) == ("moodle", ["1001"], "Jane Doe")
    (tmp_path / "x.csv").write_text("name,score\nx,1\n")
    with pytest.raises(ValueError, match="neither a Canvas"):
        roster.read_roster(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="no column 'Login'"):
        roster.read_roster(tmp_path / "m.csv", id_column="Login")


def test_due_dates_without_a_zone_are_refused():
    with pytest.raises(ValueError, match="no time zone"):
        deadlines.parse_time("2026-12-01T23:59")
    with pytest.raises(ValueError, match="ISO-8601"):
        deadlines.parse_time("next friday")
    assert deadlines.parse_time("2026-12-01T22:59Z") == DUE


def test_late_penalty_counts_started_days_and_caps_at_points_earned(tmp_path):
    p = deadlines.set_policy(tmp_path, A, due=DUE.isoformat(), late_penalty_per_day=0.1)
    policy = deadlines.load_policy(tmp_path)
    assert policy.get(A) == p

    def penalty(delta, earned=10.0):
        return deadlines.late_penalty(policy, A, "jdoe", DUE + delta, earned, 10.0)

    assert penalty(timedelta(seconds=0)) == deadlines.Penalty(0, 0.0)
    assert penalty(timedelta(seconds=1)) == deadlines.Penalty(1, 1.0)
    assert penalty(timedelta(days=1)) == deadlines.Penalty(1, 1.0)
    assert penalty(timedelta(days=1, seconds=1)) == deadlines.Penalty(2, 2.0)
    assert penalty(timedelta(days=30), earned=4.0) == deadlines.Penalty(30, 4.0)
    assert deadlines.late_penalty(policy, A, "jdoe", None, 10, 10) == deadlines.Penalty(0, 0.0)
    deadlines.set_extension(tmp_path, A, "jdoe", (DUE + timedelta(days=2)).isoformat())
    policy = deadlines.load_policy(tmp_path)
    late = deadlines.late_penalty(policy, A, "jdoe", DUE + timedelta(days=1), 10, 10)
    assert late == deadlines.Penalty(0, 0.0)
    assert deadlines.late_penalty(policy, A, "rroe", DUE + timedelta(days=1), 10, 10).days_late == 1
    with pytest.raises(ValueError, match="late_penalty_per_day must be a fraction"):
        deadlines.set_policy(tmp_path, A, late_penalty_per_day=1.5)


def test_timestamp_round_trips_through_nbgrader_parser(tmp_path):
    from nbgrader.utils import parse_utc

    moment = datetime(2026, 12, 2, 10, 30, 15, 123456, tzinfo=UTC)
    deadlines.write_timestamp(tmp_path, moment)
    text = (tmp_path / "timestamp.txt").read_text()
    assert text == "2026-12-02 10:30:15.123456 UTC"
    assert parse_utc(text) == moment.replace(tzinfo=None)
    assert deadlines.read_timestamp(tmp_path) == moment
    assert deadlines.read_timestamp(tmp_path / "nowhere") is None


def test_late_penalty_plugin_is_what_nbgrader_calls(tmp_path):
    """nbgrader's AssignLatePenalties creates the plugin with itself as parent and asks it."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import Config

    deadlines.set_policy(tmp_path, A, due=DUE, late_penalty_per_day=0.25)

    class Found:
        duedate = DUE.astimezone(UTC).replace(tzinfo=None)
        max_score = 8.0

    class Submission:
        timestamp = Found.duedate + timedelta(days=1, hours=1)  # 2 started days

    class Book:
        def find_assignment(self, name):
            return Found

        def find_submission(self, name, student):
            return Submission

    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.AssignLatePenalties.plugin_class = "autograder.grading.deadlines.LatePenalty"
    parent = AssignLatePenalties(config=config)
    parent.assignment_id, parent.gradebook = A, Book()
    parent.init_plugin()
    assert isinstance(parent.plugin_inst, deadlines.LatePenalty)
    assert parent.plugin_inst.late_submission_penalty("jdoe", 7.0, 90000) == 4.0
    assert parent.plugin_inst.late_submission_penalty("jdoe", 3.0, 90000) == 3.0


# --- collect -------------------------------------------------------------------------------


def canvas_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def submitted(course: Path, student: str) -> Path:
    return course / "submitted" / student / A


def test_collect_canvas_zip_latest_wins_late_counted_unknown_listed(tmp_path):
    course = tmp_path / "course"
    deadlines.set_policy(course, A, due=DUE, late_penalty_per_day=0.1)
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    z = canvas_zip(tmp_path / "subs.zip", {
        "doejane_101_5001_a1_metrics.ipynb": notebook("jane first"),
        "doejane_101_5007_a1_metrics-1.ipynb": notebook("jane resubmitted"),
        "roerick_late_102_5003_a1_metrics.ipynb": notebook("rick late"),
        "poeedgar_103_5004_a1_metrics-Copy1.ipynb": notebook("edgar misnamed"),
        "nobody_999_5005_a1_metrics.ipynb": notebook("unknown"),
        "doejane_101_5006_notes.pdf": b"%PDF",
        "__MACOSX/._doejane_101_5001_a1_metrics.ipynb": b"junk",
    })  # fmt: skip
    result = collect.main(assignment=A, source=z, course=course, roster=r)
    got = {c.student_id: c for c in result.collected}
    assert sorted(got) == ["epoe", "jdoe", "rroe"]
    assert (
        json.loads((submitted(course, "jdoe") / f"{A}.ipynb").read_text())["cells"][0]["source"]
        == "jane resubmitted"
    )
    assert not (submitted(course, "jdoe") / "timestamp.txt").exists()
    # late without a time: the mark, read against the due date whenever the grade is read
    assert deadlines.read_timestamp(submitted(course, "rroe")) is None
    assert deadlines.has_late_mark(submitted(course, "rroe"))
    assert not deadlines.has_late_mark(submitted(course, "jdoe"))
    assert "counted as 1 day late" in got["rroe"].note
    assert "renamed a1_metrics-Copy1.ipynb" in got["epoe"].note
    reasons = {s.source: s.reason for s in result.skipped}
    assert "superseded" in reasons["doejane_101_5001_a1_metrics.ipynb"]
    assert "999" in reasons["nobody_999_5005_a1_metrics.ipynb"]
    assert "not on the roster" in reasons["nobody_999_5005_a1_metrics.ipynb"]
    assert "not a notebook" in reasons["doejane_101_5006_notes.pdf"]
    assert any(s.startswith("__MACOSX") for s in reasons)
    assert result.ok and result.files_seen == 7


def test_collect_moodle_folders_match_names_on_the_roster(tmp_path):
    course = tmp_path / "course"
    r = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "1001", "j@x.org"),
                                           ("Rick", "Roe", "1002", "r@x.org")])  # fmt: skip
    src = tmp_path / "moodle"
    (src / "Jane Doe_77_assignsubmission_file_").mkdir(parents=True)
    (src / "Jane Doe_77_assignsubmission_file_" / f"{A}.ipynb").write_bytes(notebook("jane"))
    (src / "Zed Zee_78_assignsubmission_file_").mkdir()
    (src / "Zed Zee_78_assignsubmission_file_" / f"{A}.ipynb").write_bytes(notebook("zed"))
    result = collect.main(assignment=A, source=src, course=course, roster=r)
    assert [c.student_id for c in result.collected] == ["1001"]
    assert any("Zed Zee" in s.reason and "not on the roster" in s.reason for s in result.skipped)


def test_collect_exchange_inbound_keeps_nbgrader_times_latest_wins(tmp_path):
    course = tmp_path / "course"
    inbound = tmp_path / "exchange" / "course101" / "inbound"
    times = ["2026-12-01 10:00:00.000000 UTC", "2026-12-02 09:00:00.000000 UTC"]
    for i, ts in enumerate(times):
        folder = inbound / f"jdoe+{A}+{ts}+rnd{i}"
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_bytes(notebook(f"take {i}"))
        (folder / "timestamp.txt").write_text(ts)
    (inbound / f"rroe+a2_backprop+{times[0]}+x").mkdir()
    (inbound / f"rroe+a2_backprop+{times[0]}+x" / "a2_backprop.ipynb").write_bytes(notebook(""))
    result = collect.main(assignment=A, source=inbound.parent, course=course)
    assert [(c.student_id, c.kind) for c in result.collected] == [("jdoe", "exchange")]
    assert deadlines.read_timestamp(submitted(course, "jdoe")) == datetime(
        2026, 12, 2, 9, tzinfo=UTC
    )
    text = (submitted(course, "jdoe") / f"{A}.ipynb").read_text()
    assert "take 1" in text
    assert any("a2_backprop" in s.reason for s in result.skipped)


def test_collect_reports_an_exchange_time_earlier_than_the_file_and_bad_timestamps(tmp_path):
    course, inbound = tmp_path / "course", tmp_path / "ex" / "c" / "inbound"
    claimed = datetime.now(UTC) - timedelta(days=2)
    stamp = claimed.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    folder = inbound / f"jdoe+{A}+{stamp}+r"
    folder.mkdir(parents=True)
    (folder / f"{A}.ipynb").write_bytes(notebook("written now"))
    deadlines.write_timestamp(folder, claimed)
    broken = inbound / f"rroe+{A}+{stamp}+r"
    broken.mkdir()
    (broken / f"{A}.ipynb").write_bytes(notebook("x"))
    (broken / "timestamp.txt").write_text("yesterday-ish")
    result = collect.main(assignment=A, source=inbound.parent, course=course)
    (jane,) = result.collected
    assert jane.submitted_at == claimed  # kept, but a person is asked to look
    assert "but the file was written at" in jane.note and jane.note.endswith("check")
    assert any("not a timestamp nbgrader can read" in s.reason for s in result.skipped)
    copied = tmp_path / "copy.zip"  # a copy has new change times: not checked
    with zipfile.ZipFile(copied, "w") as zf:
        zf.write(folder / f"{A}.ipynb", f"inbound/{folder.name}/{A}.ipynb")
        zf.write(folder / "timestamp.txt", f"inbound/{folder.name}/timestamp.txt")
    assert collect.main(assignment=A, source=copied, course=tmp_path / "c2").collected[0].note == ""


def test_collect_flat_folder_refuses_bad_names_and_fails_when_nothing_matched(tmp_path):
    course, src = tmp_path / "course", tmp_path / "flat"
    src.mkdir()
    (src / "-rf.ipynb").write_bytes(notebook(""))
    (src / "notes.txt").write_text("x")
    result = collect.main(assignment=A, source=src, course=course)
    assert not result.collected and not result.ok
    assert any("not a valid student id" in s.reason for s in result.skipped)
    (src / "jdoe.ipynb").write_bytes(notebook("flat"))
    assert [
        c.student_id for c in collect.main(assignment=A, source=src, course=course).collected
    ] == ["jdoe"]


def test_a_student_not_on_the_roster_is_set_aside_never_collected(tmp_path):
    """A stranger's zed.ipynb beside the roster's students was collected (and graded) though
    the README says a file of someone not on the roster is not collected: with a roster, it
    is listed with why and nothing of it lands in the course; the roster's student is
    collected beside it."""
    course, src = tmp_path / "course", tmp_path / "flat"
    src.mkdir()
    (src / "jdoe.ipynb").write_bytes(notebook("honest"))
    (src / "zed.ipynb").write_bytes(notebook("not on the roster"))
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    result = collect.main(assignment=A, source=src, course=course, roster=r)
    assert [c.student_id for c in result.collected] == ["jdoe"]
    (zed,) = [s for s in result.skipped if s.source == "zed.ipynb"]
    assert "zed is not on the roster: not collected" in zed.reason
    assert not (course / "submitted" / "zed").exists()
    assert submitted(course, "jdoe").joinpath(f"{A}.ipynb").read_bytes() == notebook("honest")


def test_collect_zip_refuses_traversal_links_and_oversized_entries(tmp_path, monkeypatch):
    course = tmp_path / "course"
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../escape.ipynb", notebook("x"))
        zf.writestr("/abs.ipynb", notebook("x"))
        link = zipfile.ZipInfo("jdoe.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("big.ipynb", b"x" * 2000)
        zf.writestr("rroe.ipynb", notebook("fine"))
    monkeypatch.setattr(collect, "MAX_FILE_BYTES", 1000)
    result = collect.main(assignment=A, source=z, course=course)
    assert [c.student_id for c in result.collected] == ["rroe"]
    reasons = " | ".join(f"{s.source}: {s.reason}" for s in result.skipped)
    assert "unsafe path" in reasons and "symbolic link" in reasons and "over 1000" in reasons
    assert not (tmp_path / "escape.ipynb").exists()
    assert not (course / "submitted" / "jdoe").exists()


def test_collect_an_older_download_never_replaces_a_newer_submission(tmp_path):
    course = tmp_path / "course"
    for day, text in ((2, "newer"), (1, "older")):
        src = tmp_path / f"d{day}" / "jdoe" / A
        src.mkdir(parents=True)
        (src / f"{A}.ipynb").write_bytes(notebook(text))
        deadlines.write_timestamp(src, datetime(2026, 12, day, tzinfo=UTC))
        result = collect.main(assignment=A, source=tmp_path / f"d{day}", course=course)
    assert (
        not result.collected
        and "older than the submission collected before" in result.skipped[0].reason
    )
    assert "newer" in (submitted(course, "jdoe") / f"{A}.ipynb").read_text()


def test_collect_cli_names_bad_input_and_exit_status(tmp_path):
    def run(*args):
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                              text=True, env=env)  # fmt: skip

    course = tmp_path / "c"
    missing = run("collect", A, "--course", str(course), "--from", str(tmp_path / "nope.zip"))
    assert missing.returncode == 2 and "nope.zip does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    none = run("collect", A, "--course", str(course), "--from", str(tmp_path / "empty"))
    assert none.returncode == 1 and "readme.md: not a notebook" in none.stdout
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    ok = run("roster", "--course", str(course), "--from", str(r))
    assert ok.returncode == 0 and "3 students" in ok.stdout
    z = canvas_zip(tmp_path / "s.zip", {"doejane_101_1_a1_metrics.ipynb": notebook("x")})
    done = run("collect", A, "--course", str(course), "--from", str(z))  # the course's roster
    assert done.returncode == 0 and "collected 1 submission of" in done.stdout
    bad = run("release", A, "--course", str(course), "--due", "2026-12-01 23:59")
    assert bad.returncode == 2 and "no time zone" in bad.stderr


def test_csv_roster_text_is_read_with_a_bom(tmp_path):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
                                  ["Doe, Jane", "1", "S1", "jdoe", "A"]])  # fmt: skip
    (tmp_path / "r.csv").write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())
    assert roster.read_roster(tmp_path / "r.csv").ids == ["jdoe"]


# --- identity at intake, the newest upload, re-collecting (issue 20 class 2, issue 21) ----


def cli(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip


def text_of(course: Path, student: str) -> str:
    return json.loads((submitted(course, student) / f"{A}.ipynb").read_text())["cells"][0]["source"]


@pytest.mark.parametrize("given", ["zip", "folder"])
def test_a_moodle_participants_folder_is_theirs_whatever_it_nests(tmp_path, given):
    """A student's Moodle folder holding ``s101/a1_metrics/a1_metrics.ipynb`` + ``timestamp.txt``
    (an nbgrader tree) or ``s101+a1_metrics+TIME+x/`` (an exchange folder) never becomes s101's
    submission or time; the honest participants around it are collected as usual."""
    course, src = tmp_path / "course", tmp_path / "moodle"
    r = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "1001", "j@x.org"),
                                           ("Rick", "Roe", "s101", "r@x.org"),
                                           ("Edgar", "Poe", "1003", "e@x.org")])  # fmt: skip
    jane, rick, edgar = (src / f"{n}_assignsubmission_file_"
                         for n in ("Jane Doe_77", "Rick Roe_78", "Edgar Poe_79"))  # fmt: skip
    (jane / "s101" / A).mkdir(parents=True)
    (jane / "s101" / A / f"{A}.ipynb").write_bytes(notebook("planted by jane"))
    deadlines.write_timestamp(jane / "s101" / A, datetime(2030, 1, 1, tzinfo=UTC))
    rick.mkdir()
    (rick / f"{A}.ipynb").write_bytes(notebook("rick's own"))
    exchange_like = edgar / f"s101+{A}+2030-01-01 00:00:00.000000 UTC+x"
    exchange_like.mkdir(parents=True)
    (exchange_like / f"{A}.ipynb").write_bytes(notebook("planted by edgar"))
    (exchange_like / "timestamp.txt").write_text("2030-01-01 00:00:00.000000 UTC")
    if given == "zip":  # Moodle's "Download all submissions"
        with zipfile.ZipFile(tmp_path / "moodle.zip", "w") as zf:
            for path in sorted(p for p in src.rglob("*") if p.is_file()):
                zf.write(path, path.relative_to(src).as_posix())
        src = tmp_path / "moodle.zip"
    done = cli("collect", A, "--course", str(course), "--from", str(src), "--roster", str(r))
    assert done.returncode == 0, done.stderr
    assert text_of(course, "s101") == "rick's own"
    assert not (submitted(course, "s101") / "timestamp.txt").exists()
    assert text_of(course, "1001") == "planted by jane"  # her own upload, nobody else's
    assert text_of(course, "1003") == "planted by edgar"
    assert (
        "1001: found at s101/a1_metrics/a1_metrics.ipynb in the participant's folder" in done.stdout
    )
    assert "timestamp.txt a Moodle participant uploaded: ignored" in done.stdout
    assert not any(p.name == "timestamp.txt" for p in (course / "submitted").rglob("*"))


def test_two_moodle_participants_of_one_roster_student_are_refused_and_listed(tmp_path):
    course, src = tmp_path / "course", tmp_path / "moodle"
    r = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "1001", "j@x.org"),
                                           ("Rick", "Roe", "1002", "r@x.org")])  # fmt: skip
    for folder, text in (("Jane Doe_77", "jane 77"), ("jane  DOE_91", "jane 91"),
                         ("Rick Roe_78", "rick")):  # fmt: skip
        (src / f"{folder}_assignsubmission_file_").mkdir(parents=True)
        (src / f"{folder}_assignsubmission_file_" / f"{A}.ipynb").write_bytes(notebook(text))
    done = cli("collect", A, "--course", str(course), "--from", str(src), "--roster", str(r))
    assert done.returncode == 0, done.stderr
    assert not submitted(course, "1001").exists()  # neither wins silently
    assert text_of(course, "1002") == "rick"
    refused = [
        line for line in done.stdout.splitlines() if "all map to roster student 1001" in line
    ]
    assert len(refused) == 2
    assert all("Moodle participant 77 (Jane Doe)" in x and "participant 91" in x for x in refused)


def test_same_named_moodle_students_are_listed_or_told_apart_by_the_grading_worksheet(tmp_path):
    course, src = tmp_path / "course", tmp_path / "moodle"
    r = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "1001", "jane.a@x.org"),
                                           ("Jane", "Doe", "1003", "jane.b@x.org"),
                                           ("Rick", "Roe", "1002", "r@x.org")])  # fmt: skip
    for folder, text in (("Jane Doe_77", "jane 77"), ("Jane Doe_78", "jane 78"),
                         ("Rick Roe_80", "rick")):  # fmt: skip
        (src / f"{folder}_assignsubmission_file_").mkdir(parents=True)
        (src / f"{folder}_assignsubmission_file_" / f"{A}.ipynb").write_bytes(notebook(text))
    base = ["collect", A, "--course", str(course), "--from", str(src), "--roster", str(r)]
    listed = cli(*base)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("matches several students on the roster (1001, 1003)") == 2
    assert "--participants" in listed.stdout and not submitted(course, "1001").exists()
    worksheet = tmp_path / "worksheet.csv"  # Moodle's grading worksheet, as downloaded
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade\n"
        "Participant 77,Jane Doe,jane.b@x.org,Submitted,\n"
        "Participant 78,Jane Doe,JANE.A@x.org,Submitted,\n"
        "Participant 80,Rick Roe,r@x.org,Submitted,\n"
    )
    mapped = cli(*base, "--participants", str(worksheet))
    assert mapped.returncode == 0, mapped.stderr
    assert (text_of(course, "1003"), text_of(course, "1001")) == ("jane 77", "jane 78")
    assert text_of(course, "1002") == "rick"
    swapped = tmp_path / "swapped.csv"  # a worksheet that contradicts the folder's name
    swapped.write_text("Identifier,Email address\nParticipant 80,jane.a@x.org\n")
    wrong = cli(*base, "--participants", str(swapped))
    assert "names participant 80 1001 (Jane Doe), but the folder is 'Rick Roe'" in wrong.stdout
    bad = cli(*base, "--participants", str(r))
    assert bad.returncode == 2 and "is not Moodle's grading worksheet" in bad.stderr


def test_canvas_dash_one_is_the_later_upload_and_wins(tmp_path):
    """Canvas names the second upload of ``a1_metrics.ipynb`` ``a1_metrics-1.ipynb`` (the third
    ``-2``), in one submission with one id: the highest suffix is the newest."""
    course = tmp_path / "course"
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    z = canvas_zip(tmp_path / "s.zip", {
        "doejane_101_5001_a1_metrics.ipynb": notebook("jane first"),
        "doejane_101_5001_a1_metrics-1.ipynb": notebook("jane second"),
        "roerick_102_5002_a1_metrics-2.ipynb": notebook("rick third"),
        "roerick_102_5002_a1_metrics-1.ipynb": notebook("rick second"),
        "roerick_102_5002_a1_metrics.ipynb": notebook("rick first"),
        "poeedgar_103_5003_a1_metrics.ipynb": notebook("edgar only"),
    })  # fmt: skip
    done = cli("collect", A, "--course", str(course), "--from", str(z), "--roster", str(r))
    assert done.returncode == 0, done.stderr
    assert [text_of(course, s) for s in ("jdoe", "rroe", "epoe")] == [
        "jane second", "rick third", "edgar only"]  # fmt: skip
    assert (
        "doejane_101_5001_a1_metrics.ipynb: superseded by doejane_101_5001_a1_metrics-1.ipynb "
        "(Canvas's name for a later upload: -1)" in done.stdout
    )


def test_recollecting_keeps_hand_written_times_and_says_what_it_replaces(tmp_path):
    course = tmp_path / "course"
    deadlines.set_policy(course, A, due=DUE, late_penalty_per_day=0.1)
    r = canvas_roster(tmp_path / "r.csv", STUDENTS)
    first = {
        "doejane_101_5001_a1_metrics.ipynb": notebook("jane"),
        "roerick_102_5002_a1_metrics.ipynb": notebook("rick"),
        "poeedgar_103_5003_a1_metrics.ipynb": notebook("edgar"),
    }
    args = ["collect", A, "--course", str(course), "--roster", str(r), "--from"]
    assert cli(*args, str(canvas_zip(tmp_path / "1.zip", first))).returncode == 0
    jane_late, rick_late = DUE + timedelta(days=14), DUE + timedelta(days=3)
    deadlines.write_timestamp(submitted(course, "jdoe"), jane_late)  # as the README recommends
    deadlines.write_timestamp(submitted(course, "rroe"), rick_late)
    second = {**first, "roerick_102_5009_a1_metrics-1.ipynb": notebook("rick again")}
    done = cli(*args, str(canvas_zip(tmp_path / "2.zip", second)))
    assert done.returncode == 0, done.stderr
    assert (
        "collected 3 submissions" in done.stdout and "0 new, 1 replaced, 2 unchanged" in done.stdout
    )
    assert deadlines.read_timestamp(submitted(course, "jdoe")) == jane_late  # kept
    assert "jdoe: unchanged; kept the timestamp.txt written by hand" in done.stdout
    assert "  epoe:" not in done.stdout  # plainly unchanged: counted, not a line each
    assert text_of(course, "rroe") == "rick again"
    assert not (submitted(course, "rroe") / "timestamp.txt").exists()
    line = next(x for x in done.stdout.splitlines() if x.startswith("  rroe:"))
    assert "replaced: a different notebook than the one collected before" in line
    assert "hand-written timestamp.txt (2026-12-04 22:59:00.000000 UTC) was for the earlier" in line
    (kept,) = (course / "collect" / "replaced" / A / "rroe").iterdir()
    assert "rick" in (kept / f"{A}.ipynb").read_text()
    assert deadlines.read_timestamp(kept) == rick_late  # nothing the instructor wrote is lost
    third = cli(*args, str(canvas_zip(tmp_path / "2.zip", second)))  # once more: all unchanged
    assert "0 new, 0 replaced, 3 unchanged" in third.stdout
    assert deadlines.read_timestamp(submitted(course, "jdoe")) == jane_late


def graded_notebook(ids: list[str], marker: str = "") -> bytes:
    cells = [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": i, "grade": True,
              "points": 1, "solution": False, "locked": True}}, "source": marker, "outputs": [],
              "execution_count": None, "id": i} for i in ids]  # fmt: skip
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()  # fmt: skip


def test_collect_refuses_a_download_of_another_assignments_notebooks(tmp_path):
    course, a3 = tmp_path / "course", "a3_regularization"
    for name, ids in ((A, ["counts", "test-counts"]), (a3, ["dropout", "test-dropout"])):
        (course / "source" / name).mkdir(parents=True)
        (course / "source" / name / f"{name}.ipynb").write_bytes(graded_notebook(ids))
    r = canvas_roster(tmp_path / "r.csv", [*STUDENTS, ("Lee, Ann", "104", "S4", "alee")])
    a1_zip = canvas_zip(tmp_path / "a1.zip", {
        f"{key}_{A}.ipynb": graded_notebook(["counts", "test-counts"], key)
        for key in ("doejane_101_1", "roerick_102_2", "poeedgar_103_3")
    })  # fmt: skip
    done = cli("collect", a3, "--course", str(course), "--from", str(a1_zip), "--roster", str(r))
    assert done.returncode == 2
    assert f"holds notebooks of {A}, not {a3}: nothing collected (3 notebooks" in done.stderr
    assert not (course / "submitted").exists() or not any((course / "submitted").iterdir())
    unreleased = cli("collect", "a2_backprop", "--course", str(course), "--from", str(a1_zip),
                     "--roster", str(r))  # fmt: skip
    assert unreleased.returncode == 2 and f"holds notebooks of {A}, not a2_backprop" in (
        unreleased.stderr
    )
    mixed = canvas_zip(tmp_path / "mixed.zip", {
        f"doejane_101_1_{a3}.ipynb": graded_notebook(["dropout", "test-dropout"], "jane"),
        f"roerick_102_2_{A}.ipynb": graded_notebook(["counts"], "rick"),
        f"poeedgar_103_3_{a3}.ipynb": notebook("metadata stripped: not judged"),
        f"leeann_104_4_{a3}.ipynb": graded_notebook(["renamed"], "ids of no assignment: not judged"),
    })  # fmt: skip
    done = cli("collect", a3, "--course", str(course), "--from", str(mixed), "--roster", str(r))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alee", "epoe", "jdoe"]
    assert f"roerick_102_2_{A}.ipynb: a notebook of {A}, not {a3}" in done.stdout


def test_extend_refuses_nonsense_by_name_and_extensions_lists_and_removes(tmp_path):
    course = tmp_path / "course"
    c = str(course)
    assert cli("roster", "--course", c, "--from", str(canvas_roster(tmp_path / "r.csv", STUDENTS))
               ).returncode == 0  # fmt: skip
    deadlines.set_policy(course, A, due=DUE, late_penalty_per_day=0.1)
    policy_file = course / deadlines.POLICY_FILE
    before = policy_file.read_text()
    later = (DUE + timedelta(days=2)).isoformat()
    refusals = {
        ("a1_metric", "jdoe", later): "unknown assignment 'a1_metric' (did you mean 'a1_metrics'?)",
        (A, "jdoee", later): "--student 'jdoee' is not on the roster (did you mean 'jdoe'?)",
        (A, "jdoe", (DUE - timedelta(hours=1)).isoformat()): "is not after a1_metrics's due date",
        (A, "jdoe", DUE.isoformat()): "is not after a1_metrics's due date",
        (A, "jdoe", "tomorrow"): "--until must be an ISO-8601 date and time with a zone",
    }
    for (assignment, who, until), message in refusals.items():
        done = cli("extend", assignment, "--course", c, "--student", who, "--until", until)
        assert done.returncode == 2 and message in done.stderr, (message, done.stderr)
    assert policy_file.read_text() == before  # nothing added, in particular no 'a1_metric'
    (course / "source" / "a2_backprop").mkdir(parents=True)
    (course / "source" / "a2_backprop" / "a2_backprop.ipynb").write_bytes(notebook(""))
    no_due = cli("extend", "a2_backprop", "--course", c, "--student", "jdoe", "--until", later)
    assert no_due.returncode == 2 and "a2_backprop has no due date" in no_due.stderr
    for who in ("jdoe", "rroe"):  # honest extensions around the refused ones
        done = cli("extend", A, "--course", c, "--student", who, "--until", later)
        assert done.returncode == 0 and f"{who}: {A} due {later}" in done.stdout
    listed = cli("extensions", A, "--course", c)
    assert listed.returncode == 0 and "a1_metrics: 2 extensions:" in listed.stdout
    assert f"  jdoe: due {later}" in listed.stdout and f"  rroe: due {later}" in listed.stdout
    removed = cli("extensions", A, "--course", c, "--remove", "jdoe")
    assert removed.returncode == 0 and "removed jdoe's extension" in removed.stdout
    assert "a1_metrics: 1 extension:" in removed.stdout and "jdoe: due" not in removed.stdout
    assert deadlines.load_policy(course).get(A).extensions == {"rroe": DUE + timedelta(days=2)}
    again = cli("extensions", A, "--course", c, "--remove", "jdoe")
    assert again.returncode == 2 and "no extension of a1_metrics for them (extensions: rroe)" in (
        again.stderr
    )
    unknown = cli("extensions", "a9", "--course", c)
    assert unknown.returncode == 2 and "unknown assignment 'a9'" in unknown.stderr
    with pytest.raises(ValueError, match="is not after a1_metrics's due date"):  # the storage too
        deadlines.set_extension(course, A, "rroe", DUE - timedelta(days=1))
    with pytest.raises(ValueError, match="a9 has no due date"):
        deadlines.set_extension(course, "a9", "rroe", later)
    assert "a9" not in deadlines.load_policy(course).assignments


def test_extend_without_a_roster_knows_students_by_their_submissions(tmp_path):
    course = tmp_path / "course"
    deadlines.set_policy(course, A, due=DUE)
    later = (DUE + timedelta(days=1)).isoformat()
    nobody = cli("extend", A, "--course", str(course), "--student", "jdoe", "--until", later)
    assert nobody.returncode == 2 and "'jdoe' is unknown: no roster is imported" in nobody.stderr
    submitted(course, "jdoe").mkdir(parents=True)
    known = cli("extend", A, "--course", str(course), "--student", "jdoe", "--until", later)
    assert known.returncode == 0, known.stderr


def test_students_without_the_id_column_are_listed_with_the_column_that_keeps_them(tmp_path):
    rows = [*STUDENTS, ("Lee, Ann", "104", "", ""), ("Kim, Bo", "105", "", ""),
            ("Student, Test", "106", "", "")]  # fmt: skip
    path = canvas_roster(tmp_path / "r.csv", rows)
    course = str(tmp_path / "course")
    done = cli("roster", "--course", course, "--from", str(path))
    assert done.returncode == 0 and "roster: 3 students" in done.stdout
    assert "2 students have no SIS Login ID and are left out; every student has a value in " \
        "'ID': import with --id-column 'ID' to keep them all" in done.stdout  # fmt: skip
    assert "(Student, Test) (Canvas's test student): no SIS Login ID" in done.stdout
    kept = cli("roster", "--course", course, "--from", str(path), "--id-column", "ID")
    assert kept.returncode == 0 and "roster: 5 students" in kept.stdout  # not the test student
    assert "--id-column" not in kept.stdout and "Canvas's test student, left out" in kept.stdout
    nobody = canvas_roster(tmp_path / "n.csv", [("Lee, Ann", "104", "U4", ""),
                                                ("Kim, Bo", "105", "U5", "")])  # fmt: skip
    refused = cli("roster", "--course", course, "--from", str(nobody))
    assert refused.returncode == 2
    assert "lists no student with a SIS Login ID; every student has a value in 'SIS User ID'" in (
        refused.stderr
    )


def test_in_a_moodle_folder_the_top_file_wins_and_a_tie_is_refused_not_guessed(tmp_path):
    course, src = tmp_path / "course", tmp_path / "moodle"
    r = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "1001", "j@x.org"),
                                           ("Rick", "Roe", "1002", "r@x.org"),
                                           ("Edgar", "Poe", "1003", "e@x.org")])  # fmt: skip
    jane, rick, edgar = (src / f"{n}_assignsubmission_file_"
                         for n in ("Jane Doe_77", "Rick Roe_78", "Edgar Poe_79"))  # fmt: skip
    for folder, text in ((jane, "jane's upload"), (jane / "old" / A, "an old copy inside"),
                         (rick / "v1", "rick v1"), (rick / "v2", "rick v2"),
                         (edgar, "edgar")):  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{A}.ipynb").write_bytes(notebook(text))
    done = cli("collect", A, "--course", str(course), "--from", str(src), "--roster", str(r))
    assert done.returncode == 0, done.stderr
    assert text_of(course, "1001") == "jane's upload" and text_of(course, "1003") == "edgar"
    assert "superseded by Jane Doe_77_assignsubmission_file_/a1_metrics.ipynb (the participant's" \
        " own upload; the other is nested in a folder)" in done.stdout  # fmt: skip
    assert not submitted(course, "1002").exists()  # v1 or v2? nothing says: not guessed
    assert done.stdout.count("several notebooks named a1_metrics.ipynb and none later") == 2
