"""``grade``: autograde a batch of submissions with nbgrader, in parallel, resumably.

A submission enters here and flows through these steps, in one of ``jobs`` long-lived worker
processes, each in its own process group (a worker that hangs past the wall-clock limit or dies
is killed with its whole group and replaced; only that student is marked failed):

1. **validate** the notebook file (present, JSON, nbformat-valid) — else ``failed`` with the reason;
2. **copy** the assignment's source, the gradebook and the submission into a private
   temporary course, so a student's run touches no other student's data;
3. **autograde** with nbgrader (``Execute`` with a per-cell timeout, then
   :class:`~autograder.steps.drop_stderr.DropStderr`, then nbgrader's scoring), with
   ``AUTOGRADER_SEED`` derived from the student id for the hidden tests' inputs;
4. **collect** the per-cell scores from the temporary gradebook.

Only this (parent) process then writes the course's gradebook, ``autograded/`` and the CSV. A
student whose whole grading exceeds the wall-clock limit is killed with its process group and
recorded as ``failed`` (``timeout``). Finished students are remembered in
``autograded/STUDENT/ASSIGNMENT/.result.json``; a rerun skips them unless ``force``.
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.authoring import graded_cells
from autograder.config import DEFAULT_COURSE, default_db_url, ensure_tools_on_path, nbgrader_config

__all__ = ["StudentResult", "main", "student_seed"]

RESULT_FILE = ".result.json"


@dataclass
class StudentResult:
    student_id: str
    status: str  # "graded" or "failed"
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, float] = field(default_factory=dict)


def student_seed(student_id: str) -> int:
    """A stable seed per student for the hidden tests' inputs."""
    return int.from_bytes(hashlib.sha256(student_id.encode()).digest()[:4], "big")


# -- the worker: one student, in its own process ----------------------------------------------


def _validate(notebook: Path) -> str | None:
    import nbformat

    if not notebook.exists():
        return f"missing notebook: expected {notebook.name}"
    try:
        text = notebook.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "invalid notebook: not UTF-8 text"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        return f"invalid notebook: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


