"""``grade``: autograde a batch of submissions with nbgrader, in parallel, resumably.

A submission enters here and flows through these steps, in one of ``jobs`` long-lived worker
processes (trusted code), each in its own process group (a worker that dies or gets stuck is
killed with its whole group and replaced; only that student is marked failed):

1. **validate** the notebook file (present, UTF-8, JSON, nbformat-valid) — else ``failed``
   with the reason;
2. **copy** the assignment's source, a template gradebook made once per batch, and the
   submission's regular files (no symlinks) into a private temporary course;
3. **autograde** with nbgrader, its ``Execute`` step replaced by
   :class:`~autograder.steps.sandboxed_execute.SandboxedExecute`: the student's cells run in
   a sandbox (:mod:`autograder.sandbox`), the hidden checks run here on the values the
   student's functions return, with inputs drawn from ``AUTOGRADER_SEED`` (derived from the
   student id); nbgrader's ``SaveAutoGrades`` scores the verdicts;
4. **collect** the per-cell scores from the temporary gradebook, and name any limit the
   submission hit (cell or notebook time, a crash, memory).

Only this (parent) process then writes the course's gradebook, ``autograded/`` and the CSV.
Finished students are remembered in ``autograded/STUDENT/ASSIGNMENT/.result.json`` (written
last, atomically); a rerun, or a run after the grader was killed, skips them unless ``force``.
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
from autograder.config import (
    COURSE_ID,
    DEFAULT_COURSE,
    check_gradebook,
    default_db_url,
    ensure_tools_on_path,
    nbgrader_config,
)
from autograder.sandbox import Limits, capabilities

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

    if notebook.is_symlink():
        return f"missing notebook: {notebook.name} is a symbolic link, not a file"
    if not notebook.is_file():
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


def _copy_submission(source: Path, target: Path, max_bytes: int = 100 * 1024 * 1024) -> None:
    """Copy regular files and folders only: a symlink could point at the gradebook or a secret."""
    total = 0
    for folder, dirs, files in os.walk(source, followlinks=False):
        rel = Path(folder).relative_to(source)
        (target / rel).mkdir(parents=True, exist_ok=True)
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > max_bytes:
                raise ValueError(f"submission larger than {max_bytes // 2**20} MB")
            shutil.copyfile(path, target / rel / name)


def grade_one(
    assignment: str, student: str, submission: Path, course: Path, workdir: Path, options: dict
) -> StudentResult:
    """Grade one submission in ``workdir`` (a private course); no shared writes.

    ``options``: ``template_db`` (a gradebook with the assignment, made once per batch),
    ``cell_timeout``, ``notebook_timeout``, ``memory_mb``, ``cpu_s``, ``processes``, ``slot``.
    """
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    from autograder.steps.repair import InvalidSubmission, repair

    name = f"{assignment}.ipynb"
    if submission.is_symlink():
        return StudentResult(student, "failed", "invalid submission: the folder is a symbolic link")
    problem = _validate(submission / name)
    if problem:
        return StudentResult(student, "failed", problem)
    shutil.copytree(course / "source" / assignment, workdir / "source" / assignment)
    shutil.copy(options["template_db"], workdir / "gradebook.db")
    target = workdir / "submitted" / student / assignment
    try:
        _copy_submission(submission, target)  # regular files only; graded from this copy
        problem = _validate(target / name)
        if problem:
            return StudentResult(student, "failed", problem)
        source = nbformat.read(workdir / "source" / assignment / name, as_version=4)
        repaired, notes = repair(nbformat.read(target / name, as_version=4), source)
    except (ValueError, InvalidSubmission) as exc:
        return StudentResult(student, "failed", f"invalid submission: {exc}"[:300])
    nbformat.write(repaired, target / name)

    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from autograder.steps.sandboxed_execute import SandboxedExecute

    config = nbgrader_config(workdir)
    for key in ("cell_timeout", "notebook_timeout", "memory_mb", "cpu_s", "processes", "slot"):
        setattr(config.SandboxedExecute, key, int(options[key]))
    config.SandboxedExecute.source_dir = str(workdir / "source" / assignment)
    config.SandboxedExecute.hide = [str(course), str(submission.parent.parent)]
    config.Autograde.autograde_preprocessors = [
        SandboxedExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
    ]  # (nbgrader's CheckCellMetadata already ran on the way in, after our repair step)
    os.environ["AUTOGRADER_SEED"] = str(student_seed(student))
    result = NbGraderAPI(config=config).autograde(assignment, student, force=True, create=True)
    if not result.get("success"):
        log = result.get("log", "")
        if "SandboxUnavailable:" in log:  # the exception's own line in the traceback
            detail = log[log.rindex("SandboxUnavailable:") :].splitlines()[0]
            return StudentResult(student, "failed", f"grader error: {detail}"[:300])
        tail = [line for line in log.splitlines() if "ERROR" in line or "Error" in line][-1:]
        detail = tail[0].strip() if tail else "nbgrader could not grade this notebook"
        return StudentResult(student, "failed", f"invalid notebook: {detail}"[:300])
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
    notes = [f"repaired: {'; '.join(notes)}"[:300]] if notes else []
    notes += _problems(workdir / "autograded" / student / assignment / f"{assignment}.ipynb")
    if pending:
        notes.append(f"manual grading pending: {', '.join(pending)}")
    return StudentResult(student, "graded", "; ".join(notes), score, max_score, cells)


def _problems(path: Path) -> list[str]:
    """Name the limits the submission hit (those cells scored 0; the rest was graded)."""
    import nbformat

    from autograder import steps as step

    if not path.exists():
        return []
    found: dict[str, list[str]] = {}
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                kind = {
                    step.TIMEOUT: "timeout",
                    step.DIED: "crash",
                    step.NOT_RUN: "timeout",
                    step.MEMORY: "memory limit",
                    "MemoryError": "memory limit",
                }.get(out.get("ename"))
                if kind:
                    found.setdefault(kind, []).append(f"{grade_id} ({out.get('evalue', '')})")
    return [f"{kind}: {'; '.join(dict.fromkeys(where))}"[:300] for kind, where in found.items()]


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
            request["options"],
        )
    except Exception as exc:  # any failure of this one student is reported, never raised
        reason = f"grader error: {type(exc).__name__}: {exc}"[:300]
        result = StudentResult(request["student"], "failed", reason)
    (workdir / RESULT_FILE).write_text(json.dumps(asdict(result)))


def _serve() -> int:
    """A long-lived worker: one JSON request per stdin line, one "done" line per answer.

    nbgrader is imported once per worker, not once per student; each student still gets a
    fresh sandbox and a private course copy. The worker adopts orphaned processes (a
    subreaper), so what a submission leaves behind is killed when its sandbox closes.
    """
    import nbgrader.apps  # noqa: F401  -- pay the import once, before the first request

    from autograder.sandbox import become_subreaper

    become_subreaper()
    for line in sys.stdin:
        _grade_request(json.loads(line))
        sys.stdout.write("done\n")
        sys.stdout.flush()
    return 0


# -- the parent: schedule, collect, write ----------------------------------------------------


class _Worker:
    """The parent's handle on one worker process, in its own process group."""

    def __init__(self):
        # -I: neither the current folder nor PYTHON* variables decide what the grader imports
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.grade", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=tempfile.gettempdir(),
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


