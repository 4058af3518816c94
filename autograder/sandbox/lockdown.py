"""What a sandbox's processes may not do, set up just before the harness starts (stdlib only).

- :func:`refuse_sockets`: a seccomp filter (classic BPF, no library) under which ``socket`` and
  ``socketpair`` of every family but ``AF_UNIX`` fail with ``EAFNOSUPPORT`` — ``AF_INET``,
  ``AF_INET6``, ``AF_NETLINK``, ``AF_PACKET`` and ``AF_VSOCK`` (which a network namespace does
  not isolate: it reaches the virtual machine's host) alike — ``io_uring`` (which can open
  sockets without the ``socket`` system call) is refused with ``ENOSYS``, and so are the kernel
  keyring calls ``add_key``, ``request_key`` and ``keyctl`` (a keyring is a store outside every
  namespace: a *named* keyring with open permissions, linked into a uid's user keyring, outlives
  the sandbox and can be joined by name from any later one), and a system call of
  another ABI (32-bit, x32) fails with ``EPERM``. The filter is inherited by every process the
  submission starts and cannot be removed (``PR_SET_NO_NEW_PRIVS`` is set with it).
- :func:`fresh_session_keyring`: a new, empty session keyring, so that the grader's is out of
  reach (the user keyring belongs to the uid, which is the sandbox's own when the grader is
  root, see :mod:`autograder.sandbox.uids`, or to a fresh user namespace).

Imported by ``enter.py`` inside the namespaces (from this folder, before the chroot) and by the
``rlimits`` mode in the child before it becomes the harness.
"""

from __future__ import annotations

import ctypes
import platform
import struct

__all__ = ["available", "fresh_session_keyring", "refuse_sockets"]

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
AF_UNIX, EPERM, ENOSYS, EAFNOSUPPORT = 1, 1, 38, 97
KEYCTL_JOIN_SESSION_KEYRING = 1

# machine -> (AUDIT_ARCH_*, socket, socketpair, io_uring_setup, keyctl, lowest foreign nr)
_ARCH = {
    "x86_64": (0xC000003E, 41, 53, 425, 250, 0x40000000),  # x32 calls have bit 30 set
    "aarch64": (0xC00000B7, 198, 199, 425, 219, None),
}
# machine -> (add_key, request_key, keyctl): refused like io_uring
_KEYRING_CALLS = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ/JGE|K, BPF_RET|K

_libc = ctypes.CDLL(None, use_errno=True)


class _Filter(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def available() -> bool:
    """Whether this machine's architecture has a filter here (Linux x86-64 or AArch64)."""
    return platform.system() == "Linux" and platform.machine() in _ARCH


def _assemble(lines) -> bytes:
    """Classic BPF from ``(code, k, true_label, false_label)`` lines and ``"label"`` strings."""
    where, n = {}, 0
    for line in lines:
        if isinstance(line, str):
            where[line] = n
        else:
            n += 1
    out, i = b"", 0
    for line in lines:
        if isinstance(line, str):
            continue
        code, k, true, false = line
        jt = where[true] - i - 1 if true else 0
        jf = where[false] - i - 1 if false else 0
        out += struct.pack("HBBI", code, jt, jf, k)
        i += 1
    return out


def program(machine: str | None = None) -> bytes:
    """The filter's instructions for ``machine`` (default: this one)."""
    machine = machine or platform.machine()
    arch, socket, socketpair, io_uring, _, foreign = _ARCH[machine]
    lines = [
        (_LD_ABS, 4, None, None),  # seccomp_data.arch
        (_JEQ, arch, None, "other-abi"),
        (_LD_ABS, 0, None, None),  # seccomp_data.nr
    ]
    if foreign is not None:
        lines.append((_JGE, foreign, "other-abi", None))
    lines += [
        (_JEQ, socket, "family", None),
        (_JEQ, socketpair, "family", None),
        (_JEQ, io_uring, "no-such-call", None),
        *((_JEQ, nr, "no-such-call", None) for nr in _KEYRING_CALLS[machine]),
        (_RET, _RET_ALLOW, None, None),
        "family",
        (_LD_ABS, 16, None, None),  # low 32 bits of args[0] (an int: the family)
        (_JEQ, AF_UNIX, "allow", None),
        (_RET, _RET_ERRNO | EAFNOSUPPORT, None, None),
        "allow",
        (_RET, _RET_ALLOW, None, None),
        "no-such-call",
        (_RET, _RET_ERRNO | ENOSYS, None, None),
        "other-abi",
        (_RET, _RET_ERRNO | EPERM, None, None),
    ]
    return _assemble(lines)


def refuse_sockets() -> None:
    """Install the filter on this process (inherited by all it starts); ``OSError`` if the
    kernel refuses (then the sandbox must not start)."""
    if not available():
        raise OSError(ENOSYS, f"no seccomp filter for {platform.machine()}")
    code = program()
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _Filter(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    args = (ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog), ctypes.c_ulong(0))
    if _libc.prctl(ctypes.c_int(PR_SET_SECCOMP), *args, ctypes.c_ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def fresh_session_keyring() -> bool:
    """Join a new anonymous session keyring (``keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)``);
    False where the kernel has no keyrings."""
    if not available():
        return False
    number = _ARCH[platform.machine()][4]
    _libc.syscall.restype = ctypes.c_long
    result = _libc.syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), None)
    return result >= 0
