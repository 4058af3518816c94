"""The ``namespaces`` mode: fresh Linux namespaces, an allow-listed read-only root, a uid of
its own.

``unshare --mount --net --pid --ipc --uts --fork --kill-child python -I -S enter.py SPEC`` (plus
``--user --map-root-user`` when the grader is not root) runs ``enter.py``, which builds the
file system, sets the limits, drops to the sandbox's uid (:mod:`autograder.sandbox.uids`: one
never used by another sandbox) or stays "root" of its fresh user namespace, drops every
capability, joins a fresh session keyring, installs the socket filter
(:mod:`autograder.sandbox.lockdown`) and forks the harness, staying PID 1 as its init. The
control group (joined before ``unshare`` runs) holds all of it.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from autograder.sandbox import uids
from autograder.sandbox.base import HERE, INSIDE, Launch, Sandbox
from autograder.sandbox.capabilities import unshare_command

__all__ = ["NamespaceSandbox"]


def _python_paths() -> list[str]:
    """What the harness's Python needs to see: its installation and its environment."""
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    for path in sys.path:
        if path.endswith("site-packages") and os.path.isdir(path):
            paths.add(path)
    paths = sorted(os.path.realpath(p) for p in paths) + sorted(paths)
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _hidden_from_sandbox() -> list[str]:
    """Folders the allow-list must not expose even when they sit inside an allowed one: the
    reference implementation, the grader (hidden tests included) and their repository."""
    import autograder
    import coursekit

    packages = [Path(m.__file__).resolve().parent for m in (autograder, coursekit)]
    return [str(p) for p in packages] + [str(packages[0].parent)]


class NamespaceSandbox(Sandbox):
    """A sandbox in fresh namespaces (see the module)."""

    mode = "namespaces"

    def _launch(self, env: dict) -> Launch:
        command = [
            *unshare_command(self.caps["as_root"]),
            sys.executable,
            "-I",
            "-S",
            str(HERE / "enter.py"),
            json.dumps(self._spec(env)),
        ]
        return Launch(command=command, cwd=str(self.workdir), env={"PATH": env["PATH"]})

    def _spec(self, env: dict) -> dict:
        """What ``enter.py`` builds: the file system, the uid, the limits, the lockdown."""
        root = self.workdir / "root"
        root.mkdir(parents=True, exist_ok=True)
        limits = asdict(self.limits)
        self.uid = uids.allocate() if self.caps["as_root"] else None
        if self.uid is None and not self.cgroup:
            limits.pop("processes")  # it would count the grading user's processes
        if self.cgroup is not None:
            limits.pop("memory_mb")  # the control group counts resident memory instead
        hidden = _hidden_from_sandbox()
        allowed = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc"]
        for path in _python_paths():
            inside_hidden = any(path == h or path.startswith(h + "/") for h in hidden)
            venv = os.path.exists(os.path.join(path, "pyvenv.cfg"))
            if not inside_hidden or venv or "site-packages" in path:
                allowed.append(path)
        spec = {
            "root": str(root),
            "read_only": allowed,
            "hide": [*hidden, *self.hide],
            "harness": str(INSIDE),
            "files": str(self.files),
            "uid": self.uid,
            "limits": limits,
            "python": sys.executable,
            "env": env,
            "refuse_sockets": bool(self.caps.get("seccomp")),
        }
        return spec

    def _exit_code(self, status: int) -> tuple[int | None, int | None]:
        # the child is `unshare`, whose child is the sandbox's init (enter.py, PID 1): it exits
        # with the harness's status, 128 + n when signal n ended it (exit codes over 127 are
        # reported as 127, so they cannot pose as a signal)
        code, number = super()._exit_code(status)
        if code is not None and code > 128:
            return None, code - 128
        return code, number
