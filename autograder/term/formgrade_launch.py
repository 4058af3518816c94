"""Start the hand-grading server as an unprivileged account that can still reach its Python.

``formgrade`` run by root starts ``unshare --mount --propagation private python -m
autograder.term.formgrade_launch SPEC -- COMMAND...``: in its private mount table, still root, this
module makes every folder the server needs (the Python installation and virtual environment,
the repository, the course) reachable by the server's account even where a parent folder is
closed to it (a Python under ``/root``, mode 700): such a parent is covered by an empty tmpfs
into which only the needed folders are bound back (read-only, except the course), so nothing
else of it becomes visible. Then it drops to the account for good (no supplementary groups,
gid, uid, no new privileges), checks that root cannot be regained, and executes COMMAND.
Standard library only; the mounts vanish with the server.
"""

from __future__ import annotations

import json
import os
import stat
import sys

__all__ = ["blocked_parents", "main"]


def _reachable(path: str, uid: int, gid: int) -> bool:
    info = os.stat(path)
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def blocked_parents(paths: list[str], uid: int, gid: int) -> dict[str, list[str]]:
    """The outermost folder closed to ``uid`` above each path -> the paths below it."""
    blocked: dict[str, list[str]] = {}
    for path in paths:
        parts = os.path.realpath(path).split("/")[1:]
        for i in range(1, len(parts)):
            parent = "/" + "/".join(parts[:i])
            if not _reachable(parent, uid, gid):
                blocked.setdefault(parent, []).append(os.path.realpath(path))
                break
    return blocked


def _expose(blocked: dict[str, list[str]], writable: set[str]) -> None:
    from autograder.sandbox.enter import (
        MS_BIND,
        MS_NODEV,
        MS_NOSUID,
        MS_PRIVATE,
        MS_REC,
        _mount,
        _remount_read_only,
    )

    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for parent, paths in sorted(blocked.items()):
        outermost = [p for p in paths if not any(p.startswith(q + "/") for q in paths)]
        held = {p: os.open(p, os.O_PATH) for p in outermost}  # reachable after the cover
        _mount("tmpfs", parent, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
        for path, fd in sorted(held.items()):
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            if path not in writable:
                _remount_read_only(path)
            os.close(fd)


def _drop(uid: int, gid: int) -> None:
    import ctypes

    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("formgrade: root could be regained after dropping it; not serving")


def main(argv: list[str]) -> None:
    """``SPEC -- COMMAND...``; SPEC: ``{"uid", "gid", "paths", "writable"}`` as JSON."""
    spec, command = json.loads(argv[0]), argv[argv.index("--") + 1 :]
    uid, gid = int(spec["uid"]), int(spec["gid"])
    if uid == 0 or gid == 0:
        raise SystemExit("formgrade: the server's account must not be root")
    paths = [p for p in spec["paths"] if os.path.exists(p)]
    _expose(blocked_parents(paths, uid, gid), {os.path.realpath(p) for p in spec["writable"]})
    _drop(uid, gid)
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
