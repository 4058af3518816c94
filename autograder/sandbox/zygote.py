"""The fork server: one process that has imported the harness and an assignment's libraries
once, and forks a fresh sandbox from that state for each submission (trusted; outside every
sandbox).

Importing numpy, scikit-learn and PyTorch costs a fresh sandbox about 3 s of a 6 s
assignment-4 submission; a fork of a process that already holds them costs milliseconds.
:class:`autograder.sandbox.forked.Zygote` starts this file as ``python -I zygote.py PARENT FD
PRELOAD [LISTEN]`` (``PARENT``: the starter's pid, with which it dies; ``PRELOAD``: a JSON list
of module names; ``LISTEN``: a listening Unix socket through which the workers of one grading
batch share this zygote) with the harness's own environment, so the libraries start exactly as
in a harness the sandbox executes. What every sandbox inherits is
this process's memory, so it holds nothing but the libraries and the harness:

- it never runs a line of any submission (the forks do, after the lockdown);
- it never sees what a sandbox is for: the spec (paths, the uid, the limits) goes from the
  grader through a pipe straight to the fork, which reads it after the fork;
- it is single-threaded when it forks (else the worker falls back to executing the harness).

Protocol on ``FD``, a ``SOCK_SEQPACKET`` socket, one JSON object per packet:

- ``{"op": "fork"}`` with four descriptors (spec pipe, requests, answers, stderr); answer
  ``{"forked": pid}`` (``{"failed": why}`` when the kernel refused the fork);
- ``{"op": "kill", "pid": pid}``: SIGKILL that fork's process group, if it has not been reaped
  (the zygote reaps its forks, so a pid is never killed after its reuse); answer nothing;
- this process sends ``{"ended": pid, "status": wait status, "cpu_s": CPU seconds}`` when a
  fork ends (``wait4``: the fork's CPU time includes every process it waited for);
- end of file from the process that started it: every fork is killed, and this process exits;
  from a worker that connected (only the same uid is accepted): that worker's forks are killed.
  A connecting worker is first sent the ready message (what was loaded).

Each fork does what ``unshare --mount --net --pid --ipc --uts --fork --kill-child`` does for the
executed harness (plus ``--user --map-root-user`` when the grader is not root): it leads a
session of its own (and joins a fresh session keyring, as a new process of ``unshare`` would
not share the zygote's), dies with the zygote, joins the sandbox's control group, unshares the
namespaces, and forks PID 1 of the new PID namespace, which is ``enter.become`` with the
harness served in process; it exits as that init did (its signal raised again).
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def threads() -> int:
    """Threads of this process (a fork keeps only the calling one)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def preload(names: list[str]) -> tuple[list[str], list[str]]:
    """Import ``names``; ``(loaded, skipped)`` (a module that does not import is skipped)."""
    loaded, skipped = [], []
    for name in names:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except BaseException:  # anything an import can raise: the sandbox imports it itself
            skipped.append(name)
    return loaded, skipped


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _fresh_state(env: dict) -> None:
    """(In the harness) what a freshly started interpreter would differ in."""
    import random

    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["/harness/harness.py"]
    random.seed()  # from the kernel's entropy, as at an interpreter's start
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()  # the legacy global generator, likewise


def sandbox(fds: list[int], zygote: int) -> None:
    """The fork's life (see the module); never returns."""
    spec_fd, requests_fd, answers_fd, errors_fd = fds
    code = 1
    try:
        os.setsid()
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != zygote:  # the zygote ended before the line above
            os._exit(1)
        import lockdown

        # a session keyring of this fork's own, at once: not the zygote's (the grader's), which
        # every fork would otherwise share; enter.become joins another once the uid is the
        # sandbox's (so that keyring is owned by it)
        lockdown.fresh_session_keyring()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(errors_fd, 2)
        keep = {0, 1, 2, spec_fd, requests_fd, answers_fd}
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in keep:
                try:
                    os.close(int(name))
                except OSError:
                    pass  # the listing's own descriptor
        with os.fdopen(spec_fd, "rb") as handle:
            spec = json.loads(handle.read())
        for path in spec.get("cgroup", ()):
            _write(path, "0")  # into the sandbox's control group, before anything else
        as_root = spec.get("as_root", True)
        flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
        uid, gid = os.geteuid(), os.getegid()
        _check(_libc.unshare(flags if as_root else flags | CLONE_NEWUSER), "unshare")
        if not as_root:  # --map-root-user: this uid is root of the new user namespace
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
        init = os.fork()
        if init == 0:  # PID 1 of the new PID namespace
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            import enter
            import harness

            def serve(requests: int, answers: int) -> None:
                _fresh_state(spec["env"])
                harness.main(requests, answers)

            enter.become(spec, requests_fd, answers_fd, serve=serve)
            os._exit(1)  # not reached: become() exits
        for fd in (requests_fd, answers_fd):
            os.close(fd)
        while True:
            pid, status = os.waitpid(init, 0)
            if pid == init:
                break
        if os.WIFSIGNALED(status):
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file of this process
            number = os.WTERMSIG(status)
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


