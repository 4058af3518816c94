"""``feedback``: one HTML page per graded student, safe to hand back.

For each check the page says, in words, what the check expects and which lesson section to
revisit (from the assignment source's ``autograder`` cell metadata), the points the gradebook
holds (hand-graded scores and the grader's comments included; answers not graded yet say so),
and for a failed check the message of its typed outcome: written by the grader, never with an
expected value, a hidden input or a traceback; an exception of the student's code is named by
its type only.

Lesson links point at the book given as ``book`` (a folder, or an ``http(s)://`` or ``file://``
URL), else ``$AUTOGRADER_BOOK_URL``, else the book's published address (``html.baseurl`` in
``book/_config.yml``, Jupyter Book's setting for it), else the locally built book
(``book/_build/html``), with a warning: a ``file://`` link on the instructor's disk opens for
nobody else.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from urllib.parse import urlsplit

from autograder import settings
from autograder.config import DEFAULT_COURSE, REPO
from autograder.grading.authoring import graded_cells
from autograder.grading.records import Kind, Status
from autograder.safe_html import PAGE_CSP_META

__all__ = ["main"]

BOOK = REPO / "book" / "_build" / "html"
BOOK_CONFIG = REPO / "book" / "_config.yml"


def published_book(config: Path = BOOK_CONFIG) -> str | None:
    """The book's published address, ``html.baseurl`` of its ``_config.yml`` (None if unset)."""
    import yaml

    if not Path(config).is_file():
        return None
    data = yaml.safe_load(Path(config).read_text()) or {}
    url = (data.get("html") or {}).get("baseurl") if isinstance(data, dict) else None
    return str(url).strip() or None if url else None


def days(n: int) -> str:
    """``1 day``, ``2 days``."""
    return f"{n} day" if n == 1 else f"{n} days"


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


def _cell_row(check: dict, cell, base: str, items=()) -> str:
    """One check's row: points from the gradebook, why from the grader's typed outcome;
    ``items``: the rubric items a hand grader applied (``python -m autograder handgrade``)."""
    points = check["points"]
    if cell is None:
        score, result, ok = "—", "not graded", False
    elif cell.pending:
        score, result, ok = "pending", "to be graded by hand", False
    else:
        score = f"{cell.score:g}"
        ok = cell.score >= points
        outcome = cell.outcome
        if cell.manual is not None:  # a person's score, full marks or not: never "passed"
            result = f"graded by hand: {score} / {points:g}"
        elif ok:  # with what the check noted (a4: the accuracy reached)
            note = outcome.message if outcome is not None and outcome.kind is Kind.PASSED else ""
            result = Kind.PASSED.says(note.splitlines()[0][:300] if note else "")
        elif outcome is not None and outcome.message:
            result = outcome.message.splitlines()[0][:300]
        else:
            result = "the check failed"
    comment = ""
    if cell is not None and cell.comment:
        comment = f"<br><em>grader's comment:</em> {html.escape(cell.comment)}"
    if cell is not None and cell.manual is not None and items:
        said = "; ".join(f"{i.description} ({i.points:+g})" for i in items)
        comment = f"<br><em>rubric:</em> {html.escape(said)}{comment}"
    rubric = check.get("rubric") or ""
    expects = check["expects"] or rubric
    return (
        "<tr>"
        f"<td>{html.escape(check['grade_id'])}</td>"
        f"<td>{score} / {points:g}</td>"
        f"<td>{html.escape(expects)}</td>"
        f"<td>{html.escape(result)}{comment}</td>"
        f"<td>{'' if ok else _lesson_link(check['lesson'], base)}</td>"
        "</tr>"
    )


def render(assignment: str, grade, checks: list[dict], base: str, applied=None) -> str:
    """The page of one :class:`~autograder.grading.gradebook.StudentGrade`; ``applied``: question ->
    the rubric items applied to this student's answer."""
    student = grade.student_id
    if grade.status is Status.GRADED:
        summary = f"{grade.score:g} of {grade.max_score:g} points"
        if grade.penalty:
            late = days(grade.days_late)
            summary += f" (after a late penalty of {grade.penalty:g}: {late} late)"
        if grade.pending:
            summary += f"; {len(grade.pending)} answers still to be graded by hand"
        items = applied or {}
        rows = [_cell_row(c, grade.cells.get(c["grade_id"]), base, items.get(c["grade_id"], ()))
                for c in checks]  # fmt: skip
    else:  # failed: only what a person entered counts (the automatic scores are withdrawn)
        summary = f"not graded: {html.escape(grade.reason)}"
        by_hand = {g: c for g, c in grade.cells.items() if c.manual is not None}
        if by_hand:
            summary += f"; {grade.score:g} of {grade.max_score:g} points graded by hand"
        rows = [_cell_row(c, by_hand.get(c["grade_id"]), base) for c in checks]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
{PAGE_CSP_META}
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
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    book: str | Path | None = None,
    db_url: str | None = None,
) -> list[Path]:
    """Write ``course/feedback/STUDENT/ASSIGNMENT/feedback.html`` for every graded student.

    Scores come from the gradebook (hand-graded ones and comments included; the late penalty
    derived now, under the current due dates and extensions); ``book``: where lesson links
    point (see the module); checked before anything is written. ``db_url``: the gradebook
    (default: the course's SQLite file, which must exist).
    """
    from autograder.grading.gradebook import read_grades
    from autograder.handgrade.store import applied_items

    book = book or settings.current().book_url or published_book()
    base = book_base(book) if book else BOOK.as_uri() + "/"  # the local book, built or not yet
    course = Path(course).resolve()
    grades = read_grades(course, assignment, db_url)
    if not grades:
        raise ValueError(f"no graded submissions of {assignment!r} in {course}: run `grade` first")
    if base.startswith("file:"):
        from autograder.names import say

        say("warning: lesson links point at {} on this machine, which students cannot open: "
            "give --book-url https://… (or set html.baseurl in book/_config.yml)", base,
            file=sys.stderr)  # fmt: skip
    checks = graded_cells(course, assignment)
    applied = applied_items(course, assignment)
    written = []
    for grade in grades:
        target = course / "feedback" / grade.student_id / assignment / "feedback.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(".feedback.html.tmp")
        tmp.write_text(render(assignment, grade, checks, base, applied.get(grade.student_id)))
        tmp.replace(target)
        written.append(target)
    return written
