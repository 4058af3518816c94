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
Moodle         ``Full Name_PARTICIPANTID_assignsubmission_file_/NAME.ipynb``  not said
nbgrader       exchange inbound ``STUDENT+A+TIMESTAMP[+RANDOM]/NAME.ipynb``  its ``timestamp.txt``
               (PATH: ``ROOT/COURSE_ID`` or its ``inbound``)
               or a ``submitted`` tree ``STUDENT/A/NAME.ipynb``
flat           ``STUDENT.ipynb``                                           not said
=============  ==========================================================  ===================

Students are named by the course's id (:mod:`autograder.roster`): Canvas's ``USERID`` is the
roster's ``ID`` column, a Moodle folder's full name is matched to the roster's first and last
name (Moodle's grade export holds no participant id); nbgrader and flat names are the id itself.

**Latest wins.** Of several files of one student, one named ``A.ipynb`` (resubmission suffixes
``-N`` or `` (N)`` removed) is preferred, then the latest: the highest timestamp, else Canvas's
highest SUBMISSIONID (Canvas numbers uploads in order). A single notebook with another name
(``a1_metrics-Copy1.ipynb``) is taken and renamed, and the rename reported. A new collect
replaces a student's earlier one unless both have times and the earlier is later.

**Late without a time.** Canvas marks a late file ``late`` but its zip carries no submission time
(the entries' dates are when the zip was made). Such a file is recorded as submitted one second
after the student's due date (their extension if any): one started day late, the least the mark
says. A file without the mark gets no ``timestamp.txt``: on time. Moodle and flat sources say
nothing, so nothing they hold is late. Where the real times matter, collect from nbgrader's
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

import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Literal

from autograder.config import DEFAULT_COURSE
from autograder.deadlines import load_policy, read_timestamp, write_timestamp
from autograder.roster import Roster, check_student_id, resolve

__all__ = ["Collected", "Collection", "Skipped", "main", "manifest_path", "sources"]

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_ENTRIES = 20_000

Source = Literal["canvas", "moodle", "exchange", "nbgrader", "flat"]
CANVAS = re.compile(
    r"(?P<name>[^_/]+)_(?:(?P<late>late)_)?(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)", re.I
)
MOODLE = re.compile(r"(?P<name>.+)_(?P<pid>\d+)_assignsubmission_[a-z]+_?(?P<file>.*)")
RESUBMITTED = re.compile(r"(?P<base>.+?)(?:-\d+| \(\d+\))?\.ipynb", re.I)
JUNK_PARTS = ("__MACOSX", ".ipynb_checkpoints")


@dataclass(frozen=True)
class Collected:
    """One student's submission, laid into ``C/submitted/STUDENT/A/``."""

    student_id: str
    source: str  #: the file it came from, relative to the given PATH
    kind: Source
    submitted_at: datetime | None  #: what ``timestamp.txt`` says (None: not written)
    note: str = ""  #: a rename, how a late mark without a time was counted, not on the roster


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
    order: tuple  #: larger is later
    exact: bool  #: named A.ipynb, resubmission suffix aside
    late_mark: bool = False
    folder: Path | None = None  #: exchange/nbgrader: the submission folder, copied whole
    note: str = ""
    filename: str = ""  #: the name the student gave it (Canvas's and Moodle's prefix removed)


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


def _classify(
    path: Path,
    root: Path,
    assignment: str,
    roster: Roster | None,
    due_for,
    live_exchange: bool = False,
) -> _Candidate | Skipped | None:
    """A candidate for one student, a reason it is not one, or None (a file beside one)."""
    rel = path.relative_to(root)
    rel_text = str(rel)
    parts = rel.parts
    if any(p in JUNK_PARTS for p in parts) or path.name == ".DS_Store":
        return Skipped(rel_text, "a checkpoint or system file, ignored")
    # nbgrader's exchange inbound: STUDENT+A+TIMESTAMP[+RANDOM]/...
    for index, part in enumerate(parts[:-1]):
        bits = part.rsplit("+", 3)
        if len(bits) >= 3 and bits[1] == assignment:
            folder = root.joinpath(*parts[: index + 1])
            if path.suffix != ".ipynb":
                return None  # copied with its folder
            student = bits[0]
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
        if len(bits) >= 3 and index == len(parts) - 2:
            return Skipped(
                rel_text, f"nbgrader submission of assignment {bits[1]!r}, not {assignment!r}"
            )
    if path.suffix.lower() != ".ipynb":
        if path.name == "timestamp.txt":
            return None
        return Skipped(rel_text, "not a notebook (.ipynb)")
    # Moodle: one folder per student, or (older Moodle) the prefix on the file name
    parent = path.parent.name if path.parent != root else ""
    moodle = MOODLE.fullmatch(parent) if parent else None
    if moodle is None:
        flat_moodle = MOODLE.fullmatch(path.name)
        moodle = flat_moodle if flat_moodle and flat_moodle["file"] else None
        name = moodle["file"] if moodle else path.name
    else:
        name = path.name
    if moodle is not None:
        full_name = moodle["name"]
        if roster is None:
            return Skipped(
                rel_text, f"Moodle submission of {full_name!r}: no roster to find them in"
            )
        found = roster.by_name(full_name)
        if len(found) != 1:
            why = "is not on the roster" if not found else "matches several students on the roster"
            return Skipped(rel_text, f"Moodle participant {full_name!r} {why}")
        return _Candidate(
            found[0].student_id,
            path,
            rel_text,
            "moodle",
            None,
            (int(moodle["pid"]),),
            _exact(name, assignment),
            filename=name,
        )
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
        if roster is None:
            return Skipped(rel_text, "Canvas submission: no roster to map Canvas user ids")
        found = roster.by_lms_id(canvas["user"])
        if len(found) != 1:
            why = "is not on the roster" if not found else "belongs to several roster rows"
            return Skipped(rel_text, f"Canvas user id {canvas['user']} ({canvas['name']}) {why}")
        student = found[0].student_id
        late = bool(canvas["late"])
        stamp, note = None, ""
        if late:
            due = due_for(student)
            if due is None:
                note = f"marked late by Canvas, but {assignment} has no due date: not penalised"
            else:
                stamp = due + timedelta(seconds=1)
                note = "marked late by Canvas without a time: counted as 1 day late"
        return _Candidate(
            student,
            path,
            rel_text,
            "canvas",
            stamp,
            (int(canvas["sub"]),),
            _exact(canvas["file"], assignment),
            late_mark=late,
            note=note,
            filename=canvas["file"],
        )
    if len(parts) == 1:
        return _person(path.stem, rel_text, path, "flat", None, (0,), True, roster)
    return Skipped(
        rel_text,
        "the name matches no known layout (Canvas name_USERID_SUBMISSIONID_FILE, Moodle "
        "Name_ID_assignsubmission_file_/FILE, nbgrader STUDENT/A/FILE or STUDENT.ipynb)",
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
    note = ""
    if roster is not None and roster.find(student) is None:
        note = f"{student} is not on the roster"
    return _Candidate(student, path, rel_text, kind, stamp, order, exact, folder=folder, note=note)


def _choose(
    assignment: str, candidates: list[_Candidate]
) -> tuple[_Candidate | None, list[Skipped]]:
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
    dropped = [
        Skipped(c.relative, f"superseded by {chosen.relative} (later)") for c in pool[:-1]
    ] + [
        Skipped(c.relative, f"not {assignment}.ipynb; {chosen.relative} is")
        for c in candidates
        if c not in pool
    ]
    if not chosen.exact:
        rename = f"renamed {chosen.filename or chosen.path.name} to {assignment}.ipynb"
        chosen = _Candidate(
            **{**chosen.__dict__, "note": "; ".join(filter(None, [chosen.note, rename]))}
        )
    return chosen, dropped


def _lay(chosen: _Candidate, assignment: str, submitted: Path) -> Skipped | None:
    """Write one submission into ``submitted/STUDENT/A/`` atomically, unless a later one is there."""
    target = submitted / chosen.student_id / assignment
    if target.exists():
        before = read_timestamp(target)
        if before and chosen.submitted_at and before > chosen.submitted_at:
            return Skipped(
                chosen.relative,
                f"older than the submission collected before ({before:%Y-%m-%d %H:%M:%S} UTC)",
            )
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
        if chosen.submitted_at is not None:
            write_timestamp(folder, chosen.submitted_at)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return None


def main(
    *,
    assignment: str,
    source: Path,
    course: Path = DEFAULT_COURSE,
    roster: Path | None = None,
    id_column: str | None = None,
) -> Collection:
    """Collect ``source`` (zip or folder) into ``course/submitted/``; return what was done.

    Raises ``ValueError`` naming the bad input: a ``source`` that does not exist or is neither
    a folder nor a zip, an unsafe zip (too many entries, too large), a bad assignment name, a
    roster that cannot be read.
    """
    check_student_id(assignment, where="assignment")
    course, source = Path(course).resolve(), Path(source)
    if not source.exists():
        raise ValueError(f"--from {source} does not exist")
    the_roster = resolve(course, roster, id_column)
    policy = load_policy(course).get(assignment)
    submitted = course / "submitted"
    submitted.mkdir(parents=True, exist_ok=True)
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
            result = _classify(path, root, assignment, the_roster, policy.due_for, live)
            if isinstance(result, Skipped):
                skipped.append(result)
            elif result is not None:
                by_student.setdefault(result.student_id, []).append(result)
        collected = []
        for student in sorted(by_student):
            chosen, dropped = _choose(assignment, by_student[student])
            skipped += dropped
            if chosen is None:
                continue
            refused_write = _lay(chosen, assignment, submitted)
            if refused_write:
                skipped.append(refused_write)
                continue
            collected.append(
                Collected(student, chosen.relative, chosen.kind, chosen.submitted_at, chosen.note)
            )
    _remember(course, assignment, collected)
    return Collection(assignment, tuple(collected), tuple(skipped), seen)


def manifest_path(course: Path, assignment: str) -> Path:
    """Where collect remembers each student's source file (feedback delivery names by it)."""
    return Path(course) / "collect" / f"{assignment}.json"


def sources(course: Path, assignment: str) -> dict[str, dict]:
    """student -> ``{"source", "kind", "submitted_at", "note"}`` of their collected submission."""
    path = manifest_path(course, assignment)
    return json.loads(path.read_text()) if path.exists() else {}


def _remember(course: Path, assignment: str, collected: list[Collected]) -> None:
    known = sources(course, assignment)
    for c in collected:
        known[c.student_id] = {
            "source": c.source,
            "kind": c.kind,
            "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
            "note": c.note,
        }
    path = manifest_path(course, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
