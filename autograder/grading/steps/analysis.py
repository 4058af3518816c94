"""Step helper: what the instructor's source notebook says before anything runs.

- :func:`defined_names`: the top-level names the assignment's own cells define (only those
  stand for the student's objects in a hidden check);
- :func:`imported_modules`: the modules every submission will import (what a fork server
  loads once, never ``autograder`` or ``coursekit`` and never a hint of the solution);
- :func:`prepare_checks`: import what the hidden checks need while the sandbox starts.

Pure reading of text (``ast``), no sandbox, no verdict.
"""

from __future__ import annotations

import ast
import importlib
import threading
from collections.abc import Callable, Iterable

from autograder.grading import cells

__all__ = ["defined_names", "imported_modules", "prepare_checks"]


def _code_cells(notebook):
    """The notebook's code cells other than test cells."""
    return [c for c in notebook.cells if c.cell_type == "code" and not cells.is_test(c)]


def defined_names(notebook) -> frozenset[str]:
    """Top-level names the notebook's code cells (other than test cells) define."""
    found: set[str] = set()
    for cell in _code_cells(notebook):
        try:
            tree = ast.parse(cells.strip_hidden(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    found.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(found)


def imported_modules(notebook) -> tuple[str, ...]:
    """Modules the handed-out notebook's code cells (not test cells, solutions removed) import
    at their top level, in order: what every submission will import, so a fork server can
    import them once (never ``autograder`` or ``coursekit``, never a hint of the solution)."""
    found: list[str] = []
    for cell in _code_cells(notebook):
        try:
            tree = ast.parse(cells.strip_solutions(cells.strip_hidden(cell.source)))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return tuple(
        dict.fromkeys(m for m in found if m.split(".")[0] not in ("autograder", "coursekit"))
    )


def prepare_checks(blocks: Iterable[str], background: bool = True) -> Callable[[], None]:
    """Import the modules the hidden ``blocks`` import, then, in a background thread, what
    those modules name in ``PREPARE`` (what their expectations import lazily, e.g. the
    data set's scikit-learn), so that it loads while the sandbox starts (failures are left
    for the checks themselves to meet). Call what it returns before any check runs: a module
    two threads import at once can be seen half initialised. Not ``background``: imported
    here and now (a sandbox started with a ``preexec_fn`` must not meet a running thread)."""
    names: list[str] = []
    for block in blocks:
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
            elif isinstance(node, ast.Import):
                names += [a.name for a in node.names]
    later: list[str] = []
    for name in dict.fromkeys(names):
        try:
            later += getattr(importlib.import_module(name), "PREPARE", ())
        except Exception:
            continue  # the check meets it itself, as a grader error

    def load():
        for name in dict.fromkeys(later):
            try:
                importlib.import_module(name)
            except Exception:
                pass

    if not background:
        load()
        return lambda: None
    thread = threading.Thread(target=load, name="prepare-checks", daemon=True)
    thread.start()
    return thread.join
