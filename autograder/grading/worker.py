"""Grading one submission, in a long-lived worker process (trusted code).

:func:`grade_submission` is the list of steps a submission flows through, each a function with
typed inputs and outputs; a step that cannot go on raises :class:`Refused` with the reason the
student's row will show:

1. :func:`locate` the notebook (present, a regular file, UTF-8, nbformat-valid);
2. :func:`prepare` a private course: the assignment's source, the batch's template gradebook
   and the submission's regular files (no symbolic links);
3. :func:`repair` what the submission may not change (:mod:`autograder.grading.steps.repair`);
4. :func:`autograde` with nbgrader, its ``Execute`` step replaced by
   :class:`~autograder.grading.steps.sandboxed_execute.SandboxedExecute`, which reports one
   typed :class:`~autograder.grading.records.CheckOutcome` per graded cell
   (a :class:`~autograder.grading.records.StepReport`);
5. :func:`collect` those outcomes into a :class:`~autograder.grading.records.GradeResult`.

:func:`serve` is the worker's loop: one :class:`GradeTask` (JSON) per line on stdin, one
result line on the protocol channel. The parent (``autograder.grading.pool``) starts it with the same
Python and the same ``autograder`` and ``coursekit`` folders as itself.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NoReturn

from autograder.grading.options import GradingOptions
from autograder.grading.records import Fault, GradeResult, Kind, Status, StepReport

__all__ = ["GradeTask", "Refused", "grade_submission", "serve"]


@dataclass(frozen=True)
class GradeTask:
    """Everything a worker needs to grade one submission."""

    assignment: str
    student: str
    submission: str  # the folder SUBMISSIONS/STUDENT/ASSIGNMENT
    source_dir: str  # COURSE/source/ASSIGNMENT: the only place checks are read from
    template_db: str  # a gradebook holding just this assignment
    workdir: str  # a private, empty folder for this task
    seed: int
    options: GradingOptions = field(default_factory=GradingOptions)
    slot: int = 0
    hide: tuple[str, ...] = ()  # folders the sandbox must not show
    fork_server: str = ""  # the pool's shared zygote (autograder.sandbox.forked), if any

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> GradeTask:
        data = json.loads(text)
        data["options"] = GradingOptions(**data["options"])
        data["hide"] = tuple(data.get("hide", ()))
        return cls(**data)


class Refused(Exception):
    """This submission cannot be graded: its row shows ``kind``'s words and ``detail``."""

    def __init__(self, kind: Kind, detail: str = ""):
        super().__init__(kind.says(detail))
        self.kind, self.detail = kind, detail


# -- the steps --------------------------------------------------------------------------------


def locate(folder: Path, name: str) -> Path:
    """The notebook ``folder/name``, valid; else :class:`Refused` saying what was found."""
    import nbformat

    if folder.is_symlink():
        raise Refused(Kind.INVALID_SUBMISSION, "the folder is a symbolic link")
    notebook = folder / name
    if notebook.is_symlink():
        raise Refused(Kind.MISSING_NOTEBOOK, f"{name} is a symbolic link, not a file")
    if not notebook.is_file():
        found = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
        seen = f"found {', '.join(found[:5])}" if found else "the folder is empty"
        raise Refused(Kind.MISSING_NOTEBOOK, f"expected {name}, {seen}")
    try:
        text = notebook.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(Kind.INVALID_NOTEBOOK, "not UTF-8 text") from None
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise Refused(Kind.INVALID_NOTEBOOK, f"{type(exc).__name__}: {first}") from None
    return notebook


def _copy_files(source: Path, target: Path, max_bytes: int = 100 * 1024 * 1024) -> None:
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
                raise Refused(Kind.INVALID_SUBMISSION, f"larger than {max_bytes // 2**20} MB")
            shutil.copyfile(path, target / rel / name)


def prepare(task: GradeTask) -> Path:
    """A private course in ``task.workdir``; return the copied notebook's path."""
    workdir = Path(task.workdir)
    shutil.copytree(task.source_dir, workdir / "source" / task.assignment)
    shutil.copy(task.template_db, workdir / "gradebook.db")
    target = workdir / "submitted" / task.student / task.assignment
    _copy_files(Path(task.submission), target)
    return locate(target, f"{task.assignment}.ipynb")  # graded from this copy


def repair(notebook: Path, task: GradeTask) -> tuple[str, ...]:
    """Restore locked cells from the source; return what was repaired."""
    import nbformat

    from autograder.grading.steps.repair import InvalidSubmission
    from autograder.grading.steps.repair import repair as restore

    source = nbformat.read(Path(task.source_dir) / notebook.name, as_version=4)
    try:
        repaired, notes = restore(nbformat.read(notebook, as_version=4), source)
    except InvalidSubmission as exc:
        raise Refused(Kind.INVALID_SUBMISSION, str(exc)) from None
    nbformat.write(repaired, notebook)
    return (f"repaired: {'; '.join(notes)}"[:300],) if notes else ()


