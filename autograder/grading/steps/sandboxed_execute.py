"""Preprocessor: run a submission in a sandbox and decide every verdict outside it.

Replaces nbgrader's ``Execute`` in the autograde pipeline. Student code never runs in the
grader's process, and no test code, hidden input's expectation or verdict runs in the
student's:

- every code cell that is *not* a test cell (solution cells, the locked set-up cells nbgrader
  has restored from the source) runs, in order, in one :class:`~autograder.sandbox.Sandbox`;
- every test cell is decided here, in the trusted grader: its hidden block (read from the
  instructor's source notebook, never from the submission) runs with the real builtins, and
  each name it uses that neither it nor Python defines (``confusion_counts``, ...) stands for
  a :class:`Remote` function: calling it sends *copies* of the arguments to the sandbox and
  returns the plain values the student's function returned (:mod:`autograder.sandbox.inside.wire`).
  Nothing the student's code does to those copies changes the grader's arrays
  (:meth:`Remote.call_observed` shows a check what the call did to its arguments).

Each graded cell gets one :class:`~autograder.grading.records.CheckOutcome`, written once to
``outcomes_path``; the graded notebook's outputs say the same in words for the student
(nbgrader's ``SaveAutoGrades`` scores them). Kinds come from what the grader observed: its
own clock (timeout), the sandbox's end as seen from outside (crash, memory), the check's own
assertion (failed), an exception of the student's function or a value the grader could not
read (student_error), or an exception of the instructor's check on valid inputs (grader_error,
never the student's fault): a value the student's function returned is either refused by the
wire decoder (:class:`~autograder.sandbox.inside.wire.WireError`: a student error) or read by
:mod:`autograder.hidden.strict`, which fails the check for anything it cannot read, so it can
never surface as the check's own exception.

What the grader says about the student's code comes from a fixed vocabulary: the function's
name (the instructor's), "raised an exception" (not its type or message: either could carry a
hidden input), "the object your function returned" (not its class name: the student's text).

Bounds on what comes back: the answer to a cell at most ``MAX_RUN_ANSWER`` bytes, the whole
notebook's kept output and error text at most ``MAX_NOTEBOOK_OUTPUT`` bytes
(:class:`~autograder.sandbox.base.OutputBudget`, charged where answers are received), and a
call's arguments as they are after the call are asked for and decoded only by a check that
looks at them (:meth:`Remote.call_observed`).

Hidden inputs stay hidden: what the student's function prints during a check is dropped, and
once a check has run, the output of the student's later cells is not kept in the graded notebook
(it could replay what a function recorded).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Int, List, Unicode

from autograder.grading import cells
from autograder.grading.options import GradingOptions
from autograder.grading.records import CheckOutcome
from autograder.grading.steps import DIED, FAILED, MEMORY, NOT_RUN, TIMEOUT
from autograder.sandbox import (
    OutputBudget,
    Sandbox,
    SandboxDied,
    SandboxTimeout,
    SandboxUnavailable,
    forked,
    open_sandbox,
)
from autograder.sandbox.inside import wire

__all__ = ["ObservedCall", "Remote", "SandboxedExecute", "defined_names", "imported_modules"]

#: how a message names an object the student's function returned (never its class's name)
RETURNED_OBJECT = "the object your function returned"
#: values the arguments after a call may hold beyond those sent (an entry of a dict or list
#: replaced by a small container, say) before they are read as changed without being decoded
_SLACK = 64


class StudentError(AssertionError):
    """The student's function raised, returned something unreadable, or could not be run."""


@dataclass(frozen=True)
class ObservedCall:
    """A call of a student's function: the value and the sandbox's arguments afterwards."""

    value: object
    args_after: list
    kwargs_after: dict


