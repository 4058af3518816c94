"""``formgrade``: nbgrader's formgrader on the course and its gradebook, for hand grading.

``python -m autograder formgrade --course C [--port P]`` writes ``C/nbgrader_config.py`` (the
course folder, its gradebook, the course id, the late-penalty plugin), starts a Jupyter server
in ``C`` with nbgrader's formgrader extension (``--allow-root`` when run as root, which Jupyter
otherwise refuses), and prints the address to open, with its access token. Scores and comments
entered there go straight into the gradebook, where ``export``, ``feedback`` and ``report``
read them at their next run. Ctrl-C stops it.

The server listens on 127.0.0.1 only (``--ip`` to change, e.g. behind an SSH tunnel); the
token is new each start.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from autograder.config import COURSE_ID, DEFAULT_COURSE, default_db_url

__all__ = ["Formgrader", "main", "start", "write_config"]

CONFIG = """\
# Written by `python -m autograder formgrade`: nbgrader's tools run in this folder use it.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
c.CourseDirectory.course_id = {course_id!r}
# the course's late policy (autograder_course.json), as nbgrader's autograde applies it
c.AssignLatePenalties.plugin_class = "autograder.deadlines.LatePenalty"
"""


@dataclass
class Formgrader:
    """A running formgrader."""

    url: str  #: open this (token included)
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def write_config(course: Path, db_url: str | None = None) -> Path:
    """``course/nbgrader_config.py`` for nbgrader's tools and formgrader in ``course``."""
    course = Path(course).resolve()
    path = course / "nbgrader_config.py"
    text = CONFIG.format(
        root=str(course), db_url=db_url or default_db_url(course), course_id=COURSE_ID
    )
    path.write_text(text)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    *,
    course: Path = DEFAULT_COURSE,
    port: int = 0,
    ip: str = "127.0.0.1",
    db_url: str | None = None,
    timeout: float = 60.0,
) -> Formgrader:
    """Start formgrader on ``course`` (``port`` 0: a free one); return once it answers."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"--port must be 0 (any free port) or 1-65535, got {port!r}")
    course = Path(course).resolve()
    if not (course / "source").is_dir():
        raise ValueError(
            f"{course} is not a course folder (no source/): release an assignment into it first"
        )
    from autograder.config import check_gradebook, ensure_tools_on_path

    ensure_tools_on_path()
    check_gradebook(db_url or default_db_url(course))
    write_config(course, db_url)
    port = port or _free_port()
    token = secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", f"--ip={ip}", f"--port={port}",
        "--port-retries=0", f"--ServerApp.root_dir={course}",
        "--ServerApp.jpserver_extensions={'nbgrader.server_extensions.formgrader': True}",
        f"--IdentityProvider.token={token}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = course / ".formgrade.log"
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONWARNINGS": "ignore"}
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=course, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://{ip}:{port}/formgrader?token={token}"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ValueError(f"formgrader did not start:\n{log.read_text()[-2000:]}")
            try:
                status = f"http://{ip}:{port}/api/status?token={token}"
                with urllib.request.urlopen(status, timeout=2):
                    return Formgrader(url, process, log)
            except OSError:
                time.sleep(0.5)
    except BaseException:  # Ctrl-C or SIGTERM while it starts: the server goes too
        Formgrader(url, process, log).stop()
        raise
    Formgrader(url, process, log).stop()
    raise ValueError(f"formgrader did not answer on port {port} within {timeout:g} s; see {log}")


def main(
    *,
    course: Path = DEFAULT_COURSE,
    port: int = 0,
    ip: str = "127.0.0.1",
    db_url: str | None = None,
) -> int:
    """Start formgrader, print its address, serve until Ctrl-C (or SIGTERM); the exit status."""

    def stop_on_term(*_):  # `kill`, a service manager: stop the server too, as Ctrl-C does
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop_on_term)  # before the server exists
    server = None
    try:
        server = start(course=course, port=port, ip=ip, db_url=db_url)
        where = f"formgrader on {Path(course).resolve()} ({COURSE_ID}): open {server.url}"
        print(where, flush=True)
        print("Ctrl-C stops it.", flush=True)
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
