"""Stage 6 of the term (``story``): Canvas, Moodle and plain CSV exports, checked cell by cell
against the gradebook (hand grades and penalties included)."""

from __future__ import annotations

import csv

from tests.autograder.term.scenario.story import PEOPLE, A, cli


def test_exports_match_the_gradebook_cell_by_cell(store, tmp_path):
    from autograder.grading.gradebook import read_grades

    state = store.copy("hand_graded", tmp_path)
    base, c = state.base, str(state.course)
    grades = {g.student_id: g for g in read_grades(state.course, A)}
    cli("export", A, "--course", c, "--format", "canvas", "--out", str(base / "canvas_import.csv"))
    with (base / "canvas_import.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "A1 metrics (4242)"]  # fmt: skip
    assert len(rows) == 31
    for row in rows[1:]:
        p = next(p for p in PEOPLE if p["login"] == row[3])
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
