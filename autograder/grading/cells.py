"""nbgrader's cell metadata and the hidden-test markers, read in one place.

Every module that asks "which check is this cell?", "is it a test cell?" or "where is its
hidden block?" asks here, so the grader, the repair step, the release check, feedback and the
students' check agree.
"""

from __future__ import annotations

import re

__all__ = [
    "HIDDEN_BEGIN",
    "HIDDEN_END",
    "SOLUTION_BEGIN",
    "SOLUTION_END",
    "grade_id",
    "hidden_block",
    "is_graded",
    "is_manual",
    "is_test",
    "meta",
    "points",
    "strip_hidden",
    "strip_solutions",
]

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
_HIDDEN = re.compile(rf"{HIDDEN_BEGIN}\n(.*?){HIDDEN_END}", re.S)
_HIDDEN_REGION = re.compile(rf"\n?{HIDDEN_BEGIN}.*?{HIDDEN_END}\n?", re.S)
_SOLUTION_REGION = re.compile(rf"^([ \t]*){SOLUTION_BEGIN}.*?{SOLUTION_END}[^\n]*", re.S | re.M)


def meta(cell) -> dict:
    """The cell's ``nbgrader`` metadata (empty when it has none)."""
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def grade_id(cell) -> str | None:
    """The cell's ``grade_id`` (None when absent or not a string)."""
    value = meta(cell).get("grade_id")
    return value if isinstance(value, str) else None


def is_graded(cell) -> bool:
    return bool(meta(cell).get("grade"))


def is_test(cell) -> bool:
    """A test cell: graded code with no solution, decided by its hidden block."""
    m = meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def is_manual(cell) -> bool:
    """An answer graded by a person (a graded cell that holds the student's solution)."""
    m = meta(cell)
    return bool(m.get("grade")) and bool(m.get("solution"))


def points(cell) -> float:
    return float(meta(cell).get("points", 0) or 0)


def hidden_block(source: str) -> str:
    """The code of a test cell's hidden region (empty when it has none)."""
    return "\n".join(match.group(1) for match in _HIDDEN.finditer(source))


def strip_hidden(source: str) -> str:
    """The cell's source without its hidden region (what students may see)."""
    return _HIDDEN_REGION.sub("\n", source).rstrip()


def strip_solutions(source: str) -> str:
    """The cell's source with each solution region replaced by ``pass`` (what is handed out,
    near enough to parse: nbgrader writes a ``raise NotImplementedError()`` there)."""
    return _SOLUTION_REGION.sub(lambda m: f"{m.group(1)}pass", source)
