"""Run one submission's code in a sandbox and talk to it; the grader stays outside.

A :class:`Sandbox` is one process tree running ``harness.py`` on the submission's files.
The grader (trusted) sends it cells to run and functions to call, and gets back plain
values (:mod:`autograder.sandbox.wire`); it never runs student code itself and never lets
the sandbox see a hidden test or an expected value.

How strongly it is isolated depends on the machine; :func:`capabilities` says which mode is in
force and what it guarantees:

- ``namespaces`` (Linux with user namespaces, util-linux ``unshare``): private mount table with
  an allow-listed read-only root, private PID namespace, no network, private IPC/UTS, an
  unprivileged uid per parallel job when the grader runs as root, plus every limit below;
- ``rlimits`` (fallback): the same resource limits, own session and process group, a scrubbed
  environment and a private working folder, but the file system and network are the grader's.

In both modes: address-space (memory), CPU-time, file-size, open-file and (with a uid of its
own) process-count limits; wall-clock limits are enforced by the caller's timeouts; when the
sandbox is closed its whole process tree is killed.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.sandbox import wire

__all__ = [
    "Limits",
    "Sandbox",
    "SandboxDied",
    "SandboxTimeout",
    "SandboxUnavailable",
    "capabilities",
]

HERE = Path(__file__).resolve().parent
FIRST_UID = 61000  # unprivileged uids for sandboxes when the grader runs as root


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (each restart gets them afresh)."""

    memory_mb: int = 4096  # address space: TensorFlow alone maps ~1 GB
    cpu_s: int = 600
    processes: int = 512  # threads count too (TensorFlow starts dozens)
    file_mb: int = 64
    open_files: int = 256
    scratch_mb: int = 128  # each of /scratch, /tmp, /dev/shm

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"sandbox limit {name} must be a positive integer, got {value!r}")


class SandboxDied(RuntimeError):
    """The sandbox's process ended (crash, ``os._exit``, a limit, a broken channel)."""


class SandboxUnavailable(RuntimeError):
    """The sandbox could not start: a problem of the grading machine, not of the submission."""


class SandboxTimeout(TimeoutError):
    """The sandbox did not answer in time; it has been killed."""


_CAPS: dict = {}


def _unshare_command(as_root: bool) -> list[str]:
    command = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
    return command if as_root else [*command[:1], "--user", "--map-root-user", *command[1:]]


