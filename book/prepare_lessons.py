"""Turn the lesson sources (jupytext MyST in notebooks/lessons/) into the book's notebooks.

book/lessons/NAME.ipynb is generated from notebooks/lessons/NAME.md (and git-ignored): the
book then offers each lesson as a .ipynb download. A notebook is rewritten only when its
content changes, so a no-change rebuild re-renders and re-executes nothing.
(book/publish_notebooks.py converts with the same ``to_notebook`` for the launch buttons.)
"""

import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks" / "lessons"
TARGET = ROOT / "book" / "lessons"


def to_notebook(text: str) -> nbformat.NotebookNode:
    """A lesson source (jupytext MyST text) as a notebook with stable cell ids."""
    notebook = jupytext.reads(text, fmt="md:myst")
    notebook.metadata.pop("jupytext", None)
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"  # nbformat would draw random ids: a rewrite every build
    return notebook


def main() -> int:
    TARGET.mkdir(exist_ok=True)
    wanted = set()
    for source in sorted(SOURCES.glob("*.md")):
        text = nbformat.writes(to_notebook(source.read_text())) + "\n"
        target = TARGET / f"{source.stem}.ipynb"
        wanted.add(target.name)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            print(f"lesson {source.name} -> book/lessons/{target.name}")
    for stale in TARGET.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
