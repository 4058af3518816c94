"""Sphinx extension: keep the book offline and its pages free of console errors.

Jupyter Book 1 always loads sphinx-thebe (live code cells through Binder). This book turns
live code off, yet sphinx-thebe still declares ``const THEBE_JS_URL = "https://unpkg.com/..."``
twice per page (a JavaScript error) and points at a CDN. This extension drops those scripts
from every page.
"""


def _is_thebe(script) -> bool:
    filename = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return (
        filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body or "thebe_selector" in body
    )


def _drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
