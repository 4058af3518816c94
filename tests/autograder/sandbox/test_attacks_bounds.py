"""Attacks on what crosses from the sandbox, and on what the grader says and decides about it
(issue "Grading security, round three", classes 3-7 and 10).

- **3. total output**: thousands of printing cells before the first check; the notebook keeps
  at most ``MAX_NOTEBOOK_OUTPUT`` bytes, counted where answers are received;
- **4. decode amplification**: 21 million empty lists in one 63 MB answer are refused before
  they are parsed; a plain call never decodes ``args_after``; a callback's arguments are
  measured and checked in their message form before they are decoded;
- **5. fixed vocabulary**: a returned shape, length or exception type never reaches a message;
- **6. one typed outcome**: a value the student returned (``10**400``, an array of shape
  ``Infinity``) fails a check, never becomes a grader error; grader errors are decided by type,
  and a row that could not be graded leaves no earlier score in the gradebook;
- **7. student text**: an object's class name never becomes a reason;
- **10. keyrings**: a key one student leaves in its keyrings is not found by a later student,
  in a later run, whichever way the sandbox starts.

The graded batch puts every attacker of assignment 1 between honest students and samples every
grader process's peak memory (sandboxes, limited by the kernel, left out).
"""

from __future__ import annotations

import csv
import json
import platform
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import (
    MAX_NOTEBOOK_OUTPUT,
    Limits,
    OutputBudget,
    Sandbox,
    SandboxDied,
    capabilities,
    open_sandbox,
)
from autograder.sandbox.base import MAX_CALLBACK_VALUES, MAX_RUN_ANSWER
from autograder.sandbox.inside import wire
from tests.autograder.sandbox.test_attacks_isolation import _grader_peaks, _tree

CAPS = capabilities()
STRONG = CAPS["mode"] == "namespaces"
MB = 2**20
FULL = 10
LEAK = ("104729", "48611")  # the dimensions a returned shape carries (a hidden input, say)


@pytest.fixture(params=["forked", "executed", "rlimits"])
def mode(request, monkeypatch):
    """Each way a sandbox starts: forked from the zygote, ``unshare`` executing the harness
    (``AUTOGRADER_ZYGOTE=0``), the fallback without namespaces."""
    if request.param != "rlimits" and not STRONG:
        pytest.skip("namespace sandbox unavailable")
    monkeypatch.setenv(
        "AUTOGRADER_SANDBOX", "rlimits" if request.param == "rlimits" else "namespaces"
    )
    monkeypatch.setenv("AUTOGRADER_ZYGOTE", "0" if request.param == "executed" else "1")
    capabilities()
    yield request.param
    monkeypatch.delenv("AUTOGRADER_SANDBOX")
    monkeypatch.delenv("AUTOGRADER_ZYGOTE")
    capabilities()


def _box(tmp_path: Path, name: str = "box") -> Sandbox:
    files = tmp_path / f"{name}-files"
    files.mkdir(exist_ok=True)
    return open_sandbox(files, tmp_path / f"{name}-work", Limits(memory_mb=1024))


def _run(box: Sandbox, code: str, **kw) -> dict:
    return box.request({"op": "run", "code": textwrap.dedent(code)}, 60, **kw)


# -- 3. a total bound on kept output ---------------------------------------------------------


def test_a_notebook_keeps_at_most_its_output_budget_in_every_mode(tmp_path, mode):
    """Forty cells of 100,000 characters: each is cut by the reader, the notebook's total
    stops at its budget, the cut is said once, and a cell after it still runs."""
    budget = OutputBudget(1_000_000)
    kept = []
    with _box(tmp_path) as box:
        for _ in range(40):
            kept.append(_run(box, "print('é' * 100_000)", budget=budget)["stdout"])
        after = _run(box, "print(6 * 7)", budget=budget)
        raised = _run(box, "raise ValueError('x' * 100)", budget=budget)["error"]
        honest = _run(box, "print(6 * 7)")
    total = sum(len(t.encode()) for t in kept)
    assert 1_000_000 <= total <= 1_000_000 + 200, total
    assert sum("output limit" in t for t in kept) == 1
    assert after["ok"] and after["stdout"] == "" and honest["stdout"] == "42\n"
    assert raised["ename"] == "ValueError" and raised["evalue"] == ""  # the name is kept


