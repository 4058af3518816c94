"""Student ids are data: one rule for what an id may be, one neutraliser per output format.

An id is 1 to 64 characters from ``A-Z a-z 0-9 . _ @ -``, starting with a letter or a digit
(so never ``.``, ``..``, ``-x`` or a path). Everything that takes ids from outside (the
submissions folder, a roster, an LMS zip) checks them with :func:`check_student_id`, which
names the bad value (printably) and refuses it.

Writers still neutralise what their format would interpret, for values that are not ids
(reasons, messages):

- :func:`csv_cell`: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed
  with ``'`` so spreadsheets show it as text;
- :func:`printable`: control characters (ANSI/OSC escapes, newlines) replaced by ``?`` before
  a value reaches a terminal or a one-line file;
- HTML and Markdown writers use :func:`html.escape` (see ``feedback`` and ``report``).
"""

from __future__ import annotations

import re

__all__ = ["STUDENT_ID", "check_student_id", "csv_cell", "is_student_id", "printable"]

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(value) -> str:
    """``value`` as text with every control character replaced by ``?``."""
    return _CONTROL.sub("?", str(value))


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
