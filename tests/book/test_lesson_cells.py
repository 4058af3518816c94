"""Lesson cells show what they mean to show: no stray value printed after a cell's last call.

A Jupyter cell displays the value of its last expression. A cell ending with a call of a
``coursekit`` function that returns something (``seed_everything`` returns its Generator,
shown as ``Generator(PCG64) at 0x…``) prints that value on the page.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parents[2] / "notebooks" / "lessons").glob("*.md"))
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def _cells(path: Path) -> list[str]:
    """The code of each code cell (its ``:tags:``-style option lines left out)."""
    return [
        "\n".join(line for line in m.group(1).splitlines() if not line.startswith(":"))
        for m in CELL.finditer(path.read_text())
    ]


def _coursekit_names(cells: list[str]) -> dict:
    """Every name a lesson imports from coursekit, bound to its object."""
    names = {}
    for source in cells:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coursekit"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):  # a submodule: import it
                        importlib.import_module(f"{node.module}.{alias.name}")
                    names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def _target(call: ast.Call, names: dict):
    """The coursekit object a call calls (``f(...)`` or ``module.f(...)``), else None."""
    parts = []
    node = call.func
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in names:
        return None
    obj = names[node.id]
    for part in parts:
        obj = getattr(obj, part, None)
    return obj


def _shows_a_value(fn) -> bool:
    try:
        annotation = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return False
    return annotation not in (inspect.Signature.empty, None, "None")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_no_cell_ends_with_a_coursekit_call_whose_value_would_be_printed(lesson):
    cells = _cells(lesson)
    names = _coursekit_names(cells)
    stray = []
    for source in cells:
        body = ast.parse(source).body
        if body and isinstance(body[-1], ast.Expr) and isinstance(body[-1].value, ast.Call):
            fn = _target(body[-1].value, names)
            if fn is not None and _shows_a_value(fn):
                stray.append(ast.unparse(body[-1].value)[:60])
    assert stray == [], f"{lesson.name}: these cells print the value their last call returns"


def test_the_check_sees_a_cell_ending_with_seed_everything(tmp_path):
    """The test above could pass by finding nothing: a cell ending with the seed call shows."""
    lesson = tmp_path / "lesson.md"
    lesson.write_text(
        "```{code-cell} ipython3\nfrom coursekit import seed_everything\nseed_everything(0)\n```\n"
    )
    with pytest.raises(AssertionError, match="seed_everything"):
        test_no_cell_ends_with_a_coursekit_call_whose_value_would_be_printed(lesson)
