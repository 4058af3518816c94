"""The grader's environment switches: every ``AUTOGRADER_*`` variable is read here, and only here.

Limits of a grading run are options (:class:`autograder.grading.options.GradingOptions`, given
on the command line); what the *machine* offers or the instructor chooses for every run is an
environment switch, read by :func:`current` into one typed :class:`Settings` record:

=========================  ==============================  ===========================================
variable                   values (default first)          what it chooses
=========================  ==============================  ===========================================
``AUTOGRADER_SANDBOX``     ``auto``, ``namespaces``,       the sandbox: the strongest available, the
                           ``rlimits``                     namespace one (or stop), the fallback
``AUTOGRADER_CGROUPS``     ``auto``, ``off``               a control group per sandbox where possible
``AUTOGRADER_ZYGOTE``      ``1``, ``0``                    namespace sandboxes forked from a zygote
                                                           (``0``: ``unshare`` executes each harness)
``AUTOGRADER_SCHEDULER``   (none), ``tcp://HOST:PORT``     grade on that Dask cluster (``--scheduler``)
``AUTOGRADER_BOOK_URL``    (the published book), a URL     the book feedback links to (``--book``)
=========================  ==============================  ===========================================

An empty variable is its default; any other value is refused with the variable's name and the
value. The environment is read at each call of :func:`current` (one decision, one read), not
cached: a test or benchmark that sets a variable for one run sees it in that run, and the
grading workers (child processes) inherit the grader's environment.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CgroupsChoice", "SandboxChoice", "Settings", "current"]


class SandboxChoice(enum.StrEnum):
    """``AUTOGRADER_SANDBOX``: which sandbox grades."""

    AUTO = "auto"  # the strongest this machine gives
    NAMESPACES = "namespaces"  # the namespace sandbox, or stop
    RLIMITS = "rlimits"  # the fallback (resource limits only), e.g. to compare


class CgroupsChoice(enum.StrEnum):
    """``AUTOGRADER_CGROUPS``: whether sandboxes get control groups."""

    AUTO = "auto"  # where this process can create them
    OFF = "off"


def _choice(name: str, value: str, choices: type[enum.StrEnum]):
    """``value`` of variable ``name`` as one of ``choices`` (empty: the first, the default)."""
    value = value or next(iter(choices)).value
    try:
        return choices(value)
    except ValueError:
        allowed = [c.value for c in choices]
        said = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
        raise ValueError(f"{name} must be {said}, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    """The environment switches of one decision (see the module docstring)."""

    sandbox: SandboxChoice = SandboxChoice.AUTO
    cgroups: CgroupsChoice = CgroupsChoice.AUTO
    zygote: bool = True
    scheduler: str | None = None
    book_url: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read and check every switch of ``environ``."""
        zygote = environ.get("AUTOGRADER_ZYGOTE", "") or "1"
        if zygote not in ("0", "1"):
            raise ValueError(f"AUTOGRADER_ZYGOTE must be 0 or 1, got {zygote!r}")
        return cls(
            sandbox=_choice(
                "AUTOGRADER_SANDBOX", environ.get("AUTOGRADER_SANDBOX", ""), SandboxChoice
            ),
            cgroups=_choice(
                "AUTOGRADER_CGROUPS", environ.get("AUTOGRADER_CGROUPS", ""), CgroupsChoice
            ),
            zygote=zygote == "1",
            scheduler=environ.get("AUTOGRADER_SCHEDULER") or None,
            book_url=environ.get("AUTOGRADER_BOOK_URL") or None,
        )


def current() -> Settings:
    """This process's switches, as its environment says now."""
    return Settings.from_environ(os.environ)