def _run_student(box: list, assignment, student, submission, course, options):
    """Grade one student on this thread's worker; replace the worker if it hangs or dies."""
    workdir = Path(tempfile.mkdtemp(prefix=f"grade-{student}-"))
    request = {
        "assignment": assignment,
        "student": student,
        "submission": str(submission),
        "course": str(course),
        "workdir": str(workdir),
        "options": options,
    }
    if box[0] is None or box[0].process.poll() is not None:
        box[0] = _Worker()
    # the notebook's own limit applies inside the worker; this one only catches a stuck grader
    wall_timeout = options["notebook_timeout"] + options["grader_margin"]
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


def _template_gradebook(course: Path, assignment: str, folder: Path) -> Path:
    """A gradebook holding just this assignment (from its source), copied for each student.

    Workers never read the course's own gradebook, which may be any database (``--db``).
    """
    from nbgrader.apps import NbGraderAPI

    shutil.copytree(course / "source" / assignment, folder / "source" / assignment)
    result = NbGraderAPI(config=nbgrader_config(folder)).generate_assignment(
        assignment, force=True, create=True
    )
    if not result.get("success"):
        raise RuntimeError(
            f"could not prepare {assignment!r} for grading:\n{result.get('log', '')}"
        )
    return folder / "gradebook.db"


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
        for notebook in target.glob("*.ipynb"):
            _strip_hidden_tests(notebook)
        _write_gradebook(result, assignment, db_url)
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / (RESULT_FILE + ".tmp")
    tmp.write_text(json.dumps(asdict(result)))
    tmp.replace(target / RESULT_FILE)  # written last, at once: a finished student's marker


