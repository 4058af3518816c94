"""``collect``: submissions from an LMS download or nbgrader's exchange -> ``C/submitted/``.

``python -m autograder collect A --course C --from PATH [--roster ROSTER.csv]`` takes a zip or a
folder and lays every student's latest submission into nbgrader's layout,
``C/submitted/STUDENT/A/A.ipynb``, with ``timestamp.txt`` (nbgrader's format) where the source
says when it was submitted. It understands, file by file:

=============  ==========================================================  ===================
source         names                                                       when submitted
=============  ==========================================================  ===================
Canvas         ``lastnamefirstname[_late]_USERID_SUBMISSIONID_NAME.ipynb``  not said (see below)
               (``NAME-1.ipynb``, ``NAME-2.ipynb`` for a resubmitted name)
Moodle         ``Full Name_PARTICIPANTID_assignsubmission_file_/NAME.ipynb``  the worksheet's
nbgrader       exchange inbound ``STUDENT+A+TIMESTAMP[+RANDOM]/NAME.ipynb``  its ``timestamp.txt``
               (PATH: ``ROOT/COURSE_ID`` or its ``inbound``)
               or a ``submitted`` tree ``STUDENT/A/NAME.ipynb``
flat           ``STUDENT.ipynb``                                           not said
=============  ==========================================================  ===================

Students are named by the course's id (:mod:`autograder.term.roster`): Canvas's ``USERID`` is the
roster's ``ID`` column, a Moodle folder's full name is matched to the roster's first and last
name (Moodle's grade export holds no participant id); nbgrader and flat names are the id itself.

**Whose upload it is.** A submission belongs to a student by evidence the student cannot
forge. The outermost folder that names an owner decides, and nothing nested inside it can
name another: a Moodle participant's folder holds that participant's files only (a
``s101/a1_metrics/a1_metrics.ipynb`` or ``timestamp.txt`` a student uploaded is their own
file, never s101's submission or a time); an exchange folder ``STUDENT+A+...`` read from a
folder must be owned (its folder and notebook) by the account named STUDENT, by root or by
the account collecting: another account's folder is refused and named, so the real
submission stays the newest (a zip keeps no owners: collect from the exchange itself for
this check). Two LMS participants that map to one roster student are refused and listed.
Moodle names folders by full name: two participants of one name are matched by Moodle's
grading worksheet (``--participants``, whose ``Identifier`` column is ``Participant ID``
beside the email address or ID number), else listed for the instructor.

**Latest wins.** Of several files of one student, one named ``A.ipynb`` (resubmission suffixes
``-N`` or `` (N)`` removed) is preferred, then the latest by the source's own naming: the
highest timestamp; on Canvas the highest resubmission suffix (Canvas names the second upload
of ``A.ipynb`` ``A-1.ipynb``), then the highest SUBMISSIONID (Canvas numbers uploads in
order); in a Moodle participant's folder the file at its top over one nested in a folder.
Two files that nothing tells apart are both refused, listed. A single notebook with another name
(``a1_metrics-Copy1.ipynb``) is taken and renamed, and the rename reported. A notebook whose
graded cells are all another released assignment's is refused by name; a source holding only
such notebooks is refused whole.

**Re-collecting keeps what the instructor wrote.** A student whose notebook is byte for byte
the one collected before keeps the folder as it is, a hand-written ``timestamp.txt``
included (a ``timestamp.txt`` differs from the one collect wrote, or collect wrote none).
A different notebook replaces the earlier folder, which is moved to
``C/collect/replaced/A/STUDENT/WHEN/``, and the report says so and why (a time written by
hand belonged to the earlier file). A submission older than the one collected before is
not laid.

**Moodle's upload times.** A Moodle download names folders without a time; Moodle's grading
worksheet (``--participants``) has one per participant, ``Last modified (submission)``, written
in the time zone of the Moodle account that downloaded it, to the minute, in the site's
language (English: ``Monday, 7 December 2026, 11:59 PM``). Given with ``--timezone ZONE`` (that
account's zone, e.g. ``Europe/Berlin``), it is read (:func:`read_submission_times`) and becomes
the participant's ``timestamp.txt``; a worksheet holding times without ``--timezone`` is
refused (the times would be hours off), and a value that is not such a date is refused by name.

**Late without a time.** Canvas marks a late file ``late`` but its zip carries no submission time
(the entries' dates are when the zip was made). Such a file gets no ``timestamp.txt`` but the
mark (``late_without_time.txt``, :data:`autograder.grading.deadlines.LATE_MARK`), and counts as submitted
one second after the student's due date as it is whenever the grade is read (their extension if
any, given before or after collecting): one started day late, the least the mark says. A file
without the mark gets neither: on time. Flat sources, and Moodle's without its worksheet,
say nothing, so nothing they hold is late. Where the real times matter, collect from nbgrader's
exchange, or write ``timestamp.txt`` into the submission folder.

**Times students write.** On JupyterHub each student's ``nbgrader submit`` writes its own
inbound folder, ``timestamp.txt`` included, as nbgrader trusts it. Collected straight from the
exchange (``ROOT/COURSE_ID`` or its ``inbound``), a claimed time more than 15 minutes before the
kernel's change time of the notebook (which its owner cannot move back) is reported.

Nothing is dropped silently: every file that is not collected is listed with why (unknown id,
not on the roster, not a notebook, several candidate notebooks, a link, too large, an unsafe
path), and a run given files that matched none fails. A zip is read entry by entry: no absolute
paths or ``..``, no links, at most :data:`MAX_FILE_BYTES` per file, :data:`MAX_TOTAL_BYTES` and
:data:`MAX_ENTRIES` in all, each entry's size checked while it is read.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import json
import os
import pwd
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Literal

from autograder.config import DEFAULT_COURSE
from autograder.grading.deadlines import (
    LATE_MARK,
    TIMESTAMP_FORMAT,
    load_policy,
    read_timestamp,
    write_late_mark,
    write_timestamp,
)
from autograder.term.roster import Roster, check_student_id, resolve

__all__ = [
    "Action",
    "Collected",
    "Collection",
    "Skipped",
    "main",
    "manifest_path",
    "read_participants",
    "read_submission_times",
    "sources",
]

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_ENTRIES = 20_000

Source = Literal["canvas", "moodle", "exchange", "nbgrader", "flat"]
CANVAS = re.compile(
    r"(?P<name>[^_/]+)_(?:(?P<late>late)_)?(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)", re.I
)
MOODLE = re.compile(r"(?P<name>.+)_(?P<pid>\d+)_assignsubmission_[a-z]+_?(?P<file>.*)")
RESUBMITTED = re.compile(r"(?P<base>.+?)(?:-(?P<dash>\d+)| \((?P<paren>\d+)\))?\.ipynb", re.I)
PARTICIPANT = re.compile(r"\D*(?P<pid>\d+)")  #: Moodle worksheet's "Participant 1234"
MOODLE_TIME = "Last modified (submission)"  #: the worksheet's column of upload times
#: how Moodle writes a time (``userdate``: its ``strftimedaydatetime``, day without a zero)
MOODLE_TIME_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M",
                       "%d %B %Y, %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")  # fmt: skip
JUNK_PARTS = ("__MACOSX", ".ipynb_checkpoints")


class Action(enum.Enum):
    """What collect did with a student's folder in ``C/submitted``."""

    NEW = "new"  #: no earlier submission
    REPLACED = "replaced"  #: a different notebook than the one collected before
    UNCHANGED = "unchanged"  #: the same notebook: the folder (hand-written times too) kept


