"""Run one submission's code in a sandbox and talk to it; the grader stays outside.

:func:`open_sandbox` starts a :class:`Sandbox`: one process tree running ``harness.py`` on the submission's files.
The grader (trusted) sends it cells to run and functions to call, and gets back plain
values (:mod:`autograder.sandbox.inside.wire`); it never runs student code itself and never lets
the sandbox see a hidden test or an expected value.

One interface, one module per isolation mode; :func:`capabilities` says which is in force and
exactly what it guarantees here:

- ``namespaces`` (:mod:`~autograder.sandbox.namespaces`; Linux with user namespaces and
  util-linux ``unshare``): private mount table with an allow-listed read-only root, private PID
  namespace, no network, private IPC/UTS, a uid never used by another sandbox when the grader
  runs as root (:mod:`~autograder.sandbox.uids`), else a fresh user namespace; by default
  each such sandbox is a fork of the batch's fork server (:mod:`~autograder.sandbox.forked`,
  :mod:`~autograder.sandbox.zygote`), which imported the harness and the assignment's
  libraries once and never runs submission code (``AUTOGRADER_ZYGOTE=0``: ``unshare``
  executes the harness instead);
- ``rlimits`` (:mod:`~autograder.sandbox.rlimits`, the fallback): own session and process
  group, a scrubbed environment and a private working folder, the grader's file system.

In both: a control group per sandbox where the machine has cgroups
(:mod:`~autograder.sandbox.cgroups`: memory with shared memory and page cache, processes, CPU
share), otherwise address-space and per-uid process limits; CPU-time, file-size and open-file
limits; no socket but ``AF_UNIX`` and a fresh session keyring
(:mod:`~autograder.sandbox.lockdown`); output and message sizes counted by the grader where it
receives them, and the cause of a death taken from what the grader observes
(:mod:`~autograder.sandbox.base`); when a sandbox is closed every process of it is killed.
"""

from __future__ import annotations

from autograder.sandbox.base import (
    CAUSES,
    MAX_NOTEBOOK_OUTPUT,
    MAX_OUTPUT,
    Cause,
    Limits,
    Observed,
    OutputBudget,
    Sandbox,
    SandboxDied,
    SandboxTimeout,
    SandboxUnavailable,
    _children,  # noqa: F401  (the grader's tests list the processes it left)
    become_subreaper,
)
from autograder.sandbox.capabilities import capabilities
from autograder.sandbox.modes import open_sandbox, sandbox_class

__all__ = [
    "CAUSES",
    "MAX_NOTEBOOK_OUTPUT",
    "MAX_OUTPUT",
    "Cause",
    "Limits",
    "Observed",
    "OutputBudget",
    "Sandbox",
    "SandboxDied",
    "SandboxTimeout",
    "SandboxUnavailable",
    "become_subreaper",
    "capabilities",
    "open_sandbox",
    "sandbox_class",
]
