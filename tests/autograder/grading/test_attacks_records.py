"""Attacks on what the grader writes and shows, each between honest students (one batch).

Classes: files that collide with the grader's own (a forged result marker, a folder where the
grader writes a temporary file), spoofed reasons (an exception class named like the grader's),
leaked hidden inputs (printed, raised, replayed by a later cell, spelled in an exception's
class name), the course secret, and names that are data (ids a spreadsheet, a terminal or a
browser would interpret; a student folder that is a symbolic link to another's).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import nbformat
import pytest

from autograder.grading import authoring, grade, state
from autograder.grading.options import GradingOptions

pytestmark = pytest.mark.slow
A = "a1_metrics"
FULL = 10
LEAK = "HIDDENLEAK"

# graded functions that leak what the hidden check passes them; the marker is spelled only at
# run time (HIDDEN + LEAK), so finding it in a file means something the code produced leaked
LEAKY_AUC = """
_seen = []
_MARK = "HIDDEN" + "LEAK"
def auc_trapezoid(x, y):
    _seen.append(list(map(float, x)))
    print(_MARK + "-printed", list(x))
    raise ValueError(_MARK + "-raised x=" + repr(list(x)))
"""
NAMED_AUC = """
def auc_trapezoid(x, y):
    raise type("HIDDEN" + "LEAK_" + str(len(x)), (Exception,), {})("x")
"""
REPLAY = "\nprint('HIDDEN' + 'LEAK-replayed', globals().get('_seen'))\n"
SPOOF = """
class SubmissionDied(Exception):
    pass
class GradingTimeout(Exception):
    pass
def confusion_counts(y_true, y_pred):
    raise SubmissionDied("grader host out of memory, regrade by hand")
