"""``deliver``: the feedback pages to students, through nbgrader's exchange or an LMS bulk zip.

``python -m autograder deliver A --course C --exchange ROOT [--course-id ID]`` or
``python -m autograder deliver A --course C --zip canvas|moodle [--out F]``

The pages are ``C/feedback/STUDENT/A/feedback.html``, written again by ``feedback``'s own
generator when they are sent: every number on a page sent is derived from the gradebook and
the current policy (due date, late penalty, extensions) at that moment, never read from a page
written before a regrade, a hand score or a late change (a stranger's Canvas zip said
"4 of 10 points" while the Canvas export said 0). ``--book-url`` is where its lesson links
point, as ``feedback``'s.

- **Exchange.** nbgrader's ``release_feedback`` wants, beside each page, the notebook's name
  (``A.html``, which students' ``fetch_feedback`` looks up), ``timestamp.txt`` and the
  ``submission_secret.txt`` that ``nbgrader submit`` wrote (without them it crashes: the
  issue's "timestamp.txt missing"). :func:`prepare_exchange` puts them there, from the
  submission ``collect`` laid into ``C/submitted``, after which nbgrader's own
  ``nbgrader release_feedback A`` works too. Students then run
  ``nbgrader fetch_feedback A --course ID``. Only a submission that came through the exchange
  has a secret; the others are listed (deliver them by zip).
- **Canvas zip.** One file per student named as in the submissions download,
  ``lastnamefirstname[_late]_USERID_SUBMISSIONID_A_feedback.html``: Canvas's "Re-upload
  submissions" matches a file to its student by the user and submission ids in the name, and
  attaches it as a comment.
- **Moodle zip.** One folder per student named as in the submissions download,
  ``Full Name_PARTICIPANTID_assignsubmission_file_/feedback.html``: Moodle's "Upload multiple
  feedback files in a zip" matches the folder to the participant by that name.

Students collected from another source have no LMS name and are listed, never guessed.
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from autograder.config import COURSE_ID, DEFAULT_COURSE, nbgrader_config
from autograder.grading.deadlines import read_timestamp, write_timestamp
from autograder.term.collect import CANVAS, MOODLE, sources
from autograder.term.roster import check_student_id

__all__ = ["Delivery", "current_pages", "main", "prepare_exchange"]

PAGE = "feedback.html"


@dataclass(frozen=True)
class Delivery:
    """Whose feedback went where, and whose did not, with why."""

    assignment: str
    delivered: tuple[str, ...]
    not_delivered: tuple[tuple[str, str], ...]  #: (student, why)
    target: Path  #: the zip, or the exchange's feedback folder


def _pages(course: Path, assignment: str) -> dict[str, Path]:
    found = sorted((course / "feedback").glob(f"*/{assignment}/{PAGE}"))
    if not found:
        raise ValueError(
            f"no feedback pages of {assignment} under {course / 'feedback'}: run "
            f"`python -m autograder feedback {assignment} --course {course}` first"
        )
    return {page.parent.parent.name: page for page in found}


def current_pages(
    course: Path, assignment: str, book: str | Path | None = None, db_url: str | None = None
) -> dict[str, Path]:
    """student -> page, each written now from the gradebook by ``feedback``'s generator.

    Refused (``ValueError``) where ``feedback`` never ran (no page) or where nothing is graded;
    a page of a student the gradebook no longer holds is not sent.
    """
    from autograder.term import feedback

    _pages(course, assignment)  # no page at all: feedback never ran; refused, nothing written
    written = feedback.main(assignment=assignment, course=course, book=book, db_url=db_url)
    return {page.parent.parent.name: page for page in sorted(written)}


def prepare_exchange(
    course: Path, assignment: str, book: str | Path | None = None, db_url: str | None = None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Make ``course/feedback/STUDENT/A/`` what nbgrader's ``release_feedback`` expects, from
    pages written now (:func:`current_pages`).

    Returns the students ready for it and those that are not, with why.
    """
    course = Path(course).resolve()
    ready, not_ready = [], []
    for student, page in current_pages(course, assignment, book, db_url).items():
        folder = page.parent
        submitted = course / "submitted" / student / assignment
        secret = submitted / "submission_secret.txt"
        if not secret.exists():
            not_ready.append((student, "not submitted through the exchange (no submission secret)"))
            continue
        shutil.copyfile(page, folder / f"{assignment}.html")
        shutil.copyfile(secret, folder / "submission_secret.txt")
        stamp = read_timestamp(submitted)
        if stamp is not None:
            write_timestamp(folder, stamp)
        else:
            (folder / "timestamp.txt").write_text("")
        ready.append(student)
    return ready, not_ready


