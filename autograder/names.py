"""Student ids are data: one rule for what an id may be, one neutraliser per output format.

An id is 1 to 64 characters from ``A-Z a-z 0-9 . _ @ -``, starting with a letter or a digit
(so never ``.``, ``..``, ``-x`` or a path). Everything that takes ids from outside (the
submissions folder, a roster, an LMS zip) checks them with :func:`check_student_id`, which
names the bad value (printably) and refuses it.

Writers still neutralise what their format would interpret, for values that are not ids
(reasons, messages):

- :func:`csv_cell`: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed
  with ``'`` so spreadsheets show it as text;
- :func:`printable`: control characters (ANSI/OSC escapes, BEL, newlines, C1 controls) and
  Unicode's invisible direction and line controls (bidi overrides and isolates, LRM/RLM/ALM,
  the zero-width space, line/paragraph separators) replaced by ``?`` before a value reaches
  a terminal or a one-line file;
- :func:`say`: **the one printer for terminal output**. The line's wording is the grader's
  (a ``str.format`` template, which may hold newlines); every value filled into it came from
  outside (an id, a file or folder name, a reason, an exception) and passes through
  :func:`printable` first, so no byte a student chose can move the cursor, retitle the
  window, ring the bell, hide text or reorder what the instructor reads. Numbers keep their
  format specs (``{:.2f}``).
- HTML and Markdown writers use :func:`html.escape` (see ``feedback`` and ``report``).
"""

from __future__ import annotations

import re

__all__ = [
    "STUDENT_ID",
    "check_student_id",
    "counted",
    "csv_cell",
    "is_student_id",
    "printable",
    "say",
]

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: C0 and C1 controls (ESC, BEL, CR, LF, CSI ...), DEL; the ALM, zero-width space and LRM/RLM
#: marks, line and paragraph separators, bidi embeddings/overrides (U+202A-E), invisible
#: operators and isolates (U+2060-9), the BOM. (ZWNJ/ZWJ stay: Persian and emoji need them.)
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def printable(value) -> str:
    """``value`` as text with every control character replaced by ``?``."""
    return _CONTROL.sub("?", str(value))


def _neutral(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # a number cannot carry a control character; keeps ``{:.2f}``
    return printable(value)


def say(template: str, *values, file=None, end: str = "\n", **named) -> None:
    """Print ``template.format(*values, **named)`` with every value neutralised (:func:`printable`).

    ``template`` is the grader's own wording; ``values`` are what came from outside::

        say("  {}: {} ({})", collected.student_id, collected.note, collected.source)
        say("error: {}", exc, file=sys.stderr)
    """
    import sys

    text = template.format(*map(_neutral, values), **{k: _neutral(v) for k, v in named.items()})
    print(text, file=file or sys.stdout, end=end, flush=True)


def counted(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and ``noun`` agreeing: ``counted(1, "submission")`` is "1 submission",
    ``counted(3, "submission")`` "3 submissions" (``many``: the plural when not noun + "s")."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def is_student_id(value) -> bool:
    return isinstance(value, str) and STUDENT_ID.fullmatch(value) is not None


def check_student_id(value, where: str = "student id") -> str:
    """Return ``value`` if it is a valid id; else raise ValueError naming it printably."""
    if not is_student_id(value):
        raise ValueError(
            f"{where} {printable(repr(value))[:80]} is not a valid student id: use 1-64 "
            "letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    return value


def csv_cell(value):
    """A CSV cell a spreadsheet will not evaluate; numbers pass unchanged."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = printable(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
