"""``release``: assignment source -> nbgrader source notebook -> ``generate_assignment``.

The released notebook has the solution regions replaced by ``raise NotImplementedError()``
and the hidden tests removed; :func:`main` checks that before it returns. Beside it goes the
assignment's own ``coursecheck.py``, generated from the shared rules and its visible checks
(:mod:`autograder.assignments.generate`).
"""

from __future__ import annotations

import os
from pathlib import Path

from autograder.assignments import generate
from autograder.config import (
    ASSIGNMENTS,
    DEFAULT_COURSE,
    check_gradebook,
    default_db_url,
    ensure_tools_on_path,
    nbgrader_config,
)
from autograder.grading import authoring, state
from autograder.grading.gradebook import quiet

__all__ = ["ReleaseError", "describe_changes", "main"]


class ReleaseError(RuntimeError):
    """nbgrader could not generate the assignment, or the release leaks a solution."""


def main(
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    db_url: str | None = None,
    force: bool = False,
    sources: Path = ASSIGNMENTS,
) -> Path:
    """Release ``assignment`` into ``course/release/ASSIGNMENT``; return that folder.

    Once submissions of the assignment have been graded, a release that changes it is refused,
    naming what changed, unless ``force``. ``sources``: the folder of assignment sources: then every result graded against the old version
    is shown as stale and regraded by the next ``grade``.
    """
    import nbformat
    from nbgrader.apps import NbGraderAPI

    course = Path(course).resolve()
    notebook = authoring.read_source(assignment, sources)
    target = course / "source" / assignment / f"{assignment}.ipynb"
    if target.exists() and not force:
        graded = state.recorded_students(course, assignment)
        changes = describe_changes(nbformat.read(target, as_version=4), notebook)
        if graded and changes:
            raise ReleaseError(
                f"{assignment} has {len(graded)} graded submissions and this release changes "
                f"it: {'; '.join(changes)}. Re-release with --force to mark those results stale "
                "(the next `grade` regrades them)"
            )
    source = authoring.write_source_notebook(assignment, course, sources)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    ensure_tools_on_path()
    with quiet():
        check_gradebook(db_url or default_db_url(course))  # a clear error, not a traceback
        api = NbGraderAPI(config=nbgrader_config(course, db_url))
        result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise ReleaseError(
            f"nbgrader generate_assignment failed for {assignment!r}:\n{result.get('log', '')[-3000:]}"
        )
    release = course / "release" / assignment
    generate.ship(release, assignment)  # coursecheck.py: generated, its own checks only
    _check_clean(release, source)
    return release


def describe_changes(old, new) -> list[str]:
    """What differs between two versions of an assignment's source notebook, in words."""
    from autograder.grading import cells

    def checks(nb) -> dict[str, float]:
        return {cells.grade_id(c): cells.points(c) for c in nb.cells if cells.is_graded(c)}

    before, after = checks(old), checks(new)
    changes = []
    added = [g for g in after if g not in before]
    removed = [g for g in before if g not in after]
    if added:
        changes.append(f"checks added: {', '.join(added)}")
    if removed:
        changes.append(f"checks removed: {', '.join(removed)}")
    changed = [
        f"{g} {before[g]:g} -> {after[g]:g}" for g in after if g in before and before[g] != after[g]
    ]
    if changed:
        changes.append(f"points changed: {', '.join(changed)}")
    if not changes and state.grading_view(old) != state.grading_view(new):
        changes.append("the code the checks run changed")  # prose alone changes nothing
    return changes


def _check_clean(release: Path, source: Path) -> None:
    notebook = release / source.name
    if not notebook.exists():
        raise ReleaseError(f"nbgrader produced no {notebook}")
    text = notebook.read_text()
    from autograder.grading import cells

    for marker in (cells.SOLUTION_BEGIN, cells.HIDDEN_BEGIN, "autograder.assignments"):
        if marker in text:
            raise ReleaseError(f"the release {notebook} still contains {marker!r}")