def grade_one(
    assignment: str, student: str, submission: Path, course: Path, workdir: Path, cell_timeout: int
) -> StudentResult:
    """Grade one submission in ``workdir`` (a private copy of the course); no shared writes."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    notebook = submission / f"{assignment}.ipynb"
    problem = _validate(notebook)
    if problem:
        return StudentResult(student, "failed", problem)
    shutil.copytree(course / "source" / assignment, workdir / "source" / assignment)
    shutil.copy(course / "gradebook.db", workdir / "gradebook.db")
    shutil.copytree(submission, workdir / "submitted" / student / assignment)

    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        Execute,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from autograder.steps.drop_stderr import DropStderr

    config = nbgrader_config(workdir)
    config.Execute.timeout = cell_timeout
    config.Execute.interrupt_on_timeout = True
    config.Autograde.autograde_preprocessors = [
        Execute,
        DropStderr,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    os.environ["AUTOGRADER_SEED"] = str(student_seed(student))
    result = NbGraderAPI(config=config).autograde(assignment, student, force=True, create=True)
    if not result.get("success"):
        log = result.get("log", "")
        reason = "timeout" if "Timeout" in log else "autograde failed"
        tail = [line for line in log.splitlines() if "ERROR" in line][-1:]
        return StudentResult(
            student, "failed", f"{reason}: {tail[0].strip() if tail else ''}"[:300]
        )
    cells, score, max_score, pending = {}, 0.0, 0.0, []
    with Gradebook(default_db_url(workdir)) as gb:
        submitted = gb.find_submission(assignment, student)
        for nb in submitted.notebooks:
            for grade in nb.grades:
                cells[grade.name] = float(grade.score)
                score += float(grade.score)
                max_score += float(grade.max_score)
                if grade.auto_score is None and grade.manual_score is None:
                    pending.append(grade.name)
    reason = _interrupted(workdir, student, assignment, cell_timeout)
    if pending:
        note = f"manual grading pending: {', '.join(pending)}"
        reason = f"{reason}; {note}" if reason else note
    return StudentResult(
        student,
        "graded",
        reason,
        score,
        max_score,
        cells,
    )


def _interrupted(workdir: Path, student: str, assignment: str, cell_timeout: int) -> str:
    """Name the cells that hit the per-cell time limit (they scored 0; the rest was graded)."""
    import nbformat

    path = workdir / "autograded" / student / assignment / f"{assignment}.ipynb"
    if not path.exists():
        return ""
    timed_out = []
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            text = f"{out.get('ename', '')} {out.get('evalue', '')}"
            if out.get("output_type") == "error" and (
                "Timeout" in text or out.get("ename") == "KeyboardInterrupt"
            ):
                timed_out.append(cell.metadata.get("nbgrader", {}).get("grade_id", "?"))
    if not timed_out:
        return ""
    names = ", ".join(dict.fromkeys(timed_out))
    return f"timeout: cell(s) {names} ran longer than {cell_timeout} s"


def _grade_request(request: dict) -> None:
    """Grade one student as asked by the parent; the result goes to ``workdir/.result.json``."""
    workdir = Path(request["workdir"])
    try:
        result = grade_one(
            request["assignment"],
            request["student"],
            Path(request["submission"]),
            Path(request["course"]),
            workdir,
            int(request["cell_timeout"]),
        )
    except Exception as exc:  # any failure of this one student is reported, never raised
        reason = f"grader error: {type(exc).__name__}: {exc}"[:300]
        result = StudentResult(request["student"], "failed", reason)
    (workdir / RESULT_FILE).write_text(json.dumps(asdict(result)))


def _serve() -> int:
    """A long-lived worker: one JSON request per stdin line, one "done" line per answer.

    nbgrader is imported once per worker, not once per student; each student still gets a
    fresh kernel and a private course copy.
    """
    import nbgrader.apps  # noqa: F401  -- pay the import once, before the first request

    for line in sys.stdin:
        _grade_request(json.loads(line))
        sys.stdout.write("done\n")
        sys.stdout.flush()
    return 0


# -- the parent: schedule, collect, write ----------------------------------------------------


class _Worker:
    """The parent's handle on one worker process, in its own process group."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.grade", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def ask(self, request: dict, timeout: float) -> str:
        """Send one request; return "done", "timeout" or "died"."""
        import select

        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return "died"
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return "timeout"
        return "done" if self.process.stdout.readline().strip() == "done" else "died"

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        _kill_group(self.process)
        self.process.wait()


def _run_student(box: list, assignment, student, submission, course, cell_timeout, wall_timeout):
    """Grade one student on this thread's worker; replace the worker if it hangs or dies."""
    workdir = Path(tempfile.mkdtemp(prefix=f"grade-{student}-"))
    request = {
        "assignment": assignment,
        "student": student,
        "submission": str(submission),
        "course": str(course),
        "workdir": str(workdir),
        "cell_timeout": cell_timeout,
    }
    if box[0] is None or box[0].process.poll() is not None:
        box[0] = _Worker()
    outcome = box[0].ask(request, wall_timeout)
    if outcome != "done":
        box[0].close()  # the whole process group: the worker, its kernel, what they started
        box[0] = None
        if outcome == "timeout":
            reason = f"timeout: grading took longer than {wall_timeout} s"
        else:
            reason = "kernel died: the grading process exited"
        return StudentResult(student, "failed", reason), workdir
    result_file = workdir / RESULT_FILE
    if not result_file.exists():
        return StudentResult(student, "failed", "kernel died: no result was written"), workdir
    return StudentResult(**json.loads(result_file.read_text())), workdir


