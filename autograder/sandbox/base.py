"""What every sandbox mode shares: limits, errors, the channel, the life cycle, the verdict on
how a sandbox died.

:class:`Sandbox` is the one interface and names none of its modes;
:func:`autograder.sandbox.modes.open_sandbox` builds the mode
:func:`~autograder.sandbox.capabilities.capabilities` chose
(:class:`~autograder.sandbox.forked.ForkedSandbox`,
:class:`~autograder.sandbox.namespaces.NamespaceSandbox` or
:class:`~autograder.sandbox.rlimits.RlimitSandbox`), which only says how to launch the harness.
Everything the grader trusts is decided here, from what it observes itself:

- **answers are capped where they are received**: a message over ``wire.MAX_MESSAGE`` (over
  ``MAX_RUN_ANSWER`` for the answer to a cell) is refused from its header (nothing more is
  read), one of more than ``wire.MAX_VALUES`` values before it is parsed; a cell's printed
  output is cut at ``MAX_OUTPUT`` characters and error texts at a few thousand, and what a
  whole notebook keeps at ``MAX_NOTEBOOK_OUTPUT`` bytes (:class:`OutputBudget`), whatever the
  harness (which the submission can patch) says;
- **a callback's arguments are measured before they are decoded** (``MAX_CALLBACK_VALUES``
  values, and what the grader's function declares it accepts, :func:`accepts`);
- **the cause of a death** (:class:`SandboxDied`'s ``cause``) comes from the exit status or
  signal the grader's ``wait4`` sees, the CPU time the kernel counted, the control group's OOM
  kills, and the grader's clock (:class:`SandboxTimeout`) — never from a name or a message
  produced inside the sandbox;
- **closing kills everything**: every process of the sandbox's control group (forks refused
  first), its process group, and the orphans this process adopted as subreaper.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, get_args

from autograder.sandbox.cgroups import CGroup, Observed
from autograder.sandbox.inside import wire

__all__ = [
    "MAX_NOTEBOOK_OUTPUT",
    "MAX_OUTPUT",
    "Cause",
    "Limits",
    "Observed",
    "OutputBudget",
    "Sandbox",
    "SandboxDied",
    "SandboxTimeout",
    "SandboxUnavailable",
    "become_subreaper",
]

HERE = Path(__file__).resolve().parent
#: the code that runs inside the sandbox, the only folder of the grader mounted there (``/harness``)
INSIDE = HERE / "inside"
MAX_OUTPUT = 100_000  # characters of printed output kept per cell (the trusted side's count)
CUT = "\n[output cut at 100,000 characters]"
_ERROR_TEXT = {"ename": 100, "evalue": 2000, "traceback": 5000}  # characters kept
#: bytes of printed output and error text one notebook keeps, all its cells together
MAX_NOTEBOOK_OUTPUT = 2_000_000
NOTEBOOK_CUT = "\n[output not kept: the notebook's output limit (2,000,000 bytes) was reached]"
#: bytes of the answer to one cell: its output (JSON escapes a character in at most 12 bytes)
#: and error texts; a larger one is refused from its header
MAX_RUN_ANSWER = 12 * (MAX_OUTPUT + len(CUT) + sum(_ERROR_TEXT.values())) + 4096
#: values the arguments of one callback may hold (counted before they are decoded)
MAX_CALLBACK_VALUES = 10_000


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (each restart gets them afresh). The defaults of
    ``memory_mb``, ``cpu_s`` and ``processes`` are a grading run's too
    (:class:`autograder.grading.options.GradingOptions` takes them from here)."""

    memory_mb: int = 4096  # TensorFlow alone maps ~1 GB (address space, without cgroups)
    cpu_s: int = 600
    processes: int = 512  # threads count too (TensorFlow starts dozens)
    file_mb: int = 64
    open_files: int = 256
    scratch_mb: int = 128  # each of /scratch, /tmp, /dev/shm
    # cores used at once (cgroup quota), and the weight against other sandboxes and processes
    # (that of as many busy processes): TensorFlow's own thread pools use two or more
    cpus: int = max(1, min(4, os.cpu_count() or 1))

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"sandbox limit {name} must be a positive integer, got {value!r}")


Cause = Literal["memory", "cpu", "signal", "exit", "output", "channel"]
CAUSES: tuple[str, ...] = get_args(Cause)


