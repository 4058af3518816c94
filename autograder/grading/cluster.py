"""Grading on a Dask cluster: ``grade A --scheduler tcp://HOST:PORT`` (or ``AUTOGRADER_SCHEDULER``).

:class:`DaskPool` has the interface of :class:`~autograder.grading.pool.WorkerPool` (``grade(tasks)``
yields ``(task, result)`` as each finishes), so the rest of the grading path is the local one:
the parent (the Dask *client*) plans the batch, computes every seed, records each result and
reports from the gradebook. Only the client writes the gradebook, ``autograded/`` and the CSV.

What travels (a worker needs the installed project, never the course folder):

- once per batch, broadcast to every worker (``Client.scatter(..., broadcast=True)``): the
  assignment's source folder and the batch's template gradebook, as bytes;
- with each task: the :class:`~autograder.grading.worker.GradeTask` fields (student, seed, options)
  and the submission's entries as bytes (regular files; a symbolic link only as its name,
  never followed), plus the digest of the client's hidden checks;
- back: the :class:`~autograder.grading.records.GradeResult` (typed outcomes) and the graded
  notebook's bytes, written into the task's local work folder where
  :func:`autograder.grading.worker.graded_notebook` says, for :func:`autograder.grading.grade.record`.

On a Dask worker each task runs in the same long-lived grading process as locally
(:func:`autograder.grading.worker.serve`, one per Dask thread, started on the first task), not in the
Dask worker process itself: nbgrader's global state and the sandbox's subreaper stay out of
the Dask worker, a grading process that hangs past its time is killed and replaced as locally
(only that student fails), and the import of nbgrader is paid once per worker, not per task.
Those processes get ``SIGKILL`` when their Dask worker dies, so a killed worker leaves nothing
running; Dask reruns its tasks on another worker.

A worker refuses a task (the student's row says so, with ``grader error``, so the next run
regrades it) when it has other hidden checks than the client, or cannot give the sandbox the client
asks for: the namespace sandbox, unless the client runs with ``AUTOGRADER_SANDBOX=rlimits``;
``AUTOGRADER_SANDBOX=namespaces`` on a worker without namespaces refuses too. At start the
client asks every worker what it gives, prints it, and stops when no worker can grade.

Faults: a worker that dies mid-task (``SIGKILL``, out of memory, lost host) costs no grade: the
scheduler reruns the task elsewhere, up to its ``distributed.scheduler.allowed-failures``
retries (default 3); past that the task's ``KilledWorker`` fails that one student, with that reason.
A scheduler that goes away ends the run with :class:`ClusterError`; every grade recorded so
far is kept and a rerun grades the rest, as after a killed local run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from autograder.grading.pool import _BOOT, WorkerPool, _Worker, code_roots
from autograder.grading.records import Fault, GradeResult
from autograder.grading.worker import GradeTask, graded_notebook

__all__ = ["ClusterError", "DaskPool", "code_digest", "worker_report"]

MAX_SUBMISSION = 100 * 1024 * 1024  # the same limit as a local copy (worker._copy_files)
LINK = "(symbolic link, not followed)"


class ClusterError(RuntimeError, ValueError):
    """The cluster cannot grade (no scheduler, no worker that can sandbox, scheduler lost).

    Also a ``ValueError``, so the command line prints it as one ``error:`` line.
    """


# -- what both sides compute -------------------------------------------------------------------

_CODE: dict[str, str] = {}


def code_digest() -> str:
    """SHA-256 of the hidden-check modules this process grades with.

    They are the part of the assignment's version (:func:`autograder.grading.state.assignment_digest`)
    that comes from the code, not the course: a worker with other checks would record grades
    under a version they were not made with, so it refuses. (The rest of the project must be
    the same version on every worker too: install it the same way everywhere.)
    """
    if "digest" not in _CODE:
        from autograder import assignments

        digest = hashlib.sha256()
        for path in assignments.code_files():
            name = path.relative_to(assignments.ROOT).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes())
        _CODE["digest"] = digest.hexdigest()
    return _CODE["digest"]


def _read_entries(folder: Path) -> list[tuple[str, str, bytes]] | None:
    """``(relative path, kind, bytes)`` of a submission folder; ``None`` when it is absent.

    Kinds: ``dir``, ``file``, ``link`` (a symbolic link, shipped by name only), so the worker
    sees the names and kinds the local grader would, and never what a link points at.
    """
    if folder.is_symlink():
        return [("", "link", b"")]
    if not folder.is_dir():
        return None
    entries, total = [], 0
    for current, dirs, files in os.walk(folder, followlinks=False):
        here = Path(current)
        for name in sorted(dirs + files):
            path = here / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                entries.append((rel, "link", b""))
            elif path.is_dir():
                entries.append((rel, "dir", b""))
            elif path.is_file():
                total += path.stat().st_size
                if total > MAX_SUBMISSION:
                    raise OverflowError
                entries.append((rel, "file", path.read_bytes()))
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    return entries


def _write_entries(entries, folder: Path) -> None:
    if entries is None:
        return
    if entries and entries[0] == ("", "link", b""):
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.symlink_to(LINK)
        return
    folder.mkdir(parents=True)
    for rel, kind, data in entries:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ValueError(f"submission entry {rel!r} is outside its folder")
        target = folder / rel
        if kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif kind == "link":
            target.symlink_to(LINK)  # the name only: never a path the sandbox could follow
        else:
            target.write_bytes(data)


def _required_mode() -> str:
    """The sandbox a worker must give: namespaces, unless the client chose the fallback."""
    return "rlimits" if os.environ.get("AUTOGRADER_SANDBOX") == "rlimits" else "namespaces"


# -- the worker side -------------------------------------------------------------------------


def worker_report(required: str, code: str) -> dict:
    """What this process gives: ``{"mode", "cgroups", "guarantees", "missing", "refused"}``.

    ``refused`` is empty when it can grade the client's tasks, else why not.
    """
    from autograder.sandbox import capabilities

    try:
        caps = capabilities()
    except (RuntimeError, ValueError) as exc:
        return {"mode": None, "cgroups": None, "guarantees": [], "missing": [], "refused": str(exc)}
    refused = ""
    if code != code_digest():
        refused = (
            "it has other hidden checks (autograder/assignments) than the client (install the "
            "same version of the project on every worker)"
        )
    elif required == "namespaces" and caps["mode"] != "namespaces":
        refused = (
            f"it has only the {caps['mode']} sandbox ({caps['why']}); a cluster grades in the "
            "namespace sandbox unless the client sets AUTOGRADER_SANDBOX=rlimits"
        )
    return {
        "mode": caps["mode"],
        "cgroups": caps["cgroups"],
        "guarantees": list(caps["guarantees"]),
        "missing": list(caps["missing"]),
        "refused": refused,
    }


class _HeldWorker(_Worker):
    """A grading process that gets ``SIGKILL`` when the Dask worker that started it dies."""

    # set in the child itself, after exec (no preexec_fn in a threaded Dask worker); the
    # parent's pid is checked after, in case it died before the request was made
    _HOLD = (
        "import ctypes, os, sys; ctypes.CDLL(None).prctl(1, 9, 0, 0, 0); "
        "os.getppid() == int(sys.argv.pop(1)) or os._exit(1); "
    )

    def __init__(self, slot: int):
        self.slot = slot
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", self._HOLD + _BOOT, str(os.getpid()), *code_roots()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=tempfile.gettempdir(),
            start_new_session=True,
        )
        self.ready = False


class _HostPool(WorkerPool):
    """The local pool's grading processes, held by one Dask worker (one per Dask thread)."""

    worker_class = _HeldWorker


