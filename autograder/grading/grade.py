"""``grade``: autograde a batch of submissions with nbgrader, in parallel, resumably.

The grading path, as data flowing through named steps (``ARCHITECTURE.md`` draws it):

1. :func:`plan` the batch: every ``SUBMISSIONS/STUDENT/ASSIGNMENT`` folder (ids checked,
   symbolic links refused), the digest of what each submitted and of the assignment's version,
   and from the grader's records (:mod:`autograder.grading.state`) who needs grading: a new or changed
   submission, a changed assignment, ``force``, or a student named in ``students``;
2. **grade** each in a worker (:class:`~autograder.grading.pool.WorkerPool`,
   :func:`autograder.grading.worker.grade_submission`): the student's code runs in a sandbox, the
   hidden checks run in the worker on the values it returns; one typed outcome per check;
3. :func:`record` each result, in this (parent) process only: the graded notebook into
   ``autograded/`` (hidden tests removed), the scores into the gradebook
   (:meth:`autograder.grading.gradebook.Book.write`), then the record of what was graded, last;
4. **report** from the gradebook (:func:`autograder.grading.gradebook.read_grades`): the progress
   line, the returned grades and the CSV show the gradebook's scores, hand-graded ones
   included.

A rerun with nothing changed grades nobody and rewrites the CSV from the gradebook. One
student's failure, even while recording, never stops the batch or touches another's data.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder import names, settings
from autograder.config import (
    DEFAULT_COURSE,
    check_gradebook,
    default_db_url,
    ensure_tools_on_path,
    nbgrader_config,
)
from autograder.grading import cells, state
from autograder.grading.authoring import graded_cells
from autograder.grading.gradebook import (
    Book,
    StudentGrade,
    check_exists,
    quiet,
    read_grades,
)
from autograder.grading.options import GradingOptions
from autograder.grading.records import GradedRecord, GradeResult, Kind, Status
from autograder.grading.worker import GradeTask, graded_notebook

__all__ = ["Batch", "main", "plan", "record"]


@dataclass(frozen=True)
class Submission:
    student: str
    folder: Path
    digest: str


@dataclass(frozen=True)
class Batch:
    """What one run grades: the students it shows and those it (re)grades."""

    assignment: str
    course: Path
    submissions: Path
    version: str  # digest of the assignment's source and hidden checks
    shown: tuple[str, ...]  # every student of the run, in order
    todo: tuple[Submission, ...]
    refused: tuple[GradeResult, ...]  # folders that cannot be a student's

    @property
    def digests(self) -> dict[str, str]:
        """student -> digest of the files this run grades (taken before grading)."""
        return {sub.student: sub.digest for sub in self.todo}


def plan(
    assignment: str,
    course: Path,
    submissions: Path,
    students: tuple[str, ...] = (),
    force: bool = False,
) -> Batch:
    """Who is in this run, and who must be graded (see the module docstring, step 1)."""
    from autograder import assignments

    assignments.refuse_old_layout(course / "source" / assignment, assignment)
    version = state.assignment_digest(course, assignment)
    shown, todo, refused = [], [], []
    for entry in sorted(submissions.iterdir(), key=lambda p: p.name):
        if not names.is_student_id(entry.name):
            if entry.is_dir() or entry.is_symlink():
                why = f"{names.printable(repr(entry.name))[:80]} is not a valid student id"
                student = names.printable(entry.name)[:64]
                refused.append(GradeResult.failed(student, Kind.REFUSED, why))
            continue
        if entry.is_symlink():
            shown.append(entry.name)
            why = "the student's folder is a symbolic link"
            refused.append(GradeResult.failed(entry.name, Kind.INVALID_SUBMISSION, why))
            continue
        if not entry.is_dir():
            continue
        folder = entry / assignment
        if not (folder.is_dir() or folder.is_symlink()):
            continue  # a folder of other assignments only: not submitted, never "failed"
        shown.append(entry.name)
        digest = state.submission_digest(folder)
        old = state.load_record(course, assignment, entry.name)
        unchanged = (
            old is not None
            and old.submission_digest == digest
            and old.assignment_digest == version
            and not old.result.grader_fault  # decided by type: the grader's fault is regraded
        )
        if (entry.name in students) if students else (force or not unchanged):
            todo.append(Submission(entry.name, folder, digest))
    missing = [s for s in students if s not in shown]
    if missing:
        raise ValueError(
            f"no submission folder for --student {', '.join(map(repr, missing))} in {submissions}"
        )
    return Batch(
        assignment, course, submissions, version, tuple(shown), tuple(todo), tuple(refused)
    )


def _template_gradebook(course: Path, assignment: str, folder: Path) -> Path:
    """A gradebook holding just this assignment (from its source), copied for each student.

    Workers never read the course's own gradebook, which may be any database (``--db``).
    """
    from nbgrader.apps import NbGraderAPI

    shutil.copytree(course / "source" / assignment, folder / "source" / assignment)
    with quiet():
        result = NbGraderAPI(config=nbgrader_config(folder)).generate_assignment(
            assignment, force=True, create=True
        )
    if not result.get("success"):
        raise RuntimeError(
            f"could not prepare {assignment!r} for grading:\n{result.get('log', '')}"
        )
    return folder / "gradebook.db"


def _strip_hidden_tests(path: Path) -> None:
    """Keep graded notebooks safe to hand back: hidden test code stays in ``source/`` only."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cells.HIDDEN_BEGIN in cell.source:
            cell.source = cells.strip_hidden(cell.source)
    nbformat.write(nb, path)


