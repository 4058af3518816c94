"""Grading on a Dask cluster: ``grade A --scheduler tcp://HOST:PORT`` (or ``AUTOGRADER_SCHEDULER``).

:class:`DaskPool` has the interface of :class:`~autograder.grading.pool.WorkerPool` (``grade(tasks)``
yields ``(task, result)`` as each finishes), so the rest of the grading path is the local one:
the parent (the Dask *client*) plans the batch, computes every seed, records each result and
reports from the gradebook. Only the client writes the gradebook, ``autograded/`` and the CSV.

What travels (a worker needs the installed project, never the course folder), each a typed
record, never a dict:

- once per batch, broadcast to every worker (``Client.scatter(..., broadcast=True)``): a
  :class:`Bundle`, the assignment's source folder and the batch's template gradebook as bytes;
- with each task: a :class:`RemoteJob`, the :class:`~autograder.grading.worker.GradeTask` fields
  (student, seed, :class:`~autograder.grading.options.GradingOptions`) and the submission's
  entries as bytes (regular files; a symbolic link only as its name, never followed), plus the
  sandbox the client requires and the digest of its hidden checks;
- back: a :class:`RemoteResult`, the :class:`~autograder.grading.records.GradeResult` (typed
  outcomes) and the graded notebook's bytes, written into the task's local work folder where
  :func:`autograder.grading.worker.graded_notebook` says, for
  :func:`autograder.grading.grade.record`;
- at start, from every worker: a :class:`WorkerReport` (its sandbox, guarantees, refusal).

A Dask worker's grading is a ``distributed.WorkerPlugin``, :class:`GradingHost`, registered by
the client: its ``setup`` starts the local pool itself
(:class:`~autograder.grading.pool.WorkerPool`, one grading process per Dask thread, started by
the same code as a local run's), its ``teardown`` ends them and removes its staging folder; all
per-worker state lives on the plugin. Each task runs in one of those long-lived grading
processes (:func:`autograder.grading.worker.serve`), not in the Dask worker process itself: nbgrader's global state and the sandbox's subreaper stay out of
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

import functools
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from distributed import WorkerPlugin

from autograder.grading.options import GradingOptions
from autograder.grading.pool import WorkerPool
from autograder.grading.records import GradeResult, Kind
from autograder.grading.worker import GradeTask, graded_notebook

__all__ = [
    "Bundle",
    "ClusterError",
    "DaskPool",
    "GradingHost",
    "RemoteJob",
    "RemoteResult",
    "WorkerReport",
    "code_digest",
    "worker_report",
]

MAX_SUBMISSION = 100 * 1024 * 1024  # the same limit as a local copy (worker._copy_files)
LINK = "(symbolic link, not followed)"


class ClusterError(RuntimeError, ValueError):
    """The cluster cannot grade (no scheduler, no worker that can sandbox, scheduler lost).

    Also a ``ValueError``, so the command line prints it as one ``error:`` line.
    """


# -- what both sides compute -------------------------------------------------------------------


@functools.cache
def code_digest() -> str:
    """SHA-256 of the hidden-check modules this process grades with (computed once).

    They are the part of the assignment's version (:func:`autograder.grading.state.assignment_digest`)
    that comes from the code, not the course: a worker with other checks would record grades
    under a version they were not made with, so it refuses. (The rest of the project must be
    the same version on every worker too: install it the same way everywhere.)
    """
    from autograder import assignments

    digest = hashlib.sha256()
    for path in assignments.code_files():
        name = path.relative_to(assignments.ROOT).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


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
    from autograder import settings

    rlimits = settings.current().sandbox is settings.SandboxChoice.RLIMITS
    return "rlimits" if rlimits else "namespaces"


# -- what crosses the Dask boundary (typed records, pickled by Dask) ----------------------------

Entries = list[tuple[str, str, bytes]] | None  # (relative path, kind, bytes): see _read_entries


@dataclass(frozen=True)
class WorkerReport:
    """What a Dask worker gives: its sandbox, what it guarantees, and why it refuses (if so)."""

    mode: str | None
    cgroups: str | None
    guarantees: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    refused: str = ""  # empty: it can grade the client's tasks


@dataclass(frozen=True)
class Bundle:
    """Once per batch, broadcast to every worker: the assignment's source folder and the
    template gradebook, named by their digest."""

    assignment: str
    source: Entries
    template: bytes
    digest: str


@dataclass(frozen=True)
class RemoteJob:
    """One submission shipped to a Dask worker, with what the client requires of it."""

    assignment: str
    student: str
    seed: int
    options: GradingOptions
    entries: Entries
    required: str  # the sandbox the worker must give (see _required_mode)
    code: str  # the client's code_digest()


@dataclass(frozen=True)
class RemoteResult:
    """What a Dask worker sends back: the typed result and the graded notebook's bytes."""

    result: GradeResult
    notebook: bytes | None = None


