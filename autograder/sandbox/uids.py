"""A uid of its own for every sandbox, shared with no other sandbox, concurrent or later.

When the grader runs as root, each sandbox runs as a uid drawn at random from a range of a
billion that holds no account of the machine, and claimed by creating a file named after it
(``O_EXCL``) in a folder only root can write (``/run/autograder-sandbox-uids``, else one under
the temporary folder). The file is never removed, so the uid is never drawn again on this
machine until it restarts — which is also when the kernel forgets the uid's user keyring. So a
key, a process limit or a file owned by one sandbox's uid is never another sandbox's.
"""

from __future__ import annotations

import os
import pwd
import secrets
import stat
import tempfile
from pathlib import Path

__all__ = ["FIRST", "LAST", "allocate"]

FIRST, LAST = 1_000_000_000, 2_000_000_000
_FOLDERS = [Path("/run/autograder-sandbox-uids")]


def _folder() -> Path:
    for folder in [*_FOLDERS, Path(tempfile.gettempdir()) / "autograder-sandbox-uids"]:
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            info = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022:
            return folder
    raise OSError("no private folder to record sandbox uids in")


def allocate() -> int:
    """A uid no sandbox had before on this machine (since it started); ``OSError`` if none."""
    folder = _folder()
    for _ in range(1000):
        uid = FIRST + secrets.randbelow(LAST - FIRST)
        try:
            pwd.getpwuid(uid)
            continue  # an account of the machine
        except KeyError:
            pass
        try:
            fd = os.open(folder / str(uid), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            continue
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        return uid
    raise OSError("no free sandbox uid found")
