"""``feedback``: one HTML page per graded student, safe to hand back.

For each check the page says, in words, what the check expects and which lesson section to
revisit (from the assignment source's ``autograder`` cell metadata), the points obtained, and
for a failed check only the *kind* of failure: the grader's own message (written outside the
student's code, never with an expected value), otherwise just the exception type. It never
includes hidden test source, expected values or a traceback.

Lesson links point at the book: by default the locally built one (``book/_build/html``), or
the published one given as ``book`` (a folder, or an ``http(s)://`` or ``file://`` URL; the
``AUTOGRADER_BOOK_URL`` environment variable sets the default).
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from autograder.authoring import graded_cells
from autograder.config import DEFAULT_COURSE, REPO
from autograder.steps import GRADER_ERRORS

__all__ = ["main"]

BOOK = REPO / "book" / "_build" / "html"


def _failures(autograded: Path) -> dict[str, str]:
    """grade_id -> a safe one-line description of why the check failed."""
    import nbformat

    if not autograded.exists():
        return {}
    out = {}
    for cell in nbformat.read(autograded, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            name, value = output.get("ename", "Error"), str(output.get("evalue", ""))
            if name in GRADER_ERRORS:  # written by the grader, worded for students
                out[grade_id] = value.splitlines()[0][:300] if value else "the check failed"
            else:
                out[grade_id] = f"your code raised {name[:80]}"
    return out


def book_base(book: str | Path) -> str:
    """The book's base URL, ending in ``/``, from a URL or the folder of a built book.

    A URL is ``http://HOST/…``, ``https://HOST/…`` or ``file:///…``, with no query or fragment
    (lesson paths are appended to it); a folder must exist. Anything else raises ValueError
    naming the value.
    """
    text = str(book).strip()
    if "://" not in text:
        folder = Path(text).expanduser()
        if not text or not folder.is_dir():
            raise ValueError(
                "the book must be an http://, https:// or file:// URL or the folder of a built "
                f"book, got {text!r}"
            )
        return folder.resolve().as_uri() + "/"
    url = urlsplit(text)
    scheme = url.scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise ValueError(
            f"the book's URL must start with http://, https:// or file://, got {text!r}"
        )
    if scheme in ("http", "https") and not url.netloc:
        raise ValueError(f"the book's URL names no host, got {text!r}")
    if scheme == "file" and not url.path.startswith("/"):
        raise ValueError(f"the book's file:// URL must hold an absolute path, got {text!r}")
    if url.query or url.fragment:
        raise ValueError(f"the book's URL must have no query or fragment, got {text!r}")
    return text.rstrip("/") + "/"


def _lesson_link(lesson: str, base: str) -> str:
    if not lesson:
        return ""
    page, _, anchor = lesson.partition("#")
    href = f"{base}lessons/{page}.html" + (f"#{anchor}" if anchor else "")
    title = page.replace("_", " ").lstrip("0123456789 ")
    label = f"lesson: {title}" + (f", “{anchor.replace('-', ' ')}”" if anchor else "")
    return f'<a href="{html.escape(href)}">{html.escape(label)}</a>'


def render(
    student: str, assignment: str, result: dict, checks: list[dict], failures: dict, base: str
) -> str:
    rows = []
    for check in checks:
        got = result.get("cells", {}).get(check["grade_id"])
        score = "—" if got is None else f"{got:g}"
        ok = got is not None and got >= check["points"]
        why = "" if ok else html.escape(failures.get(check["grade_id"], result.get("reason", "")))
        rows.append(
            "<tr>"
            f"<td>{html.escape(check['grade_id'])}</td>"
            f"<td>{score} / {check['points']:g}</td>"
            f"<td>{html.escape(check['expects'])}</td>"
            f"<td>{'passed' if ok else why}</td>"
            f"<td>{'' if ok else _lesson_link(check['lesson'], base)}</td>"
            "</tr>"
        )
    status = result.get("status", "failed")
    summary = (
        f"{result.get('score', 0):g} of {result.get('max_score', 0):g} points"
        if status == "graded"
        else f"not graded: {html.escape(result.get('reason', ''))}"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(assignment)}: feedback for {html.escape(student)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto}}
td,th{{border-bottom:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}}</style>
</head><body>
<h1>{html.escape(assignment)}: feedback for {html.escape(student)}</h1>
<p><strong>{summary}</strong></p>
<table><tr><th>check</th><th>points</th><th>what it expects</th><th>result</th><th>revisit</th></tr>
{"".join(rows)}
</table></body></html>
"""


def main(
    *, assignment: str, course: Path = DEFAULT_COURSE, book: str | Path | None = None
) -> list[Path]:
    """Write ``course/feedback/STUDENT/ASSIGNMENT/feedback.html`` for every graded student.

    ``book``: where lesson links point (see the module); checked before anything is written.
    """
    book = book or os.environ.get("AUTOGRADER_BOOK_URL")
    base = book_base(book) if book else BOOK.as_uri() + "/"  # the local book, built or not yet
    course = Path(course).resolve()
    graded = sorted((course / "autograded").glob(f"*/{assignment}/.result.json"))
    if not graded:
        raise ValueError(f"no graded submissions of {assignment!r} in {course}: run `grade` first")
    checks = graded_cells(course, assignment)
    written = []
    for result_file in graded:
        student = result_file.parent.parent.name
        result = json.loads(result_file.read_text())
        failures = _failures(result_file.parent / f"{assignment}.ipynb")
        target = course / "feedback" / student / assignment / "feedback.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(student, assignment, result, checks, failures, base))
        written.append(target)
    return written
