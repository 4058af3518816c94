"""Step helper: the sandbox's client, as a hidden check sees the student's notebook.

A hidden check runs here, in the trusted grader; each name it uses that the assignment's own
cells define stands for a :class:`Remote` (:class:`CheckNames`): calling it sends *copies* of
the arguments to the sandbox over the wire (:mod:`autograder.sandbox.inside.wire`) and returns
the plain values the student's function returned. Nothing the student's code does to those
copies changes the grader's arrays (:meth:`Remote.call_observed` shows a check what the call
did to its arguments). :class:`Runner` is one submission's sandbox, restarted (with the
earlier cells replayed) after a kill.

What it says about the student's code comes from a fixed vocabulary (:class:`StudentError`):
the function's name (the instructor's), "raised an exception" (not its type or message: either
could carry a hidden input), "the object your function returned" (not its class name: the
student's text).

Bounds on what comes back: the answer to a cell at most ``MAX_RUN_ANSWER`` bytes, the whole
notebook's kept output and error text at most ``MAX_NOTEBOOK_OUTPUT`` bytes
(:class:`~autograder.sandbox.base.OutputBudget`, charged where answers are received), and a
call's arguments as they are after the call are asked for and decoded only by a check that
looks at them (:meth:`Remote.call_observed`), and only if they hold no more values than were
sent (plus ``_SLACK``), counted before decoding.
"""

from __future__ import annotations

import builtins
import time
from dataclasses import dataclass

from autograder.grading.options import GradingOptions
from autograder.sandbox import (
    OutputBudget,
    Sandbox,
    SandboxDied,
    SandboxTimeout,
    open_sandbox,
)
from autograder.sandbox.inside import wire

__all__ = ["RETURNED_OBJECT", "CheckNames", "ObservedCall", "Remote", "Runner", "StudentError"]

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

    remote = True  # autograder.assignments.calls.call recognises remote functions by this

    def __init__(self, runner: Runner, target, label: str):
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


class CheckNames(dict):
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


class Runner:
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