class Remote:
    """A function (or object) of the notebook, living in the sandbox, called from here."""

    remote = True  # autograder.hidden.call recognises remote functions by this

    def __init__(self, runner: _Runner, target, label: str):
        self._runner, self._target, self._label = runner, target, label
        self.__name__ = label

    def __repr__(self) -> str:
        return f"<{self._label} in the sandbox>"

    def __call__(self, *args, **kwargs):
        return self._runner.call(self, args, kwargs, observe=False).value

    def call_observed(self, *args, **kwargs) -> ObservedCall:
        """Call, and also return the sandbox's copies of the arguments after the call."""
        return self._runner.call(self, args, kwargs, observe=True)

    def weights(self) -> tuple[str | None, list]:
        """``(framework, [kernel, bias, ...])`` as the sandbox reports them: evidence only."""
        return self._runner.weights(self)


class _Names(dict):
    """The hidden block's namespace: real builtins, and the notebook's names as remotes.

    Only the names the assignment's own cells define (``graded``) stand for the student's
    objects; any other name the block does not define is the instructor's mistake (NameError).
    """

    def __init__(self, runner, graded: frozenset[str]):
        super().__init__()
        self._runner, self._graded = runner, graded

    def __missing__(self, name):
        if hasattr(builtins, name):  # a student's `len` never replaces Python's
            return getattr(builtins, name)
        if name in self._graded:
            return Remote(self._runner, name, name)
        raise KeyError(name)


