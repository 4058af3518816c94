"""The worker pool: long-lived grading processes, one task at a time each.

Each worker (:func:`autograder.grading.worker.serve`) runs in its own process group (in the grader's
session, at niceness ``WORKER_NICE``), started with ``python -I`` (neither the current folder
nor ``PYTHON*`` variables decide what it imports) and the parent's own ``autograder`` and
``coursekit`` folders first on its path; its first
line says which files it imported, and a worker running other code than the parent is refused.
A worker that dies or outlasts its task's time is killed with its whole group and replaced;
only that task's student is failed.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from autograder.grading.records import GradeResult, Kind
from autograder.grading.worker import GradeTask

__all__ = ["WorkerPool"]

#: The workers' niceness: what a worker does itself (start-up, nbgrader's passes, the checks'
#: arithmetic) yields to the batch's fork server and the sandboxes, which it waits for anyway.
WORKER_NICE = 5
_BOOT = (
    f"import os, sys; os.nice({WORKER_NICE}); sys.path[:0] = sys.argv[1:]; "
    "from autograder.grading.worker import serve; raise SystemExit(serve())"
)


def code_roots() -> list[str]:
    """The folders the parent imports ``autograder`` and ``coursekit`` from."""
    import autograder
    import coursekit

    roots = [str(Path(m.__file__).resolve().parents[1]) for m in (autograder, coursekit)]
    return list(dict.fromkeys(roots))


#: What a *held* worker runs first (a Dask worker's, :mod:`autograder.grading.cluster`): it gets
#: ``SIGKILL`` when the process that started it dies (``PR_SET_PDEATHSIG``, set in the child
#: after exec: a threaded Dask worker cannot use a ``preexec_fn``), and ends at once if that
#: parent died before the request was made.
_HOLD = (
    "import ctypes, os, sys; ctypes.CDLL(None).prctl(1, 9, 0, 0, 0); "
    "os.getppid() == int(sys.argv.pop(1)) or os._exit(1); "
)


def worker_command(held: bool = False) -> list[str]:
    """The command line of a grading process: the same for a local run and a Dask worker's,
    which only holds it (:data:`_HOLD`) first."""
    if held:
        return [sys.executable, "-I", "-c", _HOLD + _BOOT, str(os.getpid()), *code_roots()]
    return [sys.executable, "-I", "-c", _BOOT, *code_roots()]


class _Worker:
    """The parent's handle on one worker process (``held``: see :func:`worker_command`)."""

    def __init__(self, slot: int, held: bool = False):
        self.slot = slot
        self.process = subprocess.Popen(
            worker_command(held),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=tempfile.gettempdir(),
            # a process group of its own (killed as one), in the grader's session: the kernel
            # shares the CPU between sessions first (autogroups), and a session per worker
            # would let the workers starve the batch's fork server while it loads
            process_group=0,
        )
        self.ready = False

    def _line(self, timeout: float) -> str | None:
        ready, _, _ = select.select([self.process.stdout], [], [], max(timeout, 0))
        return self.process.stdout.readline() if ready else None

    def _check_ready(self, timeout: float = 120) -> None:
        import autograder
        import coursekit

        line = self._line(timeout)
        if not line:
            raise RuntimeError(
                "a grading worker did not start (see `python -m autograder.grading.worker`)"
            )
        seen = json.loads(line).get("ready", {})
        want = {"autograder": autograder.__file__, "coursekit": coursekit.__file__}
        if {k: str(Path(v).resolve()) for k, v in seen.items()} != {
            k: str(Path(v).resolve()) for k, v in want.items()
        }:
            raise RuntimeError(f"a grading worker imported other code than the grader: {seen}")
        self.ready = True

    def grade(self, task: GradeTask, timeout: float) -> GradeResult:
        if not self.ready:
            self._check_ready()
        try:
            self.process.stdin.write(task.to_json() + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return GradeResult.failed(task.student, Kind.CRASH, "the grading process exited")
        line = self._line(timeout)
        if line is None:
            self.close(grace=0)  # it is busy, not reading: killed at once
            why = f"grading took longer than {timeout:g} s"
            return GradeResult.failed(task.student, Kind.TIMEOUT, why)
        try:
            return GradeResult.from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError):
            self.close(grace=0)
            return GradeResult.failed(task.student, Kind.CRASH, "the grading process exited")

    def alive(self) -> bool:
        return self.process.poll() is None

    def end_input(self) -> None:
        """No more tasks: the worker ends once it has answered the last."""
        try:
            self.process.stdin.close()
        except OSError:
            pass

    def close(self, grace: float = 5.0) -> None:
        """End of input; after ``grace`` seconds for it to end by itself (closing what it
        opened), its group is killed."""
        self.end_input()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


