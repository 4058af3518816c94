"""Which sandbox this machine gives: the one place that picks a mode's class.

:class:`~autograder.sandbox.base.Sandbox` is the interface and knows none of its modes (it
imports no subclass, so the modes import it without a cycle). :func:`open_sandbox` builds the
mode :func:`~autograder.sandbox.capabilities.capabilities` says is in force:

- ``namespaces`` with the fork server on (``AUTOGRADER_ZYGOTE``, :func:`forked.enabled`):
  :class:`~autograder.sandbox.forked.ForkedSandbox`, a fork of the batch's zygote;
- ``namespaces`` with it off: :class:`~autograder.sandbox.namespaces.NamespaceSandbox`, which
  executes the harness under ``unshare``;
- ``rlimits``: :class:`~autograder.sandbox.rlimits.RlimitSandbox`, the fallback.
"""

from __future__ import annotations

from pathlib import Path

from autograder.sandbox import forked
from autograder.sandbox.base import Limits, Sandbox
from autograder.sandbox.capabilities import capabilities
from autograder.sandbox.namespaces import NamespaceSandbox
from autograder.sandbox.rlimits import RlimitSandbox

__all__ = ["open_sandbox", "sandbox_class"]

_DEFAULT_LIMITS = Limits()  # (frozen) what Sandbox takes by default


def sandbox_class() -> type[Sandbox]:
    """The class of the sandboxes this machine gives (see the module)."""
    if capabilities()["mode"] == "namespaces":
        return forked.ForkedSandbox if forked.enabled() else NamespaceSandbox
    return RlimitSandbox


def open_sandbox(
    files: Path,
    workdir: Path,
    limits: Limits = _DEFAULT_LIMITS,
    slot: int = 0,
    hide=(),
    preload=(),
    fork_server: str = "",
) -> Sandbox:
    """A sandbox of this machine's mode over ``files`` (started by ``with`` or ``start()``);
    the parameters are :class:`~autograder.sandbox.base.Sandbox`'s."""
    cls = sandbox_class()
    return cls(
        files, workdir, limits, slot=slot, hide=hide, preload=preload, fork_server=fork_server
    )