_HERE: dict = {}  # this Dask worker's pool, staging folder and staged bundles
_HERE_LOCK = threading.Lock()


STAGE_PREFIX = "autograder-dask-"


def _sweep_stages() -> None:
    """Remove the staging folders of Dask workers that died without cleaning up (by pid)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{STAGE_PREFIX}*-*"):
        try:
            os.kill(int(folder.name[len(STAGE_PREFIX) :].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def _here(threads: int) -> dict:
    with _HERE_LOCK:
        if not _HERE:
            import atexit

            _sweep_stages()
            stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-"))
            _HERE.update(pool=_HostPool(max(1, threads)), stage=stage, bundles={})
            atexit.register(_HERE["pool"].close)
            atexit.register(shutil.rmtree, stage, True)
        return _HERE


def _staged(here: dict, bundle: dict) -> Path:
    """The bundle's source folder and template gradebook, written once per worker."""
    with _HERE_LOCK:
        folder = here["bundles"].get(bundle["digest"])
        if folder is None:
            folder = here["stage"] / f"bundle-{bundle['digest'][:16]}"
            shutil.rmtree(folder, ignore_errors=True)
            source = folder / "source" / bundle["assignment"]
            _write_entries(bundle["source"], source)
            (folder / "template.db").write_bytes(bundle["template"])
            here["bundles"][bundle["digest"]] = folder
        return folder