class WorkerPool:
    """``size`` workers, started at once (they import nbgrader while the batch is prepared).

    ``held``: each worker gets ``SIGKILL`` when this process dies (the pool a Dask worker's
    :class:`~autograder.grading.cluster.GradingHost` runs); otherwise the same pool.
    """

    def __init__(self, size: int, *, held: bool = False):
        if size < 1:
            raise ValueError(f"jobs must be at least 1, got {size!r}")
        self.size, self.held = size, held
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._servers: dict[tuple[str, ...], object] = {}  # preload -> shared Zygote
        self._servers_lock = threading.Lock()
        for slot in range(size):
            self._add(_Worker(slot, held))

    def _add(self, worker: _Worker) -> None:
        self._all.append(worker)
        self._idle.put(worker)

    def _alive(self, worker: _Worker) -> _Worker:
        """``worker``, or a fresh one in its slot if it died or was killed."""
        if worker.alive():
            return worker
        worker.close()
        fresh = _Worker(worker.slot, self.held)
        self._all.append(fresh)
        return fresh

    def fork_server(self, source_dir: str, assignment: str) -> str:
        """The address of this pool's zygote for ``assignment``, shared by its workers
        (started on first use, in the calling thread: a zygote dies with the thread that
        started it); ``""`` where sandboxes are not forked (``rlimits``, ``AUTOGRADER_ZYGOTE=0``).

        One zygote for the pool instead of one per worker: the assignment's imports (5.5 s of
        CPU for assignment 4) are paid once per batch, while the workers start.
        """
        import nbformat

        from autograder.grading.steps.analysis import imported_modules
        from autograder.sandbox import forked

        try:
            if not forked.in_use():
                return ""
            source = Path(source_dir) / f"{assignment}.ipynb"
            preload = forked.with_warm_up(imported_modules(nbformat.read(source, as_version=4)))
            with self._servers_lock:
                zygote = self._servers.get(preload)
                if zygote is None or not zygote.alive():
                    zygote = forked.Zygote.start(preload, shared=True, wait=False)
                    self._servers[preload] = zygote
            return zygote.address
        except (OSError, ValueError, RuntimeError):
            return ""  # each worker starts its own

    def _grade_one(self, task: GradeTask) -> GradeResult:
        worker = self._idle.get()
        try:
            worker = self._alive(worker)
            limit = task.options.notebook_timeout + task.options.grader_margin
            result = worker.grade(replace(task, slot=worker.slot), limit)
            worker = self._alive(worker)
            return result
        finally:
            self._idle.put(worker)

    def grade(self, tasks: Iterable[GradeTask]) -> Iterator[tuple[GradeTask, GradeResult]]:
        """Grade every task; yield ``(task, result)`` as each finishes."""
        servers: dict[tuple[str, str], str] = {}

        def with_server(task: GradeTask) -> GradeTask:
            key = (task.source_dir, task.assignment)
            if key not in servers:
                servers[key] = self.fork_server(*key)
            return replace(task, fork_server=servers[key])

        with concurrent.futures.ThreadPoolExecutor(max_workers=self.size) as executor:
            futures = {executor.submit(self._grade_one, with_server(t)): t for t in tasks}
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()

    def close(self) -> None:
        for worker in self._all:
            worker.end_input()  # all at once: they end (and close their sandboxes) together
        for worker in self._all:
            worker.close()
        self._all.clear()
        with self._servers_lock:
            for zygote in self._servers.values():
                zygote.close()
            self._servers.clear()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