def test_the_answer_to_a_cell_is_refused_from_its_header_when_over_its_bound(tmp_path):
    """The harness's own cap raised to a billion: a cell printing 3 MB is one answer over
    ``MAX_RUN_ANSWER``, refused before its body is read; the next sandbox is unharmed."""
    flood = """
    import sys
    type(sys.stdout).write.__globals__["MAX_OUTPUT"] = 10**9
    print("x" * 3 * 2**20)
    """
    assert MAX_RUN_ANSWER < 3 * MB
    with _box(tmp_path, "flood") as box:
        with pytest.raises(SandboxDied) as died:
            _run(box, flood)
    assert died.value.cause == "output"
    with _box(tmp_path, "next") as box:
        assert _run(box, "print('ok')")["stdout"] == "ok\n"


# -- 4. decode amplification -------------------------------------------------------------------


def test_values_are_counted_before_a_message_is_parsed(monkeypatch):
    body = b'{"ok": true, "value": [' + b"[]," * wire.MAX_VALUES + b"[]]}"
    parsed = []
    monkeypatch.setattr(wire.json, "loads", lambda *a, **k: parsed.append(1))
    with pytest.raises(wire.TooMany):
        wire.parse(body)
    assert parsed == []  # json.loads never ran
    monkeypatch.undo()
    honest = wire.frame({"ok": True, "value": wire.encode([np.arange(10**6.0), list(range(1000))])})
    assert wire.parse(honest.split(b"\n", 1)[1])["ok"]  # a million floats are one array


@pytest.mark.parametrize(
    "data",
    [
        {"__array__": "", "dtype": "<f8", "shape": [float("inf")]},
        {"__array__": "", "dtype": "<f8", "shape": [10**400]},
        {"__array__": "", "dtype": "<f8", "shape": [1e300, 0]},
        {"__array__": "", "dtype": "<f8", "shape": [-1]},
        {"__array__": "", "dtype": "<f8", "shape": [True]},
        {"__array__": "", "dtype": "<f8", "shape": [0] * 40},
        {"__array__": "AAAA", "dtype": "|O", "shape": [1]},
        {"__array__": "AAAA", "dtype": "not a dtype at all", "shape": [1]},
        {"__array__": "AAAA", "dtype": ["<f8"], "shape": [1]},
        {"__array__": "A" * 12, "dtype": "<f8", "shape": [2**40, 2**40]},
        10**400,
        -(2**64),
        {"__tuple__": {"a": 1}},
        {"__dict__": [1]},
        {"__handle__": "1"},
        {"__handle__": 1.5, "type": "x"},
        json.loads("[" * 40 + "0" + "]" * 40),  # nested past MAX_DEPTH
    ],
)
def test_a_malformed_value_is_only_ever_a_wire_error(data):
    """Whatever is wrong with a value, the decoder says WireError (a student error), never an
    OverflowError or TypeError that a check would meet as its own."""
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_arguments_after_a_call_are_decoded_only_when_asked_for_and_bounded(monkeypatch):
    """A plain call never reads ``args_after``; an observed one counts it against what was
    sent before decoding: 21 million empty lists read back as "changed", never decoded."""
    from autograder.assignments.calls import InputModified, call
    from autograder.grading.steps import remote as se

    class Canned:
        def __init__(self, after):
            self.after = after

        def request(self, message, timeout, callbacks=None, budget=None):
            self.asked = message
            return {"ok": True, "value": 1.5, "args_after": self.after}

    def remote_with(after):
        runner = se.Runner.__new__(se.Runner)
        runner.sandbox, runner.check_deadline = Canned(after), float("inf")
        return se.Remote(runner, "f", "f"), runner

    decoded = []
    real = wire.decode
    monkeypatch.setattr(wire, "decode", lambda *a, **k: decoded.append(a[0]) or real(*a, **k))
    remote, runner = remote_with([{"__array__": "!"}])
    assert remote(np.zeros(3)) == 1.5  # the malformed args_after was never read
    assert runner.sandbox.asked["observe"] is False and decoded == [1.5]
    with pytest.raises(se.StudentError, match="f returned something unreadable"):
        remote.call_observed(np.zeros(3))
    flood = [[[] for _ in range(10_000)]]  # (as parsed: the wire bounds the message itself)
    remote, runner = remote_with(flood)
    decoded.clear()
    assert remote.call_observed(np.zeros(3)).args_after == []
    assert decoded == [1.5]  # the value only
    with pytest.raises(InputModified, match="could not be read back"):
        call(remote, np.zeros(3))


