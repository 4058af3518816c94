"""Build a submission's sandbox from inside fresh namespaces, then become the harness.

Run by :class:`autograder.sandbox.Sandbox` as ``unshare --mount --net --pid --ipc --uts
--fork --kill-child python -I -S enter.py SPEC IN OUT`` (plus ``--user --map-root-user`` when the
grader is not root), so this process is PID 1 of a new PID namespace with a private mount
table and no network. Standard library only. In order, it

1. mounts a small tmpfs as the new root and binds into it, read-only, only what Python needs
   (``/usr``, ``/lib*``, ``/etc``, the Python installation and the virtual environment) and the
   harness folder at ``/harness`` — not the course, the gradebook, other submissions, the
   repository's ``coursekit``/``autograder`` or ``$HOME``;
2. gives it ``/proc`` (this PID namespace only), a minimal ``/dev``, and size-capped tmpfs
   ``/tmp``, ``/dev/shm`` and ``/scratch`` (the submission's files, its working folder);
3. chroots there, sets resource limits (address space unless a control group counts memory,
   CPU time, processes, file size, open files, no core dumps), drops to the sandbox's own uid
   when it is root outside, joins a fresh session keyring, drops every capability (bounding
   set included) and forbids gaining privileges, and forks the harness, which installs the
   socket filter (``lockdown.py``) just before it execs; it stays PID 1 (reaping orphans) and
   exits with the harness's status: ``128 + n`` when signal ``n`` ended it, an exit code over
   127 reported as 127 (so that it cannot pose as a signal).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
# statvfs flag -> mount flag, to keep the flags a user namespace may not drop on remount
_KEEP = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME}
_KEEP.update({2048: MS_NODIRATIME, 4096: MS_RELATIME})
PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, PR_CAPBSET_DROP = 38, 1, 24

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    args = [None if v is None else str(v).encode() for v in (source, target, fstype, data)]
    if _libc.mount(args[0], args[1], args[2], ctypes.c_ulong(flags), args[3]) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _remount_read_only(target):
    """Make the mount at ``target`` and every mount below it read-only."""
    with open("/proc/self/mountinfo") as handle:
        points = [line.split()[4].replace("\\040", " ") for line in handle]
    for point in sorted(p for p in set(points) if p == target or p.startswith(target + "/")):
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        for bit, mflag in _KEEP.items():
            if os.statvfs(point).f_flag & bit:
                flags |= mflag
        _mount(None, point, None, flags)


def _inside(root, path):
    return os.path.join(root, path.lstrip("/"))


def _bind(root, path, read_only=True):
    target = _inside(root, path)
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(path, target, None, MS_BIND | MS_REC)
    if read_only:
        _remount_read_only(target)


def build(spec: dict) -> None:
    root, limits = spec["root"], spec["limits"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    small = f"size={limits['scratch_mb']}m"
    # the private /tmp first: an allowed folder may live under /tmp (a clone in /tmp/...), and
    # its bind must sit on top of this tmpfs, not be covered by it
    os.makedirs(_inside(root, "/tmp"))
    _mount("tmpfs", _inside(root, "/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, f"{small},mode=1777")
    for path in spec["read_only"]:
        if os.path.islink(path):  # /bin -> usr/bin on merged-/usr systems
            os.makedirs(os.path.dirname(_inside(root, path)), exist_ok=True)
            os.symlink(os.readlink(path), _inside(root, path))
        elif os.path.exists(path):
            _bind(root, path)
    allowed = [p.rstrip("/") for p in spec["read_only"]]
    for path in spec.get("hide", []):  # e.g. a course kept inside an allowed folder
        target = _inside(root, path)
        inside = any(path == a or path.startswith(a + "/") for a in allowed)
        if inside and os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=000")
    _bind_to(root, spec["harness"], "/harness")
    dev = _inside(root, "/dev")
    os.makedirs(dev)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID, "size=64k,mode=755")
    for name in ("null", "zero", "full", "random", "urandom"):
        _bind(root, f"/dev/{name}", read_only=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(target, os.path.join(dev, name))
    os.symlink("/proc/self/fd/1", os.path.join(dev, "stdout"))
    os.symlink("/proc/self/fd/2", os.path.join(dev, "stderr"))
    for path, mode in (("/dev/shm", "1777"), ("/scratch", "700")):
        os.makedirs(_inside(root, path), exist_ok=True)
        _mount("tmpfs", _inside(root, path), "tmpfs", MS_NOSUID | MS_NODEV, f"{small},mode={mode}")
    os.makedirs(_inside(root, "/proc"))
    _mount("proc", _inside(root, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    scratch = _inside(root, "/scratch")
    # links are copied as links (read inside the chroot), never followed here, as root
    shutil.copytree(spec["files"], scratch, dirs_exist_ok=True, symlinks=True)
    uid = spec.get("uid")
    if uid is not None:
        for folder, dirs, files in os.walk(scratch):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.chown(name, uid, uid, follow_symlinks=False)
        for path in ("/tmp", "/dev/shm"):
            os.chown(_inside(root, path), 0, 0)
    _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=16m")
    os.chdir(root)
    os.chroot(".")
    os.chdir("/scratch")


def _bind_to(root, source, path):
    target = _inside(root, path)
    os.makedirs(target, exist_ok=True)
    _mount(source, target, None, MS_BIND | MS_REC)
    _remount_read_only(target)


def limit(limits: dict) -> None:
    """Set the rlimits named in ``limits`` (``memory_mb`` and ``processes`` only if given)."""
    mb = 1024 * 1024
    pairs = {
        resource.RLIMIT_CPU: limits["cpu_s"],
        resource.RLIMIT_FSIZE: limits["file_mb"] * mb,
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }
    if limits.get("memory_mb"):
        pairs[resource.RLIMIT_AS] = limits["memory_mb"] * mb
    if limits.get("processes"):
        pairs[resource.RLIMIT_NPROC] = limits["processes"]
    for which, value in pairs.items():
        hard = value + 1 if which == resource.RLIMIT_CPU else value  # SIGXCPU before SIGKILL
        resource.setrlimit(which, (value, hard))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]


def drop_bounding_set() -> None:
    """No capability can come back on exec (needs CAP_SETPCAP: call before changing uid)."""
    for cap in range(64):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last capability: fine


def drop_capabilities() -> None:
    """No capability left now: inside a user namespace the process is "root" there, and could
    otherwise undo mounts or escape the chroot."""
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3
    if _libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def main(argv) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    become(json.loads(argv[1]), int(argv[2]), int(argv[3]))


def become(spec: dict, requests_fd: int, answers_fd: int, serve=None) -> None:
    """Steps 1-3 of the module docstring, as PID 1 of fresh namespaces; never returns.

    The harness is a fork of this process that execs ``python -I /harness/harness.py`` or,
    given ``serve`` (the fork server's way, where the harness and the libraries are already
    imported), calls ``serve(requests_fd, answers_fd)`` after the same lockdown.
    """
    import lockdown  # beside this file (before the chroot hides it)

    build(spec)
    limit(spec["limits"])
    uid = spec.get("uid")
    drop_bounding_set()
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    lockdown.fresh_session_keyring()  # not the grader's: owned by this uid, empty
    drop_capabilities()
    # a change of uid clears the parent-death signal `unshare --kill-child` set: set it again,
    # so that killing `unshare` (the grader's child) still ends this PID namespace
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    python = spec["python"]
    child = os.fork()
    if child == 0:  # the harness: not PID 1, so signals and limits act on it as usual
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if spec.get("refuse_sockets"):
            lockdown.refuse_sockets()
        if serve is None:
            os.execve(
                python,
                [python, "-I", "/harness/harness.py", str(requests_fd), str(answers_fd)],
                spec["env"],
            )
        code = 1
        try:
            serve(requests_fd, answers_fd)
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)  # never back into the caller's code
    for fd in (requests_fd, answers_fd):
        os.close(fd)  # only the harness holds the channel: its end is the grader's EOF
    code = init(child)
    if serve is not None:
        os._exit(code)  # a fork: no interpreter shutdown, no caller's cleanup
    raise SystemExit(code)


def init(child: int) -> int:
    """PID 1: reap every orphan until the harness ends; return its status (128 + signal)."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            break
    try:
        os.kill(-1, signal.SIGKILL)  # whatever the submission left running in this namespace
    except ProcessLookupError:
        pass  # nothing was left
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return min(os.WEXITSTATUS(status), 127)


if __name__ == "__main__":
    main(sys.argv)
