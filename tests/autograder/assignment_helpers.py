"""What the tests of the assignments share: the reference solutions and the generated checks.

``reference(name)``: the namespace the assignment's solution cells define (the notebook source,
hidden tests left out). ``coursecheck(name)``: the assignment's ``coursecheck.py`` as release
generates it, written to a folder of its own and imported from there, so the visible checks'
tests run exactly what students get.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from autograder.assignments import generate
from autograder.grading import authoring

__all__ = ["coursecheck", "reference"]


@functools.cache
def reference(name: str) -> dict:
    """The functions (and imports) the solution cells of assignment ``name`` define."""
    namespace: dict = {}
    for cell in authoring.read_source(name).cells:
        if cell.cell_type == "code" and not cell.metadata["nbgrader"]["grade"]:
            exec(cell.source, namespace)
    return namespace


@functools.cache
def coursecheck(name: str):
    """The generated ``coursecheck.py`` of assignment ``name``, imported from a folder of its
    own (its ``HERE`` is a real file: run it as a script, put its folder on a path)."""
    folder = Path(tempfile.mkdtemp(prefix=f"coursecheck-{name}-"))
    return generate.load(name, folder)
