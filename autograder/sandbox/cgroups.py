"""One control group per sandbox: memory, processes and CPU share counted by the kernel.

A :class:`CGroup` is created (as root, beside the grader's processes: a child of the grader's
own group in each hierarchy, named ``autograder-sandbox-...``, so that it competes for CPU as
one task of the grader would) before the sandbox's first process starts, which joins it
before it runs anything; every process it starts stays in it, whatever session, process group
or namespace it moves to. It limits

- **memory** (``memory.limit_in_bytes`` / ``memory.max``): resident memory, shared memory,
  ``memfd``, tmpfs files and page cache of the whole group together (swap off), the kernel's
  OOM killer acting inside the group only;
- **processes** (``pids.max``): tasks of this sandbox, not of a uid;
- **CPU** (``cpu.cfs_quota_us`` / ``cpu.max``): at most ``Limits.cpus`` cores at once, and a
  weight of that many busy processes, the same for every sandbox (``cpu.shares`` /
  ``cpu.weight``), so sixteen busy loops in one sandbox take no more than an honest
  neighbour's share, and a multi-threaded honest one (TensorFlow) no less than before.

:meth:`CGroup.observe` reads the kernel's counters — trusted evidence of why a sandbox died
(an OOM kill, the CPU time used) — and :meth:`CGroup.remove` kills every process of the group
(forks refused first) and removes it. cgroup v2 is used where it has the three controllers,
else v1 (``memory``, ``pids``, ``cpu`` and, for the CPU time, ``cpuacct``).
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import settings

__all__ = ["CGroup", "Observed", "available"]

PREFIX = "autograder-sandbox"
_NEEDED = ("memory", "pids", "cpu")
PERIOD_US = 100_000


@dataclass(frozen=True)
class Observed:
    """What the kernel counted for one sandbox's group (trusted: nothing inside can change it)."""

    peak_memory_bytes: int = 0
    memory_limit_hits: int = 0  # times an allocation met the limit (reclaim or OOM followed)
    oom_kills: int = 0  # processes the OOM killer ended inside the group
    process_limit_hits: int = 0  # forks refused by pids.max
    cpu_s: float = 0.0  # CPU time of every process of the group, dead or alive


def _mounts() -> dict:
    """``{"v2": path}`` and/or ``{controller: path}`` of the cgroup file systems mounted here."""
    found: dict = {}
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if len(fields) < 5 or len(extra) < 3:
            continue
        point = fields[4].replace("\\040", " ")
        if extra[0] == "cgroup2":
            found.setdefault("v2", point)
        elif extra[0] == "cgroup":
            for option in extra[2].split(","):
                if option in (*_NEEDED, "cpuacct"):
                    found.setdefault(option, point)
    return found


def _own_groups() -> dict:
    """This process's group in each hierarchy: ``{controller or "v2": "/path"}``."""
    groups: dict = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return groups
    for line in lines:
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            groups["v2"] = path
        for name in controllers.split(","):
            groups[name] = path
    return groups


def _layout() -> tuple[str, dict]:
    """``(version, {controller: parent folder})``; raises ``OSError`` naming what is missing."""
    mounts, own = _mounts(), _own_groups()
    if "v2" in mounts:
        root = Path(mounts["v2"])
        try:
            offered = (root / own.get("v2", "/").lstrip("/") / "cgroup.controllers").read_text()
        except OSError:
            offered = ""
        if all(c in offered.split() for c in _NEEDED):
            return "v2", {"v2": root / own.get("v2", "/").lstrip("/")}
    missing = [c for c in _NEEDED if c not in mounts]
    if missing:
        raise OSError(f"no cgroup controller {', '.join(missing)} mounted")
    folders = {}
    for name in (*_NEEDED, "cpuacct"):
        if name in mounts:
            folders[name] = Path(mounts[name]) / own.get(name, "/").lstrip("/")
    return "v1", folders


def _write(path: Path, value) -> None:
    with open(path, "w") as handle:
        handle.write(str(value))


def _read_int(path: Path, key: str | None = None) -> int:
    try:
        text = path.read_text()
    except (OSError, ValueError):
        return 0
    if key is None:
        try:
            return int(text.split()[0])
        except (IndexError, ValueError):
            return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def sweep() -> int:
    """Remove the empty groups left by graders that died without closing (their pid is gone);
    how many were removed."""
    try:
        _, parents = _layout()
    except OSError:
        return 0
    removed = 0
    for parent in set(parents.values()):
        for folder in parent.glob(f"{PREFIX}-*"):
            try:
                pid = int(folder.name.split("-")[-2])
                os.kill(pid, 0)
                continue  # its grader still runs
            except (ValueError, IndexError):
                continue
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            try:
                folder.rmdir()  # refused while a process is left in it
                removed += 1
            except OSError:
                pass
    return removed


_AVAILABLE: dict = {}


