"""What the grader keeps for itself in the course folder, out of every submission's reach.

``COURSE/.autograder/`` (mode 700) holds:

- ``secret``: 32 random bytes made on first use. Seeds of hidden inputs and the records below
  are bound to it; it is not in the repository and the sandbox never sees the course folder.
- ``results/ASSIGNMENT/STUDENT.json``: one :class:`~autograder.grading.records.GradedRecord` per
  graded submission, with an HMAC over its text. A record is trusted only if its MAC verifies
  with this course's secret, so a file a submission ships (under any name) is never a record.

Digests say what was graded:

.. math:: \\mathrm{submission} = \\mathrm{SHA256}\\big(\\textstyle\\bigoplus_{f}\\ (\\mathrm{path}_f, \\mathrm{bytes}_f)\\big)

over the submission folder's regular files (symbolic links are never followed). The
assignment's version is the digest of what grading runs (:func:`grading_view`): each source
notebook's cell types, their nbgrader metadata (grade ids, points, which cells are solutions
and tests) and the code cells' source, the folder's other files, and the hidden-check modules
its checks use (:func:`hidden_modules`: another assignment's checks are not its version).
Markdown text and the ``autograder`` metadata (the words feedback shows) are left out: fixing a
typo in the prose makes no result stale; a change to a check, its points or code it runs does.

A student's seed is ``HMAC(secret, assignment, student)``: it does not depend on where the
submission is graded or on what was submitted (a one-character resubmission keeps its hidden
inputs and its data split), and is unknown without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from autograder.grading.records import GradedRecord

__all__ = [
    "assignment_digest",
    "course_secret",
    "grading_view",
    "load_record",
    "record_path",
    "remove_record",
    "save_record",
    "student_seed",
    "submission_digest",
]

STATE = ".autograder"


def _state(course: Path) -> Path:
    folder = Path(course) / STATE
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def course_secret(course: Path) -> bytes:
    """The course's secret, created (mode 600) on first use."""
    path = _state(course) / "secret"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        fd = None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, secrets.token_bytes(32))
        except FileExistsError:
            pass  # another process made it first
        finally:
            if fd is not None:
                os.close(fd)
        data = path.read_bytes()
    if len(data) != 32 or path.is_symlink():
        raise ValueError(f"the course secret {path} is damaged: delete it to make a new one")
    return data


def submission_digest(folder: Path) -> str:
    """SHA-256 over the regular files under ``folder`` (relative path and bytes, sorted)."""
    digest = hashlib.sha256()
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return "absent"
    entries = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not (Path(root) / d).is_symlink())
        for name in files:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                entries.append(path)
    for path in sorted(entries):
        rel = path.relative_to(folder).as_posix().encode()
        digest.update(len(rel).to_bytes(4, "big") + rel)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def grading_view(notebook: dict) -> list:
    """What grading runs of a notebook (JSON as read): per cell its type, its nbgrader
    metadata and, for code cells, the source; no markdown text, no feedback wording."""
    view = []
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        kind = cell.get("cell_type")
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        view.append([kind, meta, source if kind == "code" else ""])
    return view


def _notebook_digest(path: Path) -> bytes:
    try:
        view = grading_view(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return path.read_bytes()  # not a notebook we can read: every byte counts
    return json.dumps(view, sort_keys=True).encode()


def hidden_modules(texts: list[str]) -> list[Path]:
    """The check modules code in ``texts`` runs: those it imports from
    :mod:`autograder.assignments` (its own ``hidden.py``), the modules those import (its
    ``visible.py``, the shared rules) and the packages on the way."""
    from autograder import assignments

    return assignments.check_modules(texts)


def assignment_digest(course: Path, assignment: str) -> str:
    """SHA-256 of what grading runs: the source folder (notebooks by :func:`grading_view`,
    other files whole) and the hidden-check modules its checks use (:func:`hidden_modules`)."""
    folder = Path(course) / "source" / assignment
    digest = hashlib.sha256(b"grading-view-1\0")
    files = []
    if folder.is_dir() and not folder.is_symlink():
        for root, dirs, names in os.walk(folder, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not (Path(root) / d).is_symlink())
            files += [Path(root) / n for n in names if not (Path(root) / n).is_symlink()]
    code = []
    for path in sorted(p for p in files if p.is_file()):
        rel = path.relative_to(folder).as_posix().encode()
        data = _notebook_digest(path) if path.suffix == ".ipynb" else path.read_bytes()
        code.append(data.decode("utf-8", "replace"))
        digest.update(len(rel).to_bytes(4, "big") + rel + len(data).to_bytes(8, "big") + data)
    from autograder import assignments

    for path in hidden_modules(code):
        name = path.relative_to(assignments.ROOT).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def student_seed(secret: bytes, assignment: str, student: str) -> int:
    """The seed of this student's hidden inputs (a 32-bit integer), the same for every
    resubmission (see the module docstring)."""
    message = "\0".join((assignment, student)).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:4], "big")


def record_path(course: Path, assignment: str, student: str) -> Path:
    return _state(course) / "results" / assignment / f"{student}.json"


def _mac(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def save_record(course: Path, assignment: str, record: GradedRecord) -> Path:
    """Write the record with its MAC, atomically (a finished student's marker)."""
    path = record_path(course, assignment, record.result.student_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = record.to_json()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{_mac(course_secret(course), text)}\n{text}")
    tmp.replace(path)
    return path


def load_record(course: Path, assignment: str, student: str) -> GradedRecord | None:
    """The record of a graded submission, or None when absent or not written by this grader."""
    path = record_path(course, assignment, student)
    if not path.is_file() or path.is_symlink():
        return None
    mac, _, text = path.read_text().partition("\n")
    if not hmac.compare_digest(mac, _mac(course_secret(course), text)):
        return None
    try:
        record = GradedRecord.from_json(text)
    except (ValueError, KeyError, TypeError):
        return None
    return record if record.result.student_id == student else None


def remove_record(course: Path, assignment: str, student: str) -> None:
    record_path(course, assignment, student).unlink(missing_ok=True)


def recorded_students(course: Path, assignment: str) -> list[str]:
    """Students with a record file for ``assignment`` (verify each with :func:`load_record`)."""
    folder = Path(course) / STATE / "results" / assignment
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
