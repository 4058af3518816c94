"""Preprocessor: run a submission in a sandbox and decide every verdict outside it.

Replaces nbgrader's ``Execute`` in the autograde pipeline. Student code never runs in the
grader's process, and no test code, hidden input's expectation or verdict runs in the
student's:

- every code cell that is *not* a test cell (solution cells, the locked set-up cells nbgrader
  has restored from the source) runs, in order, in one sandbox
  (:class:`~autograder.grading.steps.remote.Runner`);
- every test cell is decided here, in the trusted grader
  (:meth:`~autograder.grading.steps.verdicts.Checks.decide`), from the instructor's source
  notebook (:mod:`~autograder.grading.steps.analysis` reads it).

Each graded cell gets one :class:`~autograder.grading.records.CheckOutcome`; the step hands
them, with the limits the student's own cells hit, to the worker as one
:class:`~autograder.grading.records.StepReport` in ``outcomes_path`` (or that the sandbox could
not start). The graded notebook's outputs say the same in words for the student (nbgrader's
``SaveAutoGrades`` scores them).

Hidden inputs stay hidden: what the student's function prints during a check is dropped, and
once a check has run, the output of the student's later cells is not kept in the graded notebook
(it could replay what a function recorded).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Int, List, Unicode

from autograder.grading import cells
from autograder.grading.options import GradingOptions
from autograder.grading.records import CheckOutcome, Kind, StepReport
from autograder.grading.steps.analysis import defined_names, imported_modules, prepare_checks
from autograder.grading.steps.remote import Runner
from autograder.grading.steps.verdicts import Checks, died, error_output, outputs
from autograder.sandbox import SandboxDied, SandboxTimeout, SandboxUnavailable, forked

__all__ = ["SandboxedExecute"]


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader step: sandboxed execution of the submission, trusted verdicts (see module)."""

    options = Unicode(
        GradingOptions().to_json(), help="GradingOptions as JSON (autograder.grading.options)"
    ).tag(config=True)
    slot = Int(0, help="which parallel job this is").tag(config=True)
    seed = Int(0, help="seed of this submission's hidden inputs").tag(config=True)
    source_dir = Unicode(
        "", help="the assignment's source folder: the only place hidden tests are read from"
    ).tag(config=True)
    outcomes_path = Unicode("", help="where the step's report is written (JSON)").tag(config=True)
    hide = List(Unicode(), help="folders to hide even inside the sandbox's allowed ones").tag(
        config=True
    )
    fork_server = Unicode("", help="address of the grading pool's shared zygote, if any").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        from autograder.assignments import calls as hidden

        if not self.source_dir or not self.outcomes_path:
            raise ValueError("SandboxedExecute needs source_dir and outcomes_path")
        options = GradingOptions.from_json(self.options)
        name = resources.get("nbgrader", {}).get("notebook") or Path(self.source_dir).name
        source = nbformat.read(Path(self.source_dir) / f"{name}.ipynb", as_version=4)
        # the checks come from the instructor's source, never from the submitted notebook
        blocks = {
            cells.grade_id(c): (cells.hidden_block(c.source), cells.points(c))
            for c in source.cells
            if cells.is_test(c)
        }
        checks = Checks(
            blocks,
            defined_names(source),
            options,
            # joined before the first check: two threads importing one package can see it half made
            prepare_checks((code for code, _ in blocks.values()), background=forked.in_use()),
        )
        manual = {cells.grade_id(c): cells.points(c) for c in source.cells if cells.is_manual(c)}
        self._known = frozenset(cells.grade_id(c) for c in source.cells) - {None, ""}
        self._options = options
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        workdir = folder.parent / ".sandbox"  # beside the graded copy, in the private course
        workdir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + options.notebook_timeout
        preload = imported_modules(source)
        runner = Runner(
            folder, workdir, options, self.slot, deadline, list(self.hide), preload,
            self.fork_server,
        )  # fmt: skip
        outcomes: dict[str, CheckOutcome] = {}
        self._notes: list[str] = []  # limits the student's own cells hit, in words
        checked = False  # once a check has run, later cells' output is not kept
        report = Path(self.outcomes_path)
        try:
            with hidden.seeded(self.seed):  # the checks' seed, never through the environment
                for cell in nb.cells:
                    if cell.cell_type != "code":
                        continue
                    grade_id = cells.grade_id(cell)
                    if cells.is_test(cell):
                        outcome = checks.decide(grade_id, runner, deadline)
                        outcomes[grade_id] = outcome
                        cell.outputs = outputs(outcome)
                        checked = True
                    elif time.monotonic() >= deadline:
                        cell.outputs = []
                    else:
                        cell.outputs = self._run(cell, runner, grade_id, keep_output=not checked)
        except SandboxUnavailable as exc:  # the machine's problem: said where the worker looks
            report.write_text(StepReport(unavailable=str(exc).splitlines()[0][:250]).to_json())
            raise
        finally:
            runner.close()
        for grade_id, possible in manual.items():
            outcomes[grade_id] = CheckOutcome(grade_id, 0.0, possible, Kind.PENDING)
        for grade_id, (_, possible) in blocks.items():
            if grade_id not in outcomes:  # the notebook lost the cell: repair puts it back
                outcomes[grade_id] = CheckOutcome(
                    grade_id, 0.0, possible, Kind.NOT_RUN, "this check's cell was not found"
                )
        report.write_text(StepReport(tuple(outcomes.values()), tuple(self._notes)).to_json())
        return nb, resources

    def _run(self, cell, runner: Runner, grade_id, keep_output: bool) -> list:
        """Run one of the student's cells; its outputs (a limit it hit is noted, in words)."""
        limit = self._options.cell_timeout
        left = runner.deadline - time.monotonic()
        where = grade_id if grade_id in self._known else "a cell"  # (ids a submission made up)
        try:
            answer = runner.run(cell.source, min(limit, left), keep=keep_output)
        except SandboxTimeout:
            if left < limit:
                limit_s = self._options.notebook_timeout
                message = f"the notebook's time limit ({limit_s} s) ran out during this cell"
            else:
                message = f"this cell ran longer than {limit} s"
            self._notes.append(Kind.TIMEOUT.says(f"{where} ({message})"))
            return [error_output(Kind.TIMEOUT.ename, message)]
        except SandboxDied as exc:
            kind, message = died(exc)
            self._notes.append(kind.says(f"{where} ({message})"))
            return [error_output(Kind.CRASH.ename, message)]  # the cell's process ended
        if not keep_output:
            return []
        kept = []
        if answer.get("stdout"):
            text = str(answer["stdout"])
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=text))
        error = answer.get("error")
        if error:
            kept.append(
                nbformat.v4.new_output(
                    "error",
                    ename=str(error.get("ename", "Error"))[:80],
                    evalue=str(error.get("evalue", ""))[:2000],
                    traceback=str(error.get("traceback", "")).splitlines()[-50:],
                )
            )
        return kept
