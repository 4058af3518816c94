"""The ``rlimits`` mode (fallback): the harness as a child of the grader, under resource limits.

No namespaces: the harness runs as the grader's user in its own session, with a scrubbed
environment and a private working folder (a copy of the submission's files), under the same
rlimits as the namespace mode, a fresh session keyring and the socket filter
(:mod:`autograder.sandbox.lockdown`); where the machine has cgroups, in a control group of its
own (memory, processes, CPU share). File system and network stay the grader's (but for the
socket filter); see :func:`~autograder.sandbox.capabilities.capabilities` for what is missing.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import asdict

from autograder.sandbox import lockdown
from autograder.sandbox.base import INSIDE, Launch, Sandbox
from autograder.sandbox.enter import limit

__all__ = ["RlimitSandbox"]


class RlimitSandbox(Sandbox):
    """A sandbox that is only a limited child process (see the module)."""

    mode = "rlimits"

    def _launch(self, env: dict) -> Launch:
        scratch = self.workdir / "scratch"
        shutil.copytree(self.files, scratch, dirs_exist_ok=True, symlinks=True)
        env = dict(env)
        env.update(HOME=str(scratch), TMPDIR=str(scratch), IPYTHONDIR=str(scratch / ".ip"))
        env.update(MPLCONFIGDIR=str(scratch / ".mpl"), KERAS_HOME=str(scratch / ".keras"))
        limits = asdict(self.limits)
        limits.pop("processes")  # RLIMIT_NPROC would count the grader's own processes
        if self.cgroup is not None:
            limits.pop("memory_mb")  # the control group counts resident memory instead
        sockets = bool(self.caps.get("seccomp"))

        def preexec():
            limit(limits)
            lockdown.fresh_session_keyring()
            if sockets:
                lockdown.refuse_sockets()

        command = [sys.executable, "-I", str(INSIDE / "harness.py")]
        return Launch(command=command, cwd=str(scratch), env=env, preexec=preexec)
