"""A term end to end, through the command line, told as a chain of stored states.

A roster of 30, release with a deadline, hand-out to the exchange, a Canvas zip (late,
resubmitted, misnamed, unknown files) and two JupyterHub submissions collected, one graded
batch, hand grading through nbgrader's API, late penalties, similarity with a planted copy,
Canvas and Moodle exports checked cell by cell against the gradebook, feedback delivered
through the exchange and as a Canvas zip.

The story is one chain of steps, each a function of the term's folder (the course, the
exchange, the LMS files and the two JupyterHub homes, all under one ``base``)::

    handed_out ─► collected ─► graded ─► hand_graded

``Store.state(step)`` is the folder after ``step``: built once per test run, under a lock, by
copying the state before it and running the step on the copy, whichever test asks first
(under ``pytest -n`` the store is shared by all workers, so each step runs once per run).
What each command printed is kept beside the state (``outputs.json``); the test files assert
on it. Every stage works on a private copy (``Store.copy``), never on the stored state (even
reading the gradebook writes to it: nbgrader's penalty column is brought up to date), so the
stages hold in any order, on any worker, or alone; a copy checks the stored state's digest
first, so a test that wrote into one is named. The state holds no absolute path (a test
checks), so a copy works wherever it lands.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat

from tests.autograder.term.test_term_similarity import COPY, HONEST_BINCOUNT, HONEST_LOOPS

A = "a1_metrics"
COURSE_ID = "ml101"  #: the exchange's course id (nbgrader's ``--course``)
PER_DAY = 0.1  #: the late penalty per started day, a fraction of the points
STYLES = ("ref", "loops", "bincount")
CANVAS_STUDENTS = range(1, 27)  #: uploaded to Canvas (26 copies 1)
HUB_STUDENTS = (29, 30)  #: submitted on JupyterHub (30 has an extension)
LATE_ON_CANVAS = (3, 7)


def student(i: int) -> dict:
    return {"name": f"Student{i:02d}, Given", "canvas": f"student{i:02d}given", "id": str(1000 + i),
            "login": f"s{i:02d}"}  # fmt: skip


PEOPLE = [student(i) for i in range(1, 31)]


def styles_of(i: int) -> tuple[str, str, str]:
    """Each student writes a different combination of styles for the three answer cells
    (27 combinations: students 1-25, 29 and 30; student 26 copies student 1)."""
    k = {26: 0, 29: 25, 30: 26}.get(i, i - 1)  # 26's copy is student 1's code
    return STYLES[k % 3], STYLES[(k // 3) % 3], STYLES[(k // 9) % 3]


def answers_of(i: int, reference: dict) -> dict:
    if i == 26:
        return COPY  # the planted copy of student 1 (who writes the reference in every cell)
    pool = {"ref": reference, "loops": HONEST_LOOPS, "bincount": HONEST_BINCOUNT}
    cells = dict(zip(("counts", "scores", "roc"), styles_of(i), strict=True))
    answers = {cell: pool[style][cell] for cell, style in cells.items()}
    if i in (24, 25):
        del answers["roc"]  # left as the template: the ROC and AUC checks fail
    return answers


def cli(*args, ok=True) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS``, as an instructor types it."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def nbgrader(*args, cwd: Path) -> None:
    """nbgrader's own command line, as a student on JupyterHub runs it."""
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONWARNINGS": "ignore"}
    command = [str(Path(sys.executable).with_name("nbgrader")), *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def hub_options(base: Path, home: Path) -> list[str]:
    return [
        "--course",
        COURSE_ID,
        f"--Exchange.root={base / 'exchange'}",
        f"--Exchange.cache={home / '.cache'}",
    ]


def notebook_of(base: Path, i: int) -> bytes:
    """Student ``i``'s submission: the released notebook with their answers."""
    from autograder.grading import authoring

    reference = authoring.solutions(authoring.read_source(A))
    released = nbformat.read(base / "course" / "release" / A / f"{A}.ipynb", as_version=4)
    return nbformat.writes(authoring.submission(released, answers_of(i, reference))).encode()


# --- the steps: each takes the term's folder and returns what its commands printed ----------


def hand_out(base: Path) -> dict:
    """Roster from Canvas, release with a deadline, an extension for s30, hand-out."""
    (base / "exchange").mkdir()
    (base / "exchange").chmod(0o777)
    with (base / "canvas.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A1 metrics (4242)"])
        w.writerow(["    Points Possible", "", "", "", "", "10"])
        for p in PEOPLE:
            w.writerow([p["name"], p["id"], f"U{p['id']}", p["login"], "Lecture 1", ""])
    with (base / "moodle.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["First name", "Last name", "ID number", "Institution", "Department",
                    "Email address"])  # fmt: skip
        for i, p in enumerate(PEOPLE, start=1):
            w.writerow(
                ["Given", f"Student{i:02d}", p["login"], "", "", f"{p['login']}@uni.example"]
            )
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2, hours=12)
    c = str(base / "course")
    roster = cli("roster", "--course", c, "--from", str(base / "canvas.csv")).stdout
    cli("release", A, "--course", c, "--due", due.isoformat(),
        "--late-penalty-per-day", str(PER_DAY))  # fmt: skip
    until = (due + timedelta(days=4)).isoformat()
    cli("extend", A, "--course", c, "--student", "s30", "--until", until)
    handout = cli(
        "handout", A, "--course", c, "--exchange", str(base / "exchange"), "--course-id", COURSE_ID
    ).stdout
    return {"due": due.isoformat(), "roster": roster, "handout": handout}