def _kill_group(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _record(
    result: StudentResult, assignment: str, course: Path, workdir: Path, db_url: str
) -> None:
    """Trusted side: copy the autograded notebook, write the gradebook, remember the result."""
    target = course / "autograded" / result.student_id / assignment
    if target.exists():
        shutil.rmtree(target)
    produced = workdir / "autograded" / result.student_id / assignment
    if result.status == "graded" and produced.exists():
        shutil.copytree(produced, target)
        _write_gradebook(result, assignment, db_url)
    target.mkdir(parents=True, exist_ok=True)
    (target / RESULT_FILE).write_text(json.dumps(asdict(result)))


def _write_gradebook(result: StudentResult, assignment: str, db_url: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        gb.update_or_create_student(result.student_id)
        try:
            submission = gb.find_submission(assignment, result.student_id)
        except MissingEntry:
            submission = gb.add_submission(assignment, result.student_id)
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.name in result.cells:
                    grade.auto_score = result.cells[grade.name]
        gb.db.commit()


def _write_csv(results: list[StudentResult], path: Path, cell_ids: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "status", "reason", "score", "max_score", *cell_ids])
        for r in sorted(results, key=lambda r: r.student_id):
            cells = [r.cells.get(c, "") for c in cell_ids]
            writer.writerow([r.student_id, r.status, r.reason, r.score, r.max_score, *cells])
    tmp.replace(path)  # never a half-written CSV


def main(
    *,
    assignment: str,
    submissions: Path,
    course: Path = DEFAULT_COURSE,
    jobs: int | None = None,
    csv_path: Path | None = None,
    force: bool = False,
    db_url: str | None = None,
    cell_timeout: int = 60,
    wall_timeout: int = 600,
    progress=None,
) -> list[StudentResult]:
    """Grade every ``submissions/STUDENT/ASSIGNMENT/`` folder; return one result per student."""
    course, submissions = Path(course).resolve(), Path(submissions).resolve()
    if not (course / "source" / assignment / f"{assignment}.ipynb").exists():
        raise ValueError(
            f"{assignment!r} is not released in {course}: run `python -m autograder release {assignment}` first"
        )
    if not submissions.is_dir():
        raise ValueError(f"submissions folder {submissions} does not exist")
    db_url = db_url or default_db_url(course)
    ensure_tools_on_path()
    jobs = jobs or max(1, os.cpu_count() or 1)
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    results, todo = {}, []
    for student in students:
        done = course / "autograded" / student / assignment / RESULT_FILE
        if done.exists() and not force:
            results[student] = StudentResult(**json.loads(done.read_text()))
        else:
            todo.append(student)
    report = progress or (
        lambda done, total, r: print(
            f"\r[{done}/{total}] {r.student_id}: {r.status} {r.score:g}/{r.max_score:g}",
            end="",
            file=sys.stderr,
            flush=True,
        )
    )
    import threading

    local, boxes = threading.local(), []

    def run(student):
        if not hasattr(local, "box"):
            local.box = [None]
            boxes.append(local.box)
        submission = submissions / student / assignment
        return _run_student(
            local.box, assignment, student, submission, course, cell_timeout, wall_timeout
        )

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run, s) for s in todo]
            done_so_far = len(results)
            for future in concurrent.futures.as_completed(futures):
                result, workdir = future.result()
                _record(result, assignment, course, workdir, db_url)  # only here: trusted writes
                shutil.rmtree(workdir, ignore_errors=True)
                results[result.student_id] = result
                done_so_far += 1
                report(done_so_far, len(students), result)
    finally:
        for box in boxes:
            if box[0] is not None:
                box[0].close()
    if progress is None and todo:
        print(file=sys.stderr)
    ordered = [results[s] for s in students]
    checks = graded_cells(course, assignment)  # read once: max score and CSV columns
    total = sum(c["points"] for c in checks)
    for r in ordered:
        if r.status == "failed":
            r.max_score = total
    if csv_path is not None:
        _write_csv(ordered, Path(csv_path), [c["grade_id"] for c in checks])
    return ordered


if __name__ == "__main__":
    raise SystemExit(_serve() if sys.argv[1:] == ["--serve"] else 2)