def _to_exchange(
    course: Path, assignment: str, root: Path, course_id: str, book, db_url
) -> Delivery:
    from nbgrader.apps import NbGraderAPI

    if not root.is_dir():
        raise ValueError(f"--exchange {root} does not exist")
    ready, not_ready = prepare_exchange(course, assignment, book, db_url)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    config = nbgrader_config(course)
    config.CourseDirectory.course_id = course_id
    config.Exchange.root = str(root.resolve())
    api = NbGraderAPI(config=config)
    delivered = []
    for student in ready:
        with warnings.catch_warnings():  # nbgrader's own typo: ReleaseFeedback(authentictor=)
            warnings.simplefilter("ignore", DeprecationWarning)
            result = api.release_feedback(assignment, student_id=student)
        if result.get("success"):
            delivered.append(student)
        else:
            log = (result.get("log") or result.get("error") or "").strip().splitlines()
            not_ready.append((student, f"nbgrader release_feedback: {log[-1] if log else '?'}"))
    target = root.resolve() / course_id / "feedback"
    return Delivery(assignment, tuple(delivered), tuple(not_ready), target)


def _lms_name(lms: str, assignment: str, source: dict | None) -> str | None:
    if not source or source.get("kind") != lms:
        return None
    path = PurePosixPath(source["source"])
    if lms == "canvas":
        m = CANVAS.fullmatch(path.name)
        if m is None:
            return None
        late = f"{m['late']}_" if m["late"] else ""
        return f"{m['name']}_{late}{m['user']}_{m['sub']}_{assignment}_{PAGE}"
    folder = path.parent.name if MOODLE.fullmatch(path.parent.name or "") else None
    if folder is None:
        m = MOODLE.fullmatch(path.name)
        folder = re.sub(r"_?" + re.escape(m["file"]) + "$", "", path.name) + "_" if m else None
    return f"{folder}/{PAGE}" if folder else None


def _to_zip(course: Path, assignment: str, lms: str, out: Path, book, db_url) -> Delivery:
    pages = current_pages(course, assignment, book, db_url)  # refused before the zip is begun
    known = sources(course, assignment)
    delivered, not_delivered = [], []
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for student, page in pages.items():
                name = _lms_name(lms, assignment, known.get(student))
                if name is None:
                    kind = known.get(student, {}).get("kind", "not collected")
                    not_delivered.append(
                        (student, f"not collected from {lms} ({kind}): no {lms} name")
                    )
                    continue
                zf.write(page, name)
                delivered.append(student)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)  # a zip that failed half-way is not left beside the course
    return Delivery(assignment, tuple(delivered), tuple(not_delivered), out)


def main(
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    exchange: Path | None = None,
    course_id: str = COURSE_ID,
    lms: Literal["canvas", "moodle"] | None = None,
    out: Path | None = None,
    book: str | Path | None = None,
    db_url: str | None = None,
) -> Delivery:
    """Deliver ``assignment``'s feedback pages through ``exchange`` or as an ``lms`` zip, each
    page written again now from the gradebook (``db_url``) with lesson links into ``book``.

    Raises ``ValueError`` naming the bad input: neither or both of ``exchange`` and ``lms``, an
    unknown LMS, no feedback pages, an exchange root that does not exist.
    """
    check_student_id(assignment, where="assignment")
    check_student_id(course_id, where="--course-id")
    course = Path(course).resolve()
    if (exchange is None) == (lms is None):
        raise ValueError("give exactly one of --exchange ROOT and --zip canvas|moodle")
    if exchange is not None:
        return _to_exchange(course, assignment, Path(exchange), course_id, book, db_url)
    if lms not in ("canvas", "moodle"):
        raise ValueError(f"--zip must be canvas or moodle, got {lms!r}")
    out = Path(out) if out else course / "feedback" / f"{assignment}-{lms}-feedback.zip"
    return _to_zip(course, assignment, lms, out, book, db_url)