def available() -> tuple[str | None, str]:
    """``(version, why)``: ``"v1"``/``"v2"`` where this process can create groups with every
    needed controller (tried once), else ``None`` and the reason."""
    if "result" in _AVAILABLE:
        return _AVAILABLE["result"]
    if settings.current().cgroups is settings.CgroupsChoice.OFF:
        result = (None, "AUTOGRADER_CGROUPS=off")
    else:
        try:
            group = CGroup.create(memory_bytes=64 << 20, processes=8, cpus=1, name="probe")
            group.remove()
            result = (group.version, "")
            sweep()
        except OSError as exc:
            result = (None, f"cgroups unavailable: {exc}")
    _AVAILABLE["result"] = result
    return result


class CGroup:
    """The control groups of one sandbox (one folder per hierarchy)."""

    def __init__(self, version: str, folders: dict):
        self.version, self.folders = version, folders

    @classmethod
    def create(cls, memory_bytes: int, processes: int, cpus: int, name: str = "") -> CGroup:
        """Make and configure the groups; ``OSError`` if the kernel refuses any of it."""
        version, parents = _layout()
        name = f"{PREFIX}-{name or 'x'}-{os.getpid()}-{secrets.token_hex(4)}"
        group = cls(version, {})
        try:
            for controller, parent in parents.items():
                if version == "v2":  # (refused where the grader's group holds processes)
                    _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in _NEEDED))
                folder = parent / name
                if folder not in group.folders.values():  # (co-mounted: cpu,cpuacct)
                    folder.mkdir()
                group.folders[controller] = folder
            group._configure(memory_bytes, processes, cpus)
        except OSError:
            group.remove()
            raise
        return group

    def _configure(self, memory_bytes: int, processes: int, cpus: int) -> None:
        if self.version == "v2":
            folder = self.folders["v2"]
            _write(folder / "memory.max", memory_bytes)
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", 0)
            _write(folder / "pids.max", processes)
            _write(folder / "cpu.max", f"{cpus * PERIOD_US} {PERIOD_US}")
            _write(folder / "cpu.weight", 100 * cpus)
            return
        memory = self.folders["memory"]
        _write(memory / "memory.limit_in_bytes", memory_bytes)
        if (memory / "memory.memsw.limit_in_bytes").exists():  # memory + swap: no way around
            _write(memory / "memory.memsw.limit_in_bytes", memory_bytes)
        _write(self.folders["pids"] / "pids.max", processes)
        cpu = self.folders["cpu"]
        _write(cpu / "cpu.shares", 1024 * cpus)
        _write(cpu / "cpu.cfs_period_us", PERIOD_US)
        _write(cpu / "cpu.cfs_quota_us", cpus * PERIOD_US)

    def join_files(self) -> list[str]:
        """The files a process writes ``0`` into to join (in the child, before exec)."""
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def join(self) -> None:
        """Move the calling process into every group (async-signal-safe enough for a
        ``preexec_fn``: plain writes)."""
        for path in self.join_files():
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)

    def processes(self) -> list[int]:
        folder = self.folders.get("v2") or self.folders.get("pids")
        if folder is None:
            return []
        try:
            return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def observe(self) -> Observed:
        if self.version == "v2":
            folder = self.folders.get("v2")
            if folder is None:
                return Observed()
            peak = _read_int(folder / "memory.peak") or _read_int(folder / "memory.current")
            return Observed(
                peak_memory_bytes=peak,
                memory_limit_hits=_read_int(folder / "memory.events", "max"),
                oom_kills=_read_int(folder / "memory.events", "oom_kill"),
                process_limit_hits=_read_int(folder / "pids.events", "max"),
                cpu_s=_read_int(folder / "cpu.stat", "usage_usec") / 1e6,
            )
        memory, pids = self.folders.get("memory"), self.folders.get("pids")
        cpuacct = self.folders.get("cpuacct")
        return Observed(
            peak_memory_bytes=_read_int(memory / "memory.max_usage_in_bytes") if memory else 0,
            memory_limit_hits=_read_int(memory / "memory.failcnt") if memory else 0,
            oom_kills=_read_int(memory / "memory.oom_control", "oom_kill") if memory else 0,
            process_limit_hits=_read_int(pids / "pids.events", "max") if pids else 0,
            cpu_s=_read_int(cpuacct / "cpuacct.usage") / 1e9 if cpuacct else 0.0,
        )

    def kill_all(self, rounds: int = 200) -> bool:
        """SIGKILL every process of the group, forks refused first; True once it is empty."""
        folder = self.folders.get("v2") or self.folders.get("pids")
        if folder is None:
            return True
        try:
            _write(folder / "pids.max", 0)  # no new process from here on
        except OSError:
            pass
        if self.version == "v2" and (folder / "cgroup.kill").exists():
            try:
                _write(folder / "cgroup.kill", 1)
            except OSError:
                pass
        for i in range(rounds):
            left = self.processes()
            if not left:
                return True
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.001 * min(i + 1, 20))
        return not self.processes()

    def remove(self) -> None:
        """Kill what is left and remove the groups (the folders, not the shared parent)."""
        self.kill_all()
        for folder in sorted(set(self.folders.values())):
            for attempt in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY while the last exiting task leaves
                    time.sleep(0.005 * (attempt + 1))
        self.folders = {}
