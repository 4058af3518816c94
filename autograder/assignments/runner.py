"""What every generated ``coursecheck.py`` holds besides its checks (numpy only).

``release`` builds each assignment's ``coursecheck.py`` from :mod:`~autograder.assignments.rules`,
this module and the assignment's own ``visible.py`` (:mod:`autograder.assignments.generate`);
it imports nothing of the instructor's. Here: registering a visible check (:func:`check`),
calling the student's code (:func:`call`: the student's line and a hint when it raises, the
reference guard, inputs that must not change), the session's summary (:func:`summary`), and
running the notebook as last saved in a fresh kernel (:func:`run_notebook`, :func:`main`).
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import os
import re
import sys
import sysconfig
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from autograder.assignments.rules import (
    CheckFailed,
    changed,
    private,
    reference_guard,
)

__all__ = [
    "CHECKS",
    "ErrorInYourCode",
    "Outcome",
    "Report",
    "call",
    "check",
    "check_saved",
    "lessons",
    "main",
    "run_notebook",
    "summary",
]

HERE = Path(__file__).resolve()
#: The book's lessons the registered checks point at, by page name (:func:`lessons`).
LESSONS: dict[str, str] = {}
#: The files of the checks themselves: never "your code" in a traceback.
_OURS = {str(HERE), private.__code__.co_filename}


class ErrorInYourCode(Exception):
    """Your function raised an exception; the message shows your line and a hint."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Check:
    """One visible check: the test cell it belongs to and the lesson section it teaches."""

    assignment: str
    grade_id: str
    lesson: str  # "page#anchor", as the cell's ``autograder`` metadata
    section: str  # the section's title, in words
    run: object  # the check, called with the student's functions

    def revisit(self) -> str:
        page = self.lesson.partition("#")[0]
        return f"Revisit {LESSONS.get(page, page)}, section “{self.section}”."


#: assignment -> its visible checks, in notebook order.
CHECKS: dict[str, list[Check]] = {}
# (assignment, grade_id) -> (failure message or None, {name: code of each function checked})
_OUTCOMES: dict[tuple[str, str], tuple[str | None, dict]] = {}


def lessons(pages: dict[str, str]) -> None:
    """Name the book's pages an assignment's checks point at: ``{page: "lesson N, Title"}``."""
    LESSONS.update(pages)


def check(assignment: str, grade_id: str, lesson: str, section: str):
    """Register a visible check; record its outcome and add the lesson pointer to a failure."""

    def decorate(body):
        _OURS.add(body.__code__.co_filename)

        @functools.wraps(body)
        def run(*functions):
            codes = {getattr(f, "__name__", "?"): getattr(f, "__code__", None) for f in functions}
            try:
                body(*functions)
            except (CheckFailed, ErrorInYourCode) as exc:
                message = f"{exc}\n{registered.revisit()}"
                _OUTCOMES[assignment, grade_id] = (message, codes)
                raise type(exc)(message) from None
            _OUTCOMES[assignment, grade_id] = (None, codes)
            print(f"✓ {grade_id}: the visible checks pass (hidden checks run at grading)")

        registered = Check(assignment, grade_id, lesson, section, run)
        CHECKS.setdefault(assignment, []).append(registered)
        return run

    return decorate


# -- calling the student's code ---------------------------------------------------------------

_LIBRARIES = tuple(
    {
        str(Path(p).resolve())
        for k, p in sysconfig.get_paths().items()
        if k in ("stdlib", "purelib", "platlib")
    }
)