def warm_up(dask_worker=None) -> int:
    """(On a Dask worker) start its grading processes now, so they import nbgrader while the
    client prepares the batch instead of during the first task; returns how many."""
    threads = dask_worker.state.nthreads if dask_worker is not None else 1
    return _here(threads)["pool"].size


def grade_remote(job: dict, bundle: dict) -> tuple[GradeResult, bytes | None]:
    """(On a Dask worker) grade one shipped submission; the result and the graded notebook."""
    try:
        from distributed import get_worker

        worker = get_worker()
        address, threads = worker.address, worker.state.nthreads
    except (ImportError, ValueError, AttributeError):  # called outside a worker (tests)
        address, threads = "this process", 1
    report = worker_report(job["required"], job["code"])
    if report["refused"]:
        reason = f"grader error: the Dask worker {address} refused to grade: {report['refused']}"
        return GradeResult(job["student"], "failed", reason[:300], fault=Fault.GRADER), None
    here = _here(threads)
    source = _staged(here, bundle)
    folder = Path(tempfile.mkdtemp(prefix="task-", dir=here["stage"]))
    try:
        submission = folder / "submitted" / job["student"] / job["assignment"]
        _write_entries(job["entries"], submission)
        (folder / "work").mkdir()
        task = GradeTask(
            assignment=job["assignment"],
            student=job["student"],
            submission=str(submission),
            source_dir=str(source / "source" / job["assignment"]),
            template_db=str(source / "template.db"),
            workdir=str(folder / "work"),
            seed=job["seed"],
            options=job["options"],
            hide=(str(here["stage"]),),
        )
        result = here["pool"]._grade_one(task)
        produced = graded_notebook(task)
        notebook = (
            produced.read_bytes() if produced.is_file() and not produced.is_symlink() else None
        )
        return result, notebook
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- the client side -------------------------------------------------------------------------


def _check_address(scheduler: str) -> str:
    if not isinstance(scheduler, str) or "://" not in scheduler or scheduler.endswith("://"):
        raise ValueError(f"scheduler must be an address like tcp://HOST:PORT, got {scheduler!r}")
    return scheduler


