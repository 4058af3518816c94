"""``release``: assignment source -> nbgrader source notebook -> ``generate_assignment``.

The released notebook has the solution regions replaced by ``raise NotImplementedError()``
and the hidden tests removed; :func:`main` checks that before it returns.
"""

from __future__ import annotations

import os
from pathlib import Path

from autograder import authoring
from autograder.config import (
    DEFAULT_COURSE,
    check_gradebook,
    default_db_url,
    ensure_tools_on_path,
    nbgrader_config,
)

__all__ = ["ReleaseError", "main"]


class ReleaseError(RuntimeError):
    """nbgrader could not generate the assignment, or the release leaks a solution."""


def main(*, assignment: str, course: Path = DEFAULT_COURSE, db_url: str | None = None) -> Path:
    """Release ``assignment`` into ``course/release/ASSIGNMENT``; return that folder."""
    from nbgrader.apps import NbGraderAPI

    course = Path(course).resolve()
    source = authoring.write_source_notebook(assignment, course)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    ensure_tools_on_path()
    check_gradebook(db_url or default_db_url(course))  # a clear error, not nbgrader's traceback
    api = NbGraderAPI(config=nbgrader_config(course, db_url))
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise ReleaseError(
            f"nbgrader generate_assignment failed for {assignment!r}:\n{result.get('log', '')[-3000:]}"
        )
    release = course / "release" / assignment
    _check_clean(release, source)
    return release


def _check_clean(release: Path, source: Path) -> None:
    notebook = release / source.name
    if not notebook.exists():
        raise ReleaseError(f"nbgrader produced no {notebook}")
    text = notebook.read_text()
    for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "autograder.hidden"):
        if marker in text:
            raise ReleaseError(f"the release {notebook} still contains {marker!r}")
