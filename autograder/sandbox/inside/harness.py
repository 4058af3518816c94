"""The program that runs a submission inside the sandbox (``python -I /harness/harness.py``).

It is the sandbox's one process at start, besides the small init that started it (``enter.py``,
PID 1); it talks to the grader over two file descriptors (requests in, answers out), named on
its command line or passed to :func:`main` by the fork server (``zygote.py``, which imported
this module and the assignment's libraries before any submission ran), in :mod:`wire`
messages:

- ``{"op": "run", "code": ...}``: run one notebook cell (IPython syntax) in the notebook's
  namespace; answer its printed output and, if it raised, the error;
- ``{"op": "call", "target": name or handle, "args": [...], "kwargs": {...}}``: call a function
  the notebook defined; answer the value it returns, and the arguments as they are after the
  call when ``"observe"`` is set (so the grader sees in-place changes). While it runs, the function may call back
  functions the grader passed (``{"op": "callback"}`` / ``{"op": "return"}``);
- ``{"op": "weights", "target": handle}``: the weight arrays of a Keras or PyTorch model.

Everything here is *untrusted* from the grader's point of view: the submission can change any
of it. The grader therefore only ever trusts the values this process sends, decoded as plain
data, and decides every verdict itself. ``coursekit`` (the reference implementation) and
``autograder`` are replaced by stand-ins here: calling the reference raises ``ReferenceUsed``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import os
import sys
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves it out
import models  # /harness/models.py, beside this file
import wire  # /harness/wire.py

MAX_OUTPUT = 100_000  # characters of printed output kept per cell (to keep answers small:
# the grader cuts again where it receives them, whatever this says)


class ReferenceUsed(Exception):
    """A graded function called the course's reference implementation."""


class _Capped(io.TextIOBase):
    """A text stream that keeps the first ``MAX_OUTPUT`` characters written to it."""

    def __init__(self):
        self.parts, self.size, self.cut = [], 0, False

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = MAX_OUTPUT - self.size
        if len(text) > room:
            text, self.cut = text[: max(room, 0)], True
        self.parts.append(text)
        self.size += len(text)
        return len(text)

    def value(self):
        return "".join(self.parts) + ("\n[output cut at 100,000 characters]" if self.cut else "")


# -- stand-ins for the course's own packages --------------------------------------------------


def _refuse(qualname):
    def stand_in(*args, **kwargs):
        raise ReferenceUsed(
            f"calls the course's reference implementation ({qualname}); "
            "graded functions must be your own code"
        )

    stand_in.__name__ = stand_in.__qualname__ = qualname.rsplit(".", 1)[-1]
    return stand_in


class _StandIn(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _refuse(f"{self.__name__}.{name}")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``coursekit`` and ``autograder`` resolve to stand-ins, whatever is on disk."""

    roots = ("coursekit", "autograder")

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StandIn(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


# -- the channel ------------------------------------------------------------------------------

_requests = _answers = None  # the channel's two ends, set by main()
_handles: dict = {}
_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _error(exc) -> dict:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    keep = [line for line in lines if "/harness/" not in line and _HERE not in line]
    return {
        "ename": type(exc).__name__,
        "evalue": str(exc)[:2000],
        "traceback": "".join(keep)[-5000:],
    }


def _callback(ref):
    def grader_function(*args, **kwargs):
        wire.write_message(
            _answers,
            {
                "op": "callback",
                "ref": ref,
                "args": wire.encode(list(args), _handles),
                "kwargs": wire.encode(kwargs, _handles),
            },
        )
        reply = wire.read_message(_requests)
        if reply.get("op") != "return":
            raise RuntimeError(str(reply.get("message", "the grader's function failed")))
        return wire.decode(reply["value"], _handles)

    return grader_function


def _run(shell, code) -> dict:
    out = _Capped()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        result = shell.run_cell(code, store_history=False, silent=False)
    finally:
        sys.stdout, sys.stderr = saved
    exc = result.error_before_exec or result.error_in_exec
    return {"ok": exc is None, "stdout": out.value(), "error": _error(exc) if exc else None}


def _target(shell, target):
    if isinstance(target, str):
        if target not in shell.user_ns:
            raise NameError(f"name {target!r} is not defined")
        return shell.user_ns[target]
    return wire.decode(target, _handles)


def _call(shell, request) -> dict:
    out = _Capped()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        fn = _target(shell, request["target"])
        args = wire.decode(request.get("args", []), _handles, callback=_callback)
        kwargs = wire.decode(request.get("kwargs", {"__dict__": {}}), _handles, callback=_callback)
        value = fn(*args, **kwargs)
        answer = {"ok": True, "value": wire.encode(value, _handles)}
        if request.get("observe"):  # only a check that looks at the arguments asks for them
            answer["args_after"] = wire.encode(list(args), _handles)
            answer["kwargs_after"] = wire.encode(kwargs, _handles)
        return answer
    except BaseException as exc:  # the student's exception is the answer, not the harness's end
        return {"ok": False, "error": _error(exc)}
    finally:
        sys.stdout, sys.stderr = saved


def _weights(request) -> dict:
    framework, arrays = models.dense_weights(wire.decode(request["target"], _handles))
    return {"ok": True, "framework": framework, "value": wire.encode(arrays)}


def preload() -> None:
    """Import what :func:`main` needs (the fork server calls this once, before any fork)."""
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401
    from traitlets.config import Config  # noqa: F401


def main(requests_fd: int, answers_fd: int) -> None:
    """Serve requests on the channel until the grader closes it."""
    global _requests, _answers
    _requests = os.fdopen(requests_fd, "rb")
    _answers = os.fdopen(answers_fd, "wb")
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.meta_path.insert(0, _StandInFinder())
    for name in [m for m in sys.modules if m.split(".")[0] in _StandInFinder.roots]:
        del sys.modules[name]
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    shell = InteractiveShell.instance(config=config)
    shell.showtraceback = lambda *a, **k: None  # the error goes back in the answer instead
    sys.path.insert(0, os.getcwd())  # the submission's own files, as in a notebook
    wire.write_message(_answers, {"ok": True, "ready": True})
    while True:
        try:
            request = wire.read_message(_requests)
        except EOFError:
            return
        op = request.get("op")
        if op == "run":
            answer = _run(shell, str(request.get("code", "")))
        elif op == "call":
            answer = _call(shell, request)
        elif op == "weights":
            try:
                answer = _weights(request)
            except Exception as exc:
                answer = {"ok": False, "error": _error(exc)}
        else:
            answer = {"ok": False, "error": {"ename": "ValueError", "evalue": f"unknown op {op}"}}
        try:
            wire.write_message(_answers, answer)
        except wire.WireError as exc:
            wire.write_message(_answers, {"ok": False, "error": _error(exc)})


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
