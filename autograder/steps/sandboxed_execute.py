"""Preprocessor: run a submission in a sandbox and decide every verdict outside it.

Replaces nbgrader's ``Execute`` in the autograde pipeline. Student code never runs in the
grader's process, and no test code, hidden input's expectation or verdict runs in the
student's:

- every code cell that is *not* a test cell (solution cells, the locked set-up cells nbgrader
  has restored from the source) runs, in order, in one :class:`~autograder.sandbox.Sandbox`;
  its printed output and error become the cell's outputs;
- every test cell is decided here, in the trusted grader: its ``### BEGIN HIDDEN TESTS``
  block runs with each name the notebook defined (``confusion_counts``, ...) standing for a
  :class:`Remote` function; calling it sends the arguments to the sandbox and returns the
  plain values the student's function returned (:mod:`autograder.sandbox.wire`). The hidden
  checks compare those with expectations computed here. The cell's outputs become nothing
  (passed) or one error naming what was wrong (failed), which nbgrader's ``SaveAutoGrades``
  then scores. The visible asserts are for students (``autograder check``); they do not decide
  grades.

So a verdict depends only on the values the graded functions return: patching numpy, builtins,
IPython or the harness inside the sandbox changes nothing here.

Limits: a cell or a check that runs longer than ``cell_timeout`` is stopped (the sandbox is
killed, restarted and the earlier cells replayed) and scores 0 with the reason named; so is a
crash (``os._exit``, a signal, a resource limit). The whole notebook has ``notebook_timeout``
seconds; what is left when it runs out is not run and scores 0.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Int, List, Unicode

from autograder.sandbox import (
    Limits,
    Sandbox,
    SandboxDied,
    SandboxTimeout,
    SandboxUnavailable,
    wire,
)
from autograder.steps import DIED, FAILED, MEMORY, NOT_RUN, TIMEOUT

__all__ = ["Remote", "SandboxedExecute", "hidden_block"]

_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def hidden_block(source: str) -> str:
    """The code of a test cell's hidden region (empty when it has none)."""
    return "\n".join(match.group(1) for match in _HIDDEN.finditer(source))


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def _error(ename: str, evalue: str) -> dict:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[evalue])


class StudentError(AssertionError):
    """The student's function raised, returned something unreadable, or could not be run."""


class OutOfMemory(StudentError):
    """The student's function hit the sandbox's memory limit."""


class Remote:
    """A function (or object) of the notebook, living in the sandbox, called from here."""

    remote = True  # autograder.hidden.call recognises remote functions by this

    def __init__(self, runner: _Runner, target, label: str):
        self._runner, self._target, self._label = runner, target, label
        self.__name__ = label

    def __repr__(self) -> str:
        return f"<{self._label} in the sandbox>"

    def __call__(self, *args, **kwargs):
        return self._runner.call(self, args, kwargs)

    def weights(self) -> tuple[str | None, list]:
        """``(framework, [kernel, bias, ...])`` of a Keras or PyTorch model in the sandbox."""
        return self._runner.weights(self)


class _Names(dict):
    """The hidden block's namespace: a name it does not define is the notebook's."""

    def __init__(self, runner):
        super().__init__()
        self._runner = runner

    def __missing__(self, name):
        if name.startswith("__"):
            raise KeyError(name)
        return Remote(self._runner, name, name)


class _Runner:
    """One submission's sandbox, restarted (with the earlier cells replayed) after a kill."""

    def __init__(self, files, workdir, limits: Limits, slot: int, deadline: float, hide=()):
        self.files, self.workdir, self.limits, self.slot = files, workdir, limits, slot
        self.hide = list(hide)
        self.deadline = deadline
        self.sandbox: Sandbox | None = None
        self.replay: list[str] = []  # cells that ran to their end (with or without an error)
        self.check_deadline = deadline

    def _ensure(self) -> Sandbox:
        if self.sandbox is None:
            self.sandbox = Sandbox(self.files, self.workdir, self.limits, self.slot, self.hide)
            self.sandbox.start(timeout=max(1.0, self.deadline - time.monotonic()))
            for code in self.replay:
                left = self.deadline - time.monotonic()
                self.sandbox.request({"op": "run", "code": code}, timeout=max(left, 0.1))
        return self.sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def _request(self, message: dict, timeout: float, callbacks=None) -> dict:
        try:
            return self._ensure().request(message, timeout=max(timeout, 0.1), callbacks=callbacks)
        except (SandboxTimeout, SandboxDied):
            self.close()  # the next request starts a fresh sandbox and replays
            raise

    def run(self, code: str, timeout: float) -> dict:
        answer = self._request({"op": "run", "code": code}, timeout)
        self.replay.append(code)
        return answer

    def call(self, remote: Remote, args: tuple, kwargs: dict):
        callbacks: dict = {}
        target = remote._target
        message = {
            "op": "call",
            "target": target if isinstance(target, str) else wire.encode(target),
            "args": wire.encode(_unwrap(list(args)), callbacks=callbacks),
            "kwargs": wire.encode(_unwrap(kwargs), callbacks=callbacks),
        }
        left = self.check_deadline - time.monotonic()
        answer = self._request(message, left, callbacks)
        if not answer.get("ok"):
            error = answer.get("error") or {}
            ename, evalue = str(error.get("ename", "Error")), str(error.get("evalue", ""))
            if ename == "ReferenceUsed":
                raise StudentError(f"{remote._label} {evalue[:300]}: this check scores 0")
            if ename == "MemoryError":
                raise OutOfMemory(
                    f"{remote._label} ran out of memory (the limit is {self.limits.memory_mb} MB)"
                )
            raise StudentError(f"{remote._label} raised {ename[:80]}: {evalue[:300]}")
        try:
            value = self._plain(wire.decode(answer.get("value")))
            _write_back(list(args), wire.decode(answer.get("args_after", [])))
            _write_back(kwargs, wire.decode(answer.get("kwargs_after", {"__dict__": {}})))
        except (wire.WireError, ValueError, TypeError, KeyError) as exc:
            raise StudentError(f"{remote._label} returned something unreadable: {exc}") from None
        return value

    def weights(self, remote: Remote):
        answer = self._request({"op": "weights", "target": wire.encode(remote._target)}, 60)
        if not answer.get("ok"):
            raise StudentError(f"could not read the weights of {remote._label}")
        arrays = wire.decode(answer.get("value", []))
        if not isinstance(arrays, list) or not all(hasattr(a, "shape") for a in arrays):
            raise StudentError(f"could not read the weights of {remote._label}")
        return answer.get("framework"), arrays

    def _plain(self, value):
        """Replace handles (objects left in the sandbox) by :class:`Remote` stand-ins."""
        if isinstance(value, wire.Handle):
            return Remote(self, value, f"a {value.type_name}")
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


