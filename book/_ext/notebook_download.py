"""Sphinx extension: the page's download links (.ipynb, .md) save the file.

sphinx-book-theme's download menu links to ``_sources/lessons/NAME.ipynb`` with
``target="_blank"``, so a browser opens the notebook's JSON as text in a new tab. The HTML
``download`` attribute makes a browser save the file under its name instead, but only for a
link of the page's own origin, and a page opened from ``file://`` has none: Chromium ignores
``download`` there and shows the JSON. So the link carries the file itself, as a ``data:``
URL (the lesson sources are 5 to 20 kB), with ``download="NAME.ipynb"``: saved, not shown,
from ``file://`` and from a web server alike.

The notebook a reader downloads is the reader's copy (:func:`strip_claims`): without the
hidden cells that check the lesson's claims, which hold where the book is built and are no
business of a reader's kernel.

The theme's button macro has no place for extra attributes, so the written pages are
rewritten once the build has finished: idempotent (a rewritten link no longer matches), so a
no-change rebuild writes nothing.
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path
from urllib.parse import unquote

_LINK = re.compile(
    r'<a href="(?P<href>[^"]*_sources/(?:[^"/]+/)*(?P<name>[^"/]+\.(?P<ext>ipynb|md)))" '
    r'target="_blank"'
)
_TYPES = {"ipynb": "application/x-ipynb+json", "md": "text/markdown"}


def add_download_attribute(html: str, page: Path) -> str:
    """Make each download-menu link to a page source a ``download`` link carrying the file."""

    def replace(match: re.Match) -> str:
        source = (page.parent / unquote(match["href"])).resolve()
        if not source.is_file():
            return match[0]  # left as it was: the internal-links test names it
        data = base64.b64encode(source.read_bytes()).decode("ascii")
        return f'<a href="data:{_TYPES[match["ext"]]};base64,{data}" download="{match["name"]}"'

    return _LINK.sub(replace, html)


def strip_claims(source: Path) -> None:
    """Make the downloadable notebook ``source`` the reader's copy: no hidden claim cells.

    (``prepare_lessons.reader_copy``: the Colab and Binder notebooks are the same copy.)
    Rewritten only when that changes it, so a no-change rebuild writes nothing.
    """
    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from prepare_lessons import reader_copy

    text = source.read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    kept = len(reader_copy(notebook).cells)
    if kept != len(nbformat.reads(text, as_version=4).cells):
        source.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")


def _rewrite_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for source in (Path(app.outdir) / "_sources").rglob("*.ipynb"):
        strip_claims(source)
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = add_download_attribute(text, page)
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _rewrite_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
