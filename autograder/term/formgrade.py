"""``formgrade``: nbgrader's formgrader on the course and its gradebook, for hand grading.

``python -m autograder formgrade --course C [--port P]`` writes ``C/nbgrader_config.py`` (the
course folder, its gradebook, the course id, the late-penalty plugin), starts a Jupyter server
in ``C`` whose only extension is :mod:`autograder.term.formgrade_server` (nbgrader's formgrader
behind an allow-list, with student content sanitised and a Content-Security-Policy), and
prints the address to open, with its access token. Scores and comments entered there go
straight into the gradebook, where ``export``, ``feedback`` and ``report`` read them at their
next run. Ctrl-C stops it.

**Never root.** The server shows student work, so it runs with no privilege to lose: started
by root, it runs as the account that owns the course folder (the gradebook file is handed to
that account, which owns its folder anyway); if root owns the course folder it refuses, saying
how to give the course to the instructor's account. Its home and Jupyter's runtime files are
in a private temporary folder; no Jupyter configuration file or other extension is loaded, and
terminals are off.

The server listens on 127.0.0.1 only (``--ip`` to change, e.g. behind an SSH tunnel); the
token is new each start.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from autograder.config import COURSE_ID, DEFAULT_COURSE, default_db_url
from autograder.names import say

__all__ = ["Formgrader", "main", "start", "write_config"]

CONFIG = """\
# Written by `python -m autograder formgrade`: nbgrader's tools run in this folder use it.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
c.CourseDirectory.course_id = {course_id!r}
# the course's late policy (autograder_course.json), as nbgrader's autograde applies it
c.AssignLatePenalties.plugin_class = "autograder.grading.deadlines.LatePenalty"
"""


@dataclass
class Formgrader:
    """A running formgrader."""

    url: str  #: open this (token included)
    process: subprocess.Popen
    log: Path
    home: Path | None = None  #: the server's private home (removed by :meth:`stop`)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)


@dataclass(frozen=True)
class ServerAccount:
    """Who the server runs as: never uid 0."""

    uid: int
    gid: int


def server_account(course: Path, command: str = "formgrade") -> ServerAccount | None:
    """The account to run ``command``'s server as; None: this process's own (it is not root).

    Run by root: the owner of ``course``; a ValueError if that is root.
    """
    if os.geteuid() != 0:
        return None
    info = os.stat(course)
    if info.st_uid == 0:
        raise ValueError(
            f"{command} will not serve as root: it will not run its web server as root, and "
            f"root owns {course}: give the "
            f"course folder to the instructor's account (chown INSTRUCTOR {course}; "
            f"COURSE/.autograder stays root's) or run {command} as that account"
        )
    try:
        import pwd

        gid = pwd.getpwuid(info.st_uid).pw_gid
    except KeyError:  # a uid without an account: a group of its own number
        gid = info.st_uid
    return ServerAccount(info.st_uid, gid or info.st_uid)  # never root's group


def hand_gradebook(account: ServerAccount, course: Path, db_url: str | None = None) -> None:
    """Give the SQLite gradebook file in ``course`` (and a journal) to ``account``, which owns
    the folder holding it anyway; refuse a link or a file outside the course."""
    url = db_url or default_db_url(course)
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        for path in (db, db.with_name(db.name + "-journal")):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(st.st_mode) or not os.path.samefile(path.parent, course):
                raise ValueError(f"the gradebook {path} is not a file in {course}")
            if st.st_uid != account.uid:
                os.chown(path, account.uid, account.gid, follow_symlinks=False)


def _as_account(account: ServerAccount, command: list[str], course: Path, home: Path) -> list:
    """``command`` run by :mod:`autograder.term.formgrade_launch` as ``account``, in a private mount
    table where the Python, the repository and the course are reachable by it."""
    import json

    import autograder
    from autograder.sandbox.namespaces import _python_paths

    unshare = shutil.which("unshare")
    if unshare is None:
        raise ValueError("formgrade needs util-linux's unshare to drop root for its server")
    repo = str(Path(autograder.__file__).resolve().parent.parent)
    spec = {"uid": account.uid, "gid": account.gid, "writable": [str(course)],
            "paths": [*_python_paths(), repo, str(course), str(home)]}  # fmt: skip
    launch = [sys.executable, "-m", "autograder.term.formgrade_launch", json.dumps(spec), "--"]
    return [unshare, "--mount", "--propagation", "private", "--", *launch, *command]


def _private_home(account: ServerAccount | None) -> Path:
    home = Path(tempfile.mkdtemp(prefix="formgrade-home-"))
    if account is not None:
        os.chown(home, account.uid, account.gid)
    return home


def write_config(course: Path, db_url: str | None = None) -> Path:
    """``course/nbgrader_config.py`` for nbgrader's tools and formgrader in ``course``."""
    course = Path(course).resolve()
    path = course / "nbgrader_config.py"
    text = CONFIG.format(
        root=str(course), db_url=db_url or default_db_url(course), course_id=COURSE_ID
    )
    with os.fdopen(_open_no_follow(path), "w") as handle:
        handle.write(text)
    return path


def _open_no_follow(path: Path) -> int:
    """A descriptor writing ``path`` afresh, never through a link placed there (the course
    folder may be another account's)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)


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

    account = server_account(course)  # before anything is written: root is refused
    ensure_tools_on_path()
    check_gradebook(db_url or default_db_url(course))
    if account is not None:
        hand_gradebook(account, course, db_url)
    write_config(course, db_url)
    port = port or _free_port()
    token = secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", f"--ip={ip}", f"--port={port}",
        "--port-retries=0", f"--ServerApp.root_dir={course}",
        "--ServerApp.jpserver_extensions={'autograder.term.formgrade_server': True}",
        "--ServerApp.terminals_enabled=False", f"--IdentityProvider.token={token}",
    ]  # fmt: skip
    log = course / ".formgrade.log"
    home = _private_home(account)
    env = {
        **os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONWARNINGS": "ignore",
        "JUPYTER_NO_CONFIG": "1",  # no config file, so no extension but ours
        "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"), "IPYTHONDIR": str(home / "ipython"),
        "TMPDIR": str(home),
    }  # fmt: skip
    if account is not None:
        command = _as_account(account, command, course, home)
    out = _open_no_follow(log)
    try:
        process = subprocess.Popen(
            command, cwd=course, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    finally:
        os.close(out)
    url = f"http://{ip}:{port}/formgrader?token={token}"
    server = Formgrader(url, process, log, home)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ValueError(f"formgrader did not start:\n{log.read_text()[-2000:]}")
            try:
                status = f"http://{ip}:{port}/api/status?token={token}"
                with urllib.request.urlopen(status, timeout=2):
                    return server
            except OSError:
                time.sleep(0.5)
    except BaseException:  # Ctrl-C or SIGTERM while it starts: the server goes too
        server.stop()
        raise
    server.stop()
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
        say("formgrader on {} ({}): open {}", Path(course).resolve(), COURSE_ID, server.url)
        say("Ctrl-C stops it.")
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
