"""Grading on a real Dask cluster on 127.0.0.1: ``grade --scheduler``, with a worker killed.

A ``dask scheduler`` and two ``dask worker`` processes (``--nworkers 1 --nthreads 1``, each
with its nanny) grade 20 submissions of assignment 1 (honest, wrong, hostile) through the
command line while the test kills one worker process with ``SIGKILL`` mid-task. The same
submissions graded locally (a copy of the course: same secret, so same seeds) must score the
same; every student must be recorded once; no process may be left behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder.grading import authoring, grade, state
from autograder.grading.gradebook import read_grades
from autograder.grading.options import GradingOptions

pytestmark = pytest.mark.slow

A = "a1_metrics"
MARK = "dask-test-daemon-7c2a"  # in the command line of every process a hostile one starts
DASK = str(Path(sys.executable).with_name("dask"))
OPTIONS = dict(cell_timeout=20)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A scheduler and workers started as processes of this test (each in its own group)."""

    def __init__(self, workers: int = 2, worker_env: dict | None = None, sched_env=None):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        base = dict(os.environ)
        self.scheduler = self._start(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port)],
            dict(base, **(sched_env or {})),
        )
        for _ in range(workers):
            self._start(
                [DASK, "worker", self.address, "--nworkers", "1", "--nthreads", "1"],
                dict(base, **(worker_env or {})),
            )
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)

    def _start(self, command, env) -> subprocess.Popen:
        command += ["--no-dashboard"]
        proc = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def tree(self) -> set[int]:
        """Every live process this cluster started (nannies, workers, grading processes)."""
        found = set()
        for proc in self.procs:
            try:
                root = psutil.Process(proc.pid)
                found |= {root.pid, *(c.pid for c in root.children(recursive=True))}
            except psutil.NoSuchProcess:
                pass
        return found

    def stop(self) -> set[int]:
        """Stop everything; return the pids it had, to check they are gone."""
        pids = self.tree()
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return pids


