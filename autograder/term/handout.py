"""``handout``: the released assignment to students, through nbgrader's exchange or an LMS zip.

``python -m autograder handout A --course C [--exchange ROOT] [--course-id ID] [--zip F]``

- **Exchange** (JupyterHub): nbgrader's own ``release_assignment`` copies ``C/release/A`` to
  ``ROOT/ID/outbound/A``; students then run ``nbgrader fetch_assignment A --course ID`` and,
  when done, ``nbgrader submit A --course ID``; ``collect A --from ROOT/ID`` takes the
  submissions from ``ROOT/ID/inbound`` with their times. The exchange root must exist and be
  writable by everyone (nbgrader's rule: ``chmod 777``); ``ID`` is the course id students
  configure (``c.CourseDirectory.course_id``), by default the gradebook's.
- **Zip**: ``C/handout/A.zip`` (or ``--zip F``) holds everything in ``C/release/A`` (the
  notebook, its data files, the students' visible checks), to upload to the LMS.

Either way the release folder is checked first: no file in it may contain a solution region,
a hidden-test region or the hidden checks' package name.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.config import COURSE_ID, DEFAULT_COURSE, nbgrader_config
from autograder.term.roster import check_student_id

__all__ = ["LEAKS", "Handout", "main"]

#: What a student's copy must never contain.
LEAKS = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "autograder.assignments")


@dataclass(frozen=True)
class Handout:
    """Where the assignment went."""

    assignment: str
    files: tuple[str, ...]  #: the release folder's files, relative to it
    zip_path: Path | None
    exchange: Path | None  #: ROOT/ID/outbound/A


def _check_release(folder: Path) -> list[Path]:
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    for path in files:
        if path.is_symlink():
            raise ValueError(f"the release holds a link, {path}: students would get its target")
        data = path.read_bytes()
        for marker in LEAKS:
            if marker.encode() in data:
                raise ValueError(f"the release file {path} contains {marker!r}: not handed out")
    return files


def main(
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    exchange: Path | None = None,
    course_id: str = COURSE_ID,
    zip_path: Path | None = None,
    force: bool = False,
) -> Handout:
    """Hand ``assignment`` out: always the zip, and to the exchange when ``exchange`` is given
    (``force``: replace the copy already in the exchange's outbound).

    Raises ``ValueError`` naming the bad input: an assignment not released, a release holding
    a solution or hidden test, an exchange root that does not exist, nbgrader's refusal.
    """
    check_student_id(assignment, where="assignment")
    check_student_id(course_id, where="--course-id")
    course = Path(course).resolve()
    release = course / "release" / assignment
    if not release.is_dir():
        raise ValueError(
            f"{assignment!r} is not released in {course}: run `python -m autograder release "
            f"{assignment} --course {course}` first"
        )
    files = _check_release(release)
    zip_path = Path(zip_path) if zip_path else course / "handout" / f"{assignment}.zip"
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, f"{assignment}/{path.relative_to(release)}")
    tmp.replace(zip_path)
    outbound = None
    if exchange is not None:
        outbound = _to_exchange(assignment, course, Path(exchange), course_id, force)
    return Handout(
        assignment, tuple(str(p.relative_to(release)) for p in files), zip_path, outbound
    )


def _to_exchange(assignment: str, course: Path, root: Path, course_id: str, force: bool) -> Path:
    from nbgrader.apps import NbGraderAPI

    if not root.is_dir():
        raise ValueError(f"--exchange {root} does not exist: create it (chmod 777) first")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    config = nbgrader_config(course)
    config.CourseDirectory.course_id = course_id
    config.Exchange.root = str(root.resolve())
    config.ExchangeReleaseAssignment.force = force  # replace what students may already hold
    api = NbGraderAPI(config=config)
    result = api.release_assignment(assignment)
    if not result.get("success"):
        log = (result.get("log") or result.get("error") or "").strip().splitlines()
        raise ValueError(
            f"nbgrader release_assignment failed: {log[-1] if log else 'no reason given'}"
        )
    return root.resolve() / course_id / "outbound" / assignment
