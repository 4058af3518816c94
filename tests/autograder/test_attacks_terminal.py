"""Does any byte a student chose reach the instructor's terminal raw? (issue 20, class 9)

Every command prints through one printer, ``names.say``, whose values (ids, file and folder
names, notes, reasons, errors) are neutralised. The attack: exchange folders whose names hold
ESC/BEL sequences (retitle the terminal, clear the screen, move the cursor up over earlier
lines) and a bidi override, collected between honest students through the real CLI.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from autograder import names
from tests.autograder.term.test_term_intake import notebook

A = "a1_metrics"
STAMP = "2026-12-01 10:00:00.000000 UTC"
#: what a terminal interprets: OSC retitle ended by BEL, clear screen, cursor up, bidi override
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[1A\u202e"
BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def _interpretable(text: str) -> list[str]:
    """Characters a terminal or a bidi renderer acts on (an oracle apart from names.py)."""
    return [
        c
        for c in text
        if c != "\n"
        and (
            unicodedata.category(c) == "Cc"
            or unicodedata.bidirectional(c) in BIDI
            or c in "\u200e\u200f\u061c"  # LRM, RLM, ALM
        )
    ]


def test_collect_report_neutralises_escapes_in_exchange_folder_names(tmp_path):
    inbound = tmp_path / "exchange" / "course101" / "inbound"
    folders = {
        f"jdoe+{A}+{STAMP}+a": "honest",
        f"rroe{HOSTILE}+{A}+{STAMP}+b": "a hostile id",  # refused: not a student id
        f"rroe+{A}+{STAMP}+c{HOSTILE}": "a hostile time",  # refused: not a timestamp
        f"epoe+{A}+{STAMP}+d": "honest",
    }
    for name, marker in folders.items():
        folder = inbound / name
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_bytes(notebook(marker))
        stamp = f"{HOSTILE}yesterday" if "time" in marker else STAMP
        (folder / "timestamp.txt").write_text(stamp)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "collect", A, "--course", str(tmp_path / "course"),
         "--from", str(inbound.parent)],
        capture_output=True, env=env,
    )  # fmt: skip
    out = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, out
    assert "collected 2 submissions" in out  # the honest two, around the attacks
    for student in ("jdoe", "epoe"):
        assert (tmp_path / "course" / "submitted" / student / A / f"{A}.ipynb").exists()
    assert not (tmp_path / "course" / "submitted" / "rroe").exists()
    assert _interpretable(out) == [], out
    # the hostile names were reported (not dropped), their escapes shown as '?'
    shown = [line for line in out.splitlines() if "?]0;owned??[2J?[1A?" in line]
    assert len(shown) == 2 and all(line.startswith("  rroe") for line in shown), out


@given(st.text())
def test_say_leaves_no_character_a_terminal_interprets(text):
    out = io.StringIO()
    names.say("{} | {}", text, RuntimeError(text), file=out)
    written = out.getvalue()
    assert written.endswith("\n") and written.count("\n") == 1
    assert _interpretable(written) == []


def test_say_keeps_the_template_and_number_formats(capsys):
    names.say("{}: {:.2f} of {n:g}\n  next line", "jdoe\x07", 9.876, n=10.0)
    assert capsys.readouterr().out == "jdoe?: 9.88 of 10\n  next line\n"
