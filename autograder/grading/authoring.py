"""Text source -> nbgrader source notebook, keeping every cell's nbgrader metadata.

An assignment is one folder of :mod:`autograder.assignments`; its notebook source is the
jupytext py:percent file ``NAME/notebook.py`` there (a folder of ``sources`` has that layout).
Each cell carries nbgrader's metadata in its header line, for example::

    # %% nbgrader={"grade": true, "grade_id": "test-counts", "locked": true, "points": 2, ...}

Solution regions are marked ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and hidden tests
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``, as nbgrader expects.
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder.config import ASSIGNMENTS
from autograder.grading import cells

__all__ = [
    "AuthoringError",
    "assignment_names",
    "graded_cells",
    "read_source",
    "solutions",
    "source_path",
    "submission",
    "validate",
    "write_source_notebook",
]

REQUIRED = ("grade", "grade_id", "locked", "schema_version", "solution")


class AuthoringError(ValueError):
    """An assignment source is malformed (names the cell and the problem)."""


#: An assignment's notebook source, in its folder.
NOTEBOOK = "notebook.py"


def assignment_names(folder: Path = ASSIGNMENTS) -> list[str]:
    """The assignments in ``folder``: its sub-folders holding a ``notebook.py``."""
    return sorted(p.parent.name for p in Path(folder).glob(f"*/{NOTEBOOK}"))


def source_path(name: str, folder: Path = ASSIGNMENTS) -> Path:
    """Where the notebook source of assignment ``name`` is in ``folder``."""
    return Path(folder) / name / NOTEBOOK


def read_source(name: str, folder: Path = ASSIGNMENTS):
    """The assignment as a notebook (nbformat v4), validated."""
    import jupytext

    path = source_path(name, folder)
    if not path.exists():
        known = ", ".join(assignment_names(folder)) or "none"
        raise AuthoringError(f"no assignment {name!r}: {path} does not exist (known: {known})")
    notebook = jupytext.read(path)
    notebook.metadata.pop("jupytext", None)
    validate(notebook, name)
    return notebook


def validate(notebook, name: str = "assignment") -> None:
    """Every cell has complete nbgrader metadata, unique grade ids, points on graded cells."""
    seen = {}
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        where = f"{name}, cell {index + 1}"
        if meta is None:
            raise AuthoringError(f"{where}: no nbgrader metadata")
        missing = [key for key in REQUIRED if key not in meta]
        if missing:
            raise AuthoringError(f"{where}: nbgrader metadata lacks {missing}")
        grade_id = meta["grade_id"]
        if grade_id in seen:
            raise AuthoringError(
                f"{where}: grade_id {grade_id!r} already used by cell {seen[grade_id]}"
            )
        seen[grade_id] = index + 1
        if meta["grade"] and not meta.get("points"):
            raise AuthoringError(f"{where} ({grade_id}): a graded cell needs points > 0")
        source = cell.source
        if meta["solution"] and cell.cell_type == "code" and cells.SOLUTION_BEGIN not in source:
            raise AuthoringError(
                f"{where} ({grade_id}): a solution cell needs a {cells.SOLUTION_BEGIN} region"
            )
        if cells.HIDDEN_BEGIN in source and not meta["grade"]:
            raise AuthoringError(f"{where} ({grade_id}): hidden tests outside a graded cell")
        test_cell = cell.cell_type == "code" and meta["grade"] and not meta["solution"]
        if test_cell and cells.HIDDEN_BEGIN not in source:
            raise AuthoringError(
                f"{where} ({grade_id}): a test cell needs a {cells.HIDDEN_BEGIN} region "
                "(the grader decides verdicts with it, outside the student's code)"
            )


def write_source_notebook(name: str, course: Path, folder: Path = ASSIGNMENTS) -> Path:
    """Write ``course/source/NAME/NAME.ipynb`` (nbgrader's source layout); return its path."""
    import nbformat

    notebook = read_source(name, folder)
    target = Path(course) / "source" / name / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def graded_cells(course: Path, assignment: str) -> list[dict]:
    """The checks of a released assignment, in order, from its nbgrader source notebook.

    One dict per graded cell: ``grade_id``, ``points``, the ``expects``/``lesson``/``rubric``
    texts of its ``autograder`` metadata (empty when absent) and whether a person grades it
    (``manual``). Used by grade, feedback, report and the exports.
    """
    import nbformat

    source = Path(course) / "source" / assignment / f"{assignment}.ipynb"
    checks = []
    previous = ""
    for cell in nbformat.read(source, as_version=4).cells:
        if cells.is_graded(cell):
            extra = cell.metadata.get("autograder", {})
            checks.append(
                {
                    "grade_id": cells.grade_id(cell),
                    "points": cells.points(cell),
                    "expects": extra.get("expects", ""),
                    "lesson": extra.get("lesson", ""),
                    "rubric": extra.get("rubric", "") or _rubric(previous),
                    "manual": cells.is_manual(cell),
                }
            )
        previous = cell.source if cell.cell_type == "markdown" else ""
    return checks


def _rubric(question: str) -> str:
    """The "*A full answer contains* …" paragraph of a question cell (empty when none)."""
    for paragraph in question.split("\n\n"):
        if paragraph.lstrip().startswith("*A full answer contains*"):
            text = " ".join(paragraph.split())
            return text.replace("*A full answer contains*", "A full answer contains", 1)
    return ""


def solutions(notebook) -> dict[str, str]:
    """``grade_id`` -> the code of each answer cell with its solution markers removed.

    On a source notebook this is the reference answer, as a student would type it.
    """
    return {
        cells.grade_id(cell): re.sub(
            rf"\s*{cells.SOLUTION_BEGIN}|\s*{cells.SOLUTION_END}", "", cell.source
        )
        for cell in notebook.cells
        if cells.meta(cell).get("solution")
    }


def submission(released, answers: dict[str, str]):
    """A copy of the released notebook whose cells named in ``answers`` hold that code."""
    import copy

    nb = copy.deepcopy(released)
    for cell in nb.cells:
        cell.source = answers.get(cells.grade_id(cell), cell.source)
    return nb