def autograde(task: GradeTask) -> StepReport:
    """nbgrader's autograde with the sandboxed step; the outcomes and notes that step wrote."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.apps import NbGraderAPI
    from nbgrader.preprocessors import IgnorePattern, LimitOutput, SaveAutoGrades

    from autograder.config import nbgrader_config
    from autograder.grading.gradebook import quiet
    from autograder.grading.steps.sandboxed_execute import SandboxedExecute

    workdir = Path(task.workdir)
    outcomes_path = workdir / "outcomes.json"
    config = nbgrader_config(workdir)
    step = config.SandboxedExecute
    step.options = task.options.to_json()
    step.slot, step.seed = task.slot, task.seed
    step.source_dir = task.source_dir
    step.outcomes_path = str(outcomes_path)
    step.hide = list(task.hide)
    step.fork_server = task.fork_server
    config.Autograde.autograde_preprocessors = [
        SandboxedExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
    ]  # nbgrader's CheckCellMetadata already ran on the way in, after the repair step
    with quiet():
        api = NbGraderAPI(config=config)
        answer = api.autograde(task.assignment, task.student, force=True, create=True)
    report = StepReport.from_json(outcomes_path.read_text()) if outcomes_path.exists() else None
    if report is not None and report.unavailable is not None:  # the machine's problem
        raise Refused(Kind.GRADER_ERROR, f"SandboxUnavailable: {report.unavailable}")
    if not answer.get("success") or report is None:
        errors = [ln for ln in answer.get("log", "").splitlines() if "[ERROR]" in ln][-1:]
        detail = errors[0].split("[ERROR]", 1)[1].strip() if errors else "nbgrader stopped"
        raise Refused(Kind.INVALID_NOTEBOOK, detail)
    return report


def collect(task: GradeTask, report: StepReport, notes: tuple[str, ...]) -> GradeResult:
    """The submission's result; a check the instructor's code broke fails the whole row."""
    notes += report.notes
    broken = [o for o in report.outcomes if o.kind.fault is Fault.GRADER]
    if broken:
        detail = f"{broken[0].message} (fix the check, then regrade)"
        return GradeResult.failed(task.student, Kind.GRADER_ERROR, detail, report.outcomes, notes)
    return GradeResult(task.student, Status.GRADED, "", report.outcomes, notes)


def grade_submission(task: GradeTask) -> GradeResult:
    """Steps 1-5 of the module docstring; any failure of this one student is its result."""
    try:
        locate(Path(task.submission), f"{task.assignment}.ipynb")
        notebook = prepare(task)
        notes = repair(notebook, task)
        return collect(task, autograde(task), notes)
    except Refused as exc:
        return GradeResult.failed(task.student, exc.kind, exc.detail)
    except Exception as exc:  # a bug of the grader: said as such, never scored 0 silently
        return GradeResult.failed(task.student, Kind.GRADER_ERROR, f"{type(exc).__name__}: {exc}")


def graded_notebook(task: GradeTask) -> Path:
    """Where nbgrader wrote the graded notebook of ``task`` in its private course."""
    name = f"{task.assignment}.ipynb"
    return Path(task.workdir) / "autograded" / task.student / task.assignment / name


# -- the worker process ------------------------------------------------------------------------


def serve() -> NoReturn:
    """One task per stdin line; answers go to the protocol channel (the original stdout);
    at the end of input the process exits.

    nbgrader is imported once per worker; each task still gets a fresh sandbox and a private
    course. The worker adopts orphaned processes (a subreaper), so what a submission leaves
    behind is killed when its sandbox closes. Its first line says which code it runs.
    """
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed by libraries goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    import nbgrader.apps  # noqa: F401  -- pay the import once, before the first task

    import autograder
    import coursekit
    from autograder.sandbox import become_subreaper

    become_subreaper()
    ready = {"autograder": autograder.__file__, "coursekit": coursekit.__file__}
    channel.write(json.dumps({"ready": ready}) + "\n")
    from autograder.sandbox import forked

    for line in sys.stdin:
        task = GradeTask.from_json(line)
        result = grade_submission(task)
        channel.write(result.to_json() + "\n")
    forked.close_all()  # the fork server ends before this process does
    channel.flush()
    sys.stderr.flush()
    os._exit(0)  # no interpreter shutdown: about 1 s with nbgrader and scikit-learn loaded