class SandboxDied(RuntimeError):
    """The sandbox's process ended, or broke the channel; it has been closed.

    ``cause`` (trusted observations only): ``"memory"`` (the kernel's OOM killer acted in the
    sandbox's control group), ``"cpu"`` (killed by the CPU-time signal *and* the kernel counted
    the CPU time), ``"signal"`` (another signal), ``"exit"`` (it exited), ``"output"`` (a
    message over the size limit), ``"channel"`` (malformed message, or the channel closed while
    the process lived on). ``detail`` says what was seen; ``str(exc)`` is the sentence to show.
    """

    def __init__(self, message: str, cause: Cause = "exit", detail: str = ""):
        if cause not in CAUSES:
            raise ValueError(f"cause must be one of {CAUSES}, got {cause!r}")
        super().__init__(message)
        self.cause: Cause = cause
        self.detail = detail or message


class SandboxUnavailable(RuntimeError):
    """The sandbox could not start: a problem of the grading machine, not of the submission."""


class SandboxTimeout(TimeoutError):
    """The sandbox did not answer in time (the grader's clock); it has been killed."""


@dataclass
class Launch:
    """How a mode starts its harness: the command, its folder and environment, and what the
    child does before exec (after joining the control group)."""

    command: list
    cwd: str
    env: dict
    preexec: object = None
    spec: dict | None = None  # what a fork of the zygote builds (autograder.sandbox.forked)


