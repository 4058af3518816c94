"""Moodle's upload times: does ``collect`` read them from the grading worksheet's ``Last modified
(submission)`` column, in the zone given, and refuse what it cannot read by name?

A Moodle download names folders ``Full Name_PARTICIPANTID_assignsubmission_file_`` without a
time; the worksheet (``--participants``) has one per participant, in the downloading account's
time zone, as Moodle's ``userdate`` writes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from autograder.grading import deadlines
from autograder.term import collect
from tests.autograder.term.test_term_intake import A, cli, moodle_roster, notebook, submitted

DUE = datetime(2026, 12, 7, 23, 59, tzinfo=timezone(timedelta(hours=1)))  # Berlin's winter
HEADER = "Identifier,Full name,Email address,Status,Last modified (submission),Grade\n"


@pytest.fixture
def moodle(tmp_path):
    """A course with a due date, a Moodle roster, and a download of three participants."""
    course, src = tmp_path / "course", tmp_path / "moodle"
    deadlines.set_policy(course, A, due=DUE, late_penalty_per_day=0.1)
    r = moodle_roster(tmp_path / "m.csv", [("Jane", "Doe", "1001", "jane@x.org"),
                                           ("Rick", "Roe", "1002", "rick@x.org"),
                                           ("Ann", "Poe", "1003", "ann@x.org")])  # fmt: skip
    for folder in ("Jane Doe_77", "Rick Roe_80", "Ann Poe_81"):
        (src / f"{folder}_assignsubmission_file_").mkdir(parents=True)
        (src / f"{folder}_assignsubmission_file_" / f"{A}.ipynb").write_bytes(notebook(folder))
    return course, src, r, tmp_path / "worksheet.csv"


def run(moodle, rows: str, zone: str | None):
    course, src, r, sheet = moodle
    sheet.write_text(HEADER + rows, encoding="utf-8")
    return collect.main(assignment=A, source=src, course=course, roster=r, participants=sheet,
                        timezone=zone)  # fmt: skip


ROWS = (
    "Participant 77,Jane Doe,jane@x.org,Submitted for grading,"
    '"Tuesday, 8 December 2026, 12:30 AM",\n'  # 30 minutes after the due date, Berlin time
    'Participant 80,Rick Roe,rick@x.org,Submitted for grading,"Monday, 7 December 2026, 9:05 PM",\n'
    "Participant 81,Ann Poe,ann@x.org,No submission,-,\n"
)


def test_the_worksheets_upload_times_become_each_participants_timestamp(moodle):
    course = moodle[0]
    done = run(moodle, ROWS, "Europe/Berlin")
    at = {c.student_id: c.submitted_at for c in done.collected}
    assert at == {
        "1001": datetime(2026, 12, 7, 23, 30, tzinfo=UTC),
        "1002": datetime(2026, 12, 7, 20, 5, tzinfo=UTC),
        "1003": None,  # "-": Moodle says nothing, so nothing is written
    }
    assert deadlines.read_timestamp(submitted(course, "1001")) == at["1001"]
    assert deadlines.read_timestamp(submitted(course, "1003")) is None
    assert at["1001"] > DUE > at["1002"]  # late by half an hour; on time


def test_the_same_times_in_another_zone_are_hours_apart(moodle):
    done = run(moodle, ROWS, "America/New_York")
    at = {c.student_id: c.submitted_at for c in done.collected}
    assert at["1001"] == datetime(2026, 12, 8, 5, 30, tzinfo=UTC)


def test_times_without_a_zone_a_bad_zone_and_a_bad_value_are_refused_by_name(moodle):
    course = moodle[0]
    with pytest.raises(ValueError, match=r"holds Moodle's upload times.*give it with --timezone"):
        run(moodle, ROWS, None)
    with pytest.raises(ValueError, match="--timezone 'Mars/Olympus' is not a time zone name"):
        run(moodle, ROWS, "Mars/Olympus")
    french = ROWS.replace("Monday, 7 December 2026, 9:05 PM", "lundi 7 décembre 2026, 21:05")
    with pytest.raises(ValueError, match=r"'Participant 80' has .*'lundi 7 d"):
        run(moodle, french, "Europe/Berlin")
    assert not (course / "submitted").exists()  # nothing laid by a refused run
    with pytest.raises(ValueError, match="--timezone is the zone of Moodle's worksheet"):
        collect.main(assignment=A, source=moodle[1], course=course, roster=moodle[2],
                     timezone="Europe/Berlin")  # fmt: skip


def test_a_worksheet_without_times_needs_no_zone(moodle):
    rows = "Participant 77,Jane Doe,jane@x.org,Submitted,-,\nParticipant 80,Rick Roe,r@x.org,,,\n"
    done = run(moodle, rows, None)
    assert {c.submitted_at for c in done.collected} == {None}


def test_collect_reads_moodle_times_through_the_command_line(moodle):
    course, src, r, sheet = moodle
    sheet.write_text(HEADER + ROWS, encoding="utf-8")
    base = ["collect", A, "--course", str(course), "--from", str(src), "--roster", str(r),
            "--participants", str(sheet)]  # fmt: skip
    refused = cli(*base)
    assert refused.returncode == 2 and "give it with --timezone" in refused.stderr
    assert "Traceback" not in refused.stderr and not (course / "submitted").exists()
    done = cli(*base, "--timezone", "Europe/Berlin")
    assert done.returncode == 0, done.stderr
    assert deadlines.read_timestamp(submitted(course, "1001")) == datetime(
        2026, 12, 7, 23, 30, tzinfo=UTC
    )
