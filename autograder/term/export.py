"""``export``: the gradebook's final grades as a file an LMS imports, or a plain CSV.

``python -m autograder export A --course C --format canvas|moodle|csv --out F [--roster R]``

- ``canvas``: Canvas's gradebook import CSV: the roster's ``Student, ID, SIS User ID,
  SIS Login ID, Section`` and one column for the assignment, in points. The column is the
  roster's column for the assignment when it has one (Canvas names it ``NAME (ASSIGNMENT_ID)``,
  matched on NAME = A ignoring case, spaces and punctuation), else ``--column``, else ``A`` (Canvas then offers to create it).
- ``moodle``: Moodle's grade import CSV: the identifier column (the roster's id column, e.g.
  ``ID number``, which Moodle's import maps to the user field of that name), ``Email address``
  when the roster has it, and the grade column ``A``.
- ``csv``: one row per student: submission time, days late (after the student's extension),
  automatic, manual, extra credit, penalty, score, maximum and one column per graded cell.
  With a roster, the roster's students first, then every student graded but not on it (the
  course's own record loses no grade; the note says so); an LMS format leaves those out.

Every number is the gradebook's (:func:`autograder.grading.gradebook.read_grades`): manual if entered,
else automatic, plus extra credit, minus the late penalty derived now from the submission time
and the current due date and extensions (never the one of grading time). A roster student with no submission
gets an empty grade (the LMS leaves it ungraded), not 0, unless ``missing_as_zero``; a
submission that could not be graded counts 0 and a stale or pending one is exported as it
stands; every such case is listed in :attr:`Export.notes`. Text cells starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return are prefixed with ``'`` (CSV injection: a
spreadsheet would run them as formulas).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from autograder.config import DEFAULT_COURSE
from autograder.grading.records import Status
from autograder.term.roster import Roster, check_student_id, resolve

__all__ = ["FORMATS", "Export", "main", "neutralise"]

Format = Literal["canvas", "moodle", "csv"]
FORMATS: tuple[str, ...] = ("canvas", "moodle", "csv")
CANVAS_ROSTER_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_FIXED = (
    "First name",
    "Last name",
    "ID number",
    "Institution",
    "Department",
    "Email address",
)
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    """What ``export`` wrote."""

    path: Path
    format: str
    rows: int
    notes: tuple[str, ...]  #: students exported empty, as 0, stale, pending, not on the roster


def neutralise(value) -> str:
    """A CSV cell a spreadsheet shows as text: numbers as they are, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}"
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def _submitted(course: Path, assignment: str, student: str) -> bool:
    return (course / "submitted" / student / assignment).is_dir()


def _grades(course: Path, assignment: str, db_url: str | None, students: list[str] | None):
    from autograder.grading.gradebook import read_grades

    return {g.student_id: g for g in read_grades(course, assignment, db_url, students=students)}


def _value(grade, course, assignment, missing_as_zero, notes) -> float | None:
    """The exported grade of one student (None: empty), noting anything not plainly graded."""
    student = grade.student_id if grade is not None else None
    failed = grade is not None and grade.status is Status.FAILED
    if grade is None or (failed and not _submitted(course, assignment, student)):
        return 0.0 if missing_as_zero else None
    if grade.status is Status.STALE:
        notes.append(f"{student}: stale ({grade.reason}); exported empty")
        return None
    if failed:  # what a person entered counts, as in formgrader and the CSV
        value = round(grade.score, 4)
        by_hand = " (the points entered by hand)" if value else ""
        said = f"could not be graded ({grade.reason}); exported as {value:g}{by_hand}"
        notes.append(f"{student}: {said}")
        return value
    if grade.pending:
        notes.append(f"{student}: hand grading pending ({', '.join(grade.pending)})")
    return round(grade.score, 4)


def _column_key(text: str) -> str:
    """ "A1 metrics (901)", "Assignment: a1_metrics (Real)" and "a1_metrics" are one key."""
    text = re.sub(r"^\s*assignment:\s*", "", text, flags=re.I)
    text = re.sub(r"\s*\((?:\d+|real|letter|percentage|scale)\)\s*$", "", text, flags=re.I)
    return re.sub(r"[\W_]+", "", text).casefold()


def _lms_column(
    roster: Roster, assignment: str, column: str | None, new_column: bool, fixed: tuple[str, ...]
) -> str:
    """The roster's column the grades go to; a name that matches none is refused by name.

    ``fixed``: the LMS's own columns (not grade items). A ``column``
    given must be one of the roster's (exactly, or by :func:`_column_key`); without one the
    assignment's own column is found by its key. ``new_column`` lets the LMS create a column
    the roster does not have (``column``, else the assignment's name).
    """
    items = [h for h in roster.columns if h not in fixed]
    if roster.kind == "canvas":  # Canvas names a grade item "NAME (ID)"; the rest are totals
        items = [h for h in items if re.search(r"\(\d+\)\s*$", h)]
    listed = ", ".join(repr(h) for h in items) or "none"
    wanted = column or assignment
    if column and column in roster.columns:
        return column
    found = [h for h in items if _column_key(h) == _column_key(wanted)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ValueError(
            f"{'--column ' + repr(column) if column else repr(assignment)} matches several "
            f"columns of the roster ({', '.join(map(repr, found))}): name one with --column"
        )
    if new_column:
        return wanted
    if column:
        raise ValueError(
            f"--column {column!r} matches no column of the roster (its grade columns: "
            f"{listed}): check the spelling, or add --new-column to have the "
            f"{roster.kind.capitalize()} import create {column!r}"
        )
    raise ValueError(
        f"the roster has no column for {assignment!r} (its grade columns: {listed}): name it "
        f"with --column, or add --new-column to have the {roster.kind.capitalize()} import "
        f"create {assignment!r}"
    )


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise(h) for h in header])
        for row in rows:
            writer.writerow([neutralise(v) for v in row])
    tmp.replace(path)