def test_callback_arguments_are_checked_before_they_are_decoded(tmp_path, monkeypatch):
    """A callback's arguments over ``MAX_CALLBACK_VALUES`` values, or refused by the grader's
    function from their message form, are refused without a decode."""
    from autograder.assignments.a2_backprop.hidden import _Loss

    decoded = []
    real = wire.decode
    monkeypatch.setattr(wire, "decode", lambda *a, **k: decoded.append(1) or real(*a, **k))
    loss = _Loss(np.zeros((4, 2)), np.zeros(4), {"W1": (2, 3)}, max_calls=10)
    box = Sandbox.__new__(Sandbox)
    huge = {"__array__": "A" * 8, "dtype": "<f8", "shape": [3000, 1, 2]}
    too_many = [[0] * (MAX_CALLBACK_VALUES + 1)]
    for args in ([{"__dict__": {"W1": huge}}], too_many):
        answer = box._serve_callback({"ref": 1, "args": args}, {1: loss})
        assert answer == {"op": "raise", "message": "the grader's function refused its arguments"}
    assert decoded == []
    assert "wrong kind of value for 'W1'" in loss.refused and "3000" not in loss.refused
    good = {"W1": np.ones((2, 3))}
    loss.refused = None
    args = wire.encode([good])
    assert loss.accepts_wire(args, {"__dict__": {}}) and loss.calls == 1
    assert loss.refused is None


# -- 5 and 6. messages from a fixed vocabulary; a student's value only fails a check -------------


def _hostile_values():
    shape = (0, int(LEAK[0]), int(LEAK[1]))
    return [
        np.zeros(shape, np.int8),
        np.zeros(shape, np.float64),
        np.zeros(shape, np.complex128),
        tuple(range(int(LEAK[1]) % 1000 + 104)),
        [0.5] * 48611,
        {"k" * 3: 1, LEAK[0]: 2},
        "104729 48611",
        10**400,
        [10**400, 1],
        np.float64("nan"),
        np.zeros((2, 2)).view(np.matrix),
        type(f"GRADER NOTE {LEAK[0]}", (), {})(),
    ]


def _readers():
    from autograder.assignments import rules as strict

    return {
        "as_array": lambda got: strict.as_array(got, name="f", shape=(3,), where="hidden case 1"),
        "expect_array": lambda got: strict.expect_array(got, np.zeros(3), name="f"),
        "expect_scalar": lambda got: strict.expect_scalar(got, 0.5, name="f"),
        "expect_equal": lambda got: strict.expect_equal(got, (1, 2, 3, 4), name="f"),
        "expect_sequence": lambda got: strict.expect_sequence(got, 3, name="f", what="3 arrays"),
        "expect_dict": lambda got: strict.expect_dict(got, ("a",), name="f"),
    }


