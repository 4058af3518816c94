"""Where hand grading lives: ``COURSE/handgrade/ASSIGNMENT/``, stored with the course.

- ``state.json``: the graders, every question's rubric items, every mark (items applied and
  comment per student and question), the regrade requests and the answers the instructor
  reassigned from the split to another grader. Replaced atomically (a new file
  renamed over the old one), so a reader never sees half of it and a crash loses at most the
  action in flight.
- ``audit.jsonl``: one :class:`~autograder.handgrade.records.AuditEntry` per line, only ever
  appended (``O_APPEND``, flushed to disk before the action returns).
- ``.lock``: every change holds an exclusive ``flock`` on it from read to write, so the grading
  server and ``regrade-request`` (another process) never lose each other's changes.

A change's two writes (``state.json`` and its audit lines) are synced to disk in parallel, both
before the lock is released.

The folder is mode 700. Run as root, the files keep the owner of the folder, the account the
grading server runs as (see :mod:`autograder.handgrade.server`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from autograder.handgrade.records import AuditEntry, Mark, RegradeRequest, RubricItem, check_grader

__all__ = ["FOLDER", "State", "Store", "applied_items"]

FOLDER = "handgrade"
FORMAT = 1


@dataclass
class State:
    """Everything ``state.json`` holds, as typed records (mutated inside a transaction)."""

    graders: list[str] = field(default_factory=list)
    items: dict[str, RubricItem] = field(default_factory=dict)  #: by item id
    marks: dict[tuple[str, str], Mark] = field(default_factory=dict)  #: (question, student)
    requests: dict[str, RegradeRequest] = field(default_factory=dict)
    next_id: int = 1
    #: (question, student) -> grader: answers moved away from the split by the instructor
    assigned: dict[tuple[str, str], str] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)  #: to append when committed

    def new_id(self, prefix: str) -> str:
        value = f"{prefix}{self.next_id}"
        self.next_id += 1
        return value

    def copy(self) -> State:
        """A copy to change (the records are frozen: the containers are copied, not them)."""
        return State(list(self.graders), dict(self.items), dict(self.marks), dict(self.requests),
                     self.next_id, dict(self.assigned))  # fmt: skip

    def items_of(self, question: str) -> list[RubricItem]:
        return [i for i in self.items.values() if i.question == question]

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "graders": self.graders,
            "next_id": self.next_id,
            "items": [i.to_dict() for i in self.items.values()],
            "marks": [m.to_dict() for m in self.marks.values()],
            "requests": [r.to_dict() for r in self.requests.values()],
            "assigned": [
                {"question": q, "student": s, "grader": g}
                for (q, s), g in sorted(self.assigned.items())
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> State:
        if data.get("format") != FORMAT:
            raise ValueError(f"hand-grading state of format {data.get('format')!r}, not {FORMAT}")
        items = [RubricItem.from_dict(d) for d in data.get("items", ())]
        marks = [Mark.from_dict(d) for d in data.get("marks", ())]
        requests = [RegradeRequest.from_dict(d) for d in data.get("requests", ())]
        return cls(
            graders=[check_grader(g) for g in data.get("graders", ())],
            items={i.id: i for i in items},
            marks={(m.question, m.student): m for m in marks},
            requests={r.id: r for r in requests},
            next_id=int(data.get("next_id", 1)),
            assigned={
                (str(a["question"]), str(a["student"])): check_grader(a["grader"])
                for a in data.get("assigned", ())
            },
        )


class Store:
    """One assignment's hand-grading state on disk."""

    def __init__(self, course: Path, assignment: str):
        from autograder.names import check_student_id

        check_student_id(assignment, "assignment")  # a folder name: same rule as ids
        self.folder = Path(course) / FOLDER / assignment
        self._cache: tuple[tuple, State] | None = None

    @property
    def state_path(self) -> Path:
        return self.folder / "state.json"

    @property
    def audit_path(self) -> Path:
        return self.folder / "audit.jsonl"

    def _ensure(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.folder.is_symlink():
            raise ValueError(f"{self.folder} is a link: refused")

    def _own(self, path: Path) -> None:
        """Root writing: hand ``path`` to the folder's owner (the server's account)."""
        if os.geteuid() == 0:
            info = os.stat(self.folder)
            if info.st_uid != 0:
                os.chown(path, info.st_uid, info.st_gid, follow_symlinks=False)

    @contextlib.contextmanager
    def _locked(self, kind: int):
        self._ensure()
        lock = self.folder / ".lock"
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            self._own(lock)
            fcntl.flock(fd, kind)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _load(self) -> State:
        """The state on disk (re-read only when the file changed)."""
        try:
            info = os.stat(self.state_path)
        except FileNotFoundError:
            return State()
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        state = State.from_dict(data)
        self._cache = (key, state)
        return state

    def read(self) -> State:
        """The current state (do not mutate it: use :meth:`change`)."""
        with self._locked(fcntl.LOCK_SH):
            return self._load()

    @contextlib.contextmanager
    def change(self):
        """``with store.change() as state:`` mutate ``state``; it is written when the block
        ends without an exception, its new audit entries appended, all under the lock."""
        with self._locked(fcntl.LOCK_EX):
            state = self._load().copy()
            yield state
            entries = state.audit
            if not entries:
                self._write(state)
                return
            # the two files are synced to disk at once (each fsync waits for the disk)
            failed: list[BaseException] = []

            def append():
                try:
                    self._append(entries)
                except BaseException as exc:
                    failed.append(exc)

            appender = threading.Thread(target=append)
            appender.start()
            try:
                self._write(state)
            finally:
                appender.join()
            if failed:
                raise failed[0]

    def _write(self, state: State) -> None:
        text = json.dumps(state.to_dict(), separators=(",", ":"))
        tmp = self.folder / f".state.json.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        self._own(tmp)
        os.replace(tmp, self.state_path)
        info = os.stat(self.state_path)
        state.audit = []
        self._cache = ((info.st_mtime_ns, info.st_size, info.st_ino), state)

    def _append(self, entries: list[AuditEntry]) -> None:
        if not entries:
            return
        lines = "".join(json.dumps(e.to_dict(), sort_keys=True) + "\n" for e in entries)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
        fd = os.open(self.audit_path, flags, 0o600)
        try:
            self._own(self.audit_path)
            os.write(fd, lines.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def audit(self) -> list[AuditEntry]:
        """Every audit entry, oldest first."""
        if not self.audit_path.is_file():
            return []
        with self.audit_path.open(encoding="utf-8") as handle:
            return [AuditEntry.from_dict(json.loads(line)) for line in handle if line.strip()]


def applied_items(course: Path, assignment: str) -> dict[str, dict[str, tuple[RubricItem, ...]]]:
    """student -> question -> the rubric items applied to the answer (for feedback, report).

    Empty when nobody graded ``assignment`` by hand here; reading never creates the store.
    """
    store = Store(course, assignment)
    if not store.state_path.is_file():
        return {}
    state = store.read()
    found: dict[str, dict[str, tuple[RubricItem, ...]]] = {}
    for (question, student), mark in sorted(state.marks.items()):
        items = tuple(state.items[i] for i in mark.items if i in state.items)
        if items:
            found.setdefault(student, {})[question] = items
    return found
