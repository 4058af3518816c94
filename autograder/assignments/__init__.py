"""Each assignment one folder: its notebook source, its visible checks and its hidden checks.

::

    autograder/assignments/
        rules.py       the rules every check keeps: reading returned values, inputs that must
                       not change, the reference guard, recognising a mistake, reading a
                       model's weights (numpy only; shipped to students)
        runner.py      what every coursecheck.py holds besides its checks (numpy only; shipped)
        generate.py    builds an assignment's coursecheck.py from rules, runner and its
                       visible.py ("generated, do not edit"); ``release`` ships it
        calls.py       how a hidden check calls the student's code (trusted: the grader only)
        a1_metrics/    notebook.py (jupytext source), visible.py, hidden.py
        a2_backprop/   ...
        a3_regularization/
        a4_mlp/

An assignment's hidden checks import its own ``visible.py`` for the known-wrong variants, so a
wrong value gets the same diagnosis on a hidden input as on a public one (in fixed words).
What grading runs of an assignment (its *version*, :mod:`autograder.grading.state`) includes
the modules its hidden blocks import here, found by :func:`check_modules`.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "NOTEBOOK",
    "ROOT",
    "ReleasedBeforeMove",
    "check_modules",
    "code_files",
    "folder",
    "names",
    "notebook",
    "refuse_old_layout",
]

ROOT = Path(__file__).resolve().parent
#: The notebook source's file name in an assignment's folder.
NOTEBOOK = "notebook.py"


def names() -> list[str]:
    """The assignments: the folders here that hold a notebook source, sorted."""
    return sorted(p.parent.name for p in ROOT.glob(f"*/{NOTEBOOK}"))


def folder(name: str) -> Path:
    """The folder of assignment ``name`` (ValueError naming the bad value otherwise)."""
    if not isinstance(name, str) or name not in names():
        raise ValueError(f"assignment must be one of {names()}, got {name!r}")
    return ROOT / name


def notebook(name: str) -> Path:
    """The notebook source of assignment ``name`` (jupytext, py:percent)."""
    return folder(name) / NOTEBOOK


_PACKAGE = "autograder.assignments"
_NAMED = re.compile(r"\bautograder\.assignments((?:\.\w+)+)")


def _module(parts: list[str]) -> Path | None:
    for path in (ROOT.joinpath(*parts).with_suffix(".py"), ROOT.joinpath(*parts, "__init__.py")):
        if parts and path.is_file() and path.name != NOTEBOOK:
            return path
    return None


def _imported(text: str) -> list[list[str]]:
    """The module paths (under this package) that ``text`` imports: read from its syntax tree
    (a docstring naming a module imports nothing), or, where it does not parse (a notebook
    cell with IPython syntax), every dotted name of the package it mentions."""
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [m.group(1).strip(".").split(".") for m in _NAMED.finditer(text)]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
            found += [n.split(".")[2:] for n in names if n.startswith(_PACKAGE + ".")]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module == _PACKAGE or node.module.startswith(_PACKAGE + "."):
                base = node.module.split(".")[2:]
                found += [[*base, alias.name] for alias in node.names]
    return found


def check_modules(texts: list[str]) -> list[Path]:
    """The check modules code in ``texts`` runs: those it imports from this package
    (``autograder.assignments.a2_backprop.hidden``, ``from autograder.assignments import
    rules``), the modules those import, and the packages on the way; sorted."""
    found: set[Path] = {ROOT / "__init__.py"}
    todo = list(texts)
    while todo:
        for parts in _imported(todo.pop()):
            for depth in range(1, len(parts) + 1):
                path = _module(parts[:depth])
                if path is not None and path not in found:
                    found.add(path)
                    todo.append(path.read_text(encoding="utf-8"))
    return sorted(found)


def code_files() -> list[Path]:
    """Every module of the checks (not the notebook sources), sorted: what a grading worker
    must hold the same as the client (:mod:`autograder.grading.cluster`)."""
    return sorted(p for p in ROOT.rglob("*.py") if p.name != NOTEBOOK)


class ReleasedBeforeMove(ValueError):
    """A course's source notebook imports the hidden checks from where they were before each
    assignment had its own folder (``autograder.hidden``)."""


_OLD_LAYOUT = re.compile(r"\bautograder\.(hidden|visible)\b")


def refuse_old_layout(source: Path, assignment: str) -> None:
    """:class:`ReleasedBeforeMove` if the course's source folder of ``assignment`` (``source``)
    holds a notebook that imports the checks from their old home: the course must release the
    assignment again (its graded results are then stale, and the next ``grade`` regrades
    them), rather than every check of every student failing on a missing module."""
    for path in sorted(Path(source).glob("*.ipynb")) if Path(source).is_dir() else []:
        found = _OLD_LAYOUT.search(path.read_text(encoding="utf-8", errors="replace"))
        if found:
            raise ReleasedBeforeMove(
                f"{assignment} was released before each assignment had its own folder (its "
                f"hidden checks import {found.group(0)}, which no longer exists): run "
                f"`release {assignment} --force`; the results graded before are then stale "
                "and the next `grade` regrades them"
            )