# -- the worker side -------------------------------------------------------------------------


def worker_report(required: str, code: str) -> WorkerReport:
    """What this process gives; ``refused`` is empty when it can grade the client's tasks."""
    from autograder.sandbox import capabilities

    try:
        caps = capabilities()
    except (RuntimeError, ValueError) as exc:
        return WorkerReport(None, None, refused=str(exc))
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
    return WorkerReport(
        caps["mode"], caps["cgroups"], tuple(caps["guarantees"]), tuple(caps["missing"]), refused
    )


STAGE_PREFIX = "autograder-dask-"
PLUGIN = "autograder-grading"


def _sweep_stages() -> None:
    """Remove the staging folders of Dask workers that died without cleaning up (by pid)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{STAGE_PREFIX}*-*"):
        try:
            os.kill(int(folder.name[len(STAGE_PREFIX) :].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


class GradingHost(WorkerPlugin):
    """A Dask worker's grading, as a ``distributed.WorkerPlugin``: its state lives here.

    ``setup`` (when the plugin is registered, and on every worker that joins later) starts what
    a local run starts: a :class:`~autograder.grading.pool.WorkerPool` of long-lived grading
    processes, one per Dask thread, through the pool's own start-up (``held``: each also gets
    ``SIGKILL`` when this Dask worker dies), plus a private staging folder (those of dead
    workers swept first); a worker that refuses the client's ``required`` sandbox or ``code``
    (:func:`worker_report`) starts no grading process. ``teardown`` (the worker closing, or the plugin removed) closes the
    pool and removes the folder. Registering it again keeps the running one (``idempotent``),
    so a second batch finds the grading processes warm. Plugins are pickled by Dask: the
    state is made in ``setup``, on the worker, never on the client.
    """

    name = PLUGIN
    idempotent = True

    def __init__(self, required: str = "namespaces", code: str = ""):
        self.required, self.code = required, code
        self.pool: WorkerPool | None = None
        self.stage: Path | None = None
        self.address = "this process"
        self.bundles: dict[str, Path] = {}

    def setup(self, worker=None) -> None:
        self._lock = threading.Lock()
        self.address = getattr(worker, "address", self.address)
        self.threads = max(1, worker.state.nthreads if worker is not None else 1)
        _sweep_stages()
        self.stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-"))
        if not worker_report(self.required, self.code).refused:
            # they import nbgrader now, while the client prepares the batch
            self.pool = WorkerPool(self.threads, held=True)

    def teardown(self, worker=None) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None

    def _staged(self, bundle: Bundle) -> Path:
        """The bundle's source folder and template gradebook, written once per worker."""
        with self._lock:
            folder = self.bundles.get(bundle.digest)
            if folder is None:
                folder = self.stage / f"bundle-{bundle.digest[:16]}"
                shutil.rmtree(folder, ignore_errors=True)
                _write_entries(bundle.source, folder / "source" / bundle.assignment)
                (folder / "template.db").write_bytes(bundle.template)
                self.bundles[bundle.digest] = folder
            return folder

    def grade(self, job: RemoteJob, bundle: Bundle) -> RemoteResult:
        """Grade one shipped submission in this worker's pool, as a local run grades it."""
        report = worker_report(job.required, job.code)
        if report.refused:
            why = f"the Dask worker {self.address} refused to grade: {report.refused}"
            return RemoteResult(GradeResult.failed(job.student, Kind.GRADER_ERROR, why))
        with self._lock:
            if self.pool is None:  # refused at setup, able now
                self.pool = WorkerPool(self.threads, held=True)
        source = self._staged(bundle)
        folder = Path(tempfile.mkdtemp(prefix="task-", dir=self.stage))
        try:
            submission = folder / "submitted" / job.student / job.assignment
            _write_entries(job.entries, submission)
            (folder / "work").mkdir()
            task = GradeTask(
                assignment=job.assignment,
                student=job.student,
                submission=str(submission),
                source_dir=str(source / "source" / job.assignment),
                template_db=str(source / "template.db"),
                workdir=str(folder / "work"),
                seed=job.seed,
                options=job.options,
                hide=(str(self.stage),),
            )
            result = self.pool._grade_one(task)
            produced = graded_notebook(task)
            kept = produced.is_file() and not produced.is_symlink()
            return RemoteResult(result, produced.read_bytes() if kept else None)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def grade_remote(job: RemoteJob, bundle: Bundle) -> RemoteResult:
    """(A Dask task) grade one shipped submission with this worker's :class:`GradingHost`."""
    from distributed import get_worker

    return get_worker().plugins[PLUGIN].grade(job, bundle)


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
        able = {a: r for a, r in reports.items() if not r.refused}
        for address, r in sorted(reports.items()):
            if r.refused:
                say("dask: worker {} refuses to grade: {}", address, r.refused, file=sys.stderr)
        if not able:
            raise ClusterError(
                f"no Dask worker at {self.scheduler} can grade: "
                + "; ".join(f"{a}: {r.refused}" for a, r in sorted(reports.items()))
            )
        threads = sum(self.client.nthreads().values())
        self.window = max(2, 2 * threads)
        # every worker, and any that joins later, sets up its grading processes now
        self.client.register_plugin(GradingHost(self.required, self.code), name=PLUGIN)
        modes = sorted({(r.mode, r.cgroups) for r in able.values()}, key=str)
        sandboxes = ", ".join(f"{m} (cgroups {g or 'none'})" for m, g in modes)
        say("dask: {} worker(s), {} thread(s) at {}; sandbox on the workers: {}; limits as "
            "locally; each worker needs at least the {} sandbox", len(able), threads,
            self.scheduler, sandboxes, self.required, file=sys.stderr)  # fmt: skip
        first = next(iter(able.values()))
        say("dask: guaranteed on the workers: {}", "; ".join(first.guarantees), file=sys.stderr)
        if first.missing:
            say("dask: NOT guaranteed: {}", "; ".join(first.missing), file=sys.stderr)

    def _bundle(self, task: GradeTask):
        """The source folder and template gradebook of ``task``, sent once to every worker."""
        key = (task.source_dir, task.template_db)
        if key not in self._bundles:
            source = _read_entries(Path(task.source_dir))
            template = Path(task.template_db).read_bytes()
            digest = hashlib.sha256(repr(source).encode() + template).hexdigest()
            bundle = Bundle(task.assignment, source, template, digest)
            self._bundles[key] = self.client.scatter(bundle, broadcast=True, hash=False)
        return self._bundles[key]

    def _job(self, task: GradeTask) -> RemoteJob | GradeResult:
        try:
            entries = _read_entries(Path(task.submission))
        except OverflowError:
            why = f"larger than {MAX_SUBMISSION // 2**20} MB"
            return GradeResult.failed(task.student, Kind.INVALID_SUBMISSION, why)
        return RemoteJob(
            task.assignment,
            task.student,
            task.seed,
            task.options,
            entries,
            self.required,
            self.code,
        )

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
                    "grading this submission ended its Dask worker every time it was "
                    "tried (KilledWorker: the scheduler's allowed-failures was reached)"
                )
                return GradeResult.failed(task.student, Kind.CRASH, why)
            why = f"on the Dask cluster: {type(exc).__name__}: {exc}"
            return GradeResult.failed(task.student, Kind.GRADER_ERROR, why)
        answer: RemoteResult = future.result()
        result, notebook = answer.result, answer.notebook
        if result.student_id != task.student:
            why = "the Dask worker answered for another student"
            return GradeResult.failed(task.student, Kind.GRADER_ERROR, why)
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
