"""The worker pool: long-lived grading processes, one task at a time each.

Each worker (:func:`autograder.worker.serve`) runs in its own process group, started with
``python -I`` (neither the current folder nor ``PYTHON*`` variables decide what it imports)
and the parent's own ``autograder`` and ``coursekit`` folders first on its path; its first
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
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from autograder.records import GradeResult
from autograder.worker import GradeTask

__all__ = ["WorkerPool"]

_BOOT = (
    "import sys; sys.path[:0] = sys.argv[1:]; "
    "from autograder.worker import serve; raise SystemExit(serve())"
)


def code_roots() -> list[str]:
    """The folders the parent imports ``autograder`` and ``coursekit`` from."""
    import autograder
    import coursekit

    roots = [str(Path(m.__file__).resolve().parents[1]) for m in (autograder, coursekit)]
    return list(dict.fromkeys(roots))


class _Worker:
    """The parent's handle on one worker process."""

    def __init__(self, slot: int):
        self.slot = slot
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, *code_roots()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=tempfile.gettempdir(),
            start_new_session=True,
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
            raise RuntimeError("a grading worker did not start (see `python -m autograder.worker`)")
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
            return GradeResult(task.student, "failed", "crash: the grading process exited")
        line = self._line(timeout)
        if line is None:
            self.close(grace=0)  # it is busy, not reading: killed at once
            return GradeResult(
                task.student, "failed", f"timeout: grading took longer than {timeout:g} s"
            )
        try:
            return GradeResult.from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError):
            self.close(grace=0)
            return GradeResult(task.student, "failed", "crash: the grading process exited")

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self, grace: float = 5.0) -> None:
        """End of input; after ``grace`` seconds (its fork server ending first), its group is
        killed."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
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
    """``size`` workers, started at once (they import nbgrader while the batch is prepared)."""

    worker_class = _Worker  # how a grading process is started (the Dask pool holds its own)

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"jobs must be at least 1, got {size!r}")
        self.size = size
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        for slot in range(size):
            self._add(self.worker_class(slot))

    def _add(self, worker: _Worker) -> None:
        self._all.append(worker)
        self._idle.put(worker)

    def _alive(self, worker: _Worker) -> _Worker:
        """``worker``, or a fresh one in its slot if it died or was killed."""
        if worker.alive():
            return worker
        worker.close()
        fresh = self.worker_class(worker.slot)
        self._all.append(fresh)
        return fresh

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
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.size) as executor:
            futures = {executor.submit(self._grade_one, t): t for t in tasks}
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()

    def close(self) -> None:
        for worker in self._all:
            worker.close()
        self._all.clear()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