def collect(base: Path) -> dict:
    """The Canvas download (students 1-26, with late, resubmitted, misnamed and unknown
    files) and two JupyterHub submissions through nbgrader's own fetch and submit."""
    entries = {}
    for i in CANVAS_STUDENTS:
        p = PEOPLE[i - 1]
        late = "late_" if i in LATE_ON_CANVAS else ""
        name = f"{A}-Copy1.ipynb" if i == 9 else f"{A}.ipynb"
        entries[f"{p['canvas']}_{late}{p['id']}_{5000 + i}_{name}"] = notebook_of(base, i)
    # student 5 first uploaded the untouched template, then resubmitted (Canvas: "-1")
    template = (base / "course" / "release" / A / f"{A}.ipynb").read_bytes()
    entries[f"{PEOPLE[4]['canvas']}_{PEOPLE[4]['id']}_5005_{A}.ipynb"] = template
    entries[f"{PEOPLE[4]['canvas']}_{PEOPLE[4]['id']}_6005_{A}-1.ipynb"] = notebook_of(base, 5)
    entries[f"stranger_9999_7777_{A}.ipynb"] = notebook_of(base, 1)
    entries[f"{PEOPLE[9]['canvas']}_{PEOPLE[9]['id']}_8000_notes.txt"] = b"my notes"
    with zipfile.ZipFile(base / "submissions.zip", "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    c = str(base / "course")
    canvas = cli("collect", A, "--course", c, "--from", str(base / "submissions.zip")).stdout
    for i in HUB_STUDENTS:
        home = base / f"home{i}"
        home.mkdir()
        nbgrader("fetch_assignment", A, *hub_options(base, home), cwd=home)
        (home / A / f"{A}.ipynb").write_bytes(notebook_of(base, i))
        nbgrader("submit", A, *hub_options(base, home), f"--student=s{i}", cwd=home)
    hub = cli("collect", A, "--course", c, "--from", str(base / "exchange" / COURSE_ID)).stdout
    return {"collect_canvas": canvas, "collect_hub": hub}


def grade(base: Path) -> dict:
    """One graded batch on two workers."""
    return {"grade": cli("grade", A, "--course", str(base / "course"), "--jobs", "2").stdout}


#: What a person enters in formgrader: (grade or comment, cell, student, field, value).
HAND_GRADES = (
    ("grade", "test-counts", "s02", "manual_score", 1.0),
    ("comment", "counts", "s02", "manual_comment", "Right counts, wrong order."),
    ("grade", "test-auc", "s04", "extra_credit", 0.5),
)


def hand_grade(base: Path) -> dict:
    """Hand grading through nbgrader's API: an override with a comment, extra credit."""
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID as GRADEBOOK_COURSE
    from autograder.config import default_db_url

    with Gradebook(default_db_url(base / "course"), course_id=GRADEBOOK_COURSE) as gb:
        for kind, cell, who, field, value in HAND_GRADES:
            find = gb.find_grade if kind == "grade" else gb.find_comment
            setattr(find(cell, A, A, who), field, value)
        gb.db.commit()
    return {}


STEPS: dict[str, Callable[[Path], dict]] = {
    "handed_out": hand_out,
    "collected": collect,
    "graded": grade,
    "hand_graded": hand_grade,
}


# --- the store: each state built once per run, shared by every worker -----------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class State:
    """A stored state: the term's folder after a step, and what every step so far printed."""

    base: Path
    outputs: dict

    @property
    def course(self) -> Path:
        return self.base / "course"

    @property
    def due(self) -> datetime:
        return datetime.fromisoformat(self.outputs["due"])


@dataclass(frozen=True)
class Store:
    """States of the term under ``root``: ``root/STEP/base`` and ``root/STEP/outputs.json``."""

    root: Path

    def state(self, step: str) -> State:
        """The state after ``step``, built from the one before it if no test has built it yet.

        Locks are taken from the later step to the earlier, so two workers never wait on
        each other in a circle."""
        if step not in STEPS:
            raise ValueError(f"step must be one of {list(STEPS)}, got {step!r}")
        folder = self.root / step
        self.root.mkdir(parents=True, exist_ok=True)
        with _locked(self.root / f"{step}.lock"):
            if not (folder / "outputs.json").exists():
                index = list(STEPS).index(step)
                before = self.state(list(STEPS)[index - 1]) if index else None
                shutil.rmtree(folder, ignore_errors=True)  # a step that failed half-way
                base = folder / "base"
                if before is None:
                    base.mkdir(parents=True)
                    outputs = {}
                else:
                    shutil.copytree(before.base, base, symlinks=True)
                    outputs = dict(before.outputs)
                outputs.update(STEPS[step](base))
                (folder / "digest").write_text(tree_digest(base))
                (folder / "outputs.json").write_text(json.dumps(outputs))
        return State(
            base=folder / "base", outputs=json.loads((folder / "outputs.json").read_text())
        )

    def copy(self, step: str, to: Path) -> State:
        """A private copy at ``to`` of the state after ``step``: what every stage works on."""
        stored = self.state(step)
        if tree_digest(stored.base) != (stored.base.parent / "digest").read_text():
            raise AssertionError(f"a test wrote into the stored state {step!r}")
        shutil.copytree(stored.base, to / "base", symlinks=True)
        return State(base=to / "base", outputs=stored.outputs)


def tree_digest(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