class DaskPool:
    """Grade on the Dask cluster of ``scheduler``; the interface of ``WorkerPool``.

    ``wait_s``: how long to wait for a first worker to join; ``timeout_s``: to reach the
    scheduler (and to reconnect to it before giving up).
    """

    def __init__(self, scheduler: str, *, wait_s: float = 60, timeout_s: float = 10):
        self.scheduler = _check_address(scheduler)
        from distributed import Client

        try:
            self.client = Client(self.scheduler, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {self.scheduler}: {exc}"[:400]
            ) from None
        try:
            self._probe(wait_s)
        except BaseException:
            self.close()
            raise
        self._bundles: dict = {}
        self.graded = 0

    def _probe(self, wait_s: float) -> None:
        from autograder.names import say

        try:
            self.client.wait_for_workers(1, timeout=wait_s)
        except TimeoutError:
            raise ClusterError(
                f"no Dask worker joined the scheduler at {self.scheduler} in {wait_s:g} s: "
                f"start one with `dask worker {self.scheduler}`"
            ) from None
        self.required, self.code = _required_mode(), code_digest()
        reports = self.client.run(worker_report, self.required, self.code)
        able = {a: r for a, r in reports.items() if not r["refused"]}
        for address, r in sorted(reports.items()):
            if r["refused"]:
                say("dask: worker {} refuses to grade: {}", address, r["refused"], file=sys.stderr)
        if not able:
            raise ClusterError(
                f"no Dask worker at {self.scheduler} can grade: "
                + "; ".join(f"{a}: {r['refused']}" for a, r in sorted(reports.items()))
            )
        threads = sum(self.client.nthreads().values())
        self.window = max(2, 2 * threads)
        self.client.run(warm_up, workers=list(able))  # the grading processes start now
        modes = sorted({(r["mode"], r["cgroups"]) for r in able.values()}, key=str)
        sandboxes = ", ".join(f"{m} (cgroups {g or 'none'})" for m, g in modes)
        say("dask: {} worker(s), {} thread(s) at {}; sandbox on the workers: {}; limits as "
            "locally; each worker needs at least the {} sandbox", len(able), threads,
            self.scheduler, sandboxes, self.required, file=sys.stderr)  # fmt: skip
        first = next(iter(able.values()))
        say("dask: guaranteed on the workers: {}", "; ".join(first["guarantees"]), file=sys.stderr)
        if first["missing"]:
            say("dask: NOT guaranteed: {}", "; ".join(first["missing"]), file=sys.stderr)

    def _bundle(self, task: GradeTask):
        """The source folder and template gradebook of ``task``, sent once to every worker."""
        key = (task.source_dir, task.template_db)
        if key not in self._bundles:
            source = _read_entries(Path(task.source_dir))
            template = Path(task.template_db).read_bytes()
            digest = hashlib.sha256(repr(source).encode() + template).hexdigest()
            bundle = {
                "assignment": task.assignment,
                "source": source,
                "template": template,
                "digest": digest,
            }
            self._bundles[key] = self.client.scatter(bundle, broadcast=True, hash=False)
        return self._bundles[key]

    def _job(self, task: GradeTask) -> dict | GradeResult:
        try:
            entries = _read_entries(Path(task.submission))
        except OverflowError:
            why = f"invalid submission: larger than {MAX_SUBMISSION // 2**20} MB"
            return GradeResult(task.student, "failed", why)
        return {
            "assignment": task.assignment,
            "student": task.student,
            "seed": task.seed,
            "options": task.options,
            "entries": entries,
            "required": self.required,
            "code": self.code,
        }

    def _lost(self) -> ClusterError:
        return ClusterError(
            f"the Dask scheduler at {self.scheduler} went away: the {self.graded} grade(s) "
            "finished in this run are kept; run the same command again to grade the rest"
        )

    def _result(self, future, task: GradeTask) -> GradeResult:
        from distributed import KilledWorker

        if future.status == "cancelled" or self.client.status not in ("running", "newly-created"):
            raise self._lost()
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, KilledWorker):
                why = (
                    "crash: grading this submission ended its Dask worker every time it was "
                    "tried (KilledWorker: the scheduler's allowed-failures was reached)"
                )
                return GradeResult(task.student, "failed", why)
            why = f"grader error: on the Dask cluster: {type(exc).__name__}: {exc}"
            return GradeResult(task.student, "failed", why[:300], fault=Fault.GRADER)
        result, notebook = future.result()
        if result.student_id != task.student:
            why = "grader error: the Dask worker answered for another student"
            return GradeResult(task.student, "failed", why, fault=Fault.GRADER)
        if notebook is not None:
            target = graded_notebook(task)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(notebook)
        return result

    def fork_server(self, source_dir: str, assignment: str) -> str:
        """No shared zygote here: each host's pool starts its own (see ``WorkerPool``)."""
        return ""

    def grade(self, tasks: Iterable[GradeTask]) -> Iterator[tuple[GradeTask, GradeResult]]:
        """Grade every task on the cluster; yield ``(task, result)`` as each finishes.

        At most ``window`` (twice the cluster's threads) submissions are in flight, so a
        batch of thousands never sits in the scheduler's memory at once.
        """
        from distributed import as_completed

        tasks = iter(tasks)
        running: dict = {}
        done: list[tuple[GradeTask, GradeResult]] = []
        finished = as_completed(loop=self.client.loop)

        def submit() -> bool:
            task = next(tasks, None)
            if task is None:
                return False
            job = self._job(task)
            if isinstance(job, GradeResult):
                done.append((task, job))
                return True
            try:
                future = self.client.submit(
                    grade_remote,
                    job,
                    self._bundle(task),
                    key=f"grade-{task.assignment}-{task.student}-{uuid.uuid4().hex[:8]}",
                    pure=False,  # no `retries`: worker deaths are counted by allowed-failures
                )
            except (OSError, RuntimeError, TimeoutError) as exc:
                raise self._lost() from exc
            running[future] = task
            finished.add(future)
            return True

        more = True

        def fill() -> None:
            nonlocal more
            while more and len(running) < self.window and not done:
                more = submit()

        fill()
        while running or done:
            if done:
                self.graded += 1
                yield done.pop()
                fill()
                continue
            future = next(finished)
            task = running.pop(future)
            result = self._result(future, task)
            self.graded += 1
            yield task, result
            fill()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            try:
                client.close(timeout=5)
            except Exception:  # a scheduler that is gone cannot be told goodbye
                pass

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
