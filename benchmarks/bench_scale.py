"""Claim: grading scales with the batch: on N submissions of assignment 1 (default 1,000) in
local mode, the time per submission does not grow with the batch (goal: the last 100 at most
20% slower than the first 100), and the parent's memory does not grow with it (its peak is
printed).

Usage::

    .venv/bin/python benchmarks/bench_scale.py      # 1,000 submissions (long: ~20 min, 2 cores)
    .venv/bin/python benchmarks/bench_scale.py 200  # a shorter run
    AUTOGRADER_BENCH_SCALE=200 make bench           # the same count under run_all

The submissions alternate a correct solution, the untouched release and a solution with one
check wrong, so every kind of outcome is recorded. The time per submission is the interval
between consecutive finished students (the batch's throughput, 2 jobs), so the parent's own
per-student work (recording, the gradebook, the progress line) is inside it.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

WINDOW = 100


def _make_batch(root: Path, count: int) -> tuple[Path, Path]:
    from autograder.grading import authoring
    from autograder.term import release

    course = root / "course"
    folder = release.main(assignment="a1_metrics", course=course)
    released = nbformat.read(folder / "a1_metrics.ipynb", as_version=4)
    source = nbformat.read(course / "source" / "a1_metrics" / "a1_metrics.ipynb", as_version=4)
    solution = authoring.solutions(source)
    unsorted = dict(solution)
    unsorted["roc"] = unsorted["roc"].replace("np.unique(scores)[::-1]", "np.unique(scores)")
    kinds = [
        authoring.submission(released, answers) for answers in (solution, {}, unsorted, solution)
    ]
    submissions = root / "submitted"
    for i in range(count):
        target = submissions / f"student{i:04d}" / "a1_metrics"
        target.mkdir(parents=True)
        nbformat.write(kinds[i % len(kinds)], target / "a1_metrics.ipynb")
    return course, submissions


def _time_client_side(grade) -> dict:
    """Time the parent's per-student steps (``grade.record``, ``gradebook.Book.grade``)."""
    spent = {"record": [], "read": []}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name].append(time.perf_counter() - start)

        return wrapper

    from autograder.grading.gradebook import Book

    grade.record = timed("record", grade.record)
    Book.grade = timed("read", Book.grade)  # one student's grade for the progress line
    return spent


def _ms(spent: dict, window: slice) -> str:
    record, read = spent["record"][window], spent["read"][window]
    return f"{(statistics.mean(record) + statistics.mean(read)) * 1000:.0f} ms"


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else int(os.environ.get("AUTOGRADER_BENCH_SCALE", "1000"))
    if count < 2 * WINDOW:
        raise ValueError(f"count must be at least {2 * WINDOW} (two windows), got {count!r}")
    from autograder.config import ensure_tools_on_path
    from autograder.grading import grade

    ensure_tools_on_path()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        course, submissions = _make_batch(Path(tmp), count)
        stamps: list[float] = []

        def progress(done, total, g):
            stamps.append(time.perf_counter())
            if done % 50 == 0:
                print(f"  {done}/{total} after {stamps[-1] - start:.0f} s", flush=True)

        client = _time_client_side(grade)
        start = time.perf_counter()
        grades = grade.main(
            assignment="a1_metrics",
            course=course,
            submissions=submissions,
            jobs=2,
            progress=progress,
        )
        total = time.perf_counter() - start
    assert len(grades) == count and len(stamps) == count, "a student was lost or graded twice"
    intervals = [b - a for a, b in zip([start, *stamps], stamps, strict=False)]
    first = statistics.mean(intervals[1:WINDOW])  # (the first includes the pool's start)
    last = statistics.mean(intervals[-WINDOW:])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    growth = last / first - 1
    print(f"{count} submissions of a1_metrics, local mode, 2 jobs: {total:.0f} s")
    print(f"{'':<22}{'s per submission':>18}")
    print(f"{'first 100':<22}{first:>18.2f}")
    print(f"{'last 100':<22}{last:>18.2f}")
    print(f"{'all':<22}{total / count:>18.2f}")
    print(
        f"last 100 against first 100: {growth:+.0%}, goal: no growth with the batch (at most "
        f"+20%): {'met' if growth <= 0.20 else 'MISSED'}"
    )
    client["read"] = client["read"][:count]  # (then the whole class is read for the result)
    recording = statistics.mean(client["record"])
    reading = statistics.mean(client["read"])
    spent = recording + reading
    print(
        f"the parent's own work per student (graded notebook, gradebook, record, progress "
        f"line): {spent * 1000:.0f} ms (first 100: {_ms(client, slice(0, WINDOW))}, last 100: "
        f"{_ms(client, slice(-WINDOW, None))}; recording {recording * 1000:.0f} ms, reading "
        f"the grade back {reading * 1000:.0f} ms): at most {3600 / spent:,.0f} students per "
        "hour for one client, however many workers grade"
    )
    print(f"parent's peak memory (ru_maxrss): {peak:.0f} MB; largest child: {children:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