def _strip_hidden_tests(path: Path) -> None:
    """Keep graded notebooks safe to hand back: hidden test code stays in ``source/`` only."""
    import re

    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            cell.source = re.sub(
                r"\n?### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?",
                "\n",
                cell.source,
                flags=re.S,
            ).rstrip()
    nbformat.write(nb, path)


def _write_gradebook(result: StudentResult, assignment: str, db_url: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id=COURSE_ID) as gb:
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
    notebook_timeout: int = 600,
    memory_mb: int = Limits.memory_mb,
    cpu_s: int = Limits.cpu_s,
    processes: int = Limits.processes,
    progress=None,
) -> list[StudentResult]:
    """Grade every ``submissions/STUDENT/ASSIGNMENT/`` folder; return one result per student.

    Each submission runs in its own sandbox (:mod:`autograder.sandbox`) with ``cell_timeout``
    seconds per cell or check, ``notebook_timeout`` for the whole notebook, ``memory_mb`` of
    address space, ``cpu_s`` of CPU time and ``processes`` processes (threads included).
    """
    for name, value in (("cell_timeout", cell_timeout), ("notebook_timeout", notebook_timeout)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    Limits(memory_mb=memory_mb, cpu_s=cpu_s, processes=processes)  # names a bad value
    course, submissions = Path(course).resolve(), Path(submissions).resolve()
    if not (course / "source" / assignment / f"{assignment}.ipynb").exists():
        raise ValueError(
            f"{assignment!r} is not released in {course}: run `python -m autograder release {assignment}` first"
        )
    if not submissions.is_dir():
        raise ValueError(f"submissions folder {submissions} does not exist")
    db_url = db_url or default_db_url(course)
    ensure_tools_on_path()  # nbgrader's Gradebook runs `alembic` on a new database
    check_gradebook(db_url, assignment)  # before grading anyone, not at the first write
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

    caps = capabilities()
    print(f"sandbox: {caps['mode']}; guaranteed: {'; '.join(caps['guarantees'])}", file=sys.stderr)
    if caps["missing"]:
        print(
            f"sandbox: NOT guaranteed ({caps['why']}): {'; '.join(caps['missing'])}",
            file=sys.stderr,
        )
    local, boxes = threading.local(), []
    scratch = Path(tempfile.mkdtemp(prefix="grade-batch-"))
    options = {
        "cell_timeout": cell_timeout,
        "notebook_timeout": notebook_timeout,
        "grader_margin": 120,
        "memory_mb": memory_mb,
        "cpu_s": cpu_s,
        "processes": processes,
    }
    import queue

    spare: queue.SimpleQueue = queue.SimpleQueue()

    def run(student):
        if not hasattr(local, "box"):
            local.box, local.slot = [None if spare.empty() else spare.get()], len(boxes)
            boxes.append(local.box)
        submission = submissions / student / assignment
        mine = {**options, "slot": local.slot}
        return _run_student(local.box, assignment, student, submission, course, mine)

    try:
        for _ in range(min(jobs, len(todo))):
            spare.put(_Worker())  # they import nbgrader while the template is made
        if todo:
            options["template_db"] = str(_template_gradebook(course, assignment, scratch))
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
        while not spare.empty():
            spare.get().close()
        shutil.rmtree(scratch, ignore_errors=True)
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
