r"""Helpers the lessons use to show library code, formulas and figures (the book's display glue).

- :func:`source` shows the source of a ``coursekit`` function or class, so the code the book
  prints is the code that runs, never a second copy. Docstrings are cut to their summary
  line: the page's prose explains, and raw ``.. math::`` TeX never reaches the reader.
- :func:`formulas` renders the ``.. math::`` blocks of a docstring as typeset math, so a
  formula written once in the library appears on the page as an equation.
- :func:`book_style` sets matplotlib defaults readable in the book's light and dark themes
  (figures get an opaque white background).
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap

from coursekit._params import Anything, Options, validate_params

_OBJ = {"obj": [Anything("a function, class or module (its source and docstring)")]}

__all__ = ["book_style", "docstring_math", "formulas", "source"]


def _summary(doc: str) -> str:
    """The first line of a docstring's first paragraph."""
    for line in inspect.cleandoc(doc).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _short_docstrings(code: str) -> str:
    """``code`` with every docstring replaced by its summary line (same indentation)."""
    tree = ast.parse(code)
    lines = code.splitlines()
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                doc = body[0]
                spans.append((doc.lineno, doc.end_lineno, doc.col_offset, doc.value.value))
    for start, end, col, doc in sorted(spans, reverse=True):
        summary = _summary(doc).replace('"""', "'''")
        lines[start - 1 : end] = [" " * col + f'"""{summary}"""'] if summary else []
    return "\n".join(lines) + "\n"


@validate_params({**_OBJ, "docstring": [Options(("summary", "full"))]})
def source(obj, *, docstring: str = "summary"):
    """The source code of ``obj`` as a syntax-highlighted IPython ``Code`` object.

    ``docstring="summary"`` (the default) keeps only the first line of each docstring;
    ``"full"`` keeps them whole. Show the formulas of a docstring with :func:`formulas`.
    """
    from IPython.display import Code

    code = textwrap.dedent(inspect.getsource(obj))
    if docstring == "summary":
        code = _short_docstrings(code)
    return Code(code, language="python")


_MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")


@validate_params(_OBJ)
def docstring_math(obj) -> list[str]:
    """The TeX of every ``.. math::`` block in ``obj``'s docstring, in order.

    A block is the text after ``.. math::`` on its line plus the following lines indented
    deeper than the directive; raises ValueError when the docstring has none.
    """
    doc = inspect.getdoc(obj) or ""
    lines = doc.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = _MATH_BLOCK.match(lines[i])
        i += 1
        if not match:
            continue
        indent = len(match["indent"])
        body = [match["first"]] if match["first"].strip() else []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
            body.append(lines[i])
            i += 1
        tex = textwrap.dedent("\n".join(body)).strip()
        if tex:
            blocks.append(tex)
    if not blocks:
        name = getattr(obj, "__qualname__", repr(obj))
        raise ValueError(f"the docstring of {name} has no '.. math::' block")
    return blocks


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


@validate_params(_OBJ)
def formulas(obj):
    """The ``.. math::`` blocks of ``obj``'s docstring, typeset (one IPython ``Math`` each).

    In a lesson cell, ``formulas(metrics.matthews_corrcoef)`` shows the formula the function
    implements as an equation on the page, from the one place it is written.
    """
    from IPython.display import Math, display

    for tex in docstring_math(obj):
        display(Math(tex))


def book_style() -> None:
    """Matplotlib defaults for the book: white figure background, readable sizes, no clutter."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.facecolor": "white",
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )
