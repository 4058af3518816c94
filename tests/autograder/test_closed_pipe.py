"""``python -m autograder ... | head``: a reader that stops early ends the command quietly.

Found by a stranger: piping a command into ``head`` printed a ``BrokenPipeError`` traceback
from ``names.say``. The pipe's read end is closed before the command starts, so its first line
meets a pipe nobody reads (EPIPE), whatever the timing: no traceback, no "Exception ignored",
and the status a closed pipe gives (128 + SIGPIPE, as ``yes | head`` leaves ``yes``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    """``roster``'s line goes through ``names.say``, as every line of the grader does."""
    rows = 'Student,ID,SIS User ID,SIS Login ID,Section\n"Doe, Jane",101,S1,jdoe,Section 1\n'
    (tmp_path / "r.csv").write_text(rows)
    args = ["roster", "--course", "c", "--from", "r.csv"]
    read, write = os.pipe()
    os.close(read)  # nobody will read: every write is EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "autograder", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
            timeout=120,
        )
    finally:
        os.close(write)
    err = done.stderr.decode()
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, (
        err
    )
    assert done.returncode == 128 + signal.SIGPIPE, (done.returncode, err)