def _write_back(before, after) -> None:
    """Apply a call's in-place changes (the sandbox's copies of the arguments) to ours."""
    import numpy as np

    if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
        if before.shape == after.shape and before.flags.writeable:
            before[...] = after
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in before:
            if key in after:
                if isinstance(before[key], (np.ndarray, dict, list)):
                    _write_back(before[key], after[key])
                else:
                    before[key] = after[key]
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            if isinstance(b, (np.ndarray, dict, list)):
                _write_back(b, a)
            else:
                before[i] = a


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader step: sandboxed execution of the submission, trusted verdicts (see module)."""

    cell_timeout = Int(60, help="seconds for one cell or one check").tag(config=True)
    notebook_timeout = Int(600, help="seconds for the whole notebook").tag(config=True)
    slot = Int(0, help="which parallel job this is (picks the sandbox uid)").tag(config=True)
    memory_mb = Int(Limits.memory_mb).tag(config=True)
    cpu_s = Int(Limits.cpu_s).tag(config=True)
    processes = Int(Limits.processes).tag(config=True)
    source_dir = Unicode(
        "", help="the assignment's source folder: the only place hidden tests are read from"
    ).tag(config=True)
    hide = List(Unicode(), help="folders to hide even inside the sandbox's allowed ones").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        if not self.source_dir:
            raise ValueError("SandboxedExecute.source_dir must name the assignment's source")
        name = resources.get("nbgrader", {}).get("notebook") or Path(self.source_dir).name
        source = nbformat.read(Path(self.source_dir) / f"{name}.ipynb", as_version=4)
        # the checks come from the instructor's source, never from the submitted notebook
        self._checks = {
            c.metadata["nbgrader"]["grade_id"]: hidden_block(c.source)
            for c in source.cells
            if _is_test(c)
        }
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        workdir = folder.parent / ".sandbox"  # beside the graded copy, in the private course
        workdir.mkdir(parents=True, exist_ok=True)
        limits = Limits(memory_mb=self.memory_mb, cpu_s=self.cpu_s, processes=self.processes)
        deadline = time.monotonic() + self.notebook_timeout
        runner = _Runner(folder, workdir, limits, self.slot, deadline, list(self.hide))
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                if time.monotonic() >= deadline:
                    message = (
                        f"not run: the notebook's time limit ({self.notebook_timeout} s) ran out"
                    )
                    cell.outputs = [_error(NOT_RUN, message)]
                elif _is_test(cell):
                    cell.outputs = self._verdict(cell, runner)
                else:
                    cell.outputs = self._run(cell, runner)
        finally:
            runner.close()
        return nb, resources

    def _run(self, cell, runner: _Runner) -> list:
        left = runner.deadline - time.monotonic()
        try:
            answer = runner.run(cell.source, min(self.cell_timeout, left))
        except SandboxTimeout:
            if left < self.cell_timeout:
                limit = f"the notebook's time limit ({self.notebook_timeout} s) ran out"
                return [_error(TIMEOUT, f"{limit} during this cell")]
            return [_error(TIMEOUT, f"this cell ran longer than {self.cell_timeout} s")]
        except SandboxDied as exc:
            return [_error(DIED, str(exc))]
        outputs = []
        if answer.get("stdout"):
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=answer["stdout"]))
        error = answer.get("error")
        if error:
            trace = str(error.get("traceback", "")).splitlines()
            outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename=str(error.get("ename", "Error")),
                    evalue=str(error.get("evalue", "")),
                    traceback=trace,
                )
            )
        return outputs

    def _verdict(self, cell, runner: _Runner) -> list:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in self._checks:
            return [_error(FAILED, f"{grade_id!r} is not a check of this assignment")]
        code = self._checks[grade_id]
        runner.check_deadline = min(runner.deadline, time.monotonic() + self.cell_timeout)
        try:
            exec(
                compile(code, "<hidden test>", "exec"),
                {"__builtins__": __builtins__},
                _Names(runner),
            )
        except SandboxTimeout:
            return [_error(TIMEOUT, f"this check ran longer than {self.cell_timeout} s")]
        except SandboxDied as exc:
            return [_error(DIED, str(exc))]
        except OutOfMemory as exc:
            return [_error(MEMORY, str(exc))]
        except SandboxUnavailable:
            raise  # the machine's problem: this student is reported failed, not scored 0
        except AssertionError as exc:  # the check's own message: written to show students
            return [_error(FAILED, str(exc) or "the check failed")]
        except Exception as exc:  # a check that broke on what it was given
            return [
                _error(
                    FAILED,
                    f"the check could not use what your code returned ({type(exc).__name__})",
                )
            ]
        return []
