"""Claim: ``python -m autograder grade`` on a batch of 20 honest submissions of assignment 1 is
at least 2x faster than stock ``nbgrader autograde`` on the same batch, on 2 cores (both timed
in this run, each in a fresh copy of the course).
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

N_STUDENTS = 20


def _make_batch(root: Path) -> tuple[Path, Path]:
    from autograder import release

    course = root / "course"
    folder = release.main(assignment="a1_metrics", course=course)
    released = nbformat.read(folder / "a1_metrics.ipynb", as_version=4)
    source = nbformat.read(course / "source" / "a1_metrics" / "a1_metrics.ipynb", as_version=4)
    solution = {
        c.metadata["nbgrader"]["grade_id"]: re.sub(r"\s*### (BEGIN|END) SOLUTION", "", c.source)
        for c in source.cells
        if c.metadata["nbgrader"]["solution"]
    }
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        cell.source = solution.get(cell.metadata["nbgrader"]["grade_id"], cell.source)
    submissions = root / "submitted"
    for i in range(N_STUDENTS):
        target = submissions / f"student{i:02d}" / "a1_metrics"
        target.mkdir(parents=True)
        nbformat.write(nb, target / "a1_metrics.ipynb")
    return course, submissions


def main():
    from autograder import grade
    from autograder.config import ensure_tools_on_path

    ensure_tools_on_path()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        course, submissions = _make_batch(root)
        stock_course = root / "stock"
        shutil.copytree(course, stock_course)
        shutil.copytree(submissions, stock_course / "submitted")

        start = time.perf_counter()
        results = grade.main(
            assignment="a1_metrics",
            submissions=submissions,
            course=course,
            jobs=2,
            progress=lambda *a: None,
        )
        ours = time.perf_counter() - start
        assert all(r.score == r.max_score for r in results), "an honest submission lost points"

        env = dict(os.environ, AUTOGRADER_SEED="0")
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "nbgrader",
                "autograde",
                "a1_metrics",
                f"--CourseDirectory.root={stock_course}",
                f"--CourseDirectory.db_url=sqlite:///{stock_course / 'gradebook.db'}",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        stock = time.perf_counter() - start
    print(f"{N_STUDENTS} honest submissions of a1_metrics, 2 jobs")
    print(f"{'grader':<28}{'seconds':>10}{'per student':>14}")
    print(f"{'autograder grade':<28}{ours:>10.1f}{ours / N_STUDENTS:>14.2f}")
    print(f"{'stock nbgrader autograde':<28}{stock:>10.1f}{stock / N_STUDENTS:>14.2f}")
    print(f"speed-up {stock / ours:.2f}x, goal >= 2x: {'met' if stock / ours >= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