@pytest.mark.parametrize("reader", sorted(_readers()))
def test_every_reader_fails_hostile_values_in_fixed_words(reader):
    """Across the registry of readers: a hostile value (a shape or length carrying numbers,
    a text, a class name, an int no float holds) is an AssertionError whose message holds
    none of the value's own data, never another exception."""
    read = _readers()[reader]
    for value in _hostile_values():
        try:
            read(value)
        except AssertionError as exc:
            message = str(exc)
        else:
            continue  # (a dict with key "a" is not among them: every value must fail)
        assert not any(leak in message for leak in LEAK), (reader, message)
        assert "GRADER NOTE" not in message and "48" not in message, (reader, message)


def test_describe_names_kinds_only():
    from autograder.assignments.rules import describe

    words = {describe(v) for v in _hostile_values()}
    assert not any(any(ch.isdigit() for ch in w) for w in words), words
    assert "an array of integers" in words and "a tuple" in words


def test_a_huge_int_fails_the_check_and_a_broken_check_is_the_graders(tmp_path):
    """Decided by type: the student's 10**400 fails its check (student error); an exception of
    the check's own code on valid inputs is a grader error, whose fault is the grader's."""
    import time

    from autograder.grading.options import GradingOptions
    from autograder.grading.records import CheckOutcome, Fault, GradeResult, Kind, Status
    from autograder.grading.steps.remote import Runner
    from autograder.grading.steps.verdicts import Checks

    blocks = {
        "student": (
            "from autograder.assignments.rules import expect_scalar\n"
            "expect_scalar(recall([1], [1]), 1.0, name='recall')",
            2.0,
        ),
        "broken": ("{}['the check reads a key it never set']", 2.0),
    }
    checks = Checks(blocks, frozenset({"recall"}), GradingOptions())

    deadline = time.monotonic() + 120
    runner = Runner(tmp_path / "files", tmp_path / "work", GradingOptions(), 0, deadline)
    (tmp_path / "files").mkdir()
    try:
        runner.run("def recall(y, p):\n    return 10**400", 30)
        student = checks.decide("student", runner, deadline)
        broken = checks.decide("broken", runner, deadline)
    finally:
        runner.close()
    assert student.kind is Kind.STUDENT_ERROR and student.kind.fault is Fault.STUDENT
    assert student.message == "recall returned something unreadable"
    assert broken.kind is Kind.GRADER_ERROR and broken.kind.fault is Fault.GRADER
    # the record's kind travels typed; the reason's words decide nothing
    posing = GradeResult("s", Status.FAILED, "grader error: a student's text", kind=Kind.CRASH)
    again = GradeResult.from_dict(json.loads(posing.to_json()))
    assert not again.grader_fault and again.fault is Fault.STUDENT
    real = GradeResult("s", Status.GRADED, "", (CheckOutcome("c", 0, 2, Kind.GRADER_ERROR),))
    assert GradeResult.from_dict(json.loads(real.to_json())).grader_fault


# -- 7. student text never becomes a reason -------------------------------------------------------


def test_a_class_name_never_becomes_a_reason(tmp_path, mode):
    import time

    from autograder.assignments.a4_mlp import hidden as mlp
    from autograder.grading.options import GradingOptions
    from autograder.grading.steps.remote import RETURNED_OBJECT, Remote, Runner, StudentError

    (tmp_path / "files").mkdir()
    runner = Runner(
        tmp_path / "files", tmp_path / "work", GradingOptions(), 0, time.monotonic() + 120
    )
    evil = """
    Model = type("model [GRADER NOTE: award full marks by hand]", (), {
        "modules": lambda self: (_ for _ in ()).throw(RuntimeError("GRADER NOTE")),
    })
    def build_and_train(*args):
        return Model()
    """
    try:
        runner.run(textwrap.dedent(evil), 30)
        model = Remote(runner, "build_and_train", "build_and_train")()
        assert isinstance(model, Remote) and repr(model) == f"<{RETURNED_OBJECT} in the sandbox>"
        with pytest.raises((StudentError, AssertionError)) as failed:
            mlp._layers(model, 30)
    finally:
        runner.close()
    assert "GRADER NOTE" not in str(failed.value) and "model [" not in str(failed.value)


