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
- a cell whose nbgrader metadata was stripped (an editor that drops it) gets it back when it
  is certainly that cell: its cell id is the source's (ids are random and kept by nbgrader's
  release), or, with every cell stripped and no ids, the notebook's cells match the source's
  one to one (same number, same types, each locked cell's visible text the same);
- an answer cell whose type changed (a markdown answer turned into code) gets the source's
  type back with the student's text kept;
- an answer cell that appears twice keeps its one answer when that is certain: the copies are
  identical, or all but one are the untouched hand-out (nbgrader's ``YOUR CODE HERE`` stub);
- an answer cell that is missing, or appears twice with two different answers, cannot be
  repaired without guessing which is the answer: :class:`InvalidSubmission` names it.

Every repair is said in the notes (the CSV's reason and the student's feedback).
"""

from __future__ import annotations

import copy
import uuid

from autograder.grading import cells

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


def _words(text: str) -> list[str]:
    """A cell's text compared without blank lines or surrounding spaces."""
    return [line.strip() for line in str(text).splitlines() if line.strip()]


def _handed_out(original) -> list[str]:
    """The words of an answer cell as released (nbgrader's ``ClearSolutions`` on the source)."""
    from nbgrader.preprocessors import ClearSolutions

    cell, _ = ClearSolutions().preprocess_cell(copy.deepcopy(original), {"language": "python"}, 0)
    return _words(cell.source)


def _restore_stripped(nb, source, notes: list[str]) -> None:
    """Give stripped cells back the source's nbgrader metadata where the match is certain."""
    present = {_grade_id(c) for c in nb.cells if _grade_id(c)}
    by_id = {c.get("id"): c for c in source.cells if _grade_id(c) and c.get("id")}
    matched = []
    for cell in nb.cells:
        if _grade_id(cell) is not None:
            continue
        original = by_id.get(cell.get("id"))
        if original is not None and _grade_id(original) not in present:
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            present.add(_grade_id(original))
            matched.append(_grade_id(original))
    if matched:
        notes.append(f"restored the stripped metadata of {', '.join(map(repr, matched))} "
                     "(matched by cell id)")  # fmt: skip
        return
    if present or len(nb.cells) != len(source.cells):
        return
    pairs = list(zip(nb.cells, source.cells, strict=True))
    if any(mine.cell_type != theirs.cell_type for mine, theirs in pairs):
        return
    for mine, theirs in pairs:
        meta = theirs.metadata.get("nbgrader", {})
        if _grade_id(theirs) and not meta.get("solution"):
            if _words(cells.strip_hidden(mine.source)) != _words(cells.strip_hidden(theirs.source)):
                return  # a locked cell differs: the cells are not certainly the source's
    for mine, theirs in pairs:
        if _grade_id(theirs):
            mine.metadata["nbgrader"] = copy.deepcopy(theirs.metadata["nbgrader"])
            matched.append(_grade_id(theirs))
    if matched:
        notes.append(f"restored the stripped metadata of {len(matched)} cells (the notebook's "
                     "cells match the assignment's one to one)")  # fmt: skip


def _one_answer(nb, wanted, notes: list[str]) -> None:
    """Keep one copy of an answer cell that appears more than once, where that is certain."""
    copies: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = _grade_id(cell)
        if grade_id in wanted and wanted[grade_id].metadata["nbgrader"].get("solution"):
            copies.setdefault(grade_id, []).append(index)
    drop: set[int] = set()
    for grade_id, where in copies.items():
        if len(where) < 2:
            continue
        texts = {i: _words(nb.cells[i].source) for i in where}
        stub = _handed_out(wanted[grade_id])
        answered = [i for i in where if texts[i] != stub]
        distinct = {tuple(texts[i]) for i in answered}
        if len(distinct) > 1:
            raise InvalidSubmission(
                f"the answer cell {grade_id!r} appears {len(where)} times with different "
                "answers: keep one copy and resubmit"
            )
        keep = answered[0] if answered else where[0]
        drop.update(i for i in where if i != keep)
        why = "identical copies" if not answered or len(answered) == len(where) else (
            "the others are the untouched hand-out")  # fmt: skip
        notes.append(f"kept one copy of the answer cell {grade_id!r} ({why})")
    if drop:
        nb.cells = [c for i, c in enumerate(nb.cells) if i not in drop]


def _as_type(cell, original):
    """``cell``'s text and id in a cell of ``original``'s type (an answer whose type changed)."""
    import nbformat

    make = nbformat.v4.new_code_cell if original.cell_type == "code" else (
        nbformat.v4.new_markdown_cell)  # fmt: skip
    restored = make(source=cell.source, metadata=copy.deepcopy(cell.metadata))
    if "id" in cell:
        restored["id"] = cell["id"]
    return restored


def repair(submitted, source) -> tuple[object, list[str]]:
    """Return ``(repaired notebook, notes)``; the submitted notebook is not modified."""
    nb = copy.deepcopy(submitted)
    wanted = {_grade_id(c): c for c in source.cells if _grade_id(c)}
    order = [_grade_id(c) for c in source.cells if _grade_id(c)]
    notes: list[str] = []
    _restore_stripped(nb, source, notes)
    _one_answer(nb, wanted, notes)
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
                cell = _as_type(cell, original)
                notes.append(
                    f"restored the type of the answer cell {grade_id!r} "
                    f"({original.cell_type}; the text kept)"
                )
            else:
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