def environment() -> dict:
    """The harness's environment (paths as they are inside the namespace sandbox)."""
    return {
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


class OutputBudget:
    """What one notebook may still keep of printed output and error text, in UTF-8 bytes."""

    def __init__(self, total: int = MAX_NOTEBOOK_OUTPUT):
        self.left, self.cut = total, False

    def take(self, text: str) -> str:
        """The part of ``text`` that fits (all of it while the budget lasts), charged."""
        size = len(text.encode("utf-8", "surrogatepass"))
        if size <= self.left:
            self.left -= size
            return text
        kept = text.encode("utf-8", "surrogatepass")[: self.left].decode("utf-8", "ignore")
        self.left = 0
        if self.cut:
            return kept
        self.cut = True
        return kept + NOTEBOOK_CUT


def accepts(fn, args, kwargs) -> bool:
    """Whether the grader's function ``fn`` takes these *undecoded* arguments: a function may
    declare ``fn.accepts_wire(args, kwargs)``, which sees the message form only (shapes and
    dtypes of arrays, never their data decoded)."""
    check = getattr(fn, "accepts_wire", None)
    return True if check is None else bool(check(args, kwargs))


def _budgeted(answer: dict, budget: OutputBudget) -> dict:
    if "stdout" in answer:
        answer["stdout"] = budget.take(answer["stdout"])
    error = answer.get("error")
    if isinstance(error, dict):
        for key in ("evalue", "traceback"):  # (the name is at most 100 characters: kept)
            if isinstance(error.get(key), str):
                error[key] = budget.take(error[key])
    return answer


def cap_answer(answer: dict, budget: OutputBudget | None = None) -> dict:
    """An answer with its printed output and error texts cut to what the grader keeps (and to
    what ``budget``, the notebook's, has left)."""
    if "stdout" in answer:
        out = answer["stdout"] if isinstance(answer["stdout"], str) else ""
        if len(out) > MAX_OUTPUT + len(CUT):
            out = out[:MAX_OUTPUT] + CUT
        answer["stdout"] = out
    error = answer.get("error")
    if error is not None and not isinstance(error, dict):
        answer["error"] = error = {"ename": "Error", "evalue": "", "traceback": ""}
    if isinstance(error, dict):
        for key, most in _ERROR_TEXT.items():
            text = error.get(key)
            if text is not None and not isinstance(text, str):
                text = ""
            if text is not None and len(text) > most:
                text = text[-most:] if key == "traceback" else text[:most]
            if key in error:
                error[key] = text
    return answer if budget is None else _budgeted(answer, budget)


class Sandbox:
    """One running sandbox over the files in ``files`` (copied in; never written back)."""

    mode = ""

    def __init__(
        self,
        files: Path,
        workdir: Path,
        limits: Limits = Limits(),
        slot: int = 0,
        hide=(),
        preload=(),
        fork_server: str = "",
    ):
        """``preload``: modules the submission is expected to import (the released notebook's),
        which a fork server imports once for every sandbox (:mod:`~autograder.sandbox.forked`);
        ``fork_server``: the address of a grading pool's shared one."""
        from autograder.sandbox.capabilities import capabilities

        if type(self) is Sandbox:
            raise TypeError(
                "Sandbox is the interface, not a mode: open one with "
                "autograder.sandbox.open_sandbox(files, workdir, ...), which picks this "
                "machine's mode"
            )

        self.files, self.workdir, self.limits, self.slot = Path(files), Path(workdir), limits, slot
        self.hide = [str(Path(p).resolve()) for p in hide]  # e.g. the course, the submissions
        self.preload = tuple(str(m) for m in preload)
        self.fork_server = str(fork_server)
        self.process: subprocess.Popen | None = None
        self.caps = capabilities()
        self.cgroup: CGroup | None = None
        self.uid: int | None = None  # the sandbox's own uid, where it has one
        self.observed: Observed | None = None  # the control group's counters when it closed
        self.status: int | None = None  # wait status of the grader's child, once it ended
        self.cpu_s = 0.0  # CPU time the kernel counted for the child and what it reaped

    # -- what a mode provides --------------------------------------------------------------

    def _launch(self, env: dict) -> Launch:
        raise NotImplementedError

    # -- life cycle ------------------------------------------------------------------------

    def start(self, timeout: float = 120) -> None:
        self.status, self.cpu_s, self.observed = None, 0.0, None
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.caps.get("cgroups"):
            try:
                self.cgroup = CGroup.create(
                    memory_bytes=self.limits.memory_mb << 20,
                    processes=self.limits.processes,
                    cpus=self.limits.cpus,
                    name=f"slot{self.slot}",
                )
            except OSError as exc:
                raise SandboxUnavailable(f"the sandbox's control group failed: {exc}") from None
        try:
            launch = self._launch(environment())
        except OSError as exc:
            self._drop_cgroup()
            raise SandboxUnavailable(f"the sandbox could not be prepared: {exc}") from None
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        # orphans of the submission are re-parented here, and killed by close(); processes
        # this one had already started are not the sandbox's
        become_subreaper()
        self._before = set(_children())
        # what the sandbox writes to stderr (capped by its file-size limit): read only to say
        # why a sandbox did not start
        self._errors = self.workdir / "sandbox-stderr.txt"
        errors = self._errors.open("wb")
        try:
            self.process = self._spawn(launch, requests_r, answers_w, errors.fileno())
        except (OSError, subprocess.SubprocessError) as exc:
            self._drop_cgroup()
            raise SandboxUnavailable(f"the sandbox did not start: {exc}") from None
        finally:
            errors.close()
            for fd in (requests_r, answers_w):
                os.close(fd)
        self._to, self._from = requests_w, answers_r
        os.set_blocking(self._to, False)
        self._frames = wire.Frames()
        try:
            answer = self._read(time.monotonic() + timeout)
        except (SandboxDied, SandboxTimeout) as exc:
            self.close()
            said = self._last_error_line()
            raise SandboxUnavailable(f"the sandbox did not start: {exc}{said}") from None
        if not answer.get("ready"):
            self.close()
            raise SandboxUnavailable("the sandbox did not start: no ready message")

    def _spawn(self, launch: Launch, requests_r: int, answers_w: int, errors: int):
        """Start the sandbox's first process; its handle (``pid``, ``kill()``)."""
        group, extra = self.cgroup, launch.preexec

        def preexec():  # in the child, before exec: nothing of the submission has run yet
            _die_with_parent()
            if group is not None:
                group.join()
            if extra is not None:
                extra()

        return subprocess.Popen(
            # the harness reads requests and writes answers on the two descriptors named last
            [*launch.command, str(requests_r), str(answers_w)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            cwd=launch.cwd,
            env=launch.env,
            start_new_session=True,
            pass_fds=(requests_r, answers_w),
            preexec_fn=preexec,
        )

    def _last_error_line(self) -> str:
        try:
            with self._errors.open("rb") as handle:
                handle.seek(max(handle.seek(0, os.SEEK_END) - 4096, 0))
                lines = handle.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f"; it said: {lines[-1][:200]}" if lines else ""

    def close(self) -> None:
        """Kill the sandbox's whole process tree and wait for it."""
        if self.process is None:
            self._drop_cgroup()
            return
        if self.cgroup is not None:
            self.cgroup.kill_all()
        self._kill()
        self._wait(block=True)
        for fd in (self._to, self._from):
            try:
                os.close(fd)
            except OSError:
                pass
        _reap_orphans(keep=self._before)
        self._drop_cgroup()
        self.process = None

    def _kill(self) -> None:
        """SIGKILL the first process and its process group (it leads a session of its own)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.kill()
        except ProcessLookupError:
            pass

    def _drop_cgroup(self) -> None:
        if self.cgroup is not None:
            self.observed = self.cgroup.observe()
            self.cgroup.remove()
            self.cgroup = None

    def _wait(self, block: bool) -> bool:
        """Reap the grader's child (trusted status and CPU time); True once it has ended."""
        if self.status is not None or self.process is None:
            return True
        try:
            pid, status, usage = os.wait4(self.process.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.process.poll()
            self.status = 0
            return True
        if pid == 0:
            return False
        self.status = status
        self.cpu_s = usage.ru_utime + usage.ru_stime
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return True

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        message: dict,
        timeout: float,
        callbacks: dict | None = None,
        budget: OutputBudget | None = None,
    ) -> dict:
        """Send one request and return its answer, serving callbacks meanwhile.

        Raises :class:`SandboxTimeout` (after killing the sandbox) when no answer comes within
        ``timeout`` seconds, :class:`SandboxDied` when the sandbox ends or answers nonsense.
        The answer's printed output and error texts are cut to the grader's limits and
        charged to ``budget`` (the notebook's); the answer to a cell may hold at most
        ``MAX_RUN_ANSWER`` bytes.
        """
        deadline = time.monotonic() + timeout
        self._write(message, deadline)
        limit = MAX_RUN_ANSWER if message.get("op") == "run" else wire.MAX_MESSAGE
        while True:
            self._frames.limit = limit
            answer = self._read(deadline)
            if answer.get("op") != "callback":
                return cap_answer(answer, budget)
            self._write(self._serve_callback(answer, callbacks or {}), deadline)

    def _serve_callback(self, message: dict, callbacks: dict) -> dict:
        try:
            ref = message.get("ref")
            fn = callbacks[ref] if type(ref) is int else None
            raw_args = message.get("args", [])
            raw_kwargs = message.get("kwargs", {"__dict__": {}})
            measured = wire.count_parsed([raw_args, raw_kwargs], MAX_CALLBACK_VALUES)
            if fn is None or measured > MAX_CALLBACK_VALUES:
                return {"op": "raise", "message": "the grader's function refused its arguments"}
            if not accepts(fn, raw_args, raw_kwargs):
                return {"op": "raise", "message": "the grader's function refused its arguments"}
            args = wire.decode(raw_args)
            kwargs = wire.decode(raw_kwargs)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                return {"op": "raise", "message": "the grader's function refused its arguments"}
            return {"op": "return", "value": wire.encode(fn(*args, **kwargs))}
        except Exception as exc:
            return {"op": "raise", "message": f"{type(exc).__name__}: {exc}"[:500]}

    def _write(self, message: dict, deadline: float) -> None:
        data = memoryview(wire.frame(message))
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                self._timeout()
            _, ready, _ = select.select([], [self._to], [], left)
            if ready:
                try:
                    data = data[os.write(self._to, data) :]
                except BrokenPipeError:
                    raise self._death() from None

    def _read(self, deadline: float) -> dict:
        while True:
            try:
                message = self._frames.next()
            except wire.TooLarge as exc:
                self.close()
                raise SandboxDied(f"the sandbox sent too much: {exc}", "output") from None
            except wire.WireError as exc:
                self.close()
                text = f"the sandbox broke the channel ({exc})"
                raise SandboxDied(text, "channel") from None
            if message is not None:
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                self._timeout()
            ready, _, _ = select.select([self._from], [], [], left)
            if ready:
                chunk = os.read(self._from, min(max(self._frames.wanted(), 4096), 1 << 20))
                if not chunk:
                    raise self._death()
                self._frames.feed(chunk)

    def _timeout(self):
        self.close()
        raise SandboxTimeout("no answer in time: the sandbox was stopped")

    def _exit_code(self, status: int) -> tuple[int | None, int | None]:
        """``(exit code, signal)`` of the harness from the child's wait status (a mode whose
        child is an init reports the harness's signal as ``128 + n``)."""
        if os.WIFSIGNALED(status):
            return None, os.WTERMSIG(status)
        return os.WEXITSTATUS(status), None

    def _death(self) -> SandboxDied:
        """Close the sandbox and say why it died, from what the grader observed."""
        grace = time.monotonic() + 2.0  # the channel closed: the process should be ending
        while not self._wait(block=False) and time.monotonic() < grace:
            time.sleep(0.01)
        ended = self._wait(block=False)
        observed = self.cgroup.observe() if self.cgroup is not None else None
        self.close()
        cpu = max(self.cpu_s, observed.cpu_s if observed else 0.0)
        if observed is not None and observed.oom_kills > 0:
            detail = f"OOM kills in the control group: {observed.oom_kills}"
            return SandboxDied(
                f"the memory limit ({self.limits.memory_mb} MB) was reached", "memory", detail
            )
        if not ended:
            return SandboxDied(
                "the sandbox closed the channel and kept running (stopped)", "channel"
            )
        code, number = self._exit_code(self.status)
        if number is not None:
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            detail = f"killed by {name} after {cpu:.1f} s of CPU time"
            if name in ("SIGXCPU", "SIGKILL") and cpu >= 0.9 * self.limits.cpu_s:
                return SandboxDied(
                    f"the CPU time limit ({self.limits.cpu_s} s) was reached", "cpu", detail
                )
            return SandboxDied(f"the submission's process was killed by {name}", "signal", detail)
        return SandboxDied(f"the submission's process exited (status {code})", "exit")


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