def _timestamp(folder: Path) -> dt.datetime | None:
    """When the submission was made (nbgrader's ``timestamp.txt``); unreadable means unknown."""
    from autograder.grading import deadlines

    try:
        return deadlines.read_timestamp(folder)
    except ValueError:
        return None


def _late_mark(folder: Path) -> bool:
    """An LMS marked this submission late without a time (read with the policy of the day)."""
    from autograder.grading import deadlines

    return deadlines.has_late_mark(folder)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def record(batch: Batch, task: GradeTask, result: GradeResult, book: Book) -> GradeResult:
    """Trusted side: graded notebook, gradebook, then the record; never raises for a student."""
    try:
        target = batch.course / "autograded" / result.student_id / batch.assignment
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        produced = graded_notebook(task)
        if result.status is Status.GRADED:
            target.mkdir(parents=True)
            shutil.copyfile(produced, target / produced.name)  # the notebook, nothing it shipped
            _strip_hidden_tests(target / produced.name)
            # the time only: the late penalty is derived whenever the grade is read
            book.write(result, timestamp=_timestamp(Path(task.submission)))
        else:  # the gradebook shows what the CSV shows: no earlier automatic score
            book.withdraw(result.student_id)
        entry = GradedRecord(
            result=result,
            submission_digest=batch.digests.get(result.student_id) or "absent",
            assignment_digest=batch.version,
            graded_at=_now(),
            max_score=sum(o.possible for o in result.outcomes),
            late_mark=_late_mark(Path(task.submission)),
        )
        state.save_record(batch.course, batch.assignment, entry)
        return result
    except Exception as exc:  # one student's recording fails alone, visibly
        why = f"while recording: {type(exc).__name__}: {exc}"
        state.remove_record(batch.course, batch.assignment, result.student_id)
        return GradeResult.failed(result.student_id, Kind.GRADER_ERROR, why)


def _tasks(batch: Batch, template: Path, scratch: Path, options: GradingOptions, secret: bytes):
    hide = (str(batch.course), str(batch.submissions))
    for sub in batch.todo:
        workdir = Path(tempfile.mkdtemp(prefix="grade-", dir=scratch))
        seed = state.student_seed(secret, batch.assignment, sub.student)
        yield GradeTask(
            assignment=batch.assignment,
            student=sub.student,
            submission=str(sub.folder),
            source_dir=str(batch.course / "source" / batch.assignment),
            template_db=str(template),
            workdir=str(workdir),
            seed=seed,
            options=options,
            hide=hide,
        )


DEFAULT_OPTIONS = GradingOptions()
CSV_EXTRA = ("auto_score", "manual_score", "extra_credit", "late_penalty", "days_late")


