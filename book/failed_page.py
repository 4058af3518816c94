"""Replace a lesson page whose execution failed by a page that says so.

``book/build.sh`` calls this for each lesson that failed to execute (a false claim, a wrong
exercise solution, any error). Jupyter Book has already written that lesson's page with the
outputs of the cells before the error and none after, under text that describes them; a
reader must never open it. The page is replaced by one stating that the lesson failed to
build and the error's last line, and the downloadable notebook beside it is removed. The
lesson's notebook (``book/lessons/NAME.ipynb``) is touched, so the next build reads and
executes it again (Sphinx would otherwise write the same half-executed page from its saved
state without running anything, and succeed).

Usage: ``python book/failed_page.py NAME "LAST LINE OF THE ERROR"``
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Lesson {name}: not built</title></head>
<body>
<h1>Lesson {name} failed to build</h1>
<p>This lesson stopped with an error while the book was built, so its page is not
published (a page with half of its results would contradict its own text).</p>
<pre>{error}</pre>
<p>Run <code>make book</code> to see the whole error; see the README, "The book".</p>
<p><a href="../index.html">Back to the book</a></p>
</body>
</html>
"""


def replace(name: str, error: str, html_dir: Path = HTML, root: Path = ROOT) -> Path:
    """Write the failure page for lesson ``name``; return its path."""
    page = html_dir / "lessons" / f"{name}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(PAGE.format(name=html.escape(name), error=html.escape(error)))
    for download in (html_dir / "_sources" / "lessons").glob(f"{name}.*"):
        download.unlink()
    notebook = root / "book" / "lessons" / f"{name}.ipynb"
    if notebook.is_file():
        os.utime(notebook)  # newer than Sphinx's record of it: read and executed next time
    return page


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: failed_page.py NAME ERROR")
    replace(sys.argv[1], sys.argv[2])
