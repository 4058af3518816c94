"""Sphinx extension: keep the book offline, its pages free of console errors and fitting a phone.

Jupyter Book 1 always loads sphinx-thebe (live code cells through Binder). This book turns
live code off, yet sphinx-thebe still declares ``const THEBE_JS_URL = "https://unpkg.com/..."``
twice per page (a JavaScript error) and points at a CDN. This extension drops those scripts
from every page.

It also adds ``static/page_fit.css`` (a local file, served from ``_static``): on a narrow
screen a long inline code name in the prose breaks instead of widening the page. The folder
holds CSS only (Jupyter Book adds every ``.js`` under a static path to every page).
"""

from pathlib import Path

STATIC = Path(__file__).with_name("static")


def _is_thebe(script) -> bool:
    filename = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return (
        filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body or "thebe_selector" in body
    )


def _drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def _add_static(app, config):
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    app.connect("config-inited", _add_static)
    app.add_css_file("page_fit.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
