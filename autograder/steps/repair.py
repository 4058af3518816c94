"""Before grading: restore what a submission may not change, or say exactly why it cannot be.

A student's notebook can lose or alter the cells the instructor locked: a test cell deleted,
renamed or duplicated, its metadata edited (more points, ``grade: false``) or stripped.
Stock nbgrader then fails with a message about "an old version" or scores a silent zero.
Here, against the assignment's source notebook:

- a locked cell (a test, the set-up code, the instructions) that is missing is put back where
  the source has it, and one whose nbgrader metadata changed gets the source's metadata back
  (nbgrader then restores its content, hidden tests included, as usual);
- a cell whose ``grade_id`` the source does not know, or whose metadata is stripped, keeps its
  code but loses the id: it runs as any cell a student added;
- extra copies of a locked cell are dropped;
- an answer cell (``solution: true``) that is missing or appears twice cannot be repaired
  without guessing which code is the answer: :class:`InvalidSubmission` names it.
"""

from __future__ import annotations

import copy
import uuid

from autograder import cells

__all__ = ["InvalidSubmission", "repair"]


#: The nbgrader metadata keys that decide how a cell is graded (nbgrader adds others, such as
#: checksums, that may differ between the source and a released copy).
_DECIDING = ("grade", "solution", "locked", "points", "task", "schema_version")


class InvalidSubmission(ValueError):
    """The notebook cannot be graded as it is; the message says why, for the student."""


def _grade_id(cell) -> str | None:
    return (
        cells.grade_id(cell) if isinstance(cell.get("metadata", {}).get("nbgrader"), dict) else None
    )


def repair(submitted, source) -> tuple[object, list[str]]:
    """Return ``(repaired notebook, notes)``; the submitted notebook is not modified."""
    nb = copy.deepcopy(submitted)
    wanted = {_grade_id(c): c for c in source.cells if _grade_id(c)}
    order = [_grade_id(c) for c in source.cells if _grade_id(c)]
    notes: list[str] = []
    seen: dict[str, int] = {}
    cells = []
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id is None or grade_id not in wanted:
            if "nbgrader" in cell.get("metadata", {}):
                del cell.metadata["nbgrader"]  # unknown or stripped: an ordinary cell now
                notes.append(f"ignored the nbgrader id of a cell ({grade_id or 'stripped'})")
            cells.append(cell)
            continue
        seen[grade_id] = seen.get(grade_id, 0) + 1
        original = wanted[grade_id]
        if original.metadata["nbgrader"].get("solution"):
            if seen[grade_id] > 1:
                raise InvalidSubmission(
                    f"the answer cell {grade_id!r} appears {seen[grade_id]} times: "
                    "keep one copy and resubmit"
                )
        elif seen[grade_id] > 1:
            notes.append(f"dropped a copy of the locked cell {grade_id!r}")
            continue
        mine, theirs = cell.metadata["nbgrader"], original.metadata["nbgrader"]
        changed = [k for k in _DECIDING if mine.get(k) != theirs.get(k)]
        if changed:
            mine.update({k: theirs[k] for k in changed if k in theirs})
            for key in (k for k in changed if k not in theirs):
                mine.pop(key)
            notes.append(f"restored the metadata of {grade_id!r} ({', '.join(changed)})")
        if cell.cell_type != original.cell_type:
            if original.metadata["nbgrader"].get("solution"):
                raise InvalidSubmission(f"the answer cell {grade_id!r} changed its type")
            cell = copy.deepcopy(original)
            notes.append(f"restored the type of {grade_id!r}")
        cells.append(cell)
    for grade_id in order:
        if grade_id in seen:
            continue
        original = wanted[grade_id]
        if original.metadata["nbgrader"].get("solution"):
            raise InvalidSubmission(
                f"the answer cell {grade_id!r} is missing (deleted, or its id changed): "
                "restore it from the released notebook and resubmit"
            )
        before = order[: order.index(grade_id)]
        at = 0
        for i, cell in enumerate(cells):
            if _grade_id(cell) in before:
                at = i + 1
        restored = copy.deepcopy(original)
        restored["id"] = uuid.uuid4().hex[:8]
        if restored.cell_type == "code":
            restored.outputs, restored.execution_count = [], None
        cells.insert(at, restored)
        seen[grade_id] = 1
        notes.append(f"restored the deleted cell {grade_id!r}")
    nb.cells = cells
    return nb, notes
