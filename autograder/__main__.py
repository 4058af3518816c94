"""``python -m autograder``: the command registry's :func:`~autograder.cli.main`.

A reader that stops early (``... | head``) closes the pipe: the next line written meets EPIPE.
As the Python docs' note on SIGPIPE recommends, the command then stops quietly (standard output
pointed at ``os.devnull``, so the interpreter's last flush raises nothing) with the status a
closed pipe gives other tools, 128 + SIGPIPE.
"""

import os
import signal
import sys

from autograder.cli import main


def _run() -> int:
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return status


raise SystemExit(_run())
