"""The sandbox on its own: the wire format, limits, isolation, clean-up."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.sandbox import Limits, Sandbox, SandboxDied, capabilities, open_sandbox
from autograder.sandbox.inside import wire

STRONG = capabilities()["mode"] == "namespaces"
needs_namespaces = pytest.mark.skipif(not STRONG, reason="namespace sandbox unavailable")


# -- the wire format ----------------------------------------------------------------------------

arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex128]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
)
plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-wire.MAX_INT + 1, wire.MAX_INT - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | arrays,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and (a.dtype, a.shape, a.tobytes()) == (
            b.dtype,
            b.shape,
            b.tobytes(),
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=200, deadline=None)
@given(plain)
def test_plain_values_survive_the_wire_unchanged(value):
    import json

    assert _same(wire.decode(json.loads(json.dumps(wire.encode(value)))), value)


@pytest.mark.parametrize(
    "message",
    [
        {"__array__": "AAAA", "dtype": "|O", "shape": [1]},  # objects: could be anything
        {"__array__": "AAAAAAAAAAA=", "dtype": "<f8", "shape": [5]},  # 8 bytes for 40
        {"__array__": "AAAAAAAAAAA=", "dtype": "<f8", "shape": [-1]},
        {"__pickle__": "gASVAAAAAAAAAAB9lC4="},
        {"__rng__": {"bit_generator": "MT19937", "state": {}}},
        {"__dict__": [1, 2]},
        {"__handle__": 1, "type": "x", "extra": 1, "more": 2},
    ],
)
def test_the_grader_refuses_what_is_not_plain_data(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_deep_nesting_and_unknown_objects_are_refused():
    deep = [1]
    for _ in range(40):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.encode(deep)
    with pytest.raises(wire.WireError, match="cannot send a value of type object"):
        wire.encode(object())


def test_a_generator_travels_with_its_state():
    rng = np.random.default_rng(7)
    copy = wire.decode(wire.encode(rng))
    assert np.array_equal(copy.random(5), rng.random(5))


# -- a running sandbox --------------------------------------------------------------------------


@pytest.fixture(params=["namespaces", "namespaces-exec", "rlimits"])
def mode(request, monkeypatch):
    """Each way a sandbox starts: forked from the zygote (the default of the ``namespaces``
    mode), ``unshare`` executing the harness (``AUTOGRADER_ZYGOTE=0``), the fallback."""
    mode = request.param.removesuffix("-exec")
    if mode == "namespaces" and not STRONG:
        pytest.skip("namespace sandbox unavailable")
    monkeypatch.setenv("AUTOGRADER_SANDBOX", mode)
    monkeypatch.setenv("AUTOGRADER_ZYGOTE", "0" if request.param.endswith("-exec") else "1")
    yield mode
    monkeypatch.delenv("AUTOGRADER_SANDBOX")
    capabilities()


def _box(tmp_path, **limits) -> Sandbox:
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    return open_sandbox(files, tmp_path / "work", Limits(**limits))


def _run(box, code, timeout=30):
    return box.request({"op": "run", "code": code}, timeout)


def test_calls_return_values_in_place_changes_and_serve_callbacks(tmp_path, mode):
    with _box(tmp_path) as box:
        code = "def f(a, g):\n    a[0] = 99.0\n    return a * 2, g(3)\n"
        assert _run(box, code)["ok"]
        args = [np.arange(3.0), lambda x: x + 1]
        callbacks: dict = {}
        message = {"op": "call", "target": "f", "args": wire.encode(args, callbacks=callbacks)}
        message["observe"] = True  # the arguments after the call come back only if asked
        answer = box.request(message, 30, callbacks)
        value, after = wire.decode(answer["value"]), wire.decode(answer["args_after"])
        assert np.array_equal(value[0], [198.0, 2.0, 4.0]) and value[1] == 4
        assert np.array_equal(after[0], [99.0, 1.0, 2.0])


def test_the_reference_is_a_stand_in_that_refuses(tmp_path, mode):
    with _box(tmp_path) as box:
        answer = _run(box, "from coursekit.metrics import roc_curve\nroc_curve([0, 1], [0.1, 0.9])")
        assert answer["error"]["ename"] == "ReferenceUsed"


def test_the_memory_limit_is_the_kernels_verdict_where_there_are_cgroups(tmp_path, mode):
    """With a control group, going over the limit is an OOM kill the grader sees (cause
    "memory"); without, the allocation fails inside (address-space limit)."""
    with _box(tmp_path, memory_mb=1024) as box:
        if capabilities()["cgroups"]:
            with pytest.raises(SandboxDied, match=r"memory limit \(1024 MB\)") as died:
                _run(box, "x = bytearray(4 * 2**30)")
            assert died.value.cause == "memory"
            assert box.observed.peak_memory_bytes <= 1024 * 2**20
        else:
            assert _run(box, "x = bytearray(4 * 2**30)")["error"]["ename"] == "MemoryError"


def test_a_memory_error_the_student_raises_is_no_evidence_of_the_limit(tmp_path, mode):
    with _box(tmp_path, memory_mb=1024) as box:
        answer = _run(box, "raise MemoryError('the grader host is out of memory')")
        assert answer["error"]["ename"] == "MemoryError"  # an error of the student's code
        assert _run(box, "1 + 1")["ok"]  # and the sandbox lives on


def test_the_file_size_limit_raises_in_the_submission(tmp_path, mode):
    with _box(tmp_path, file_mb=1) as box:
        answer = _run(box, "open('big', 'wb').write(b'0' * 2 * 2**20)")
        assert answer["error"]["ename"] == "OSError" and "too large" in answer["error"]["evalue"]


def test_the_cpu_limit_ends_the_submission_with_the_reason(tmp_path, mode):
    with _box(tmp_path, cpu_s=1) as box, pytest.raises(SandboxDied, match="CPU time limit") as e:
        _run(box, "while True:\n    pass", timeout=60)
    assert e.value.cause == "cpu"


@pytest.mark.parametrize(
    "code, cause, says",
    [
        ("import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)", "signal", "SIGXCPU"),
        ("import os\nos._exit(152)", "exit", "status 127"),  # not "killed by SIGXCPU"
        ("import os\nos._exit(3)", "exit", "status 3"),
        ("import ctypes\nctypes.string_at(0)", "signal", "SIGSEGV"),
    ],
    ids=["own-sigxcpu", "exit-152", "exit-3", "segfault"],
)
def test_the_cause_of_a_death_is_what_the_grader_saw(tmp_path, mode, code, cause, says):
    """A harness that sends itself the CPU-limit signal, or exits with 128 + its number, is
    not reported as having reached the CPU limit: the kernel counted no CPU time."""
    if mode == "rlimits" and "152" in code:
        says = "status 152"  # the grader's own child: its exit code as it is
    with _box(tmp_path, cpu_s=30) as box, pytest.raises(SandboxDied, match=says) as died:
        _run(box, code)
    assert died.value.cause == cause, died.value.detail


def test_output_is_capped(tmp_path, mode):
    with _box(tmp_path) as box:
        out = _run(box, "print('x' * 10_000_000)")["stdout"]
        assert len(out) < 200_000 and out.endswith("[output cut at 100,000 characters]")


def test_a_broken_channel_is_a_dead_sandbox_not_a_verdict(tmp_path, mode):
    with _box(tmp_path) as box:
        # every descriptor it could hold: the channel's numbers are whatever the grader's
        # process had free (a long-lived test worker holds many), so no fixed small range
        code = (
            "import os\n"
            "seen = {int(f) for f in os.listdir('/proc/self/fd')} if os.path.isdir('/proc/self/fd') else set()\n"
            "for fd in sorted(seen | set(range(4096)) - {0, 1, 2}):\n"
            "    try:\n        os.write(fd, b'x' * 100)\n    except OSError:\n        pass\n"
        )
        with pytest.raises(SandboxDied, match="broke the channel"):
            _run(box, code)
            _run(box, "1")


def test_closing_kills_every_process_the_submission_started(tmp_path, mode):
    with _box(tmp_path) as box:
        code = "import subprocess\nsubprocess.Popen(['sleep', '4244'], start_new_session=True)\n"
        assert _run(box, code)["ok"]
        assert subprocess.run(["pgrep", "-f", "sleep 4244"], capture_output=True).returncode == 0
    assert subprocess.run(["pgrep", "-f", "sleep 4244"], capture_output=True).returncode == 1


@needs_namespaces
def test_the_namespace_sandbox_sees_only_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "namespaces")
    with _box(tmp_path) as box:
        code = (
            "import os, socket\n"
            "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
            "print(os.getuid() != 0, sorted(os.listdir('/')))\n"
            "try:\n    socket.socket().connect(('127.0.0.1', 22))\n"
            "except OSError as e:\n    print(e.errno)\n"
        )
        lines = _run(box, code)["stdout"].splitlines()
    assert lines[0] == "['1', '2']"  # its init and the harness: nothing of the grader's
    if capabilities()["as_root"]:
        assert lines[1].startswith("True")
    for folder in ("proc", "scratch", "tmp", "dev", "harness", "usr"):
        assert f"'{folder}'" in lines[1]
    assert "'home'" not in lines[1] and "'var'" not in lines[1]
    # no socket but AF_UNIX (EAFNOSUPPORT); without the filter, ENETUNREACH: not even loopback
    assert lines[2] == ("97" if capabilities()["seccomp"] else "101")


@needs_namespaces
@pytest.mark.parametrize("as_root", [True, False], ids=["own-uid", "user-namespace"])
def test_no_capability_is_left_to_undo_mounts_or_leave_the_chroot(tmp_path, monkeypatch, as_root):
    """As root the sandbox runs as its own uid; otherwise it is "root" of a user namespace
    (the path a grader that is not root takes), where capabilities would be dangerous."""
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "namespaces")
    monkeypatch.setitem(capabilities(), "as_root", as_root)
    with _box(tmp_path) as box:
        code = (
            "import os\n"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('Cap')])\n"
            "import ctypes\n"
            "print(ctypes.CDLL(None, use_errno=True).umount2(b'/usr', 2), ctypes.get_errno())\n"
            "os.chroot('/tmp')\n"
        )
        answer = _run(box, code)
    caps, umount = answer["stdout"].splitlines()
    assert set(caps.strip("[]").replace("'", "").split(", ")) == {"0000000000000000"}
    assert umount == "-1 1"  # EPERM
    assert answer["error"]["ename"] == "PermissionError"


@needs_namespaces
def test_folders_to_hide_are_empty_even_inside_an_allowed_one(tmp_path, monkeypatch):
    import sys

    monkeypatch.setenv("AUTOGRADER_SANDBOX", "namespaces")
    secret = Path(sys.prefix) / "share" / "course-kept-here"  # inside the allowed environment
    secret.mkdir(parents=True, exist_ok=True)
    try:
        (secret / "gradebook.db").write_text("secret")
        files = tmp_path / "files"
        files.mkdir()
        with open_sandbox(files, tmp_path / "work", hide=[secret]) as box:
            code = f"import os\ntry:\n    print(os.listdir({str(secret)!r}))\nexcept OSError as e:\n    print('denied')"
            out = _run(box, code)["stdout"]
        assert out.strip() in ("[]", "denied")
    finally:
        (secret / "gradebook.db").unlink()
        secret.rmdir()


@needs_namespaces
def test_the_process_limit_holds_when_the_grader_is_root(tmp_path, monkeypatch):
    if not capabilities()["as_root"]:
        pytest.skip("the process limit needs a uid of its own (grader running as root)")
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "namespaces")
    with _box(tmp_path, processes=16) as box:
        code = "import subprocess\nps = [subprocess.Popen(['sleep', '30']) for _ in range(40)]"
        answer = _run(box, code)
    assert answer["error"]["ename"] in ("BlockingIOError", "OSError")


def test_limits_name_a_bad_value():
    with pytest.raises(ValueError, match="memory_mb must be a positive integer, got 0"):
        Limits(memory_mb=0)
    with pytest.raises(ValueError, match="AUTOGRADER_SANDBOX must be"):
        import os

        os.environ["AUTOGRADER_SANDBOX"] = "docker"
        try:
            capabilities()
        finally:
            del os.environ["AUTOGRADER_SANDBOX"]


def test_checks_come_from_the_source_never_from_the_submitted_notebook(tmp_path):
    """Even a test cell whose hidden block was rewritten (nbgrader normally restores it) runs
    the source's check, in the grader, against the submission's functions."""
    import nbformat

    from autograder.grading import authoring
    from autograder.grading.steps.sandboxed_execute import SandboxedExecute

    source = authoring.read_source("a1_metrics")
    source_path = tmp_path / "source.ipynb"
    nbformat.write(source, source_path)
    marker = tmp_path / "pwned"
    nb = nbformat.v4.new_notebook()
    test = next(c for c in source.cells if c.metadata["nbgrader"]["grade_id"] == "test-counts")
    forged = nbformat.v4.new_code_cell(
        f"### BEGIN HIDDEN TESTS\nopen({str(marker)!r}, 'w')\n### END HIDDEN TESTS",
        metadata=test.metadata,
    )
    wrong = "def confusion_counts(y_true, y_pred):\n    return (0, 0, 0, 0)\n"
    nb.cells = [nbformat.v4.new_code_cell(wrong), forged]
    (tmp_path / "files").mkdir()
    step = SandboxedExecute(source_dir=str(tmp_path), outcomes_path=str(tmp_path / "out.json"))
    resources = {"metadata": {"path": str(tmp_path / "files")}, "nbgrader": {"notebook": "source"}}
    step.preprocess(nb, resources)
    assert not marker.exists()
    [verdict] = nb.cells[1].outputs
    assert verdict["ename"] == "CheckFailed" and "confusion_counts is wrong" in verdict["evalue"]


def test_a_sandbox_that_cannot_start_is_the_graders_failure_not_a_zero(tmp_path, monkeypatch):
    import nbformat

    from autograder.grading import authoring
    from autograder.grading.records import StepReport
    from autograder.grading.steps.sandboxed_execute import SandboxedExecute
    from autograder.sandbox import SandboxUnavailable

    nbformat.write(authoring.read_source("a1_metrics"), tmp_path / "a1.ipynb")

    def broken(self, timeout=120):
        raise SandboxUnavailable("the sandbox did not start: no unshare")

    monkeypatch.setattr(Sandbox, "start", broken)
    nb = authoring.read_source("a1_metrics")
    (tmp_path / "files").mkdir()
    step = SandboxedExecute(source_dir=str(tmp_path), outcomes_path=str(tmp_path / "out.json"))
    resources = {"metadata": {"path": str(tmp_path / "files")}, "nbgrader": {"notebook": "a1"}}
    with pytest.raises(SandboxUnavailable, match="no unshare"):
        step.preprocess(nb, resources)
    # the worker learns it from a typed field of the step's report, not from a text
    report = StepReport.from_json((tmp_path / "out.json").read_text())
    assert report.unavailable == "the sandbox did not start: no unshare"
    assert report.outcomes == ()


def test_without_cgroups_the_fallback_is_said_and_memory_is_address_space(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CGROUPS", "off")
    try:
        caps = capabilities()
        assert caps["cgroups"] is None
        assert any(line.startswith("no control groups") for line in caps["missing"])
        with _box(tmp_path, memory_mb=1024) as box:
            assert box.cgroup is None
            assert _run(box, "x = bytearray(4 * 2**30)")["error"]["ename"] == "MemoryError"
    finally:
        monkeypatch.delenv("AUTOGRADER_CGROUPS")
        capabilities()


def test_the_framing_is_one_definition_on_both_sides():
    import io

    message = {"op": "run", "code": "x" * 1000}
    frames = wire.Frames()
    data = wire.frame(message) * 2
    for i in range(0, len(data), 7):  # in pieces, as a pipe delivers them
        frames.feed(data[i : i + 7])
    assert [frames.next(), frames.next(), frames.next()] == [message, message, None]
    assert wire.read_message(io.BytesIO(wire.frame(message))) == message
    frames.feed(b"%d\n" % (wire.MAX_MESSAGE + 1))
    with pytest.raises(wire.TooLarge):
        frames.next()  # refused from the header, before any of the body
    with pytest.raises(wire.WireError, match="header"):
        bad = wire.Frames()
        bad.feed(b"12x\n{}")
        bad.next()


def test_a_harness_that_hangs_up_and_lives_on_is_stopped(tmp_path, mode):
    """Closing its end of the channel and sleeping: the grader stops it (in the namespace mode
    `unshare` keeps the channel open, so it is the grader's clock that ends it)."""
    from autograder.sandbox import SandboxTimeout

    code = (
        "import os, time\nfor fd in range(3, 64):\n    try:\n        os.close(fd)\n"
        "    except OSError:\n        pass\ntime.sleep(300)"
    )
    with _box(tmp_path) as box, pytest.raises((SandboxDied, SandboxTimeout)) as ended:
        _run(box, code, timeout=8)
    if isinstance(ended.value, SandboxDied):
        assert ended.value.cause == "channel" and "kept running" in str(ended.value)
    assert box.process is None  # stopped and reaped


def test_only_the_inside_folder_is_mounted_for_a_submission(tmp_path, mode):
    """A submission that lists ``/harness`` and searches its path for the grader's sandbox code
    finds the inside folder's files only: none of the host side (``enter``, ``zygote``, the
    modes, ``base``) is in its file system."""
    if mode == "rlimits":
        pytest.skip("the fallback has no mount table: it runs on the grader's file system")
    from autograder.sandbox.base import HERE, INSIDE

    host = sorted(p.name for p in HERE.glob("*.py") if p.name != "__init__.py")
    code = (
        "import json, os, sys\n"
        "mounted = sorted(f for f in os.listdir('/harness') if f.endswith('.py'))\n"
        f"host = {host!r}\n"
        "seen = [os.path.join(d, f) for d in sys.path + ['/harness', '/'] for f in host\n"
        "        if os.path.isdir(d) and os.path.exists(os.path.join(d, f))]\n"
        "print(json.dumps([mounted, seen]))\n"
    )
    with _box(tmp_path) as box:
        answer = _run(box, code)
    assert answer["ok"], answer
    mounted, seen = json.loads(answer["stdout"])
    assert mounted == sorted(p.name for p in INSIDE.glob("*.py"))
    assert {"harness.py", "wire.py", "models.py"} <= set(mounted)
    assert "enter.py" in host and "zygote.py" in host and not set(host) & set(mounted)
    assert seen == []


# -- the one factory: the interface names none of its modes -------------------------------------


def test_the_interface_is_not_a_mode(tmp_path):
    """``Sandbox`` itself refuses to be built, naming the factory that picks the mode."""
    from autograder.sandbox import Sandbox

    with pytest.raises(TypeError, match=r"open_sandbox\(files, workdir"):
        Sandbox(tmp_path, tmp_path / "work")


@pytest.mark.parametrize(
    "mode, zygote, expected",
    [
        ("namespaces", "1", "ForkedSandbox"),
        ("namespaces", "0", "NamespaceSandbox"),
        ("rlimits", "1", "RlimitSandbox"),
        ("rlimits", "0", "RlimitSandbox"),
    ],
)
def test_the_factory_picks_the_mode_the_machine_gives(monkeypatch, mode, zygote, expected):
    """``open_sandbox`` builds the class :func:`sandbox_class` picks from the capabilities and
    ``AUTOGRADER_ZYGOTE`` (read through the capabilities seen by the factory, not guessed)."""
    from autograder.sandbox import modes

    monkeypatch.setattr(modes, "capabilities", lambda: {"mode": mode})
    monkeypatch.setenv("AUTOGRADER_ZYGOTE", zygote)
    assert modes.sandbox_class().__name__ == expected


def test_open_sandbox_builds_that_class_with_every_argument(monkeypatch, tmp_path):
    from autograder.sandbox import modes
    from autograder.sandbox.rlimits import RlimitSandbox

    monkeypatch.setattr(modes, "sandbox_class", lambda: RlimitSandbox)
    box = modes.open_sandbox(
        tmp_path, tmp_path / "w", Limits(cpu_s=3), slot=2, hide=[tmp_path], preload=("json",)
    )
    assert type(box) is RlimitSandbox and box.process is None  # built, not started
    assert (box.limits.cpu_s, box.slot, box.preload) == (3, 2, ("json",))
    assert box.hide == [str(tmp_path.resolve())]