@dataclass(frozen=True)
class Collected:
    """One student's submission, laid into ``C/submitted/STUDENT/A/``."""

    student_id: str
    source: str  #: the file it came from, relative to the given PATH
    kind: Source
    submitted_at: datetime | None  #: what ``timestamp.txt`` says (None: not written)
    note: str = ""  #: a rename, how a late mark without a time was counted
    action: Action = Action.NEW
    late_mark: bool = False  #: Canvas marked it late without saying when
    hand_time: bool = False  #: the folder's timestamp.txt is the instructor's, kept


@dataclass(frozen=True)
class Skipped:
    """A file that was not collected, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Collection:
    """What one ``collect`` run did."""

    assignment: str
    collected: tuple[Collected, ...]
    skipped: tuple[Skipped, ...]  #: files not collected (unmatched or superseded), with why
    files_seen: int

    @property
    def ok(self) -> bool:
        """False when files were given and none was collected."""
        return bool(self.collected) or self.files_seen == 0


@dataclass(frozen=True)
class _Candidate:
    student_id: str
    path: Path  #: the notebook
    relative: str
    kind: Source
    submitted_at: datetime | None
    order: tuple  #: larger is later, by the source's own naming
    exact: bool  #: named A.ipynb, resubmission suffix aside
    late_mark: bool = False
    folder: Path | None = None  #: exchange/nbgrader: the submission folder, copied whole
    note: str = ""
    filename: str = ""  #: the name the student gave it (Canvas's and Moodle's prefix removed)
    identity: str = ""  #: the LMS participant it came from ("Moodle participant 77 (Jane Doe)")


def _safe_extract(archive: Path, target: Path) -> list[Skipped]:
    """Extract ``archive`` into ``target`` refusing unsafe entries; the refused, listed."""
    skipped = []
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise ValueError(f"--from {archive} is not a zip file") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ValueError(f"--from {archive} has {len(infos)} entries (at most {MAX_ENTRIES})")
        total = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            mode = info.external_attr >> 16
            if info.is_dir():
                continue
            if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts:
                skipped.append(
                    Skipped(name, "unsafe path in the zip (absolute or '..'), not extracted")
                )
                continue
            if stat.S_ISLNK(mode):
                skipped.append(Skipped(name, "a symbolic link, not extracted"))
                continue
            if info.file_size > MAX_FILE_BYTES:
                skipped.append(
                    Skipped(name, f"{info.file_size} bytes, over {MAX_FILE_BYTES} per file")
                )
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ValueError(f"--from {archive} unpacks to over {MAX_TOTAL_BYTES} bytes")
            out = target.joinpath(*parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with zf.open(info) as src, out.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > info.file_size or written > MAX_FILE_BYTES:  # a lying header
                        break
                    dst.write(chunk)
            if written > info.file_size or written > MAX_FILE_BYTES:
                out.unlink()
                skipped.append(Skipped(name, "larger than its zip header says, not extracted"))
    return skipped


def _files(root: Path) -> tuple[list[Path], list[Skipped]]:
    files, skipped = [], []
    for folder, dirs, names in os.walk(root, followlinks=False):
        here = Path(folder)
        for d in list(dirs):
            if (here / d).is_symlink():
                skipped.append(Skipped(str((here / d).relative_to(root)), "a symbolic link"))
                dirs.remove(d)
        for n in names:
            path = here / n
            rel = str(path.relative_to(root))
            if path.is_symlink():
                skipped.append(Skipped(rel, "a symbolic link"))
            elif not path.is_file():
                skipped.append(Skipped(rel, "not a regular file"))
            else:
                files.append(path)
    return sorted(files), skipped


def _exact(name: str, assignment: str) -> bool:
    m = RESUBMITTED.fullmatch(name)
    return bool(m) and m["base"] == assignment


def _suffix(name: str) -> int:
    """The resubmission number in ``A-N.ipynb`` or ``A (N).ipynb`` (0 without one)."""
    m = RESUBMITTED.fullmatch(name)
    return int(m["dash"] or m["paren"] or 0) if m else 0


def read_participants(path: Path, roster: Roster) -> dict[str, str]:
    """Moodle participant id -> roster student id, from Moodle's grading worksheet.

    The worksheet (Assignment -> View all submissions -> Download grading worksheet) names
    each participant ``Participant 1234`` (the number in the download's folder names) beside
    the identity fields the site shows: the roster's id column (e.g. ``ID number``) when it
    is there, else ``Email address``, matched to the roster's row. ``ValueError`` names a
    file without those columns; rows matching no roster student are left out.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--participants {path} does not exist")
    rows = _worksheet_rows(path)
    header = list(rows[0]) if rows else []
    key = next((c for c in (roster.id_column, "Email address") if c in header), None)
    if "Identifier" not in header or key is None:
        raise ValueError(
            f"--participants {path} is not Moodle's grading worksheet: it needs the columns "
            f"'Identifier' and {roster.id_column!r} or 'Email address' (columns: {header})"
        )
    if key == roster.id_column:
        lookup = {s.student_id: s.student_id for s in roster.students}
    else:
        lookup = {
            s.row.get("Email address", "").casefold(): s.student_id
            for s in roster.students
            if s.row.get("Email address")
        }
    found = {}
    for row in rows:
        m = PARTICIPANT.match(row.get("Identifier") or "")
        value = (row.get(key) or "").strip()
        value = value if key == roster.id_column else value.casefold()
        if m and value in lookup:
            found[m["pid"]] = lookup[value]
    return found


def _worksheet_rows(path: Path) -> list[dict]:
    text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    return list(csv.DictReader(io.StringIO(text)))


def read_submission_times(path: Path, timezone: str | None) -> dict[str, datetime]:
    """Moodle participant id -> upload time (aware, UTC), from the grading worksheet's
    ``Last modified (submission)`` (``-``: none), read in ``timezone`` (an IANA name).

    ``ValueError``: an unknown zone, a worksheet holding times but no zone given, a value that
    is not a time as Moodle writes it (the row and the value named).
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    rows = _worksheet_rows(path)
    given = [(r.get("Identifier") or "", (r.get(MOODLE_TIME) or "").strip()) for r in rows]
    given = [(who, value) for who, value in given if value not in ("", "-")]
    if timezone is None:
        if given:
            raise ValueError(
                f"--participants {path} holds Moodle's upload times ({MOODLE_TIME!r}), written "
                "in the time zone of the Moodle account that downloaded it: give it with "
                "--timezone (e.g. --timezone Europe/Berlin)"
            )
        return {}
    try:
        zone = ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"--timezone {timezone!r} is not a time zone name (e.g. Europe/Berlin, UTC)"
        ) from None
    found = {}
    for who, value in given:
        m = PARTICIPANT.match(who)
        if m is None:
            continue
        for form in MOODLE_TIME_FORMATS:
            try:
                moment = datetime.strptime(" ".join(value.split()), form)
                break
            except ValueError:
                continue
        else:
            raise ValueError(
                f"--participants {path}: {who!r} has {MOODLE_TIME!r} {value[:60]!r}, not a time "
                "as Moodle writes it in English ('Monday, 7 December 2026, 11:59 PM'): "
                "download the worksheet with the site in English"
            )
        found[m["pid"]] = moment.replace(tzinfo=zone).astimezone(UTC)
    return found


def _owner_refusal(student: str, *paths: Path) -> str | None:
    """Why an exchange folder read from disk is not ``student``'s, or None.

    Accepted owners: the account named ``student`` (``nbgrader submit`` runs as the student),
    root and the account collecting (the instructor's own copies). The owner is the kernel's
    word, which no student can set for a file of another account.
    """
    trusted = {0, os.geteuid()}
    for path in paths:
        uid = path.lstat().st_uid
        if uid in trusted:
            continue
        try:
            owner = pwd.getpwuid(uid).pw_name
        except KeyError:
            owner = f"uid {uid}"
        if owner != student:
            return (
                f"owned by {owner}, not by {student}: refused (another account's upload is "
                f"never {student}'s submission)"
            )
    return None


def _owner_folder(parts: tuple[str, ...]):
    """The outermost folder that names an owner: ``(index, "moodle"|"exchange", match)``."""
    for index, part in enumerate(parts[:-1]):
        moodle = MOODLE.fullmatch(part)
        if moodle is not None:
            return index, "moodle", moodle
        bits = part.rsplit("+", 3)
        if len(bits) >= 3:
            return index, "exchange", bits
    return None


def _classify(
    path: Path,
    root: Path,
    assignment: str,
    roster: Roster | None,
    due_for,
    live_exchange: bool = False,
    *,
    on_disk: bool = False,
    participants: dict[str, str] | None = None,
    times: dict[str, datetime] | None = None,
) -> _Candidate | Skipped | None:
    """A candidate for one student, a reason it is not one, or None (a file beside one)."""
    rel = path.relative_to(root)
    rel_text = str(rel)
    parts = rel.parts
    if any(p in JUNK_PARTS for p in parts) or path.name == ".DS_Store":
        return Skipped(rel_text, "a checkpoint or system file, ignored")
    owner = _owner_folder(parts)
    if owner is not None and owner[1] == "moodle":
        index, _, moodle = owner
        return _moodle(path, rel_text, parts[index + 1 :], moodle, assignment, roster,
                       participants, times)  # fmt: skip
    if owner is not None:  # nbgrader's exchange inbound: STUDENT+A+TIMESTAMP[+RANDOM]/...
        index, _, bits = owner
        folder = root.joinpath(*parts[: index + 1])
        if bits[1] != assignment:
            if path.suffix != ".ipynb":
                return None
            return Skipped(
                rel_text, f"nbgrader submission of assignment {bits[1]!r}, not {assignment!r}"
            )
        if path.suffix != ".ipynb":
            return None  # copied with its folder
        student = bits[0]
        if on_disk:
            refused = _owner_refusal(student, folder, path)
            if refused:
                return Skipped(rel_text, f"exchange folder of {student!r} {refused}")
        try:
            stamp = read_timestamp(folder)
        except ValueError as exc:
            return Skipped(rel_text, str(exc))
        if stamp is None:
            from nbgrader.utils import parse_utc

            try:
                stamp = parse_utc(bits[2]).replace(tzinfo=UTC)
            except (ValueError, OverflowError):
                stamp = None
        candidate = _person(
            student,
            rel_text,
            path,
            "exchange",
            stamp,
            (stamp.timestamp() if stamp else 0.0,),
            _exact(path.name, assignment),
            roster,
            folder=folder,
        )
        return _check_claim(candidate, path, live_exchange)
    if path.suffix.lower() != ".ipynb":
        if path.name == "timestamp.txt" and len(parts) >= 3 and parts[-2] == assignment:
            return None  # an nbgrader tree's time, read with its notebook
        return Skipped(rel_text, "not a notebook (.ipynb)")
    # older Moodle: the participant's prefix on the file name
    flat_moodle = MOODLE.fullmatch(path.name) if len(parts) == 1 else None
    if flat_moodle is not None and flat_moodle["file"]:
        return _moodle(path, rel_text, (flat_moodle["file"],), flat_moodle, assignment, roster,
                       participants, times)  # fmt: skip
    # nbgrader's submitted tree: STUDENT/A/NAME.ipynb
    if len(parts) >= 3 and parts[-2] == assignment:
        folder = path.parent
        try:
            stamp = read_timestamp(folder)
        except ValueError as exc:
            return Skipped(rel_text, str(exc))
        return _person(
            parts[-3],
            rel_text,
            path,
            "nbgrader",
            stamp,
            (stamp.timestamp() if stamp else 0.0,),
            _exact(path.name, assignment),
            roster,
            folder=folder,
        )
    canvas = CANVAS.fullmatch(path.name)
    if canvas is not None:
        return _canvas(path, rel_text, canvas, assignment, roster, due_for)
    if len(parts) == 1:
        return _person(path.stem, rel_text, path, "flat", None, (0,), True, roster)
    return Skipped(
        rel_text,
        "the name matches no known layout (Canvas name_USERID_SUBMISSIONID_FILE, Moodle "
        "Name_ID_assignsubmission_file_/FILE, nbgrader STUDENT/A/FILE or STUDENT.ipynb)",
    )


def _moodle(path, rel_text, inside, moodle, assignment, roster, participants, times=None):
    """A file in a Moodle participant's folder: that participant's, whatever it is named."""
    full_name, pid = moodle["name"], moodle["pid"]
    if path.suffix.lower() != ".ipynb":
        if path.name == "timestamp.txt":
            return Skipped(
                rel_text, "a timestamp.txt a Moodle participant uploaded: ignored (not a time)"
            )
        return Skipped(rel_text, "not a notebook (.ipynb)")
    who = f"Moodle participant {pid} ({full_name})"
    if roster is None:
        return Skipped(rel_text, f"Moodle submission of {full_name!r}: no roster to find them in")
    if participants and pid in participants:
        found = [s for s in roster.students if s.student_id == participants[pid]]
        if found and not roster.by_name(full_name).count(found[0]):
            return Skipped(
                rel_text,
                f"the grading worksheet names participant {pid} {found[0].student_id} "
                f"({found[0].name}), but the folder is {full_name!r}: not collected",
            )
    else:
        found = roster.by_name(full_name)
    if len(found) != 1:
        if not found:
            why = "is not on the roster"
        else:
            ids = ", ".join(s.student_id for s in found)
            why = (
                f"matches several students on the roster ({ids}): give --participants with "
                "Moodle's grading worksheet (its Identifier and email name each participant), "
                "or collect this folder by hand"
            )
        return Skipped(rel_text, f"Moodle participant {full_name!r} ({pid}) {why}")
    name = inside[-1]
    note = ""
    if len(inside) > 1:
        note = f"found at {'/'.join(inside)} in the participant's folder"
    return _Candidate(
        found[0].student_id,
        path,
        rel_text,
        "moodle",
        (times or {}).get(pid),  # the worksheet's upload time, when read
        (_suffix(name), -len(inside), int(pid)),  # a file nested deeper is not the later one
        _exact(name, assignment),
        filename=name,
        note=note,
        identity=who,
    )


def _canvas(path, rel_text, canvas, assignment, roster, due_for):
    if roster is None:
        return Skipped(rel_text, "Canvas submission: no roster to map Canvas user ids")
    found = roster.by_lms_id(canvas["user"])
    if len(found) != 1:
        why = "is not on the roster" if not found else "belongs to several roster rows"
        return Skipped(rel_text, f"Canvas user id {canvas['user']} ({canvas['name']}) {why}")
    student = found[0].student_id
    late = bool(canvas["late"])
    stamp, note = None, ""
    if late:  # no time is written: the mark is read against the due date when graded
        due = due_for(student)
        if due is None:
            note = f"marked late by Canvas, but {assignment} has no due date (yet): not penalised"
        else:
            note = "marked late by Canvas without a time: counted as 1 day late"
    return _Candidate(
        student,
        path,
        rel_text,
        "canvas",
        stamp,
        (_suffix(canvas["file"]), int(canvas["sub"])),  # "-1" is Canvas's later upload
        _exact(canvas["file"], assignment),
        late_mark=late,
        note=note,
        filename=canvas["file"],
        identity=f"Canvas user {canvas['user']} ({canvas['name']})",
    )


#: a claimed time this much earlier than the kernel's change time of the file is reported
CLAIM_SLACK = timedelta(minutes=15)


def _check_claim(candidate, path: Path, live_exchange: bool):
    """On the live exchange, report a ``timestamp.txt`` earlier than the file itself.

    Students write their inbound folders, ``timestamp.txt`` included (nbgrader trusts it); the
    file's change time (ctime) is set by the kernel and cannot be moved back by its owner. A
    copy of the exchange has new ctimes, so only a folder named ``inbound`` given directly is
    checked. The claimed time is kept: the report asks a person to look.
    """
    if not live_exchange or not isinstance(candidate, _Candidate) or candidate.submitted_at is None:
        return candidate
    written = datetime.fromtimestamp(path.stat().st_ctime, UTC)
    if written - candidate.submitted_at <= CLAIM_SLACK:
        return candidate
    warning = (
        f"timestamp.txt says {candidate.submitted_at:%Y-%m-%d %H:%M} UTC but the file was "
        f"written at {written:%Y-%m-%d %H:%M} UTC: check"
    )
    note = "; ".join(filter(None, [candidate.note, warning]))
    return _Candidate(**{**candidate.__dict__, "note": note})


def _person(student, rel_text, path, kind, stamp, order, exact, roster, folder=None):
    try:
        check_student_id(student)
    except ValueError as exc:
        return Skipped(rel_text, str(exc))
    if roster is not None and roster.find(student) is None:  # set aside, never graded
        return Skipped(
            rel_text,
            f"{student} is not on the roster: not collected (add them to the class list and "
            "run `roster` again, then collect)",
        )
    return _Candidate(student, path, rel_text, kind, stamp, order, exact, folder=folder)


def _why_later(chosen: _Candidate, other: _Candidate) -> str:
    if chosen.submitted_at != other.submitted_at and chosen.submitted_at and other.submitted_at:
        return "submitted later"
    if chosen.kind == "canvas" and chosen.order[0] != other.order[0]:
        return f"Canvas's name for a later upload: -{chosen.order[0]}"
    if chosen.kind == "canvas" and chosen.order != other.order:
        return "a later Canvas upload (higher id)"
    if chosen.kind == "moodle" and chosen.order[:2] != other.order[:2]:
        if chosen.order[0] != other.order[0]:
            return "later by its resubmission number"
        return "the participant's own upload; the other is nested in a folder"
    if chosen.order != other.order:
        return "later by its resubmission number"
    return "later"


def _choose(
    assignment: str, candidates: list[_Candidate]
) -> tuple[_Candidate | None, list[Skipped]]:
    identities = sorted({c.identity for c in candidates if c.identity})
    if len(identities) > 1:
        student = candidates[0].student_id
        return None, [
            Skipped(
                c.relative,
                f"{' and '.join(identities)} all map to roster student {student}: none "
                "collected (which one is the student? give --participants, fix the roster, "
                "or collect by hand)",
            )
            for c in candidates
        ]
    exact = [c for c in candidates if c.exact]
    pool = exact or candidates
    if not exact and len(pool) > 1:
        names = ", ".join(c.relative for c in pool)
        return None, [
            Skipped(c.relative, f"several notebooks and none named {assignment}.ipynb ({names})")
            for c in pool
        ]
    key = lambda c: ((c.submitted_at.timestamp() if c.submitted_at else float("-inf")), c.order)  # noqa: E731
    pool = sorted(pool, key=key)
    chosen = pool[-1]
    if len(pool) > 1 and key(pool[-2]) == key(chosen):  # nothing says which is the later
        tied = [c.relative for c in pool if key(c) == key(chosen)]
        return None, [
            Skipped(
                c.relative,
                f"several notebooks named {assignment}.ipynb and none later by the source's "
                f"naming ({', '.join(tied)}): not collected",
            )
            for c in candidates
        ]
    dropped = [
        Skipped(c.relative, f"superseded by {chosen.relative} ({_why_later(chosen, c)})")
        for c in pool[:-1]
    ] + [
        Skipped(c.relative, f"not {assignment}.ipynb; {chosen.relative} is")
        for c in candidates
        if c not in pool
    ]
    if not chosen.exact:
        rename = f"renamed {chosen.filename or chosen.path.name} to {assignment}.ipynb"
        chosen = replace(chosen, note="; ".join(filter(None, [chosen.note, rename])))
    return chosen, dropped


def _graded_ids(path: Path) -> set[str]:
    """The nbgrader ``grade_id`` of every cell of a notebook (empty if unreadable or stripped)."""
    try:
        nb = json.loads(path.read_bytes())
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
        ids = set()
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
            if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
                ids.add(meta["grade_id"])
        return ids
    except (OSError, ValueError, AttributeError):
        return set()


def _released_ids(course: Path) -> dict[str, set[str]]:
    """assignment -> the grade ids of its source notebook, for every released assignment."""
    out = {}
    for notebook in sorted((course / "source").glob("*/*.ipynb")):
        if notebook.stem == notebook.parent.name:
            out[notebook.stem] = _graded_ids(notebook)
    return out


def _other_assignment(path: Path, assignment: str, released: dict[str, set[str]]) -> str | None:
    """The released assignment a notebook belongs to, when it is not ``assignment``; else None.

    Decided by the nbgrader ids of its cells: a notebook sharing none with ``assignment``'s
    source (none when it is not released) and some with another's is that other's. Without
    ids (stripped), or with ids of no released assignment, it is not judged (the repair step
    sees it when it is graded).
    """
    mine = released.get(assignment, set())
    if not any(a != assignment for a in released):
        return None  # nothing else released: nothing it could be instead
    ids = _graded_ids(path)
    if not ids or ids & mine:
        return None
    others = {a: len(ids & g) for a, g in released.items() if a != assignment and ids & g}
    return max(others, key=others.get) if others else None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)  # as write_timestamp writes it


def _lay(
    chosen: _Candidate, assignment: str, course: Path, record: dict | None
) -> Collected | Skipped:
    """Write one submission into ``submitted/STUDENT/A/`` atomically; say what happened.

    ``record`` is what the previous collect wrote for this student (the manifest): a
    ``timestamp.txt`` it did not write is the instructor's, kept while the notebook is the same.
    """
    submitted = course / "submitted"
    target = submitted / chosen.student_id / assignment
    action, notes = Action.NEW, [chosen.note]
    if target.exists():
        notebook = target / f"{assignment}.ipynb"
        stamp_file = target / "timestamp.txt"
        current = stamp_file.read_text() if stamp_file.exists() else None
        written = (record or {}).get("timestamp")
        by_hand = current is not None and current != written
        if notebook.exists() and _digest(notebook) == _digest(chosen.path):
            if by_hand or current == _stamp_text(chosen.submitted_at):
                kept = "unchanged; kept the timestamp.txt written by hand" if by_hand else ""
                return Collected(  # the summary counts it; a line only for what was kept
                    chosen.student_id,
                    chosen.relative,
                    chosen.kind,
                    _read_or_none(target),
                    "; ".join(filter(None, [chosen.note, kept])),
                    Action.UNCHANGED,
                    chosen.late_mark,
                    hand_time=by_hand,
                )
            action = Action.UNCHANGED
            notes.append(f"unchanged; time updated ({_describe(current)} -> "
                         f"{_describe(_stamp_text(chosen.submitted_at))})")  # fmt: skip
        else:
            before = _read_or_none(target)
            if before and chosen.submitted_at and before > chosen.submitted_at:
                return Skipped(
                    chosen.relative,
                    f"older than the submission collected before ({before:%Y-%m-%d %H:%M:%S} UTC)",
                )
            action = Action.REPLACED
            kept = _keep_replaced(course, assignment, chosen.student_id, target)
            why = "a different notebook than the one collected before"
            if by_hand:
                why += (
                    f"; its hand-written timestamp.txt ({_describe(current)}) was for the earlier "
                    "file: write one for this file if it was late"
                )
            notes.append(f"replaced: {why} (the earlier folder is kept in {kept})")
    scratch = Path(tempfile.mkdtemp(prefix=".collect-", dir=submitted))
    try:
        folder = scratch / assignment
        folder.mkdir()
        if chosen.folder is not None:
            for item in chosen.folder.iterdir():
                if item.is_symlink() or item.name in JUNK_PARTS or item.suffix == ".ipynb":
                    continue
                if item.is_file():
                    shutil.copyfile(item, folder / item.name)
        shutil.copyfile(chosen.path, folder / f"{assignment}.ipynb")
        (folder / "timestamp.txt").unlink(missing_ok=True)
        (folder / LATE_MARK).unlink(missing_ok=True)
        if chosen.submitted_at is not None:
            write_timestamp(folder, chosen.submitted_at)
        elif chosen.late_mark:  # one second after the student's due date as it is when read
            write_late_mark(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Collected(
        chosen.student_id,
        chosen.relative,
        chosen.kind,
        chosen.submitted_at,
        "; ".join(filter(None, notes)),
        action,
        chosen.late_mark,
    )


def _read_or_none(folder: Path) -> datetime | None:
    try:
        return read_timestamp(folder)
    except ValueError:
        return None


def _describe(stamp_text: str | None) -> str:
    return stamp_text.strip() if stamp_text else "no time"


def _keep_replaced(course: Path, assignment: str, student: str, target: Path) -> Path:
    """Copy a folder about to be replaced to ``C/collect/replaced/A/STUDENT/WHEN/``."""
    when = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = course / "collect" / "replaced" / assignment / student / when
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(target, kept, symlinks=True)
    return kept.relative_to(course)


def main(
    *,
    assignment: str,
    source: Path,
    course: Path = DEFAULT_COURSE,
    roster: Path | None = None,
    id_column: str | None = None,
    participants: Path | None = None,
    timezone: str | None = None,
) -> Collection:
    """Collect ``source`` (zip or folder) into ``course/submitted/``; return what was done.

    ``participants``: Moodle's grading worksheet, to tell same-named participants apart
    (:func:`read_participants`) and, with ``timezone``, for their upload times
    (:func:`read_submission_times`). Raises ``ValueError`` naming the bad input: a ``source`` that
    does not exist or is neither a folder nor a zip, an unsafe zip (too many entries, too
    large), a bad assignment name, a roster that cannot be read, a source whose notebooks are
    all another assignment's (nothing is written then).
    """
    check_student_id(assignment, where="assignment")
    course, source = Path(course).resolve(), Path(source)
    if not source.exists():
        raise ValueError(f"--from {source} does not exist")
    the_roster = resolve(course, roster, id_column)
    by_pid = None
    if participants is not None:
        if the_roster is None:
            raise ValueError("--participants needs the class list: give --roster")
        by_pid = read_participants(participants, the_roster)
        times = read_submission_times(participants, timezone)
    elif timezone is not None:
        raise ValueError("--timezone is the zone of Moodle's worksheet: give --participants")
    else:
        times = None
    policy = load_policy(course).get(assignment)
    released = _released_ids(course)
    with tempfile.TemporaryDirectory(prefix="collect-") as scratch:
        skipped: list[Skipped] = []
        if source.is_dir():
            root = source
        elif zipfile.is_zipfile(source):
            root = Path(scratch)
            skipped += _safe_extract(source, root)
        else:
            raise ValueError(f"--from {source} is neither a folder nor a zip file")
        if (root / "inbound").is_dir():  # an exchange's course folder: only what students sent
            root = root / "inbound"
        live = source.is_dir() and root.name == "inbound"
        files, refused = _files(root)
        skipped += refused
        seen = len(files) + len(skipped)
        by_student: dict[str, list[_Candidate]] = {}
        for path in files:
            result = _classify(
                path,
                root,
                assignment,
                the_roster,
                policy.due_for,
                live,
                on_disk=source.is_dir(),
                participants=by_pid,
                times=times,
            )
            if isinstance(result, Skipped):
                skipped.append(result)
            elif result is not None:
                by_student.setdefault(result.student_id, []).append(result)
        chosen_all, others = [], []
        for student in sorted(by_student):
            chosen, dropped = _choose(assignment, by_student[student])
            skipped += dropped
            if chosen is None:
                continue
            other = _other_assignment(chosen.path, assignment, released)
            if other is None:
                chosen_all.append(chosen)
                continue
            others.append(other)
            skipped.append(
                Skipped(
                    chosen.relative,
                    f"a notebook of {other}, not {assignment}: none of its graded cells is "
                    f"{assignment}'s",
                )
            )
        if others and not chosen_all:
            names = ", ".join(sorted(set(others)))
            raise ValueError(
                f"--from {source} holds notebooks of {names}, not {assignment}: "
                f"nothing collected ({len(others)} notebooks; is it the right download?)"
            )
        known = sources(course, assignment)
        (course / "submitted").mkdir(parents=True, exist_ok=True)
        collected = []
        for chosen in chosen_all:
            done = _lay(chosen, assignment, course, known.get(chosen.student_id))
            if isinstance(done, Skipped):
                skipped.append(done)
            else:
                collected.append(done)
    _remember(course, assignment, collected)
    return Collection(assignment, tuple(collected), tuple(skipped), seen)


def manifest_path(course: Path, assignment: str) -> Path:
    """Where collect remembers each student's source file (feedback delivery names by it)."""
    return Path(course) / "collect" / f"{assignment}.json"


def sources(course: Path, assignment: str) -> dict[str, dict]:
    """student -> ``{"source", "kind", "submitted_at", "note", "late_mark", "timestamp"}``.

    ``timestamp`` is the text collect wrote into ``timestamp.txt`` (None: it wrote none), so
    a later collect can tell a time written by hand; ``late_mark``: Canvas marked the file
    late without a time.
    """
    path = manifest_path(course, assignment)
    return json.loads(path.read_text()) if path.exists() else {}


def _remember(course: Path, assignment: str, collected: list[Collected]) -> None:
    known = sources(course, assignment)
    for c in collected:
        before = known.get(c.student_id, {})
        written = _stamp_text(c.submitted_at)
        if c.hand_time:
            written = before.get("timestamp")  # the instructor's, not collect's
        known[c.student_id] = {
            "source": c.source,
            "kind": c.kind,
            "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
            "note": c.note,
            "late_mark": c.late_mark,
            "timestamp": written,
        }
    path = manifest_path(course, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
