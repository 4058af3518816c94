"""The class list: an LMS gradebook export read into typed records, one id per student.

Two exports are understood, told apart by their header:

- **Canvas** (Grades > Export): ``Student, ID, SIS User ID, SIS Login ID, [Integration ID,]
  Section``, then one column per assignment; the second row is ``Points Possible`` (skipped).
  ``ID`` is Canvas's numeric user id, the one in the names of a submissions zip.
- **Moodle** (Grades > Export > Plain text file): ``First name, Last name, ID number,
  Institution, Department, Email address``, then the grade items.

The course's student id is one chosen column (default ``SIS Login ID`` for Canvas, ``ID number``
for Moodle). Students without one are left out and listed, with the column that would keep
them all when there is one (``--id-column 'SIS User ID'``, ``ID``, ``Username``, ...);
Canvas's "Test Student" is always left out. Every id must match :data:`STUDENT_ID` (letters,
digits, ``. _ @ -``, at most 64, starting with a letter or digit, as everywhere in the
grader): ids become folder names and command arguments, so anything else is refused by name
rather than escaped (names are data, never paths or options).

``python -m autograder roster --course C --from ROSTER.csv`` keeps a copy in ``C/roster.csv``
(with the id column in ``C/roster.json``), which ``collect`` and ``export`` then use by default.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from autograder import names
from autograder.config import DEFAULT_COURSE

__all__ = [
    "DEFAULT_ID_COLUMN",
    "STUDENT_ID",
    "Roster",
    "Student",
    "check_student_id",
    "course_roster",
    "main",
    "read_roster",
]

#: What a student id may be: it names folders (``submitted/STUDENT/``) and travels in commands.
#: One rule for the whole grader (:mod:`autograder.names`): an id the roster accepts is one
#: ``grade`` accepts.
STUDENT_ID = names.STUDENT_ID
Kind = Literal["canvas", "moodle"]
DEFAULT_ID_COLUMN: dict[str, str] = {"canvas": "SIS Login ID", "moodle": "ID number"}
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("First name", "Last name", "ID number", "Email address")
ROSTER_FILE, ROSTER_META = "roster.csv", "roster.json"


def check_student_id(value: str, *, where: str = "student id") -> str:
    """``value`` if it is a valid student id, else ``ValueError`` naming it and the rule."""
    return names.check_student_id(value, where=where)


@dataclass(frozen=True)
class Student:
    """One row of the class list."""

    student_id: str  #: the course's id (the chosen column)
    name: str  #: as the LMS shows it ("Doe, Jane" on Canvas, "Jane Doe" on Moodle)
    lms_id: str  #: Canvas's numeric ``ID``; Moodle's export has none (empty)
    row: dict[str, str] = field(compare=False)  #: the row as exported, for the LMS import


@dataclass(frozen=True)
class Roster:
    """A class list: who is in the course, and how the LMS names them."""

    kind: Kind
    id_column: str
    columns: tuple[str, ...]  #: the export's header, in order
    students: tuple[Student, ...]
    #: rows left out, each with why: a duplicate id, an empty id (Canvas's "Test Student")
    problems: tuple[str, ...] = ()

    def find(self, student_id: str) -> Student | None:
        return next((s for s in self.students if s.student_id == student_id), None)

    def by_lms_id(self, lms_id: str) -> list[Student]:
        return [s for s in self.students if s.lms_id and s.lms_id == lms_id]

    def by_name(self, name: str) -> list[Student]:
        """Students whose name matches ``name`` ignoring case, spaces and the order of parts."""
        key = _name_key(name)
        return [s for s in self.students if _name_key(s.name) == key]

    @property
    def ids(self) -> list[str]:
        return [s.student_id for s in self.students]


def _name_key(name: str) -> tuple[str, ...]:
    return tuple(sorted(re.sub(r"[^\w]+", " ", name.casefold()).split()))


def _kind(header: list[str]) -> Kind:
    if all(column in header for column in ("Student", "ID", "SIS Login ID")):
        return "canvas"
    if all(column in header for column in ("First name", "Last name")):
        return "moodle"
    raise ValueError(
        f"roster: the header {header[:8]!r} is neither a Canvas gradebook export "
        f"({', '.join(CANVAS_COLUMNS)}, ...) nor a Moodle grade export "
        f"({', '.join(MOODLE_COLUMNS)}, ...)"
    )


def read_roster(path: Path, *, id_column: str | None = None) -> Roster:
    """Read a Canvas or Moodle export; ``id_column`` is the column holding the course's ids.

    Raises ``ValueError`` naming the file and the row for: a missing file, an unknown layout,
    an ``id_column`` the file lacks, an id that is not a valid student id. Duplicated ids and
    empty ids are kept out and listed in :attr:`Roster.problems`.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"roster {path} does not exist")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # Excel and Canvas write a BOM
    except UnicodeDecodeError as exc:
        raise ValueError(f"roster {path} is not UTF-8 text: {exc}") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError(f"roster {path} is empty")
    header = [h.strip() for h in rows[0]]
    kind = _kind(header)
    id_column = id_column or DEFAULT_ID_COLUMN[kind]
    if id_column not in header:
        raise ValueError(f"roster {path} has no column {id_column!r} (columns: {header})")
    students: list[Student] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    without_id: list[dict[str, str]] = []
    kept_rows: list[dict[str, str]] = []
    for number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        row = dict(zip(header, (v.strip() for v in values), strict=False))
        if kind == "canvas":
            name, lms_id = row.get("Student", ""), row.get("ID", "")
            if name.strip().casefold() == "points possible":
                continue  # Canvas's second row
        else:
            name = f"{row.get('First name', '')} {row.get('Last name', '')}".strip()
            lms_id = ""
        student_id = row.get(id_column, "")
        if not student_id:
            test = " (Canvas's test student)" if _is_test_student(row, kind) else ""
            problems.append(f"row {number} ({name or 'no name'}){test}: no {id_column}, left out")
            without_id.append(row)
            continue
        if _is_test_student(row, kind):
            problems.append(f"row {number} ({name}): Canvas's test student, left out")
            continue
        kept_rows.append(row)
        check_student_id(
            student_id, where=f"roster {path.name}, row {number} ({name}): {id_column}"
        )
        if student_id in seen:
            problems.append(
                f"row {number} ({name}): {id_column} {student_id!r} already belongs to "
                f"{seen[student_id]}, left out"
            )
            continue
        seen[student_id] = name
        students.append(Student(student_id=student_id, name=name, lms_id=lms_id, row=row))
    dropped = [r for r in without_id if not _is_test_student(r, kind)]
    hint = _id_column_hint(header, kind, id_column, [*kept_rows, *dropped]) if dropped else ""
    if not students:
        raise ValueError(f"roster {path} lists no student with a {id_column}{hint}")
    if hint:
        many = f"{len(dropped)} students have" if len(dropped) > 1 else "1 student has"
        problems.append(f"{many} no {id_column} and {'are' if len(dropped) > 1 else 'is'} "
                        f"left out{hint}")  # fmt: skip
    return Roster(kind, id_column, tuple(header), tuple(students), tuple(problems))