def _alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _marked() -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if MARK in " ".join(proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


PATCH = textwrap.dedent(
    """
    import builtins, numpy as np, numpy.testing
    np.allclose = lambda *a, **k: True
    np.array_equal = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
    builtins.AssertionError = type("Nope", (Exception,), {})
    """
)
SPAWN = textwrap.dedent(
    f"""
    import os, subprocess, sys
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4242)  # {MARK}"],
                     start_new_session=True)
    if os.fork() == 0:  # a daemon: fork twice, new session
        os.setsid()
        if os.fork() == 0:
            code = "import time; time.sleep(4243)  # {MARK}"
            os.execv(sys.executable, [sys.executable, "-c", code])
        os._exit(0)
    """
)


def _make_course(root: Path, released_course, count: int = 20) -> tuple[Path, Path, dict]:
    course = root / "course"
    folder = released_course(A, course)
    released = nbformat.read(folder / f"{A}.ipynb", as_version=4)
    solution = authoring.solutions(
        nbformat.read(course / "source" / A / f"{A}.ipynb", as_version=4)
    )
    unsorted = dict(solution)
    unsorted["roc"] = unsorted["roc"].replace("np.unique(scores)[::-1]", "np.unique(scores)")
    spawn = dict(solution)
    spawn["counts"] += "\n" + SPAWN
    kinds = {
        "honest": solution,
        "empty": {},
        "unsorted": unsorted,
        "patch": {"counts": PATCH},  # the release (0 points) plus patched asserts
        "spawn": spawn,  # correct, and leaves daemons behind
    }
    order = ["honest", "empty", "honest", "unsorted", "patch", "honest", "spawn", "honest"]
    submissions, kind_of = root / "submitted", {}
    for i in range(count):
        kind = order[i % len(order)]
        student = f"s{i:02d}"
        target = submissions / student / A
        target.mkdir(parents=True)
        nbformat.write(authoring.submission(released, kinds[kind]), target / f"{A}.ipynb")
        kind_of[student] = kind
    state.course_secret(course)  # made now, so a copy of the course has the same seeds
    return course, submissions, kind_of


def _cli(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", A, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )


def _rows(path: Path) -> dict:
    return {r["student_id"]: r for r in csv.DictReader(path.open())}


@pytest.fixture(scope="module")
def run(tmp_path_factory, released_course):
    root = tmp_path_factory.mktemp("cluster")
    course, submissions, kind_of = _make_course(root / "dask", released_course)
    local_course = root / "local" / "course"
    shutil.copytree(course, local_course)
    cluster = Cluster(workers=2)
    killed: dict = {}
    stop = threading.Event()

    def kill_one_mid_task():  # once 3 students are recorded, SIGKILL a worker that is grading
        from distributed import Client

        with Client(cluster.address, timeout=30, set_as_default=False) as client:
            while not stop.is_set():
                if len(state.recorded_students(course, A)) >= 3:
                    busy = [a for a, keys in client.processing().items() if keys]
                    if busy:
                        pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                        worker = psutil.Process(pid)
                        killed["grading"] = {c.pid for c in worker.children(recursive=True)}
                        killed["address"], killed["pid"] = busy[0], pid
                        killed["task"] = list(client.processing()[busy[0]])
                        os.kill(pid, signal.SIGKILL)
                        return
                time.sleep(0.2)

    killer = threading.Thread(target=kill_one_mid_task, daemon=True)
    killer.start()
    try:
        csv_path = root / "dask.csv"
        flags = ["--course", course, "--submissions", submissions, "--csv", csv_path]
        done = _cli(*flags, "--scheduler", cluster.address, "--cell-timeout", "20")
        stop.set()
        killer.join(timeout=30)
        time.sleep(1)
        leftover_grading = _alive(killed.get("grading", ()))
        # the local run of the same submissions, with the same secret
        local_csv = root / "local.csv"
        grade.main(
            assignment=A,
            course=local_course,
            submissions=submissions,
            jobs=2,
            csv_path=local_csv,
            options=GradingOptions(**OPTIONS),
            progress=lambda *a: None,
        )
        yield {
            "course": course,
            "submissions": submissions,
            "kinds": kind_of,
            "done": done,
            "csv": csv_path,
            "local_csv": local_csv,
            "killed": killed,
            "leftover_grading": leftover_grading,
            "cluster": cluster,
        }
    finally:
        stop.set()
        pids = cluster.stop()
        time.sleep(1)
        assert not _alive(pids), "a process of the cluster outlived it"


def test_every_student_is_graded_once_through_the_scheduler(run):
    done = run["done"]
    assert done.returncode == 0, done.stderr[-2000:]
    assert "dask: 2 worker(s), 2 thread(s)" in done.stderr  # what the workers guarantee, printed
    assert "dask: guaranteed on the workers: " in done.stderr
    students = sorted(run["kinds"])
    for student in students:  # one progress line each, and one record each
        assert len(re.findall(rf"\] {student}: ", done.stderr)) == 1, student
        assert state.load_record(run["course"], A, student) is not None
    assert state.recorded_students(run["course"], A) == students
    assert "graded 20 of 20 students" in done.stdout


def test_the_worker_was_killed_mid_task_and_its_grading_processes_with_it(run):
    killed = run["killed"]
    assert killed.get("task"), "no worker was busy when the test tried to kill one"
    assert killed["grading"], "the killed worker had no grading process"
    assert run["leftover_grading"] == []
    for key in killed["task"]:  # the task that was running there was graded elsewhere
        student = re.match(rf"grade-{A}-(s\d\d)-", key).group(1)
        assert state.load_record(run["course"], A, student).result.status == "graded"


def test_scores_are_the_local_runs_and_the_gradebook_is_the_csv(run):
    rows, local = _rows(run["csv"]), _rows(run["local_csv"])
    assert list(rows) == list(local)
    for student, row in rows.items():
        mine = {k: v for k, v in row.items() if k != "reason"}
        theirs = {k: v for k, v in local[student].items() if k != "reason"}
        assert mine == theirs, student
    grades = read_grades(
        run["course"], A, f"sqlite:///{run['course'] / 'gradebook.db'}", list(rows)
    )
    for g in grades:
        assert float(rows[g.student_id]["score"]) == g.score
        assert rows[g.student_id]["status"] == g.status


def test_the_hostile_ones_are_still_held(run):
    rows = _rows(run["csv"])
    for student, kind in run["kinds"].items():
        score = float(rows[student]["score"])
        expected = {"honest": 10, "spawn": 10, "empty": 0, "patch": 0, "unsorted": 8}[kind]
        assert score == expected, (student, kind, rows[student])
    assert _marked() == [], "a daemon started by a submission survived its sandbox"
    graded = run["course"] / "autograded" / "s00" / A / f"{A}.ipynb"
    assert "BEGIN HIDDEN TESTS" not in graded.read_text()


def test_a_rerun_on_the_cluster_grades_nobody_and_student_regrades_one(run):
    flags = ["--course", run["course"], "--submissions", run["submissions"]]
    again = _cli(*flags, "--csv", run["csv"], "--scheduler", run["cluster"].address)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "] s" not in again.stderr  # nobody graded
    one = _cli(*flags, "--student", "s01", env={"AUTOGRADER_SCHEDULER": run["cluster"].address})
    assert one.returncode == 0, one.stderr[-2000:]
    assert re.findall(r"\] (s\d\d): ", one.stderr) == ["s01"]


def test_a_scheduler_that_dies_mid_run_ends_it_clearly_and_keeps_the_grades(run, tmp_path):
    course, submissions = run["course"], run["submissions"]
    cluster = run["cluster"]
    seen = []
    started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()

    def progress(done, total, g):
        seen.append(g.student_id)
        if done == 2:
            cluster.scheduler.send_signal(signal.SIGKILL)

    with pytest.raises(RuntimeError, match="scheduler .* went away.*kept"):
        grade.main(
            assignment=A,
            course=course,
            submissions=submissions,
            force=True,
            scheduler=cluster.address,
            options=GradingOptions(**OPTIONS),
            progress=progress,
        )
    assert 2 <= len(seen) < 20
    for student in seen:  # regraded in this run: recorded with this run's time
        record = state.load_record(course, A, student)
        assert record.result.status == "graded" and record.graded_at >= started


def test_a_worker_that_cannot_sandbox_refuses_and_says_why(tmp_path, monkeypatch):
    from dataclasses import replace

    from autograder.grading import cluster
    from autograder.grading.records import Kind, Status
    from autograder.sandbox import capabilities

    job = cluster.RemoteJob(A, "s00", 1, GradingOptions(), [], "namespaces", cluster.code_digest())
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "rlimits")
    host = cluster.GradingHost(job.required, job.code)  # (not set up: it refuses first)
    try:
        answer = host.grade(job, None)
        result = answer.result
        assert result.status is Status.FAILED and answer.notebook is None
        assert "refused to grade" in result.reason and "rlimits" in result.reason
        assert result.kind is Kind.GRADER_ERROR and result.grader_fault  # regraded next run
        answer = host.grade(replace(job, required="rlimits", code="other"), None)
        assert "other hidden checks" in answer.result.reason
    finally:
        monkeypatch.delenv("AUTOGRADER_SANDBOX")
        capabilities()


def test_a_dask_workers_grading_is_a_plugin_over_the_local_pools_own_start_up():
    """``setup`` starts the local pool (one grading process per Dask thread, started by the
    command a local run uses, only held first), ``teardown`` ends them and the staging
    folder: no module-global state, no ``atexit``."""
    import pickle
    from types import SimpleNamespace

    from distributed import WorkerPlugin

    from autograder.grading import cluster, pool

    host = cluster.GradingHost("rlimits", cluster.code_digest())
    assert isinstance(host, WorkerPlugin) and host.idempotent and host.pool is None
    host = pickle.loads(pickle.dumps(host))  # as Dask ships it to every worker
    worker = SimpleNamespace(address="tcp://127.0.0.1:1", state=SimpleNamespace(nthreads=2))
    host.setup(worker)
    try:
        stage, workers = host.stage, list(host.pool._all)
        assert host.pool.size == 2 and host.pool.held and stage.is_dir()
        local, held = pool.worker_command(), pool.worker_command(held=True)
        assert held[3] == pool._HOLD + local[3] and held[4] == str(os.getpid())
        assert held[:3] + held[5:] == local[:3] + local[4:]  # the same start-up, only held
        for w in workers:
            assert psutil.Process(w.process.pid).cmdline() == held
            # as 825f9ff made the local ones: own process group, in the grader's session
            assert os.getpgid(w.process.pid) == w.process.pid
            assert os.getsid(w.process.pid) == os.getsid(0)
    finally:
        host.teardown(worker)
    assert host.pool is None and not stage.exists()
    assert all(w.process.poll() is not None for w in workers)


def test_a_cluster_without_a_usable_sandbox_stops_before_grading(run, tmp_path):
    course, submissions = run["course"], run["submissions"]
    before = state.load_record(course, A, "s00")
    # `unshare` is not on this worker's PATH: no namespaces, and it was told to need them
    env = {"AUTOGRADER_SANDBOX": "namespaces", "PATH": str(tmp_path)}
    cluster = Cluster(workers=1, worker_env=env)
    try:
        flags = ["--course", course, "--submissions", submissions, "--student", "s00"]
        done = _cli(*flags, "--scheduler", cluster.address)
    finally:
        pids = cluster.stop()
    assert done.returncode == 2
    assert "no Dask worker" in done.stderr and "AUTOGRADER_SANDBOX=namespaces" in done.stderr
    assert "unshare" in done.stderr
    assert state.load_record(course, A, "s00") == before  # nobody graded
    time.sleep(1)
    assert not _alive(pids)


def test_a_task_that_keeps_killing_workers_fails_that_student_only():
    from distributed import KilledWorker

    from autograder.grading.cluster import DaskPool
    from autograder.grading.worker import GradeTask

    class Client:
        status = "running"

    class Future:
        status = "error"

        def exception(self):
            return KilledWorker("grade-a1-s03", "tcp://127.0.0.1:1", 3)

    pool = object.__new__(DaskPool)
    pool.client, pool.scheduler, pool.graded = Client(), "tcp://127.0.0.1:1", 0
    task = GradeTask(A, "s03", "", "", "", "", 0)
    result = pool._result(Future(), task)
    assert (result.student_id, result.status) == ("s03", "failed")
    assert "KilledWorker" in result.reason and result.reason.startswith("crash")