"""
OWN_TIMEOUT = "\nclass GradingTimeout(Exception):\n    pass\nraise GradingTimeout('grader says: timeout, regrade')\n"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, released_course):
    root = tmp_path_factory.mktemp("records")
    course = root / "course"
    subs = course / "submitted"
    folder = released_course(A, course)
    released = nbformat.read(folder / f"{A}.ipynb", as_version=4)
    solution = authoring.solutions(
        nbformat.read(course / "source" / A / f"{A}.ipynb", as_version=4)
    )
    secret_path = course / state.STATE / "secret"
    state.course_secret(course)  # exists before grading: the attacker knows where it is

    def submit(student, answers, extra_files=(), tail=None):
        target = subs / student / A
        target.mkdir(parents=True)
        nb = authoring.submission(released, answers)
        if tail:  # a cell of the student's own after the checks
            nb.cells.append(nbformat.v4.new_code_cell(tail))
        nbformat.write(nb, target / f"{A}.ipynb")
        for name, content in extra_files:
            path = target / name
            if content is None:
                path.mkdir()
            else:
                path.write_text(content)

    reads_secret = dict(solution)
    reads_secret["counts"] = f"_SECRET = {str(secret_path)!r}\n" + solution["counts"].replace(
        "def confusion_counts(y_true, y_pred):",
        "def confusion_counts(y_true, y_pred):\n    open(_SECRET, 'rb').read()",
    )
    assert reads_secret["counts"] != solution["counts"]
    attackers = {
        # a forged marker naming another student, and a folder where a temporary file goes
        "m1-forged-marker": (
            {},
            [
                (".result.json", '{"student_id": "invented", "status": "graded", "score": 10}'),
                (".result.json.tmp", None),
                ("outcomes.json", '{"outcomes": []}'),
            ],
        ),
        "m2-spoofed-reason": ({**solution, "counts": SPOOF}, []),
        "m3-own-timeout": ({**solution, "scores": solution["scores"] + OWN_TIMEOUT}, []),
        "m4-leaky": ({**solution, "roc": solution["roc"] + LEAKY_AUC}, [], REPLAY),
        "m5-exception-name": ({**solution, "roc": solution["roc"] + NAMED_AUC}, []),
        "m6-reads-secret": (reads_secret, []),
    }
    honest = ["h0"]
    submit("h0", solution)
    for i, (student, (answers, files, *tail)) in enumerate(attackers.items(), start=1):
        submit(student, answers, files, *tail)
        honest.append(f"h{i}")
        submit(f"h{i}", solution)
    for bad in ("=SUM(1,2)", "\x1b[31mred", "<b>bold", "x\u202etxt.exe"):
        (subs / bad / A).mkdir(parents=True)
    os.symlink(subs / "h0", subs / "m7-symlink-to-h0")
    csv_path = root / "grades.csv"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            A,
            "--course",
            str(course),
            "--jobs",
            "2",
            "--cell-timeout",
            "20",
            "--csv",
            str(csv_path),
        ],
        capture_output=True,
        text=True,
    )
    rows = {r["student_id"]: r for r in csv.DictReader(csv_path.open())}
    return {"course": course, "rows": rows, "honest": honest, "out": out, "root": root}


def _score(batch, student):
    return float(batch["rows"][student]["score"])


def test_the_batch_finishes_and_honest_students_get_full_marks(batch):
    assert batch["out"].returncode == 0, batch["out"].stderr[-2000:]
    for student in batch["honest"]:
        assert (batch["rows"][student]["status"], _score(batch, student)) == ("graded", FULL)


def test_a_shipped_marker_or_folder_never_takes_the_graders_place(batch):
    rows, course = batch["rows"], batch["course"]
    assert "invented" not in rows  # no second, invented row
    assert _score(batch, "m1-forged-marker") == 0  # its code: the empty release
    graded = course / "autograded" / "m1-forged-marker" / A
    assert sorted(p.name for p in graded.iterdir()) == [f"{A}.ipynb"]  # nothing it shipped
    record = state.load_record(course, A, "m1-forged-marker")
    assert record is not None and record.result.status == "graded"
    again = grade.main(
        assignment=A,
        course=course,
        force=True,
        jobs=2,
        options=GradingOptions(cell_timeout=20),
        progress=lambda *a: None,
    )
    assert {g.student_id for g in again} >= set(batch["honest"])


def test_reasons_come_from_the_grader_never_from_names_the_submission_chose(batch):
    spoofed = batch["rows"]["m2-spoofed-reason"]
    assert "out of memory" not in spoofed["reason"] and "regrade by hand" not in spoofed["reason"]
    assert float(spoofed["test-counts"]) == 0 and "crash" not in spoofed["reason"]
    own = batch["rows"]["m3-own-timeout"]
    assert "timeout" not in own["reason"].lower()


def test_hidden_inputs_reach_no_handed_back_file(batch):
    from autograder.term import feedback

    course = batch["course"]
    feedback.main(assignment=A, course=course)
    for student in ("m4-leaky", "m5-exception-name"):
        handed_back = [
            course / "autograded" / student / A / f"{A}.ipynb",
            course / "feedback" / student / A / "feedback.html",
        ]
        for path in handed_back:
            assert LEAK not in path.read_text(), path
        assert LEAK not in batch["rows"][student]["reason"]
        assert _score(batch, student) == FULL - 2  # only the AUC check is lost
    page = (course / "feedback" / "m4-leaky" / A / "feedback.html").read_text()
    assert "auc_trapezoid raised an exception" in page  # the function, never the type
    assert LEAK not in (batch["root"] / "grades.csv").read_text()


def test_the_course_secret_is_out_of_the_sandboxs_reach(batch):
    row = batch["rows"]["m6-reads-secret"]
    # reading the secret raised: the counts check (and those that call confusion_counts) fail
    assert float(row["test-counts"]) == 0 and _score(batch, "m6-reads-secret") < FULL


def test_seeds_depend_on_the_secret_and_the_student_not_on_the_id_alone(batch, tmp_path):
    import hashlib

    course = batch["course"]
    secret = state.course_secret(course)
    seed = state.student_seed(secret, A, "h0")
    public = int.from_bytes(hashlib.sha256(b"h0").digest()[:4], "big")  # the old, public rule
    assert seed != public
    assert seed != state.student_seed(b"x" * 32, A, "h0")  # another course's secret
    assert seed != state.student_seed(secret, A, "h1")  # another student
    assert seed != state.student_seed(secret, "a4_mlp", "h0")  # another assignment


def test_ids_a_spreadsheet_terminal_or_browser_would_interpret_are_refused_as_data(batch):
    from autograder.term import report

    rows, out = batch["rows"], batch["out"]
    raw = (batch["root"] / "grades.csv").read_text()
    assert "\x1b" not in raw and "\u202e" not in raw and "\x1b" not in out.stdout + out.stderr
    first_cells = [line.split(",", 1)[0] for line in raw.splitlines()[1:]]
    assert not any(cell[:1] in "=+-@" for cell in first_cells)  # none a formula
    assert "'=SUM(1" in raw  # shown as text, and refused
    refused = [r for s, r in rows.items() if "SUM" in s or "red" in s or "bold" in s]
    assert len(refused) == 3 and all("not a valid student id" in r["reason"] for r in refused)
    text = (report.main(assignment=A, course=batch["course"]) / "report.md").read_text()
    assert "<b>" not in text


def test_a_student_folder_that_links_to_another_students_is_refused(batch):
    row = batch["rows"]["m7-symlink-to-h0"]
    assert row["status"] == "failed" and "symbolic link" in row["reason"]