#: Columns that may hold the course's ids instead, in the order they are suggested.
ALTERNATIVE_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "canvas": ("SIS User ID", "SIS Login ID", "Integration ID", "ID"),
    "moodle": ("ID number", "Username", "Email address"),
}


def _is_test_student(row: dict[str, str], kind: Kind) -> bool:
    """Canvas's "Test Student" (the student view's account), which has no SIS ids."""
    return kind == "canvas" and _name_key(row.get("Student", "")) == ("student", "test")


def _id_column_hint(header, kind: Kind, id_column: str, rows: list[dict[str, str]]) -> str:
    """``: use --id-column X`` for the first column that gives every row a unique valid id."""
    for column in ALTERNATIVE_ID_COLUMNS[kind]:
        if column == id_column or column not in header:
            continue
        values = [r.get(column, "") for r in rows]
        if all(STUDENT_ID.fullmatch(v) for v in values) and len(set(values)) == len(values):
            return (
                f"; every student has a value in {column!r}: import with --id-column "
                f"{column!r} to keep them all"
            )
    return ""


def course_roster(course: Path) -> Roster | None:
    """The roster imported into ``course`` with ``roster``, or ``None``."""
    course = Path(course)
    if not (course / ROSTER_FILE).exists():
        return None
    meta = json.loads((course / ROSTER_META).read_text()) if (course / ROSTER_META).exists() else {}
    return read_roster(course / ROSTER_FILE, id_column=meta.get("id_column"))


def resolve(course: Path, roster: Path | None, id_column: str | None = None) -> Roster | None:
    """The roster a command uses: the file given, else the course's."""
    if roster is not None:
        return read_roster(roster, id_column=id_column)
    return course_roster(course)


def main(*, course: Path = DEFAULT_COURSE, source: Path, id_column: str | None = None) -> Roster:
    """Import ``source`` into ``course`` (``roster.csv`` + ``roster.json``); return it."""
    roster = read_roster(source, id_column=id_column)
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    if Path(source).resolve() != (course / ROSTER_FILE).resolve():
        shutil.copyfile(source, course / ROSTER_FILE)
    meta = {"kind": roster.kind, "id_column": roster.id_column}
    (course / ROSTER_META).write_text(json.dumps(meta, indent=2) + "\n")
    return roster