class Server:
    """The zygote's loop: forks on request, reports every fork's end to whoever asked for it.

    Its first client is the process that started it (end of file there ends the zygote);
    with a listening socket, grading workers of the same user connect as further clients (end
    of file there kills that client's forks).
    """

    def __init__(self, channel: socket.socket, hello: dict, listener: socket.socket | None):
        self.owner, self.hello, self.listener = channel, hello, listener
        self.clients: list[socket.socket] = [channel]
        self.live: dict[int, socket.socket] = {}  # fork -> the client it reports to
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    @staticmethod
    def send(client: socket.socket, message: dict) -> None:
        try:
            client.send(json.dumps(message).encode())
        except OSError:
            pass  # that client is gone: its end of file comes next

    def reap(self) -> None:
        while self.live:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            client = self.live.pop(pid, None)
            if client is not None:
                cpu_s = usage.ru_utime + usage.ru_stime
                self.send(client, {"ended": pid, "status": status, "cpu_s": cpu_s})

    def fork(self, client: socket.socket, fds: list[int]) -> None:
        zygote = os.getpid()
        try:
            pid = os.fork()
        except OSError as exc:  # e.g. out of processes: this request fails, the server stays
            self.send(client, {"failed": f"fork: {exc}"[:200]})
            return
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            sandbox(fds, zygote)
        self.live[pid] = client
        self.send(client, {"forked": pid})

    def kill(self, client: socket.socket, pid) -> None:
        if self.live.get(pid) is client:  # not reaped yet (the pid is still this fork's)
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def accept(self) -> None:
        client, _ = self.listener.accept()
        creds = client.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        if uid != os.geteuid():  # only the grading user's own processes
            client.close()
            return
        self.clients.append(client)
        self.send(client, self.hello)

    def drop(self, client: socket.socket) -> None:
        for pid, owner in list(self.live.items()):
            if owner is client:
                self.kill(client, pid)
        self.clients.remove(client)
        client.close()

    def serve(self) -> None:
        while True:
            watched = [*self.clients, self.wake_r] + ([self.listener] if self.listener else [])
            ready, _, _ = select.select(watched, [], [])
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
            self.reap()
            if self.listener is not None and self.listener in ready:
                self.accept()
            for client in [c for c in ready if c in self.clients]:
                data, fds, _, _ = socket.recv_fds(client, 65536, 8)
                if not data:
                    if client is self.owner:
                        return self.stop()
                    self.drop(client)
                    continue
                try:
                    request = json.loads(data)
                except ValueError:
                    request = {}
                if request.get("op") == "fork" and len(fds) == 4:
                    self.fork(client, fds)
                elif request.get("op") == "kill":
                    self.kill(client, request.get("pid"))
                for fd in fds:
                    os.close(fd)

    def stop(self) -> None:
        for pid, client in list(self.live.items()):
            self.kill(client, pid)


def main(argv) -> None:
    # set here, after exec (its starter may have threads: no preexec_fn), then the parent
    # checked, in case it ended before the request was made
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(argv.pop(1)):
        os._exit(1)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, os.path.join(here, "inside")]  # enter, lockdown; the harness
    channel = socket.socket(fileno=int(argv[1]))
    listener = socket.socket(fileno=int(argv[3])) if len(argv) > 3 else None
    import enter  # noqa: F401  -- the sandbox's own code, imported once
    import harness
    import lockdown  # noqa: F401

    harness.preload()
    loaded, skipped = preload(json.loads(argv[2]))
    gc.collect()
    gc.freeze()  # the forks do not copy the preloaded objects' pages to collect them
    hello = {"ready": True, "loaded": loaded, "skipped": skipped, "threads": threads()}
    hello["preload"] = json.loads(argv[2])
    server = Server(channel, hello, listener)
    server.send(channel, hello)
    server.serve()
    os._exit(0)  # no interpreter shutdown (torch and the rest): the owner waits for this


if __name__ == "__main__":
    main(sys.argv)
