"""Claim: ``python -m autograder grade`` (2 jobs) is at least 3x faster than stock ``nbgrader
autograde`` on the same honest submissions, on 2 cores, *with the sandbox on*, for assignment 1
(20 submissions) and for assignment 4 (6 submissions: each trains a network), all timed in
this run, each in a fresh copy of the course.

Also printed: the same batch on a Dask cluster of 2 workers x 1 thread on this machine
(``grade --scheduler``) against 2 local jobs: the Dask overhead per submission, goal <= 10% of
the local time, and the scheduler's round trip per task; the same batch with the fallback
sandbox (``AUTOGRADER_SANDBOX=rlimits``: no namespaces), assignment 4 without the fork server
(``AUTOGRADER_ZYGOTE=0``: each sandbox imports numpy, scikit-learn and PyTorch itself), and the
cost of one sandbox start and stop in each mode, measured alone.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

N_STUDENTS = 20
N_A4 = 6
GOAL = 3.0


def _make_batch(root: Path, assignment: str = "a1_metrics", n: int = N_STUDENTS):
    from autograder.grading import authoring
    from autograder.term import release

    course = root / "course"
    folder = release.main(assignment=assignment, course=course)
    released = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    nb = authoring.submission(released, authoring.solutions(source))
    submissions = root / "submitted"
    for i in range(n):
        target = submissions / f"student{i:02d}" / assignment
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{assignment}.ipynb")
    return course, submissions


def _full_marks(grade) -> bool:
    """Every automatically graded cell earned its points (hand-graded ones are pending)."""
    return grade.status == "graded" and all(
        c.pending or c.score == c.max_score for c in grade.cells.values()
    )


def _stock(course: Path, assignment: str) -> float:
    """Seconds of stock ``nbgrader autograde`` on ``course/submitted``."""
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "autograde",
            assignment,
            f"--CourseDirectory.root={course}",
            f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def _ours(assignment: str, course: Path, submissions: Path, mode: str) -> float:
    """Seconds of ``autograder grade`` (2 jobs) in sandbox ``mode``; every honest one in full."""
    from autograder.grading import grade

    os.environ["AUTOGRADER_SANDBOX"] = mode
    start = time.perf_counter()
    grades = grade.main(
        assignment=assignment,
        submissions=submissions,
        course=course,
        jobs=2,
        progress=lambda *a: None,
    )
    seconds = time.perf_counter() - start
    lost = [(g.student_id, g.status, g.reason) for g in grades if not _full_marks(g)]
    assert not lost, f"honest {assignment} submissions lost points: {lost}"
    return seconds


def _compare_a4(root: Path) -> tuple[float, float, float]:
    """(ours, ours without the fork server, stock) seconds on N_A4 honest submissions of
    assignment 4."""
    course, submissions = _make_batch(root / "a4", "a4_mlp", N_A4)
    stock_course, exec_course = root / "a4-stock", root / "a4-exec"
    shutil.copytree(course, stock_course)
    shutil.copytree(course, exec_course)
    shutil.copytree(submissions, stock_course / "submitted")
    ours = _ours("a4_mlp", course, submissions, "namespaces")
    os.environ["AUTOGRADER_ZYGOTE"] = "0"  # every sandbox executes its harness and imports
    try:
        executed = _ours("a4_mlp", exec_course, submissions, "namespaces")
    finally:
        del os.environ["AUTOGRADER_ZYGOTE"]
    return ours, executed, _stock(stock_course, "a4_mlp")


def main():
    from autograder.config import ensure_tools_on_path

    ensure_tools_on_path()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        course, submissions = _make_batch(root)
        stock_course = root / "stock"
        shutil.copytree(course, stock_course)
        shutil.copytree(submissions, stock_course / "submitted")

        fallback_course = root / "fallback"
        shutil.copytree(course, fallback_course)

        def ours(course, mode):
            return _ours("a1_metrics", course, submissions, mode)

        dask_course = root / "dask"
        shutil.copytree(course, dask_course)
        sandboxed = ours(course, "namespaces")
        fallback = ours(fallback_course, "rlimits")
        dask_mode = _dask_mode(dask_course, submissions)
        starts = {
            (mode, groups): _sandbox_start(root, mode, groups)
            for mode in ("namespaces", "rlimits")
            for groups in ("auto", "off")
        }
        os.environ.pop("AUTOGRADER_SANDBOX")

        stock = _stock(stock_course, "a1_metrics")
        a4_ours, a4_executed, a4_stock = _compare_a4(root)
        executed_start = _sandbox_start(root, "namespaces", zygote="0")
    print(f"{N_STUDENTS} honest submissions of a1_metrics, 2 jobs")
    print(f"{'grader':<36}{'seconds':>10}{'per student':>14}")
    for name, seconds in (
        ("autograder grade (namespace sandbox)", sandboxed),
        ("autograder grade (rlimits fallback)", fallback),
        ("stock nbgrader autograde", stock),
    ):
        print(f"{name:<36}{seconds:>10.1f}{seconds / N_STUDENTS:>14.2f}")
    ratio = stock / sandboxed
    print(
        f"a1 speed-up with the sandbox on {ratio:.2f}x, goal >= {GOAL:g}x: "
        f"{'met' if ratio >= GOAL else 'MISSED'}"
    )
    a4_ratio = a4_stock / a4_ours
    print(
        f"{N_A4} honest submissions of a4_mlp, 2 jobs: autograder grade {a4_ours:.1f} s "
        f"({a4_ours / N_A4:.2f} per student), stock nbgrader {a4_stock:.1f} s "
        f"({a4_stock / N_A4:.2f}); speed-up {a4_ratio:.2f}x, goal >= {GOAL:g}x: "
        f"{'met' if a4_ratio >= GOAL else 'MISSED'}"
    )
    print(
        f"  the fork server's part: without it (AUTOGRADER_ZYGOTE=0, every sandbox imports "
        f"numpy, scikit-learn and PyTorch itself) {a4_executed:.1f} s, "
        f"{a4_executed / a4_ours:.2f}x the time with it"
    )
    if dask_mode is not None:
        seconds, per_task = dask_mode
        overhead = (seconds - sandboxed) / N_STUDENTS
        share = overhead / (sandboxed / N_STUDENTS)
        print(
            f"Dask (2 workers x 1 thread, namespace sandbox): {seconds:.1f} s, "
            f"{seconds / N_STUDENTS:.2f} s per student; overhead {overhead:+.2f} s per submission "
            f"= {share:+.0%} of the local time, goal <= 10%: {'met' if share <= 0.10 else 'MISSED'}"
        )
        print(f"Dask scheduler round trip per (empty) task: {per_task * 1000:.1f} ms")
    ns = starts[("namespaces", "auto")] or starts[("namespaces", "off")]
    rl = starts[("rlimits", "auto")] or starts[("rlimits", "off")]
    print(
        f"one sandbox start+stop (median of 5, the first starting the fork server): namespaces "
        f"{ns:.2f} s, rlimits {rl:.2f} s; namespaces cost {ns - rl:+.2f} s per submission; "
        f"namespaces executing the harness (no fork server) {executed_start:.2f} s"
    )
    for mode in ("namespaces", "rlimits"):
        on, off = starts[(mode, "auto")], starts[(mode, "off")]
        if on is None:
            print(f"  {mode}: no cgroups on this machine (start+stop {off:.3f} s)")
        else:
            print(
                f"  {mode}: start+stop with cgroups and seccomp {on:.3f} s, without cgroups "
                f"{off:.3f} s: the cgroup costs {on - off:+.3f} s per sandbox"
            )


def _dask_mode(course: Path, submissions: Path):
    """Seconds to grade the batch on a Dask cluster of 2 workers x 1 thread on this machine
    (scheduler and workers started before the clock, as a cluster runs before a batch), and
    the scheduler's round trip per empty task; ``None`` without ``distributed``."""
    try:
        from distributed import Client
    except ImportError:
        print("Dask mode skipped: `distributed` is not installed")
        return None
    import socket

    from autograder.grading import grade

    os.environ["AUTOGRADER_SANDBOX"] = "namespaces"  # the workers' sandbox, as the local run's
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    dask = str(Path(sys.executable).with_name("dask"))
    port = address.rsplit(":", 1)[1]
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", port]] + [
        [dask, "worker", address, "--nworkers", "1", "--nthreads", "1"]
    ] * 2
    procs = [
        subprocess.Popen(
            [*c, "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for c in commands
    ]
    try:
        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
            client.gather(client.map(abs, range(-20, 0)))  # warm the connections
            start = time.perf_counter()
            client.gather(client.map(abs, range(-200, 0)))
            per_task = (time.perf_counter() - start) / 200
        start = time.perf_counter()
        results = grade.main(
            assignment="a1_metrics",
            submissions=submissions,
            course=course,
            scheduler=address,
            progress=lambda *a: None,
        )
        seconds = time.perf_counter() - start
        assert all(r.score == r.max_score for r in results), "an honest submission lost points"
        return seconds, per_task
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _sandbox_start(
    root: Path, mode: str, cgroups: str = "auto", repeats: int = 5, zygote: str = "1"
):
    """Median seconds to start a sandbox (harness ready) and close it; ``None`` when cgroups
    were asked for and the machine has none. ``zygote="0"``: without the fork server."""
    import statistics

    from autograder.sandbox import capabilities, open_sandbox

    os.environ["AUTOGRADER_SANDBOX"], os.environ["AUTOGRADER_CGROUPS"] = mode, cgroups
    os.environ["AUTOGRADER_ZYGOTE"] = zygote
    try:
        if cgroups == "auto" and not capabilities()["cgroups"]:
            return None
        files = root / "files"
        files.mkdir(exist_ok=True)
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            with open_sandbox(files, root / f"sandbox-{mode}-{cgroups}-{zygote}-{i}"):
                pass
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        del os.environ["AUTOGRADER_CGROUPS"], os.environ["AUTOGRADER_ZYGOTE"]
        capabilities()


if __name__ == "__main__":
    main()