def main(
    *,
    assignment: str,
    format: Format = "csv",
    out: Path,
    course: Path = DEFAULT_COURSE,
    roster: Path | None = None,
    id_column: str | None = None,
    column: str | None = None,
    missing_as_zero: bool = False,
    db_url: str | None = None,
    new_column: bool = False,
) -> Export:
    """Write ``assignment``'s grades to ``out`` in ``format``; return what was written.

    Raises ``ValueError`` naming the bad input: an unknown format, a canvas or moodle export
    without a roster (or with the other LMS's), an assignment never released, a ``column``
    that is none of the roster's and a Canvas roster without the assignment's column (unless
    ``new_column``: the LMS creates it).
    """
    check_student_id(assignment, where="assignment")
    if format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    course = Path(course).resolve()
    if not (course / "source" / assignment / f"{assignment}.ipynb").exists():
        raise ValueError(f"{assignment!r} is not released in {course}")
    the_roster = resolve(course, roster, id_column)
    if format in ("canvas", "moodle"):
        if the_roster is None:
            raise ValueError(
                f"--format {format} needs the class list: give --roster (the {format} "
                "gradebook export) or import it once with `python -m autograder roster`"
            )
        if the_roster.kind != format:
            raise ValueError(
                f"--format {format} needs a {format} roster, but the roster is a "
                f"{the_roster.kind} export"
            )
    name = assignment  # Moodle's import maps a column to a grade item by hand
    if format == "canvas" or (format == "moodle" and column):
        fixed = (*CANVAS_ROSTER_COLUMNS, "Integration ID") if format == "canvas" else MOODLE_FIXED
        name = _lms_column(the_roster, assignment, column, new_column, fixed)
    notes: list[str] = []
    graded = _grades(course, assignment, db_url, None)
    listed = the_roster.ids if the_roster else []
    if the_roster:
        # an LMS import has no row for them; the plain CSV, the course's own record, keeps
        # every graded student: theirs come after the roster's
        kept = "in the CSV after the roster's students" if format == "csv" else "not exported"
        for student in sorted(set(graded) - set(listed)):
            notes.append(f"{student}: graded but not on the roster; {kept}")
        graded = {**_grades(course, assignment, db_url, listed), **graded}
    out = Path(out)
    if format == "canvas":
        header = [*CANVAS_ROSTER_COLUMNS, name]
        rows = [
            [
                *(s.row.get(c, "") for c in CANVAS_ROSTER_COLUMNS),
                _value(graded.get(s.student_id), course, assignment, missing_as_zero, notes),
            ]
            for s in the_roster.students
        ]
    elif format == "moodle":
        extra = ["Email address"] if "Email address" in the_roster.columns else []
        header = [the_roster.id_column, *extra, name]
        rows = [
            [
                s.student_id,
                *(s.row.get(c, "") for c in extra),
                _value(graded.get(s.student_id), course, assignment, missing_as_zero, notes),
            ]
            for s in the_roster.students
        ]
    else:
        from autograder.grading.authoring import graded_cells

        cell_ids = [c["grade_id"] for c in graded_cells(course, assignment)]
        students = listed + sorted(set(graded) - set(listed)) if the_roster else sorted(graded)
        header = [
            "student_id", "status", "reason", "submitted_at", "days_late", "auto", "manual",
            "extra_credit", "penalty", "score", "max_score", *cell_ids,
        ]  # fmt: skip
        rows = []
        for student in students:
            g = graded.get(student)
            value = _value(g, course, assignment, missing_as_zero, notes)
            if g is None or not (g.status is Status.GRADED or g.cells):  # (hand scores shown)
                missing = g is None or not _submitted(course, assignment, student)
                status, reason = ("missing", "no submission") if missing else (g.status, g.reason)
                blank = [""] * (6 + len(cell_ids))
                rows.append([student, status, reason, *blank[:6], value, "", *blank[6:]])
                continue
            cells = [g.cells[c].score if c in g.cells else None for c in cell_ids]
            # derived when read: the current due date and the student's extension
            days = g.days_late
            stamp = g.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC") if g.timestamp else ""
            rows.append(
                [
                    student, g.status, g.reason, stamp, days, round(g.auto_score, 4),
                    round(g.manual_score, 4), round(g.extra_credit, 4), round(g.penalty, 4),
                    value, g.max_score, *cells,
                ]
            )  # fmt: skip
    _write(out, header, rows)
    return Export(out, format, len(rows), tuple(notes))
