"""The students' answers to one hand-graded question, rendered safely and grouped.

An answer is the cell of the student's *graded* notebook (``COURSE/autograded/S/A/A.ipynb``,
the one formgrader shows: locked cells repaired, nothing else the submission shipped) whose
``grade_id`` is the question's. It is shown as HTML made only by :func:`render`: markdown
through nbconvert's renderer, then :func:`autograder.safe_html.sanitise` (no script, no event
handler, no ``javascript:`` URL, no style); code as escaped text. At most :data:`MAX_SHOWN`
characters are rendered.

**Groups.** Answers whose texts are equal after :func:`normalise` (case folded, runs of
whitespace made one space) form one group, graded by one decision. An *empty* answer (blank,
or the handed-out cell left as it was, e.g. nbgrader's "YOUR ANSWER HERE") normalises to
``""``, so every empty answer is in one group.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_SHOWN", "Answer", "normalise", "read_answers", "render"]

MAX_SHOWN = 20_000


@dataclass(frozen=True)
class Answer:
    """One student's answer to one question."""

    student: str
    question: str
    text: str  #: as written (what the group key is computed from)
    key: str  #: :func:`normalise` of the text ("" for an empty answer)
    cell_type: str = "markdown"

    @property
    def empty(self) -> bool:
        return self.key == ""

    @property
    def digest(self) -> str:
        """A short digest of the group key: a mark remembers what it graded."""
        import hashlib

        return hashlib.sha256(self.key.encode()).hexdigest()[:16]

    @functools.cached_property
    def html(self) -> str:
        """Sanitised HTML (:func:`render`), made when first shown."""
        return render(self.text, self.cell_type) if self.key else ""


def normalise(text: str, handed_out: str = "") -> str:
    """The group key: case folded, whitespace collapsed; ``""`` for blank or untouched."""
    key = " ".join(str(text).casefold().split())
    return "" if key == " ".join(str(handed_out).casefold().split()) else key


def render(text: str, cell_type: str = "markdown") -> str:
    """Sanitised HTML of an answer (see the module)."""
    from autograder.safe_html import sanitise

    shown = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "\n\n… (cut here)"
    if cell_type != "markdown":
        return f"<pre><code>{html.escape(shown)}</code></pre>"
    from nbconvert.filters.markdown import markdown2html_mistune

    return sanitise(markdown2html_mistune(shown))


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _cells(path: Path, questions: set[str]) -> dict[str, tuple[str, str]]:
    """grade_id -> (cell type, source) for the first cell of each question in ``path``."""
    import json

    from autograder.grading import cells

    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        found = {}
        for cell in notebook.get("cells", []):
            gid = cells.grade_id(cell)
            if gid in questions and gid not in found:
                found[gid] = (str(cell.get("cell_type", "markdown")), _source(cell))
        return found
    except (OSError, ValueError, AttributeError, TypeError):
        return {}  # no graded notebook, or not one: every answer shows as empty


def read_answers(
    course: Path, assignment: str, students: list[str], questions: list[str]
) -> dict[str, dict[str, Answer]]:
    """question -> student -> :class:`Answer`, for every student and hand-graded question."""
    course = Path(course)
    handed_out = _cells(course / "release" / assignment / f"{assignment}.ipynb", set(questions))
    wanted = set(questions)
    answers: dict[str, dict[str, Answer]] = {q: {} for q in questions}
    for student in students:
        path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
        found = _cells(path, wanted) if not path.is_symlink() else {}
        for q in questions:
            kind, text = found.get(q, ("markdown", ""))
            key = normalise(text, handed_out.get(q, ("", ""))[1])
            answers[q][student] = Answer(student, q, text, key, kind)
    return answers
