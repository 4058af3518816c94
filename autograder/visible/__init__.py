"""The students' visible checks, and shipping them with every release.

The checks live in one standalone module, :mod:`autograder.visible.coursecheck` (numpy only;
nbformat/nbclient to run a whole notebook): :func:`ship` copies it, unchanged, into a released
assignment folder as ``coursecheck.py``, beside the notebook whose check cells import it. It
holds public example inputs and their expected values, never a solution or a hidden check,
and imports nothing of the instructor's (no ``coursekit``, no ``autograder``); ``ship``
verifies that on the text it copies.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

__all__ = ["SOURCE", "ship"]

#: The module students receive, as it is in this repository.
SOURCE = Path(__file__).resolve().parent / "coursecheck.py"
_FORBIDDEN_TEXT = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "autograder.hidden")
_FORBIDDEN_IMPORTS = ("autograder", "coursekit")


def _imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def ship(release_folder: Path, assignment: str) -> Path:
    """Copy ``coursecheck.py`` into ``release_folder`` (the release of ``assignment``).

    Raises ValueError if the module has no visible checks for ``assignment``, or if its text
    would leak a solution marker, a hidden check or an instructor import.
    """
    from autograder.visible import coursecheck

    if assignment not in coursecheck.CHECKS:
        raise ValueError(
            f"coursecheck has no visible checks for assignment {assignment!r} "
            f"(it has: {', '.join(sorted(coursecheck.CHECKS))})"
        )
    text = SOURCE.read_text()
    leaks = [marker for marker in _FORBIDDEN_TEXT if marker in text]
    leaks += sorted(_imports(text) & set(_FORBIDDEN_IMPORTS))
    if leaks:
        raise ValueError(f"{SOURCE} must not ship: it contains {leaks}")
    target = Path(release_folder) / "coursecheck.py"
    shutil.copyfile(SOURCE, target)
    return target
