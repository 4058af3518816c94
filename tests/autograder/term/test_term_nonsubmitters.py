"""A student who has a folder for another assignment only did not submit this one: ``grade``
never lists them as failed, and the exports leave them empty (not 0, not "failed")."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

A = "a1_metrics"


def test_a_folder_of_another_assignment_is_not_a_failed_submission(tmp_path, released_course):
    course = tmp_path / "course"
    released_course(A, course)
    template = course / "release" / A / f"{A}.ipynb"
    for student in ("ann", "cat"):  # honest submissions (the untouched template) around it
        (course / "submitted" / student / A).mkdir(parents=True)
        shutil.copyfile(template, course / "submitted" / student / A / f"{A}.ipynb")
    other = course / "submitted" / "bob" / "a2_backprop"  # bob handed in a2 only
    other.mkdir(parents=True)
    (other / "a2_backprop.ipynb").write_text("{}")
    (course / "submitted" / "dan" / A).mkdir(parents=True)  # an empty a1 folder: a real failure
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "autograder", *args, "--course",
                               str(course)], capture_output=True, text=True, env=env)  # fmt: skip

    done = cli("grade", A, "--jobs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "graded 2 of 3 students; failed: 1" in done.stdout
    assert "dan: missing notebook" in done.stdout and "bob" not in done.stdout
    cli("export", A, "--format", "csv", "--out", str(tmp_path / "g.csv"))
    with (tmp_path / "g.csv").open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert "bob" not in rows and rows["dan"]["status"] == "failed"
    assert rows["ann"]["status"] == rows["cat"]["status"] == "graded"
    asked = cli("grade", A, "--student", "bob")
    assert asked.returncode == 2 and "no submission folder for --student 'bob'" in asked.stderr