def capabilities() -> dict:
    """Which isolation this machine gives: ``{"mode", "guarantees", "missing", "why"}``.

    ``AUTOGRADER_SANDBOX`` chooses: ``auto`` (default: the strongest available),
    ``namespaces`` (fail if unavailable) or ``rlimits`` (the fallback, e.g. to compare).
    """
    wanted = os.environ.get("AUTOGRADER_SANDBOX", "auto") or "auto"
    if wanted not in ("auto", "namespaces", "rlimits"):
        raise ValueError(f"AUTOGRADER_SANDBOX must be auto, namespaces or rlimits, got {wanted!r}")
    if _CAPS.get("wanted") == wanted:
        return _CAPS
    _CAPS.clear()
    as_root = os.geteuid() == 0
    why = ""
    if wanted == "rlimits":
        why = "AUTOGRADER_SANDBOX=rlimits"
    elif not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        why = "util-linux `unshare` not found"
    else:
        probe = subprocess.run(
            [*_unshare_command(as_root), "true"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode != 0:
            why = f"namespaces unavailable: {probe.stderr.strip()[:200]}"
    common = ["memory, CPU-time, file-size and open-file limits", "no verdict inside the sandbox"]
    if not why:
        guarantees = [
            "read-only allow-listed file system (no course, gradebook, other submissions, "
            "reference code or $HOME)",
            "no network",
            "private PID namespace: no process outlives its sandbox, none outside is visible",
            *common,
        ]
        missing = []
        if as_root:
            guarantees.append("an unprivileged uid per job, with a process-count limit")
        else:
            missing.append("process-count limit is shared with the grading user")
        _CAPS.update(mode="namespaces", as_root=as_root, guarantees=guarantees, missing=missing)
    else:
        _CAPS.update(
            mode="rlimits",
            as_root=as_root,
            guarantees=["own session and process group", *common],
            missing=[
                "file-system isolation (a submission can read what the grader can)",
                "network isolation",
                "the reference is blocked only by an import hook a submission can remove",
                "processes that leave the process group are killed by the grader as their "
                "subreaper, not by the kernel",
            ],
        )
    if wanted == "namespaces" and why:
        raise RuntimeError(f"AUTOGRADER_SANDBOX=namespaces, but {why}")
    _CAPS.update(why=why, wanted=wanted)
    return _CAPS


def _python_paths() -> list[str]:
    """What the harness's Python needs to see: its installation and its environment."""
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    for path in sys.path:
        if path.endswith("site-packages") and os.path.isdir(path):
            paths.add(path)
    paths = sorted(os.path.realpath(p) for p in paths) + sorted(paths)
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _hidden_from_sandbox() -> list[str]:
    """Folders the allow-list must not expose even when they sit inside an allowed one: the
    reference implementation, the grader (hidden tests included) and their repository."""
    import autograder
    import coursekit

    packages = [Path(m.__file__).resolve().parent for m in (autograder, coursekit)]
    return [str(p) for p in packages] + [str(packages[0].parent)]


class Sandbox:
    """One running sandbox over the files in ``files`` (copied in; never written back)."""

    def __init__(
        self, files: Path, workdir: Path, limits: Limits = Limits(), slot: int = 0, hide=()
    ):
        self.files, self.workdir, self.limits, self.slot = Path(files), Path(workdir), limits, slot
        self.hide = [str(Path(p).resolve()) for p in hide]  # e.g. the course, the submissions
        self.process: subprocess.Popen | None = None
        self.caps = capabilities()

    # -- life cycle ------------------------------------------------------------------------

    def start(self, timeout: float = 120) -> None:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/scratch",
            "IPYTHONDIR": "/scratch/.ipython",
            "MPLCONFIGDIR": "/scratch/.matplotlib",
            "KERAS_HOME": "/scratch/.keras",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0",
            "PYTHONHASHSEED": "0",
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",
        }
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        limits = asdict(self.limits)
        if self.caps["mode"] == "namespaces":
            root = self.workdir / "root"
            root.mkdir(parents=True, exist_ok=True)
            uid = FIRST_UID + self.slot if self.caps["as_root"] else None
            if uid is None:
                limits.pop("processes")
            hidden = _hidden_from_sandbox()
            allowed = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc"]
            for path in _python_paths():
                inside_hidden = any(path == h or path.startswith(h + "/") for h in hidden)
                venv = os.path.exists(os.path.join(path, "pyvenv.cfg"))
                if not inside_hidden or venv or "site-packages" in path:
                    allowed.append(path)
            spec = {
                "root": str(root),
                "read_only": allowed,
                "hide": [*hidden, *self.hide],
                "harness": str(HERE),
                "files": str(self.files),
                "uid": uid,
                "limits": limits,
                "python": sys.executable,
                "env": env,
            }
            enter = str(HERE / "enter.py")
            command = [
                *_unshare_command(self.caps["as_root"]),
                sys.executable,
                "-I",
                "-S",
                enter,
                json.dumps(spec),
            ]
            cwd, preexec = str(self.workdir), _die_with_parent
        else:
            scratch = self.workdir / "scratch"
            shutil.copytree(self.files, scratch, dirs_exist_ok=True, symlinks=True)
            env.update(HOME=str(scratch), TMPDIR=str(scratch), IPYTHONDIR=str(scratch / ".ip"))
            env.update(MPLCONFIGDIR=str(scratch / ".mpl"), KERAS_HOME=str(scratch / ".keras"))
            command = [sys.executable, "-I", str(HERE / "harness.py")]
            limits.pop("processes")
            cwd = str(scratch)
            from autograder.sandbox.enter import limit

            def preexec():
                _die_with_parent()
                limit(limits)

        # orphans of the submission are re-parented here, and killed by close(); processes
        # this one had already started are not the sandbox's
        become_subreaper()
        self._before = set(_children())
        # the harness reads requests and writes answers on the two descriptors named last
        command += [str(requests_r), str(answers_w)]
        # what the sandbox writes to stderr (capped by its file-size limit): read only to say
        # why a sandbox did not start
        self._errors = self.workdir / "sandbox-stderr.txt"
        self.workdir.mkdir(parents=True, exist_ok=True)
        errors = self._errors.open("wb")
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                cwd=cwd,
                env=env if self.caps["mode"] == "rlimits" else {"PATH": env["PATH"]},
                start_new_session=True,
                pass_fds=(requests_r, answers_w),
                preexec_fn=preexec,
            )
        finally:
            errors.close()
            for fd in (requests_r, answers_w):
                os.close(fd)
        self._to, self._from = requests_w, answers_r
        os.set_blocking(self._to, False)
        self._buffer = b""
        try:
            answer = self._read(time.monotonic() + timeout)
        except SandboxDied as exc:
            lines = self._errors.read_text(errors="replace").strip().splitlines()
            said = f"; it said: {lines[-1][:200]}" if lines else ""
            raise SandboxUnavailable(f"the sandbox did not start: {exc}{said}") from None
        if not answer.get("ready"):
            self.close()
            raise SandboxUnavailable("the sandbox did not start: no ready message")

    def close(self) -> None:
        """Kill the sandbox's whole process tree and wait for it."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.kill()
        except ProcessLookupError:
            pass
        self.process.wait()
        for fd in (self._to, self._from):
            try:
                os.close(fd)
            except OSError:
                pass
        _reap_orphans(keep=self._before)
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests --------------------------------------------------------------------------

    def request(self, message: dict, timeout: float, callbacks: dict | None = None) -> dict:
        """Send one request and return its answer, serving callbacks meanwhile.

        Raises :class:`SandboxTimeout` (after killing the sandbox) when no answer comes within
        ``timeout`` seconds, :class:`SandboxDied` when the sandbox ends or answers nonsense.
        """
        deadline = time.monotonic() + timeout
        self._write(message, deadline)
        while True:
            answer = self._read(deadline)
            if answer.get("op") != "callback":
                return answer
            self._write(self._serve_callback(answer, callbacks or {}), deadline)

    def _serve_callback(self, message: dict, callbacks: dict) -> dict:
        try:
            fn = callbacks[int(message["ref"])]
            args = wire.decode(message.get("args", []))
            kwargs = wire.decode(message.get("kwargs", {"__dict__": {}}))
            return {"op": "return", "value": wire.encode(fn(*args, **kwargs))}
        except Exception as exc:
            return {"op": "raise", "message": f"{type(exc).__name__}: {exc}"[:500]}

    def _write(self, message: dict, deadline: float) -> None:
        body = json.dumps(message).encode()
        data = b"%d\n" % len(body) + body
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                self._timeout()
            _, ready, _ = select.select([], [self._to], [], left)
            if ready:
                try:
                    data = data[os.write(self._to, data) :]
                except BrokenPipeError:
                    raise SandboxDied(self._death()) from None

    def _read(self, deadline: float) -> dict:
        while True:
            header, sep, rest = self._buffer.partition(b"\n")
            if sep:
                try:
                    size = int(header)
                except ValueError:
                    raise SandboxDied("the sandbox broke the channel (malformed header)") from None
                if not 0 <= size <= wire.MAX_MESSAGE:
                    raise SandboxDied(f"the sandbox sent a message over {wire.MAX_MESSAGE} bytes")
                if len(rest) >= size:
                    self._buffer = rest[size:]
                    try:
                        message = json.loads(rest[:size])
                    except (ValueError, RecursionError):
                        raise SandboxDied("the sandbox broke the channel (bad JSON)") from None
                    if not isinstance(message, dict):
                        raise SandboxDied("the sandbox broke the channel (not an object)")
                    return message
            elif len(header) > 32:
                raise SandboxDied("the sandbox broke the channel (malformed header)")
            left = deadline - time.monotonic()
            if left <= 0:
                self._timeout()
            ready, _, _ = select.select([self._from], [], [], left)
            if ready:
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    raise SandboxDied(self._death())
                self._buffer += chunk

    def _timeout(self):
        self.close()
        raise SandboxTimeout("no answer in time: the sandbox was stopped")

    def _death(self) -> str:
        code = self.process.wait() if self.process else None
        self.close()
        if self.caps["mode"] == "namespaces" and code is not None and code > 128:
            code = 128 - code  # PID 1 of the sandbox reports a signal as 128 + its number
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if name == "SIGXCPU":
                return f"the CPU time limit ({self.limits.cpu_s} s) was reached"
            return f"the submission's process was killed by {name}"
        return f"the submission's process exited (status {code})"


def _die_with_parent() -> None:
    """(In the child, before exec) get SIGKILL when the grader's process ends."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _children() -> list[int]:
    """This process's children, from ``/proc`` (empty where there is no ``/proc``)."""
    me, found = str(os.getpid()), []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == me:
            found.append(int(entry.name))
    return found


def _reap_orphans(keep: set[int]) -> None:
    """Kill and reap children of this process that were not there before the sandbox.

    Orphans of the submission land here because this process is their subreaper; killing them
    assumes nothing else in this process starts processes while a sandbox runs (true of the
    grading worker).
    """
    for _ in range(3):  # a dying orphan may hand its own children over meanwhile
        extra = [pid for pid in _children() if pid not in keep]
        if not extra:
            return
        for pid in extra:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError, PermissionError):
                pass


def become_subreaper() -> bool:
    """Adopt this process's orphaned descendants (Linux), so none can escape :meth:`close`."""
    try:
        import ctypes

        return (
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
        )  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False