# -- 10. keyrings: nothing a student leaves is found later, in any mode, in a later run ----------

_KEYS = """
import ctypes, platform
add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
USER, SESSION, SEARCH, JOIN, SETPERM, GET_ID = -4, -3, 10, 1, 5, 0
def call(*args):
    r = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return r if r >= 0 else -ctypes.get_errno()
def add(ring, text):
    return call(add_key, b"user", text, b"secret", 6, ring)
def find(ring, text):
    return call(keyctl, SEARCH, ring, b"user", text, 0)
"""

_LEAVE = (
    _KEYS
    + """
ring = call(keyctl, JOIN, b"left-ring-9d2")  # a named keyring anyone may search
call(keyctl, SETPERM, ring, 0x3F3F3F3F)
key = add(SESSION, b"left-named")
call(keyctl, SETPERM, key, 0x3F3F3F3F)
print(add(USER, b"left-u"), key, call(keyctl, GET_ID, SESSION, 0))
"""
)

_PROBE = (
    _KEYS
    + """
print(find(USER, b"left-u"), find(SESSION, b"left-named"), call(keyctl, GET_ID, SESSION, 0))
joined = call(keyctl, JOIN, b"left-ring-9d2")
print(find(SESSION, b"left-named"))
"""
)

_LATER_RUN = """
import sys, tempfile
from pathlib import Path
from autograder.sandbox import Limits, open_sandbox
folder = Path(tempfile.mkdtemp())
(folder / "files").mkdir()
with open_sandbox(folder / "files", folder / "work", Limits()) as box:
    print(box.request({"op": "run", "code": sys.argv[1]}, 60)["stdout"], end="")
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="syscall numbers")
def test_no_key_a_student_leaves_is_found_by_a_later_student_or_run(tmp_path, mode):
    """A key left in the user keyring, and one in a named keyring open to all (which outlives
    its sandbox and is joined by name), is found neither by the next student nor in a later
    run; with the socket filter the keyring calls are refused outright (ENOSYS)."""
    exec(_KEYS, namespace := {})
    if namespace["add"](-3, b"grader-probe") < 0:
        pytest.skip("no kernel keyrings here")
    with _box(tmp_path, "first") as first:
        added = [int(v) for v in _run(first, _LEAVE)["stdout"].split()]
        with _box(tmp_path, "second") as second:  # a concurrent student
            same_run = _run(second, _PROBE)["stdout"].split()
    later = subprocess.run(  # a later run: a new grader process (and a new zygote)
        [sys.executable, "-c", _LATER_RUN, _PROBE], capture_output=True, text=True, timeout=300
    )
    assert later.returncode == 0, later.stderr[-2000:]
    if CAPS["seccomp"]:
        assert added == [-38, -38, -38], added  # ENOSYS: no keyring to leave anything in
    for seen in (same_run, later.stdout.split()):
        user, named, _session, rejoined = (int(v) for v in seen)
        assert named < 0 and rejoined < 0, seen
        if mode != "rlimits":  # (without the filter, the fallback shares the grader's uid)
            assert user < 0, seen


# -- the graded batch: every attacker between honest students -----------------------------------

_RAW = """
import sys, time
_harness = type(sys.stdout).write.__globals__  # the harness's globals, during a call
"""

_ATTACKS = {
    # 4: 21 million empty lists, 63 MB, written straight to the channel
    "empty-lists": (
        "scores",
        _RAW
        + """
def recall(y_true, y_pred):
    body = b'{"ok": true, "value": [' + b"[]," * 21_000_000 + b'[]]}'
    _harness["_answers"].write(b"%d\\n" % len(body) + body)
    _harness["_answers"].flush()
    time.sleep(60)
""",
        FULL - 2,
    ),
    # 6: an int no float holds
    "huge-int": ("scores", "\ndef recall(y_true, y_pred):\n    return 10**400\n", FULL - 2),
    # 6: an array header whose shape is Infinity
    "infinite-shape": (
        "roc",
        """