def _your_frame(tb) -> str:
    """``in NAME, cell In[5], line 3: CODE`` for the deepest frame of the student's code."""
    frames = [
        f
        for f in traceback.extract_tb(tb)
        if f.filename not in _OURS and not str(Path(f.filename).resolve()).startswith(_LIBRARIES)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    where = Path(frame.filename).name
    shell = _ipython()
    label = shell.compile.format_code_name(frame.filename) if shell is not None else None
    if label:
        where = f"{label[0].lower()} {label[1]}"
    code = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    return f"in {frame.name}, {where}, line {frame.lineno}: {code}"


def _ipython():
    ipython = sys.modules.get("IPython")  # only when running inside IPython or Jupyter
    return ipython.get_ipython() if ipython is not None else None


def _hint(exc: BaseException, hints: dict) -> str:
    text = str(exc)
    if isinstance(exc, NotImplementedError):
        return "not written yet: replace `raise NotImplementedError()` with your code"
    if isinstance(exc, ModuleNotFoundError | ImportError):
        return hints.get("import", "graded functions use numpy only: no coursekit, no scikit-learn")
    if isinstance(exc, KeyError):
        return hints.get("keys", "a dict has no such key: check the keys the text above names")
    if isinstance(exc, ZeroDivisionError):
        return hints.get("zero", "a denominator is 0 here: the text above says what to return")
    if isinstance(exc, TypeError) and "argument" in text:
        return hints.get("signature", "check the function's signature in the text above")
    shape_words = ("shape", "broadcast", "matmul", "dimension", "aligned", "index")
    if isinstance(exc, ValueError | IndexError) and any(w in text for w in shape_words):
        return hints.get("shapes", "check the shapes of the arrays on that line")
    return hints.get("other", "read your line above: what does it get, what should it compute?")


#: What to do instead of modifying an input (every assignment).
MODIFIED = "work on a copy (x = x.copy()) or build new arrays (x * mask, not x *= mask)"


def _parameters(fn, n: int) -> list[str]:
    """The names of ``fn``'s first ``n`` parameters (``argument 1``, ... where unknown)."""
    code = getattr(fn, "__code__", None)
    names = list(code.co_varnames[: code.co_argcount]) if code is not None else []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def call(name: str, fn, *args, hints: dict | None = None, guard: bool = True):
    """Call the student's ``fn``; an exception becomes ErrorInYourCode with the line and a hint.

    The call runs under the reference guard (unless ``guard`` is off: a framework's model), and
    is checked for modified inputs (the assignments say no function may modify its inputs):
    the arrays, lists and dicts it was given must hold their values afterwards. The hint
    ``modified`` says what to do instead: words, or a function of the largest change.
    """
    if not callable(fn):
        raise CheckFailed(f"{name} must be a function, got {type(fn).__name__}")
    hints = hints or {}
    before = [private(a) for a in args]
    try:
        with reference_guard(name) if guard else contextlib.nullcontext():
            value = fn(*args)
    except CheckFailed:
        raise
    except Exception as exc:  # the student's code failed: say where and why
        where = _your_frame(exc.__traceback__)
        lines = [f"{name} raised {type(exc).__name__}" + (f": {exc}" if str(exc) else "")]
        if where:
            lines.append(f"  {where}")
        lines.append(f"  hint: {_hint(exc, hints)}")
        raise ErrorInYourCode("\n".join(lines)) from None
    for arg, now, then in zip(_parameters(fn, len(args)), args, before, strict=True):
        found = changed(now, then, arg, show=True)
        if found:
            _, what, largest = found
            advice = hints.get("modified")
            advice = advice(largest) if callable(advice) else advice
            raise CheckFailed(
                f"{name} must not modify {arg} in place: {what}. Inputs must not change: "
                + (advice or MODIFIED)
            )
    return value


# -- in the notebook: what passed in this session --------------------------------------------


def _status(
    assignment: str, namespace: dict, history: list[str] | None = None
) -> list[tuple[str, str | None]]:
    """(grade_id, None if passed else why) for each check of ``assignment``, in order.

    ``history``: the cells run in this kernel, oldest first (IPython's ``In``). A function
    whose latest defining cell does not compile is reported with its error, whether or not
    its check ran (an older definition may have passed; the saved notebook will not run).
    """
    history = _history() if history is None else history
    rows = []
    for registered in CHECKS[assignment]:
        body = getattr(registered.run, "__wrapped__", registered.run).__code__
        needs = body.co_varnames[: body.co_argcount]
        broken = [why for why in (_broken(name, namespace, history) for name in needs) if why]
        outcome = _OUTCOMES.get((assignment, registered.grade_id))
        if broken:
            rows.append((registered.grade_id, broken[0]))
            continue
        if outcome is None:
            rows.append((registered.grade_id, "not run yet: run its cell"))
            continue
        message, codes = outcome
        stale = [
            name
            for name, code in codes.items()
            if code is not None and getattr(namespace.get(name), "__code__", code) is not code
        ]
        if stale:
            rows.append(
                (registered.grade_id, f"{stale[0]} changed since: run this check's cell again")
            )
        else:
            rows.append((registered.grade_id, message and message.splitlines()[0]))
    return rows


def _history() -> list[str]:
    """The cells run in this kernel, oldest first (empty outside IPython)."""
    shell = _ipython()
    cells = shell.user_ns.get("In", []) if shell is not None else []
    return [c for c in cells if isinstance(c, str)]


def _broken(name: str, namespace: dict, history: list[str]) -> str | None:
    """Why ``name`` cannot be checked: its latest defining cell has a SyntaxError, or it is
    not defined at all; None when it is defined by a cell that compiles."""
    defines = re.compile(rf"^\s*(def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*=", re.M)
    for source in reversed(history):
        if defines.search(source):
            try:
                compile(_python(source), "<cell>", "exec")
            except SyntaxError as exc:
                line = (exc.text or "").strip()
                return (
                    f"the cell defining {name} has a SyntaxError at its line {exc.lineno}: "
                    f"{line} ({exc.msg}): fix it and run that cell, then this check's cell"
                )
            break
    if name not in namespace:
        return f"{name} is not defined: run the cell that defines it, then this check's cell"
    return None


def _python(source: str) -> str:
    """A cell's source as Python (IPython's magics and ! lines transformed), if in IPython."""
    shell = _ipython()
    return shell.transform_cell(source) if shell is not None else source


def summary(assignment: str) -> bool:
    """Print which visible checks of ``assignment`` passed in this session; True if all did.

    Checks run in this kernel count; a function redefined after its check ran counts as not
    checked. For the notebook as it will be graded (saved, in a fresh kernel), run
    ``python coursecheck.py NOTEBOOK`` from a terminal.
    """
    if assignment not in CHECKS:
        raise ValueError(f"assignment must be one of {sorted(CHECKS)}, got {assignment!r}")
    namespace = sys._getframe(1).f_globals
    rows = _status(assignment, namespace)
    for grade_id, why in rows:
        print(f"✓ {grade_id}" if why is None else f"✗ {grade_id}: {why}")
    passed = sum(why is None for _, why in rows)
    print(_verdict(passed, len(rows)))
    return passed == len(rows)


def _verdict(passed: int, total: int) -> str:
    if passed == total:
        return f"all {total} visible checks passed; hidden checks run at grading"
    return (
        f"{passed} of {total} visible checks passed; fix what is marked ✗ and run again "
        "(hidden checks run at grading)"
    )


# -- from a terminal: the notebook as last saved, in a fresh kernel --------------------------


class Outcome(NamedTuple):
    """One visible check of a notebook run: its cell's grade id, points, and why it failed."""

    grade_id: str
    points: float
    passed: bool
    message: str  # empty when passed


@dataclass
class Report:
    """The visible checks of one notebook run, in notebook order."""

    notebook: str
    checks: list[Outcome]
    problems: list[str]  # errors in the notebook's other cells (answers, set-up)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def report(self) -> str:
        lines = [f"{self.notebook}: visible checks"]
        lines += [f"! {p}" for p in self.problems]
        for c in self.checks:
            head = f"{'✓' if c.passed else '✗'} {c.grade_id} ({c.points:g} points)"
            lines.append(head if c.passed else f"{head}:\n    " + c.message.replace("\n", "\n    "))
        lines.append(_verdict(sum(c.passed for c in self.checks), len(self.checks)))
        return "\n".join(lines)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _is_check(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _error(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("ename", "Error"), _ANSI.sub("", str(output.get("evalue", "")))
    return None


def run_notebook(
    notebook: str | Path, timeout: int = 120, checks: str | Path | None = None
) -> Report:
    """Run ``notebook`` in a fresh kernel, in its own folder; report each visible check.

    The kernel finds ``coursecheck`` in ``checks`` (a folder; by default this file's own), even
    when it does not sit beside the notebook. Nothing the kernel or Jupyter prints (start-up
    and transport warnings) reaches the terminal; the kernel's own error output is shown only
    if it fails to start.
    """
    import tempfile
    import warnings

    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        raise RuntimeError(
            "running a notebook needs nbformat, nbclient and ipykernel (they come with "
            "Jupyter): pip install nbformat nbclient ipykernel"
        ) from None
    path = Path(notebook).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nb = nbformat.read(path, as_version=4)
    if not any(_is_check(c) for c in nb.cells):
        raise ValueError(
            f"{path.name} has no check cells (cells with nbgrader metadata): is it the "
            "assignment's notebook?"
        )
    env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    env[_RUNNING] = "1"  # a check_saved() cell inside the run does not start another run
    folder = str(checks or HERE.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (folder, env.get("PYTHONPATH")) if p)
    env.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,  # a cell over the limit is stopped; the others still run
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    with tempfile.TemporaryFile("w+") as stderr, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            client.execute(env=env, stderr=stderr, stdout=stderr)
        except Exception as exc:  # the kernel did not start or died: show what it said
            stderr.seek(0)
            said = stderr.read().strip()[-2000:]
            raise RuntimeError(
                f"the notebook could not be run ({type(exc).__name__}: {exc})"
                + (f"\nthe kernel said:\n{said}" if said else "")
            ) from None
    checks_run, problems, first_problem = [], [], None
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        error = _error(cell)
        if not _is_check(cell):
            if error:
                where = f"cell {index + 1}" + (
                    f" ({meta['grade_id']})" if meta.get("grade_id") else ""
                )
                problems.append(
                    f"{where} raised {error[0]}: {error[1].splitlines()[0] if error[1] else ''}"
                )
                first_problem = first_problem or problems[-1]
            continue
        if error is None:
            message = ""
        elif error[0] in ("CheckFailed", "ErrorInYourCode"):
            message = error[1]
        elif error[0] == "KeyboardInterrupt":
            message = f"this cell ran longer than {timeout} s and was stopped (an endless loop?)"
        elif error[0] == "NameError" and first_problem:
            message = f"{error[0]}: {error[1]} (an earlier cell failed: {first_problem})"
        else:
            message = f"{error[0]}: {error[1]}"
        checks_run.append(
            Outcome(
                meta.get("grade_id", f"cell {index + 1}"),
                float(meta.get("points", 0)),
                error is None,
                message,
            )
        )
    return Report(path.name, checks_run, problems)


_RUNNING = "COURSECHECK_RUNNING"


def check_saved(notebook: str | Path | None = None, timeout: int = 120) -> bool | None:
    """From a notebook cell: run this notebook *as last saved* in a fresh kernel, print each check.

    Jupyter and JupyterLab tell the kernel its notebook's path (``JPY_SESSION_NAME``); in
    Colab, VS Code or a console pass it: ``check_saved("/content/drive/MyDrive/a2.ipynb")``.
    Inside such a run it does nothing (returns None), so the cell may stay in the notebook.
    """
    if os.environ.get(_RUNNING):
        return None
    path = notebook or os.environ.get("JPY_SESSION_NAME")
    if not path:
        raise ValueError(
            "cannot tell which notebook this is (Colab and VS Code do not say): "
            "call check_saved('path/to/your_notebook.ipynb')"
        )
    report = run_notebook(path, timeout=timeout)
    print(report.report())
    return report.passed


def main(argv: list[str] | None = None) -> int:
    """``python coursecheck.py NOTEBOOK [--timeout S]``: 0 all passed, 1 a check failed, 2 error."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python coursecheck.py",
        description="Run an assignment notebook's visible checks, as last saved, in a fresh kernel.",
        epilog=f"example: python coursecheck.py {next(iter(CHECKS), 'a2_backprop')}.ipynb",
    )
    parser.add_argument("notebook", type=Path, help="the assignment notebook (.ipynb)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    args = parser.parse_args(argv)
    try:
        report = run_notebook(args.notebook, timeout=args.timeout)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.report())
    return 0 if report.passed else 1