def write_csv(grades: list[StudentGrade], path: Path, cell_ids: list[str]) -> None:
    """One row per student, from the gradebook; written whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["student_id", "status", "reason", "score", "max_score", *cell_ids, *CSV_EXTRA]
        )
        for g in sorted(grades, key=lambda g: g.student_id):
            per_cell = []
            for grade_id in cell_ids:
                cell = g.cells.get(grade_id)
                if cell is None:
                    per_cell.append("")
                elif cell.pending:
                    per_cell.append(Kind.PENDING.value)
                else:
                    per_cell.append(cell.score)
            shown = g.status is Status.GRADED or bool(g.cells)  # (a failed row's hand scores)
            extra = (
                [g.auto_score, g.manual_score, g.extra_credit, g.penalty, g.days_late]
                if shown
                else [""] * len(CSV_EXTRA)
            )
            row = [g.student_id, g.status, g.reason, g.score, g.max_score, *per_cell, *extra]
            writer.writerow([names.csv_cell(v) for v in row])
    tmp.replace(path)  # never a half-written CSV


def _progress_line(done: int, total: int, grade: StudentGrade) -> None:
    """``[3/40] jdoe: graded 8/10 (late penalty 1)``: the score after the penalty."""
    pending = f" ({len(grade.pending)} pending)" if grade.pending else ""
    late = f" (late penalty {grade.penalty:g})" if grade.penalty else ""
    line = f"{grade.student_id}: {grade.status} {grade.score:g}/{grade.max_score:g}{late}{pending}"
    names.say("\r[{}/{}] {}", done, total, line, end="", file=sys.stderr)


def _print_guarantees() -> None:
    from autograder.sandbox import capabilities

    caps = capabilities()
    guaranteed = "; ".join(caps["guarantees"])
    names.say("sandbox: {}; guaranteed: {}", caps["mode"], guaranteed, file=sys.stderr)
    if caps["missing"]:
        missing = "; ".join(caps["missing"])
        names.say("sandbox: NOT guaranteed ({}): {}", caps["why"], missing, file=sys.stderr)


def main(
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    submissions: Path | None = None,
    students: tuple[str, ...] = (),
    force: bool = False,
    jobs: int | None = None,
    csv_path: Path | None = None,
    db_url: str | None = None,
    options: GradingOptions = DEFAULT_OPTIONS,
    progress=None,
    scheduler: str | None = None,
) -> list[StudentGrade]:
    """Grade ``submissions/STUDENT/ASSIGNMENT/`` (default: nbgrader's ``COURSE/submitted``).

    Returns one :class:`~autograder.grading.gradebook.StudentGrade` per student of the folder, read
    from the gradebook after grading; ``students`` names the only ones to (re)grade.
    ``progress(done, total, grade)`` is called after each student graded in this run (default:
    a progress line on stderr). ``scheduler``: a Dask scheduler's address to grade on a
    cluster (default ``$AUTOGRADER_SCHEDULER``; none: local worker processes, ``jobs`` of them).
    """
    if not isinstance(options, GradingOptions):
        raise TypeError(f"options must be a GradingOptions, got {type(options).__name__}")
    course = Path(course).resolve()
    submissions = Path(submissions).resolve() if submissions else course / "submitted"
    if not (course / "source" / assignment / f"{assignment}.ipynb").exists():
        raise ValueError(
            f"{assignment!r} is not released in {course}: run "
            f"`python -m autograder release {assignment} --course {course}` first"
        )
    if not submissions.is_dir():
        raise ValueError(f"submissions folder {submissions} does not exist")
    for student in students:
        names.check_student_id(student, "--student")
    db_url = db_url or default_db_url(course)
    check_exists(db_url)  # `release` makes the gradebook; grading never makes an empty one
    ensure_tools_on_path()  # nbgrader's Gradebook runs `alembic` on a new database
    with quiet():
        check_gradebook(db_url, assignment)  # before grading anyone, not at the first write
    batch = plan(assignment, course, submissions, tuple(students), force)
    report = progress or _progress_line
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(batch.todo) or 1))
    refused_ids = [r for r in batch.refused if names.is_student_id(r.student_id)]
    if refused_ids:  # a valid id whose folder is refused: its row says why
        with Book(course, assignment, db_url) as book:
            for refused in refused_ids:
                book.withdraw(refused.student_id)  # as for any failed row: hand scores stay
                entry = GradedRecord(refused, "failed", batch.version, _now())
                state.save_record(course, assignment, entry)
    if batch.todo:
        _print_guarantees()
        from autograder.grading.pool import WorkerPool

        secret = state.course_secret(course)
        scratch = Path(tempfile.mkdtemp(prefix="grade-batch-"))
        try:
            # a Dask cluster (``scheduler``, else $AUTOGRADER_SCHEDULER) or local processes
            scheduler = scheduler or settings.current().scheduler
            if scheduler:
                from autograder.grading.cluster import DaskPool
            with (
                DaskPool(scheduler) if scheduler else WorkerPool(jobs) as pool,
                Book(course, assignment, db_url) as book,
            ):
                # the assignment's fork server loads its libraries while the batch is prepared
                pool.fork_server(str(course / "source" / assignment), assignment)
                template = _template_gradebook(course, assignment, scratch / "template")
                work = _tasks(batch, template, scratch, options, secret)
                for done, (task, result) in enumerate(pool.grade(work), start=1):
                    result = record(batch, task, result, book)
                    shutil.rmtree(task.workdir, ignore_errors=True)
                    report(done, len(batch.todo), book.grade(result.student_id))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if progress is None:
            names.say("", file=sys.stderr)
    grades = read_grades(course, assignment, db_url, list(batch.shown))
    max_score = sum(c["points"] for c in graded_cells(course, assignment))
    grades += [
        StudentGrade(r.student_id, Status.FAILED, r.reason, max_score)
        for r in batch.refused
        if not names.is_student_id(r.student_id)
    ]
    if csv_path is not None:
        write_csv(grades, Path(csv_path), [c["grade_id"] for c in graded_cells(course, assignment)])
    return grades
