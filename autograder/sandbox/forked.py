"""The ``namespaces`` mode started from a fork server: the same sandbox, without paying the
assignment's imports in every submission.

:class:`ForkedSandbox` builds exactly the sandbox of
:class:`~autograder.sandbox.namespaces.NamespaceSandbox` (the same spec, ``enter.py``'s same
steps, the same control group, uid, capabilities, keyring and socket filter), but its first
process is a fork of a :class:`Zygote` (``zygote.py``) instead of ``unshare`` executing a new
interpreter: the harness, IPython and the modules the assignment's notebook imports (numpy,
scikit-learn, PyTorch...) are already in memory. A grading pool starts one zygote per batch and
its workers connect to it (:meth:`Zygote.connect`; ``fork_server`` is its address); a process
with no shared one starts its own on first use (:func:`zygote_for`).

The grader still observes everything it trusts itself: the zygote (trusted: it runs no
submission code) reports each fork's wait status and CPU time as ``wait4`` gave them, and a
kill goes through the zygote, which only kills a fork it has not reaped yet.

``AUTOGRADER_ZYGOTE=0`` turns the fork server off (every sandbox executes its harness, as the
``namespaces`` mode does); where the zygote would fork with threads running, the worker falls
back to that by itself.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from autograder import settings
from autograder.sandbox.base import HERE, Launch, environment
from autograder.sandbox.namespaces import NamespaceSandbox

__all__ = ["ForkedSandbox", "Zygote", "ZygoteError", "close_all", "enabled", "in_use", "zygote_for"]

#: Modules a library imports lazily on first use, at a cost worth paying once per worker:
#: PyTorch's optimizers import ``torch._dynamo`` (about 2 s) when the first one is made.
WARM_UP = {"torch": ("torch._dynamo",)}


class ZygoteError(OSError):
    """The fork server could not start or stopped answering (the machine's problem)."""


def enabled() -> bool:
    """Whether sandboxes of the ``namespaces`` mode start from a zygote (``AUTOGRADER_ZYGOTE``)."""
    return settings.current().zygote


def in_use() -> bool:
    """Whether this machine's sandboxes start as forks of a zygote: the ``namespaces`` mode
    with the fork server on (then no sandbox starts through a ``preexec_fn``)."""
    from autograder.sandbox.capabilities import capabilities

    return capabilities()["mode"] == "namespaces" and enabled()


def with_warm_up(modules) -> tuple[str, ...]:
    """``modules`` and what they import lazily (:data:`WARM_UP`), in order, once each."""
    out: list[str] = []
    for name in modules:
        out += [name, *WARM_UP.get(name, ())]
    return tuple(dict.fromkeys(out))


class Zygote:
    """A handle on one fork server (see :mod:`autograder.sandbox.zygote`): :meth:`start` one
    (its owner), or :meth:`connect` to one a grading pool shares between its workers."""

    def __init__(self, channel: socket.socket, process=None, stderr=None, address: str = ""):
        self.channel, self.process, self._stderr, self.address = channel, process, stderr, address
        self.preload: tuple[str, ...] = ()
        self.loaded: tuple[str, ...] = ()
        self.skipped: tuple[str, ...] = ()
        self.threads = 0
        self.ended: dict[int, tuple[int, float]] = {}
        self._gone = False
        self._folder: str | None = None

    @classmethod
    def start(
        cls, preload=(), *, timeout: float = 120, shared: bool = False, wait: bool = True
    ) -> Zygote:
        """Start a zygote importing ``preload``; ``shared``: also listening for other processes
        of this user (at ``address``, in a private folder); ``wait``: until it is ready."""
        preload = tuple(preload)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        passed, listener, folder, address = [theirs], None, None, ""
        if shared:
            folder = tempfile.mkdtemp(prefix="autograder-zygote-")  # mode 700
            address = os.path.join(folder, "socket")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            listener.bind(address)
            listener.listen(64)  # workers may connect before it is ready: they queue
            passed.append(listener)
        stderr = tempfile.TemporaryFile()
        command = [sys.executable, "-I", str(HERE / "zygote.py"), str(os.getpid())]
        command.append(str(theirs.fileno()))
        command.append(json.dumps(list(preload)))
        if listener is not None:
            command.append(str(listener.fileno()))
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd="/",
                env=environment(),
                # in its starter's process group: killing a worker's group kills it too
                pass_fds=[sock.fileno() for sock in passed],
            )  # no preexec_fn (its starter may have threads): it holds on to its parent itself
        finally:
            for sock in passed:
                sock.close()
        zygote = cls(ours, process, stderr, address)
        zygote.preload, zygote._folder = preload, folder
        if wait:
            zygote.wait_ready(timeout)
        return zygote

    @classmethod
    def connect(cls, address: str, timeout: float = 120) -> Zygote:
        """A client of the shared zygote at ``address`` (once it is ready)."""
        channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            channel.connect(address)
        except OSError as exc:
            channel.close()
            raise ZygoteError(f"no fork server at {address}: {exc}") from None
        zygote = cls(channel, address=address)
        zygote.wait_ready(timeout)
        return zygote

    def wait_ready(self, timeout: float = 120) -> None:
        ready = self._next(time.monotonic() + timeout)
        if not ready.get("ready"):
            self.close()
            raise ZygoteError("the fork server did not start: no ready message")
        self.preload = tuple(ready.get("preload", self.preload))
        self.loaded = tuple(ready.get("loaded", ()))
        self.skipped = tuple(ready.get("skipped", ()))
        self.threads = int(ready.get("threads", 0))

    @property
    def forkable(self) -> bool:
        """Single-threaded: a fork would keep only one of several threads (and their locks)."""
        return self.threads == 1

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return not self._gone

    def _said(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return f"; it said: {lines[-1][:200]}" if lines else ""

    def _next(self, deadline: float | None) -> dict:
        """The next message (recording fork ends); ``{}`` when ``deadline`` passed first."""
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select([self.channel], [], [], left)
            if not ready:
                return {}
            try:
                data = self.channel.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._gone = True
                if self.process is not None:
                    self.process.wait()
                raise ZygoteError(f"the fork server ended{self._said()}")
            message = json.loads(data)
            if "ended" in message:
                self.ended[int(message["ended"])] = (
                    int(message["status"]),
                    float(message["cpu_s"]),
                )
            return message

    def fork(self, fds: list[int], timeout: float = 30) -> int:
        """A new fork holding ``fds`` (spec pipe, requests, answers, stderr); its pid."""
        try:
            socket.send_fds(self.channel, [b'{"op": "fork"}'], fds)
        except OSError as exc:
            raise ZygoteError(f"the fork server stopped answering: {exc}") from None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._next(deadline)
            if "forked" in message:
                return int(message["forked"])
            if "failed" in message:
                raise ZygoteError(f"the fork server could not fork: {message['failed']}")
        raise ZygoteError("the fork server did not fork in time")

    def kill(self, pid: int) -> None:
        """SIGKILL the fork ``pid`` and its process group, unless it was reaped already."""
        if pid in self.ended or not self.alive():
            return
        try:
            self.channel.send(json.dumps({"op": "kill", "pid": pid}).encode())
        except OSError:
            pass  # the zygote is gone: its forks die with it (parent-death signal)

    def wait(self, pid: int, block: bool) -> tuple[int, float] | None:
        """``(wait status, CPU seconds)`` of the fork ``pid`` once it ended, else ``None``."""
        while pid not in self.ended:
            try:
                message = self._next(None if block else time.monotonic())
            except ZygoteError:  # its forks were killed with it
                self.ended[pid] = (signal.SIGKILL, 0.0)
                break
            if not message and not block:
                return None
        return self.ended.pop(pid)

    def close(self) -> None:
        """End this handle: the zygote itself if this is its owner (every fork still running
        is killed with it), else this client's forks."""
        self.channel.close()
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._stderr is not None:
            self._stderr.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


_zygotes: dict[object, Zygote] = {}
_refused: set[str] = set()  # shared zygotes that could not be used: this process starts its own


def zygote_for(preload: tuple[str, ...], server: str = "") -> Zygote:
    """The zygote for ``preload``: the shared one at ``server`` when given and usable (it
    loaded the same modules), else this process's own (started on first use, restarted if it
    ended)."""
    if server and server not in _refused:
        zygote = _zygotes.get(server)
        if zygote is not None and not zygote.alive():
            _zygotes.pop(server).close()
            zygote = None
        if zygote is None:
            try:
                zygote = _zygotes[server] = Zygote.connect(server)
            except ZygoteError:
                _refused.add(server)
        if zygote is not None and zygote.preload == tuple(preload):
            return zygote
    zygote = _zygotes.get(preload)
    if zygote is not None and not zygote.alive():
        zygote.close()
        zygote = None
    if zygote is None:
        zygote = _zygotes[preload] = Zygote.start(preload)
    return zygote


def close_all() -> None:
    """End this process's zygotes and connections (a worker's last step)."""
    while _zygotes:
        _zygotes.popitem()[1].close()


@dataclass
class _Fork:
    """The sandbox's first process, a fork of the zygote (in place of a ``Popen``)."""

    pid: int
    zygote: Zygote
    returncode: int | None = None

    def kill(self) -> None:
        self.zygote.kill(self.pid)


class ForkedSandbox(NamespaceSandbox):
    """A namespace sandbox forked from this worker's :class:`Zygote` (see the module)."""

    _zygote: Zygote | None = None

    def _launch(self, env: dict) -> Launch:
        try:
            zygote = zygote_for(with_warm_up(self.preload), self.fork_server)
        except ZygoteError:
            raise
        except (OSError, ValueError) as exc:
            raise ZygoteError(f"the fork server did not start: {exc}") from None
        if not zygote.forkable:  # threads: execute the harness instead
            self._zygote = None
            return super()._launch(env)
        self._zygote = zygote
        spec = self._spec(env)
        spec["as_root"] = bool(self.caps["as_root"])
        spec["cgroup"] = self.cgroup.join_files() if self.cgroup is not None else []
        return Launch(command=[], cwd=str(self.workdir), env=env, spec=spec)

    def _spawn(self, launch: Launch, requests_r: int, answers_w: int, errors: int):
        if self._zygote is None:
            return super()._spawn(launch, requests_r, answers_w, errors)
        spec_r, spec_w = os.pipe()
        try:
            pid = self._zygote.fork([spec_r, requests_r, answers_w, errors])
        except BaseException:
            os.close(spec_w)
            raise
        finally:
            os.close(spec_r)
        try:
            with os.fdopen(spec_w, "wb") as handle:
                handle.write(json.dumps(launch.spec).encode())
        except BrokenPipeError:
            pass  # the fork already ended: its status says so
        return _Fork(pid, self._zygote)

    def _kill(self) -> None:
        if self._zygote is None:
            return super()._kill()
        self.process.kill()

    def _wait(self, block: bool) -> bool:
        if self._zygote is None or self.status is not None or self.process is None:
            return super()._wait(block)
        ended = self._zygote.wait(self.process.pid, block)
        if ended is None:
            return False
        self.status, self.cpu_s = ended
        self.process.returncode = os.waitstatus_to_exitcode(self.status)
        return True