def defined_names(notebook) -> frozenset[str]:
    """Top-level names the notebook's code cells (other than test cells) define."""
    import ast

    found: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type != "code" or cells.is_test(cell):
            continue
        try:
            tree = ast.parse(cells.strip_hidden(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    found.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(found)


def imported_modules(notebook) -> tuple[str, ...]:
    """Modules the handed-out notebook's code cells (not test cells, solutions removed) import
    at their top level, in order: what every submission will import, so a fork server can
    import them once (never ``autograder`` or ``coursekit``, never a hint of the solution)."""
    import ast

    found: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or cells.is_test(cell):
            continue
        try:
            tree = ast.parse(cells.strip_solutions(cells.strip_hidden(cell.source)))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return tuple(
        dict.fromkeys(m for m in found if m.split(".")[0] not in ("autograder", "coursekit"))
    )


def prepare_checks(blocks, background: bool = True) -> Callable[[], None]:
    """Import the modules the hidden ``blocks`` import, then, in a background thread, what
    those modules name in ``PREPARE`` (what their expectations import lazily, e.g. the
    data set's scikit-learn), so that it loads while the sandbox starts (failures are left
    for the checks themselves to meet). Call what it returns before any check runs: a module
    two threads import at once can be seen half initialised. Not ``background``: imported
    here and now (a sandbox started with a ``preexec_fn`` must not meet a running thread)."""
    import ast
    import importlib

    names: list[str] = []
    for block in blocks:
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
            elif isinstance(node, ast.Import):
                names += [a.name for a in node.names]
    later: list[str] = []
    for name in dict.fromkeys(names):
        try:
            later += getattr(importlib.import_module(name), "PREPARE", ())
        except Exception:
            continue  # the check meets it itself, as a grader error

    def load():
        for name in dict.fromkeys(later):
            try:
                importlib.import_module(name)
            except Exception:
                pass

    if not background:
        load()
        return lambda: None
    thread = threading.Thread(target=load, name="prepare-checks", daemon=True)
    thread.start()
    return thread.join


class _Runner:
    """One submission's sandbox, restarted (with the earlier cells replayed) after a kill."""

    def __init__(
        self,
        files,
        workdir,
        options: GradingOptions,
        slot: int,
        deadline,
        hide=(),
        preload=(),
        fork_server: str = "",
    ):
        self.files, self.workdir, self.options, self.slot = files, workdir, options, slot
        self.limits = options.sandbox_limits()
        self.hide, self.preload, self.fork_server = list(hide), tuple(preload), fork_server
        self.deadline = deadline
        self.sandbox: Sandbox | None = None
        self.replay: list[str] = []  # cells that ran to their end (with or without an error)
        self.check_deadline = deadline
        self.budget = OutputBudget()  # the notebook's kept output, across restarts

    def _ensure(self) -> Sandbox:
        if self.sandbox is None:
            self.sandbox = open_sandbox(
                self.files,
                self.workdir,
                self.limits,
                self.slot,
                self.hide,
                self.preload,
                self.fork_server,
            )
            self.sandbox.start(timeout=max(1.0, self.deadline - time.monotonic()))
            for code in self.replay:  # (their output was kept the first time)
                left = self.deadline - time.monotonic()
                self.sandbox.request({"op": "run", "code": code}, timeout=max(left, 0.1))
        return self.sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def _request(self, message: dict, timeout: float, callbacks=None, budget=None) -> dict:
        try:
            return self._ensure().request(
                message, timeout=max(timeout, 0.1), callbacks=callbacks, budget=budget
            )
        except (SandboxTimeout, SandboxDied):
            self.close()  # the next request starts a fresh sandbox and replays
            raise

    def run(self, code: str, timeout: float, keep: bool = True) -> dict:
        """Run a cell; its output and error texts are charged to the notebook's budget when
        ``keep`` (else the caller drops them)."""
        budget = self.budget if keep else None
        answer = self._request({"op": "run", "code": code}, timeout, budget=budget)
        self.replay.append(code)
        return answer

    def call(self, remote: Remote, args: tuple, kwargs: dict, observe: bool) -> ObservedCall:
        """Call ``remote``; the arguments after the call are asked for (and decoded) only when
        ``observe``: a plain call never reads them, and an observed one decodes them only if
        they hold no more values than were sent (plus ``_SLACK``), counted before decoding."""
        callbacks: dict = {}
        target = remote._target
        message = {
            "op": "call",
            "target": target if isinstance(target, str) else wire.encode(target),
            "args": wire.encode(_unwrap(list(args)), callbacks=callbacks),
            "kwargs": wire.encode(_unwrap(kwargs), callbacks=callbacks),
            "observe": observe,
        }
        left = self.check_deadline - time.monotonic()
        answer = self._request(message, left, callbacks)
        if not answer.get("ok"):
            error = answer.get("error") or {}
            if error.get("ename") == "ReferenceUsed":
                raise StudentError(
                    f"{remote._label} calls the course's reference implementation (coursekit): "
                    "graded functions must be your own code"
                )
            raise StudentError(f"{remote._label} raised an exception")
        try:
            value = self._plain(wire.decode(answer.get("value")))
            if not observe:
                return ObservedCall(value, [], {})
            raw_after = answer.get("args_after", [])
            most = wire.count_parsed(message["args"], wire.MAX_VALUES) + _SLACK
            if wire.count_parsed(raw_after, most) > most:  # grown past what was sent: changed
                return ObservedCall(value, [], {})  # (read back as nothing: not decoded)
            args_after = wire.decode(raw_after)
            kwargs_after = wire.decode(answer.get("kwargs_after", {"__dict__": {}}))
        except wire.WireError:
            raise StudentError(f"{remote._label} returned something unreadable") from None
        if not isinstance(args_after, list) or not isinstance(kwargs_after, dict):
            raise StudentError(f"{remote._label} returned something unreadable")
        return ObservedCall(value, [self._plain(a) for a in args_after], kwargs_after)

    def weights(self, remote: Remote):
        answer = self._request({"op": "weights", "target": wire.encode(remote._target)}, 60)
        if not answer.get("ok"):
            raise StudentError(f"could not read the weights of {remote._label}")
        try:
            arrays = wire.decode(answer.get("value", []))
        except wire.WireError:
            raise StudentError(f"could not read the weights of {remote._label}") from None
        if not isinstance(arrays, list) or not all(hasattr(a, "shape") for a in arrays):
            raise StudentError(f"could not read the weights of {remote._label}")
        return answer.get("framework"), arrays

    def _plain(self, value):
        """Replace handles (objects left in the sandbox) by :class:`Remote` stand-ins, named
        in fixed words (the class name is the student's text)."""
        if isinstance(value, wire.Handle):
            return Remote(self, value, RETURNED_OBJECT)
        if isinstance(value, list):
            return [self._plain(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._plain(v) for v in value)
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        return value


def _unwrap(value):
    """Objects that live in the sandbox travel back as their handles, not as callbacks."""
    if isinstance(value, Remote) and isinstance(value._target, wire.Handle):
        return value._target
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _error(ename: str, evalue: str) -> dict:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[evalue])


#: the error name written into the graded notebook for each kind that costs points
_ENAME = {
    "failed": FAILED,
    "student_error": FAILED,
    "grader_error": FAILED,
    "timeout": TIMEOUT,
    "memory": MEMORY,
    "crash": DIED,
    "not_run": NOT_RUN,
}


def _seeded(seed: int):
    """The hidden checks' seed for this submission (never through the environment)."""
    from autograder import hidden

    if hasattr(hidden, "seeded"):
        return hidden.seeded(seed)
    return contextlib.nullcontext()  # pragma: no cover - an older hidden package


def _noting():
    """The notes a passing check writes (:func:`autograder.hidden.note`)."""
    from autograder import hidden

    if hasattr(hidden, "noting"):
        return hidden.noting()
    return contextlib.nullcontext([])  # pragma: no cover - an older hidden package


@contextlib.contextmanager
def _unavailable_noted(path: Path):
    """A sandbox that cannot start is the machine's problem: say so where the worker looks."""
    try:
        yield
    except SandboxUnavailable as exc:
        path.write_text(json.dumps({"unavailable": str(exc).splitlines()[0][:250]}))
        raise


def _died(exc: SandboxDied) -> tuple[str, str]:
    """Kind and message of a sandbox that ended, from what the grader saw of it."""
    cause = getattr(exc, "cause", None)
    if cause == "memory":
        return "memory", "the code ran out of memory (the sandbox's limit was reached)"
    if cause == "cpu":
        return "crash", "the code used up its CPU time"
    if cause == "output":
        return "crash", "the code printed more than the output limit"
    return "crash", "the code's process ended during this check (a crash or an exit)"


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
    outcomes_path = Unicode("", help="where the typed outcomes are written (JSON)").tag(config=True)
    hide = List(Unicode(), help="folders to hide even inside the sandbox's allowed ones").tag(
        config=True
    )
    fork_server = Unicode("", help="address of the grading pool's shared zygote, if any").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        if not self.source_dir or not self.outcomes_path:
            raise ValueError("SandboxedExecute needs source_dir and outcomes_path")
        options = GradingOptions.from_json(self.options)
        name = resources.get("nbgrader", {}).get("notebook") or Path(self.source_dir).name
        source = nbformat.read(Path(self.source_dir) / f"{name}.ipynb", as_version=4)
        # the checks come from the instructor's source, never from the submitted notebook
        self._checks = {
            cells.grade_id(c): (cells.hidden_block(c.source), cells.points(c))
            for c in source.cells
            if cells.is_test(c)
        }
        self._graded_names = defined_names(source)
        # joined before the first check: two threads importing one package can see it half made
        self._prepared = prepare_checks(
            (code for code, _ in self._checks.values()), background=forked.in_use()
        )
        self._manual = {
            cells.grade_id(c): cells.points(c) for c in source.cells if cells.is_manual(c)
        }
        self._known = frozenset(cells.grade_id(c) for c in source.cells) - {None, ""}
        self._options = options
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        workdir = folder.parent / ".sandbox"  # beside the graded copy, in the private course
        workdir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + options.notebook_timeout
        preload = imported_modules(source)
        runner = _Runner(
            folder,
            workdir,
            options,
            self.slot,
            deadline,
            list(self.hide),
            preload,
            self.fork_server,
        )
        outcomes: dict[str, CheckOutcome] = {}
        self._notes: list[str] = []  # limits the student's own cells hit, in words
        checked = False  # once a check has run, later cells' output is not kept
        try:
            with _seeded(self.seed), _unavailable_noted(Path(self.outcomes_path)):
                for cell in nb.cells:
                    if cell.cell_type != "code":
                        continue
                    grade_id = cells.grade_id(cell)
                    if cells.is_test(cell):
                        outcome = self._decide(grade_id, runner, deadline)
                        outcomes[grade_id] = outcome
                        cell.outputs = self._outputs(outcome)
                        checked = True
                    elif time.monotonic() >= deadline:
                        cell.outputs = []
                    else:
                        cell.outputs = self._run(cell, runner, grade_id, keep_output=not checked)
        finally:
            runner.close()
        for grade_id, possible in self._manual.items():
            outcomes[grade_id] = CheckOutcome(grade_id, 0.0, possible, "pending")
        for grade_id, (_, possible) in self._checks.items():
            if grade_id not in outcomes:  # the notebook lost the cell: repair puts it back
                outcomes[grade_id] = CheckOutcome(
                    grade_id, 0.0, possible, "not_run", "this check's cell was not found"
                )
        written = {"outcomes": [asdict(o) for o in outcomes.values()], "notes": self._notes}
        Path(self.outcomes_path).write_text(json.dumps(written))
        return nb, resources

    @staticmethod
    def _outputs(outcome: CheckOutcome) -> list:
        if outcome.kind == "passed":
            return []
        return [_error(_ENAME[outcome.kind], outcome.message)]

    def _run(self, cell, runner: _Runner, grade_id, keep_output: bool) -> list:
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
            self._notes.append(f"timeout: {where} ({message})")
            return [_error(TIMEOUT, message)]
        except SandboxDied as exc:
            kind, message = _died(exc)
            self._notes.append(
                f"{'memory limit' if kind == 'memory' else kind}: {where} ({message})"
            )
            return [_error(DIED, message)]
        if not keep_output:
            return []
        outputs = []
        if answer.get("stdout"):
            text = str(answer["stdout"])
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))
        error = answer.get("error")
        if error:
            outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename=str(error.get("ename", "Error"))[:80],
                    evalue=str(error.get("evalue", ""))[:2000],
                    traceback=str(error.get("traceback", "")).splitlines()[-50:],
                )
            )
        return outputs

    def _decide(self, grade_id: str, runner: _Runner, deadline: float) -> CheckOutcome:
        """Run one check's hidden block here; its outcome, from what the grader observed."""
        if grade_id not in self._checks:
            return CheckOutcome(
                str(grade_id), 0.0, 0.0, "grader_error", "not a check of this assignment"
            )
        code, possible = self._checks[grade_id]
        self._prepared()

        def outcome(kind: str, message: str = "") -> CheckOutcome:
            earned = possible if kind == "passed" else 0.0
            return CheckOutcome(grade_id, earned, possible, kind, message)

        limit = self._options.cell_timeout
        if time.monotonic() >= deadline:
            limit_s = self._options.notebook_timeout
            return outcome("not_run", f"the notebook's time limit ({limit_s} s) ran out")
        notebook_binds = deadline < time.monotonic() + limit
        runner.check_deadline = min(deadline, time.monotonic() + limit)
        try:
            compiled = compile(code, f"<hidden check {grade_id}>", "exec")
            with _noting() as notes:  # what a passing check tells the student (hidden.note)
                exec(compiled, {"__builtins__": builtins}, _Names(runner, self._graded_names))
        except SandboxTimeout:
            if notebook_binds:
                limit_s = self._options.notebook_timeout
                return outcome("timeout", f"the notebook's time limit ({limit_s} s) ran out")
            return outcome("timeout", f"this check ran longer than {limit} s")
        except SandboxDied as exc:
            return outcome(*_died(exc))
        except SandboxUnavailable:
            raise  # the machine's problem: this student is reported failed, not scored 0
        except StudentError as exc:
            return outcome("student_error", str(exc))
        except AssertionError as exc:  # the check's own message: written to show students
            return outcome("failed", str(exc) or "the check failed")
        except Exception as exc:  # the instructor's code broke: never the student's fault
            return outcome(
                "grader_error",
                f"the check {grade_id} itself failed ({type(exc).__name__}: {exc})"[:300],
            )
        return outcome("passed", "; ".join(notes)[:300])
