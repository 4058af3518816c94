"""Student content in HTML: sanitised by an allow-list, and pages that forbid scripts anyway.

Every page that shows what a student wrote (formgrader's submission view, ``feedback.html``,
the similarity report) keeps two independent locks, so that no student content ever runs in
an instructor's or a student's browser:

1. :func:`sanitise`: HTML from a student (rendered markdown, ``text/html``, ``image/svg+xml``
   and ``text/markdown`` outputs) keeps only an allow-list of inert tags and attributes
   (bleach). Everything else is shown as text: ``<script>``, ``<svg>``, ``<iframe srcdoc>``,
   ``<style>``, ``<meta http-equiv=refresh>``, ``<object>``, ``<form>``; every ``on*`` event
   handler, ``style``, ``id`` and ``class`` attribute is dropped (no DOM clobbering of the
   grading form's ``id``s); links keep ``http``, ``https``, ``mailto`` and in-page targets
   only, images ``http(s)``, relative paths and ``data:image/*`` (an image is never scripted).
2. A Content-Security-Policy: :data:`PAGE_CSP` for the static pages we write (no script at
   all), :func:`server_csp` for formgrader (only its own scripts: same-origin files, inline
   blocks carrying the response's nonce, and the event handlers its own templates contain,
   by hash). A payload that got past the sanitiser still cannot run, load or send anything.
"""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["PAGE_CSP", "PAGE_CSP_META", "is_base64", "sanitise", "script_hash", "server_csp"]

#: For the pages the grader writes (feedback, similarity): no script, no request anywhere.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
PAGE_CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">'

TAGS = frozenset(
    "a abbr b blockquote br caption code dd del div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li "
    "ol p pre q s samp small span strong sub sup table tbody td tfoot th thead tr tt u ul var".split()
)
ATTRIBUTES = {
    "a": ["href", "title"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align"],
    "abbr": ["title"],
    "ol": ["start"],
}
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*\Z")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def _allowed(tag: str, name: str, value: str) -> bool:
    if name not in ATTRIBUTES.get(tag, ()):
        return False
    if name not in ("href", "src"):
        return True
    text = re.sub(r"[\x00-\x20]", "", value)  # browsers ignore these inside a scheme
    scheme = _SCHEME.match(text)
    if scheme is None:
        return True  # relative or in-page: same origin, under the page's policy
    if name == "src" and scheme.group(1).lower() == "data":
        return _DATA_IMAGE.match(text) is not None
    allowed = ("http", "https") if name == "src" else ("http", "https", "mailto")
    return scheme.group(1).lower() in allowed


def sanitise(html: str) -> str:
    """``html`` with only inert tags and attributes kept; the rest shown as text."""
    import bleach

    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else str(html)
    return bleach.clean(
        text,
        tags=TAGS,
        attributes=_allowed,
        protocols=["http", "https", "mailto", "data"],  # then narrowed by _allowed
        strip=False,
        strip_comments=True,
    )


def is_base64(text) -> bool:
    """Whether ``text`` is plain base64 (what an ``image/png`` output must be)."""
    if not isinstance(text, str):
        return False
    try:
        base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        return False
    return True


def script_hash(source: str) -> str:
    """The CSP source expression allowing an inline script (or handler) of exactly ``source``."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def server_csp(nonce: str, handler_hashes: tuple[str, ...] = ()) -> str:
    """formgrader's policy: its own scripts only; no plugin, frame, form or request elsewhere.

    ``handler_hashes``: :func:`script_hash` of each inline event handler formgrader's own
    templates hold (``onclick="toggle_name(true);"``); ``'unsafe-hashes'`` allows exactly
    those texts, so a student's ``onerror=`` (any other text) stays blocked.
    """
    scripts = " ".join(("'self'", f"'nonce-{nonce}'", *(("'unsafe-hashes'",) if handler_hashes
                                                         else ()), *handler_hashes))  # fmt: skip
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
    )
