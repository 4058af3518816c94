"""Which isolation this machine gives, and what exactly it guarantees (printed by ``grade``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from autograder import settings
from autograder.sandbox import cgroups, lockdown

__all__ = ["capabilities", "unshare_command"]

_CAPS: dict = {}


def unshare_command(as_root: bool) -> list[str]:
    """util-linux ``unshare`` with fresh mount, network, PID, IPC and UTS namespaces (and a user
    namespace when the grader is not root)."""
    command = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
    return command if as_root else [*command[:1], "--user", "--map-root-user", *command[1:]]


def _probe_seccomp() -> str:
    """Empty if a child can install the socket filter and is refused ``AF_INET``; else why."""
    if not lockdown.available():
        return "no seccomp filter for this architecture"
    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import lockdown, socket\n"
        "lockdown.refuse_sockets()\n"
        "try:\n    socket.socket(socket.AF_INET)\nexcept OSError:\n    raise SystemExit(0)\n"
        "raise SystemExit(3)\n"
    )
    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"seccomp probe failed: {exc}"
    if probe.returncode != 0:
        return f"seccomp unavailable: {(probe.stderr.strip().splitlines() or ['?'])[-1][:200]}"
    return ""


def capabilities() -> dict:
    """Which isolation this machine gives.

    ``{"mode", "as_root", "cgroups", "seccomp", "guarantees", "missing", "why"}``: ``mode`` is
    ``"namespaces"`` or ``"rlimits"``, ``cgroups`` is ``"v1"``, ``"v2"`` or ``None``,
    ``seccomp`` whether sockets other than ``AF_UNIX`` are refused; ``missing`` lists, one
    sentence each, what is *not* guaranteed here. ``AUTOGRADER_SANDBOX`` chooses the mode:
    ``auto`` (default: the strongest available), ``namespaces`` (fail if unavailable) or
    ``rlimits`` (the fallback, e.g. to compare); ``AUTOGRADER_CGROUPS=off`` leaves cgroups out.
    """
    chosen = settings.current()  # (checked there: a bad value is refused by name)
    wanted, groups_wanted = chosen.sandbox.value, chosen.cgroups.value
    if _CAPS.get("wanted") == (wanted, groups_wanted):
        return _CAPS
    _CAPS.clear()
    cgroups._AVAILABLE.clear()
    as_root = os.geteuid() == 0
    why = ""
    if wanted == "rlimits":
        why = "AUTOGRADER_SANDBOX=rlimits"
    elif not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        why = "util-linux `unshare` not found"
    else:
        probe = subprocess.run(
            [*unshare_command(as_root), "true"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode != 0:
            why = f"namespaces unavailable: {probe.stderr.strip()[:200]}"
    version, groups_why = cgroups.available()
    seccomp_why = _probe_seccomp()
    if wanted == "namespaces" and why:
        raise RuntimeError(f"AUTOGRADER_SANDBOX=namespaces, but {why}")
    guarantees = ["no verdict inside the sandbox", "CPU-time, file-size and open-file limits"]
    missing = []
    if version:
        guarantees += [
            f"a control group per sandbox (cgroup {version}): memory counted with shared "
            "memory, memfd, tmpfs and page cache; a process limit of its own; at most its "
            "cores and an equal CPU share against other sandboxes; every process killed at close",
            "causes of death from the kernel's counters (OOM kills, CPU time)",
        ]
    else:
        guarantees.append("an address-space (memory) limit per process")
        missing += [
            f"no control groups ({groups_why}): memory is limited as address space per "
            "process (shared memory, memfd and page cache are not counted), no CPU share "
            "between sandboxes, a memory death is not told apart from other kills",
        ]
    if seccomp_why:
        missing.append(f"sockets are not filtered ({seccomp_why})")
    else:
        guarantees.append("no socket but AF_UNIX (seccomp: AF_INET, AF_INET6, AF_VSOCK refused)")
    if not why:
        guarantees[:0] = [
            "read-only allow-listed file system (no course, gradebook, other submissions, "
            "reference code or $HOME)",
            "no network (own network namespace)",
            "private PID namespace: no process outlives its sandbox, none outside is visible",
        ]
        if as_root:
            guarantees.append(
                "a uid per sandbox never used by another sandbox (own process limit and "
                "kernel keyrings) and a fresh session keyring"
            )
        else:
            guarantees.append("a fresh user namespace per sandbox (own user keyrings)")
            if not version:
                missing.append("the process-count limit is shared with the grading user")
        mode = "namespaces"
    else:
        mode = "rlimits"
        guarantees.append("own session and process group, a fresh session keyring")
        missing += [
            "file-system isolation (a submission can read what the grader can)",
            "the reference is blocked only by an import hook a submission can remove",
            "the submission runs as the grader's user (its user keyring, its files)"
            + (": root here, which could also leave its control group" if as_root else ""),
        ]
        if seccomp_why:
            missing.append("network isolation")
        if not version:
            missing += [
                "the process-count limit",
                "processes that leave the process group are killed by the grader as their "
                "subreaper, not by the kernel",
            ]
    _CAPS.update(
        mode=mode,
        as_root=as_root,
        cgroups=version,
        seccomp=not seccomp_why,
        guarantees=guarantees,
        missing=missing,
        why=why,
        wanted=(wanted, groups_wanted),
    )
    return _CAPS