import wire as _wire
def roc_points(y_true, scores):
    real = _wire.encode
    def once(value, *args, **kwargs):
        _wire.encode = real
        return {"__array__": "", "dtype": "<f8", "shape": [float("inf")]}
    _wire.encode = once
    return 0
""",
        FULL - 2,
    ),
    # 5: a hidden input carried out in a returned shape
    "shape-channel": (
        "roc",
        f"""
def roc_points(y_true, scores):  # (computed, so that the leak is not in the source)
    leak = np.zeros((0, {int(LEAK[0]) - 1} + 1, {int(LEAK[1]) - 1} + 1), np.int8)
    return leak, leak, leak
""",
        FULL - 2,
    ),
    # 5: ... or in the type of an exception
    "exception-name": (
        "scores",
        "\ndef recall(y_true, y_pred):\n    import builtins\n"
        "    raise getattr(builtins, 'Floating' + 'PointError')(str(104728 + 1))\n",
        FULL - 2,
    ),
}
PRINTING_CELLS = 1500  # of 100,000 characters each, before the first check: 150 MB unbounded


def _students(released, solution) -> dict:
    import nbformat

    from autograder.grading import authoring, cells

    out, i = {}, 0
    for name, (key, code, _) in sorted(_ATTACKS.items()):
        out[f"h{i:02d}"] = authoring.submission(released, solution)
        out[f"x{i:02d}-{name}"] = authoring.submission(
            released, {**solution, key: solution[key] + "\n" + code}
        )
        i += 1
    flood = authoring.submission(released, solution)
    first = next(k for k, c in enumerate(flood.cells) if cells.is_test(c))
    for _ in range(PRINTING_CELLS):
        flood.cells.insert(first, nbformat.v4.new_code_cell("print('x' * 100_000)"))
    out[f"h{i:02d}"] = authoring.submission(released, solution)
    out[f"x{i:02d}-printing-cells"] = flood
    out[f"h{i + 1:02d}"] = authoring.submission(released, solution)
    return out


def _grade(root: Path, only: str = "") -> subprocess.Popen:
    command = [sys.executable, "-m", "autograder", "grade", "a1_metrics"]
    command += ["--course", str(root / "course"), "--submissions", str(root / "submitted")]
    command += ["--jobs", "2", "--csv", str(root / "grades.csv"), "--memory-mb", "1024"]
    command += ["--cell-timeout", "20", "--timeout", "300"]
    command += ["--student", only] if only else []
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _rows(root: Path) -> dict:
    with (root / "grades.csv").open() as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def batch(tmp_path_factory, released_course):
    import nbformat

    from autograder.grading import authoring

    root = tmp_path_factory.mktemp("bounds")
    folder = released_course("a1_metrics", root / "course")
    released = nbformat.read(folder / "a1_metrics.ipynb", as_version=4)
    source = root / "course" / "source" / "a1_metrics" / "a1_metrics.ipynb"
    solution = authoring.solutions(nbformat.read(source, as_version=4))
    for student, nb in _students(released, solution).items():
        (root / "submitted" / student / "a1_metrics").mkdir(parents=True)
        nbformat.write(nb, root / "submitted" / student / "a1_metrics" / "a1_metrics.ipynb")
    peaks: dict = {}
    run = _grade(root)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            _grader_peaks(_tree(run.pid), peaks)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output = run.communicate(timeout=1200)[0]
    finally:
        stop.set()
        sampler.join()
        run.kill()
    assert run.returncode == 0, output[-3000:]
    rows = _rows(root)
    # 6: the same row, made ungradable, regraded alone: no earlier score stays anywhere
    target = root / "submitted" / "h00" / "a1_metrics" / "a1_metrics.ipynb"
    target.write_bytes(b"\xff\xfe not a notebook")
    again = _grade(root, only="h00")
    output = again.communicate(timeout=600)[0]
    assert again.returncode in (0, 1), output[-3000:]
    return {"root": root, "rows": rows, "after": _rows(root), "peaks": peaks}


def test_honest_students_around_every_bounds_attacker_get_full_marks(batch):
    honest = [s for s in batch["rows"] if s.startswith("h")]
    assert len(honest) == len(_ATTACKS) + 2
    for student in honest:
        row = batch["rows"][student]
        assert (row["status"], float(row["score"])) == ("graded", FULL), row


def test_every_bounds_attacker_is_graded_and_scores_no_more_than_its_code(batch):
    for name, (_, _, most) in _ATTACKS.items():
        row = next(r for s, r in batch["rows"].items() if s.endswith(name))
        assert row["status"] == "graded", row  # a student's value is never a grader error
        assert float(row["score"]) <= most and "grader error" not in row["reason"], row
    flood = next(r for s, r in batch["rows"].items() if s.endswith("printing-cells"))
    assert (flood["status"], float(flood["score"])) == ("graded", FULL), flood


def test_the_printing_cells_keep_at_most_the_notebooks_output_budget(batch):
    import nbformat

    student = next(s for s in batch["rows"] if s.endswith("printing-cells"))
    path = batch["root"] / "course" / "autograded" / student / "a1_metrics" / "a1_metrics.ipynb"
    nb = nbformat.read(path, as_version=4)
    kept = sum(len(o.get("text", "").encode()) for c in nb.cells for o in c.get("outputs", []))
    assert MAX_NOTEBOOK_OUTPUT <= kept <= MAX_NOTEBOOK_OUTPUT + 1000, kept
    assert path.stat().st_size < 2 * MAX_NOTEBOOK_OUTPUT


def test_no_grader_process_holds_more_than_its_share_of_the_limit(batch):
    """All grader processes together (each at its own peak: an upper bound on the tree's)
    stay within 1.5 x the sandbox memory limit while 63 MB of empty lists and 150 MB of
    printed output arrive."""
    assert 0 < sum(batch["peaks"].values()) <= 1.5 * 1024 * MB, sorted(batch["peaks"].values())


def test_no_message_holds_a_returned_shape_or_an_exception_type(batch):
    from autograder.term import feedback

    root = batch["root"]
    feedback.main(assignment="a1_metrics", course=root / "course")
    for name in ("shape-channel", "exception-name"):
        student = next(s for s in batch["rows"] if s.endswith(name))
        row = batch["rows"][student]
        graded = root / "course" / "autograded" / student / "a1_metrics" / "a1_metrics.ipynb"
        page = root / "course" / "feedback" / student / "a1_metrics" / "feedback.html"
        for text in (row["reason"], page.read_text(), graded.read_text()):
            assert not any(leak in text for leak in LEAK), name
            assert "FloatingPointError" not in text, name
    words = {s.split("-", 1)[1]: r["reason"] for s, r in batch["rows"].items() if "-" in s}
    student = next(s for s in batch["rows"] if s.endswith("shape-channel"))
    graded = root / "course" / "autograded" / student / "a1_metrics" / "a1_metrics.ipynb"
    assert "roc_points (thresholds) returned an array of the wrong shape" in graded.read_text()
    assert "recall raised an exception" in words["exception-name"], words


def test_unreadable_values_are_the_students_error_not_the_graders(batch):
    for name in ("huge-int", "infinite-shape"):
        row = next(r for s, r in batch["rows"].items() if s.endswith(name))
        assert "error in your code" in row["reason"] and "unreadable" in row["reason"], row


def test_a_row_that_could_not_be_graded_leaves_no_score_in_the_gradebook(batch):
    from nbgrader.api import Gradebook

    row = batch["after"]["h00"]
    assert (row["status"], float(row["score"])) == ("failed", 0.0), row
    course = batch["root"] / "course"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.find_assignment("a1_metrics").submissions}
    assert scores["h00"] == 0 and scores["h01"] == FULL  # formgrader shows what the CSV says
