"""Turn the lesson sources (jupytext MyST in notebooks/lessons/) into the book's notebooks.

book/lessons/NAME.ipynb is generated from notebooks/lessons/NAME.md (and git-ignored): the
book then offers each lesson as a .ipynb download. A notebook is rewritten only when its
content changes, so a no-change rebuild re-renders and re-executes nothing. Beside each
notebook, ``.NAME.source`` records the hash of the source and of this script it was made
from: when both are unchanged the lesson is not even converted again (jupytext is imported
only when one is), which keeps a no-change rebuild short.
(book/publish_notebooks.py converts with the same ``to_notebook`` for the launch buttons.)
"""

import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks" / "lessons"
TARGET = ROOT / "book" / "lessons"


def to_notebook(text: str):
    """A lesson source (jupytext MyST text) as a notebook with stable cell ids."""
    import jupytext

    notebook = jupytext.reads(text, fmt="md:myst")
    notebook.metadata.pop("jupytext", None)
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"  # nbformat would draw random ids: a rewrite every build
    return notebook


def is_claim_cell(cell) -> bool:
    """A hidden cell (tag ``remove-cell``) that checks a claim (``coursekit.claims.claim``)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return (
        cell.get("cell_type") == "code"
        and "remove-cell" in tags
        and re.search(r"\bclaim\(", "".join(cell.get("source", ""))) is not None
    )


def reader_copy(notebook):
    """The notebook a reader downloads or opens in Colab/Binder: without the claim cells.

    A claim is checked where the book is built; in a reader's kernel (another CPU, another
    library version) it is not the reader's business, and a claim that fails there would stop
    "Run all". Only hidden claim cells go: everything the page shows, and the exercise checks
    (they compare the reader's own function with ``coursekit``'s), stay. No later cell reads a
    name a claim cell defines (``tests/book/test_prepare_lessons.py`` checks every lesson).
    """
    notebook.cells = [cell for cell in notebook.cells if not is_claim_cell(cell)]
    return notebook


def _stamp(source_text: str) -> str:
    """What a notebook was made from: the source and this converter."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(source_text.encode())
    return digest.hexdigest()


def main() -> int:
    TARGET.mkdir(exist_ok=True)
    wanted = set()
    for source in sorted(SOURCES.glob("*.md")):
        target = TARGET / f"{source.stem}.ipynb"
        stamp_file = TARGET / f".{source.stem}.source"
        wanted.update({target.name, stamp_file.name})
        source_text = source.read_text()
        stamp = _stamp(source_text)
        if target.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
            continue
        import nbformat

        text = nbformat.writes(to_notebook(source_text)) + "\n"
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            print(f"lesson {source.name} -> book/lessons/{target.name}")
        stamp_file.write_text(stamp)
    for stale in [*TARGET.glob("*.ipynb"), *TARGET.glob(".*.source")]:
        if stale.name not in wanted:
            stale.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
