"""Attacks on the sandbox's isolation and on the limits the grader enforces (issue classes 9-12).

Each attack asserts its class's guarantee, not just the instance: memory is counted by the
kernel for the whole sandbox (memfd, shared memory, many processes), printed output and
message sizes are counted where the grader receives them, one sandbox cannot take more than
its CPU share nor another's processes, no uid or keyring is shared with another sandbox
(concurrent or later), and no socket but ``AF_UNIX`` can be made. Most run at the Sandbox
level (cheap), each in both ways a namespace sandbox starts (forked from the fork server and
executed by ``unshare``: the ``start`` fixture); one graded batch puts the CPU, memory and process attackers between honest
students while a second grading run grades honest students at the same time.

Guarantees that need cgroups are skipped (with the reason) where the machine has none; what
holds without them is in ``capabilities()["missing"]``.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.sandbox import Limits, Sandbox, SandboxDied, capabilities, open_sandbox

CAPS = capabilities()
needs_cgroups = pytest.mark.skipif(not CAPS["cgroups"], reason="no cgroups here")
needs_seccomp = pytest.mark.skipif(not CAPS["seccomp"], reason="no seccomp filter here")
MB = 2**20


@pytest.fixture(params=["forked", "executed"])
def start(request, monkeypatch):
    """How a namespace sandbox starts, for every attack on one: forked from the zygote (the
    default), or ``unshare`` executing the harness (``AUTOGRADER_ZYGOTE=0``); the environment
    reaches the grading processes a test starts too."""
    monkeypatch.setenv("AUTOGRADER_ZYGOTE", "1" if request.param == "forked" else "0")
    return request.param


def _box(tmp_path: Path, name: str = "box", slot: int = 0, **limits) -> Sandbox:
    files = tmp_path / f"{name}-files"
    files.mkdir(exist_ok=True)
    return open_sandbox(files, tmp_path / f"{name}-work", Limits(**limits), slot=slot)


def _run(box: Sandbox, code: str, timeout: float = 60) -> dict:
    return box.request({"op": "run", "code": textwrap.dedent(code)}, timeout)


# -- memory: the kernel counts the whole sandbox ---------------------------------------------


@needs_cgroups
@pytest.mark.parametrize(
    "attack",
    [
        # 40 memfds of 60 MB: files in memory, no address space used (2.4 GB held before)
        """
        import os
        fds = []
        for i in range(40):
            fd = os.memfd_create(f"hoard{i}")
            for _ in range(60):
                os.write(fd, b"x" * 2**20)
            fds.append(fd)
        print("HELD", len(fds) * 60, "MB")
        """,
        # eight processes each under an address-space limit of 1 GB, 8 x 400 MB together
        """
        import subprocess, sys
        code = "b = bytearray(400 * 2**20); import time; time.sleep(60)"
        ps = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(8)]
        import time; time.sleep(15)
        print("HELD", sum(p.poll() is None for p in ps) * 400, "MB")
        """,
        # shared memory files in /dev/shm and /tmp (tmpfs) beside a big heap
        """
        hoard = bytearray(700 * 2**20)
        for folder in ("/dev/shm", "/tmp"):
            with open(f"{folder}/hoard", "wb") as f:
                for _ in range(120):
                    f.write(b"x" * 2**20)
        print("HELD", 940, "MB")
        """,
    ],
    ids=["memfd-40x60MB", "eight-processes", "tmpfs-and-heap"],
)
def test_memory_is_counted_for_the_whole_sandbox(start, tmp_path, attack):
    with _box(tmp_path, memory_mb=512, scratch_mb=128) as box:
        try:
            answer = _run(box, attack, timeout=120)
            held = answer["stdout"]
        except SandboxDied as died:
            assert died.cause == "memory", died.detail
            held = ""
    observed = box.observed  # the control group's counters, read as it was removed
    assert observed.peak_memory_bytes <= 1.5 * 512 * MB, observed
    if held:  # survived: then it cannot have held more than the limit
        assert int(held.split()[1]) * MB <= 1.5 * 512 * MB, held


@needs_cgroups
def test_a_memory_death_is_told_by_the_kernel_not_by_the_submission(start, tmp_path):
    with _box(tmp_path, memory_mb=256) as box, pytest.raises(SandboxDied) as died:
        code = """
        import os
        fds = [os.memfd_create(f"m{i}") for i in range(8)]
        for fd in fds:
            for _ in range(60):
                os.write(fd, b"x" * 2**20)
        """
        _run(box, code)
    assert died.value.cause == "memory" and "memory limit (256 MB)" in str(died.value)
    assert box.observed.oom_kills >= 1


# -- output: counted where the grader receives it ---------------------------------------------

_FLOOD = """
import json, resource, sys, tempfile, textwrap
from pathlib import Path
from autograder.sandbox import Limits, SandboxDied, open_sandbox
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
folder = Path(tempfile.mkdtemp())
(folder / "files").mkdir()
box = open_sandbox(folder / "files", folder / "work", Limits(memory_mb=2048))
box.start()
code = textwrap.dedent('''
    import sys
    harness = type(sys.stdout).write.__globals__   # the harness's own globals
    harness["MAX_OUTPUT"] = harness["wire"].MAX_MESSAGE = 10**12   # its own limits, raised
    for _ in range(COUNT):
        print("x" * 4 * 2**20)
''').replace("COUNT", sys.argv[1])
try:
    answer = box.request({"op": "run", "code": code}, 120)
    out, error = answer.get("stdout", ""), answer.get("error")
    result = {"stdout": len(out), "cut": out.endswith("characters]"), "error": error}
except SandboxDied as died:
    result = {"died": died.cause}
box.close()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({**result, "grew_mb": (after - before) / 1024}))
"""


@pytest.mark.parametrize("count", [100, 15], ids=["100x4MB", "15x4MB"])
def test_printed_output_is_capped_by_the_grader_whatever_the_harness_says(start, tmp_path, count):
    """After raising the harness's own limits, 100 x 4 MB (over the 64 MB of any message) and
    15 x 4 MB (over the answer to a cell, ``MAX_RUN_ANSWER``) are both refused from their
    header, before the body is read: the grader's process grows by a bounded amount."""
    run = subprocess.run(
        [sys.executable, "-c", _FLOOD, str(count)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result.get("died") == "output", result
    assert result["grew_mb"] <= 64, result  # not one message's body was read


@pytest.mark.parametrize("size", [10**7, 10**5], ids=["10MB", "100kB"])
def test_error_texts_are_capped_by_the_grader(start, tmp_path, size):
    """Forged error texts: 21 MB of them are an answer to a cell over its bound (refused from
    the header, as ``output``); 210 kB of them are cut to the grader's limits."""
    code = f"""
    import sys
    type(sys.stdout).write.__globals__["_error"] = lambda exc: {{
        "ename": "E" * {size // 10}, "evalue": "v" * {size}, "traceback": "t" * {size}}}
    raise ValueError
    """
    with _box(tmp_path) as box:
        if size > 10**6:
            with pytest.raises(SandboxDied) as died:
                _run(box, code)
            assert died.value.cause == "output"
            return
        error = _run(box, code)["error"]
    assert len(error["ename"]) <= 100 and len(error["evalue"]) <= 2000
    assert len(error["traceback"]) <= 5000


# -- CPU: one sandbox cannot take more than its share ------------------------------------------

_SPIN = """
import subprocess, sys
loop = "while True:\\n    pass"
spinners = [subprocess.Popen([sys.executable, "-c", loop], start_new_session=True)
            for _ in range(16)]
print(len(spinners))
"""


_DAEMONS = """
import os, sys
for _ in range(16):  # double-forked daemons in sessions of their own
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                pass
        os._exit(0)
    os.wait()
print(16)
"""


@needs_cgroups
@pytest.mark.parametrize("attack", [_SPIN, _DAEMONS], ids=["setsid-loops", "daemons"])
def test_sixteen_busy_loops_get_one_core(start, tmp_path, attack):
    """The kernel's own count of the sandbox's CPU time: at most ``cpus`` cores' worth of the
    wall time, however many processes spin (16 would take every core of the machine)."""
    with _box(tmp_path, cpus=1) as box:
        assert _run(box, attack)["stdout"].strip() == "16"
        start, used = time.monotonic(), box.cgroup.observe().cpu_s
        time.sleep(4)
        wall, spent = time.monotonic() - start, box.cgroup.observe().cpu_s - used
    assert spent <= 1 * wall * 1.1 + 0.2, (spent, wall)
    assert box.observed is not None  # the group is gone: every spinner died with it


@needs_cgroups
def test_closing_kills_every_process_and_removes_the_group(start, tmp_path):
    with _box(tmp_path) as box:
        _run(box, _SPIN)
        folders = list(box.cgroup.folders.values())
        pids = box.cgroup.processes()
        assert len(pids) >= 17
    assert not any(folder.exists() for folder in folders)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


# -- processes and uids: one sandbox's own -----------------------------------------------------

_FILL = """
import subprocess
ps = []
try:
    while len(ps) < 1000:
        ps.append(subprocess.Popen(["sleep", "60"]))
except OSError as exc:
    print("FULL", len(ps), type(exc).__name__)
"""


def test_filling_the_process_limit_leaves_a_concurrent_sandbox_untouched(start, tmp_path):
    if not (CAPS["cgroups"] or CAPS["as_root"]):
        pytest.skip("the process limit is the grading user's here (no cgroups, not root)")
    with _box(tmp_path, "filler", slot=0, processes=24) as filler:
        full = _run(filler, _FILL)["stdout"]
        assert full.startswith("FULL") and int(full.split()[1]) < 24, full
        # the same slot in a concurrent run, and the next student of this run
        with _box(tmp_path, "neighbour", slot=0, processes=24) as neighbour:
            answer = _run(neighbour, _FILL.replace("1000", "20"))
    assert answer["ok"] and answer["stdout"] == "", answer


_KEYS = """
import ctypes, platform
add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
USER, SESSION, SEARCH = -4, -3, 10
def add(ring, text):
    r = libc.syscall(add_key, b"user", text, b"secret", 6, ring)
    return r if r >= 0 else -ctypes.get_errno()
def find(ring, text):
    r = libc.syscall(keyctl, SEARCH, ring, b"user", text, 0)
    return r if r >= 0 else -ctypes.get_errno()
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="syscall numbers")
def test_no_kernel_keyring_is_shared_with_another_sandbox_or_the_grader(start, tmp_path):
    """A key added to the user and session keyrings by one student is not found by the next
    student of the same slot, nor by a concurrent sandbox; the grader's own session key is
    not found inside."""
    exec(_KEYS, namespace := {})
    mine = namespace["add"](-3, b"grader-session-key-7c1")  # the grader's session keyring
    if mine < 0:
        pytest.skip(f"no kernel keyrings here (errno {-mine})")
    first = _box(tmp_path, "first", slot=0)
    first.start()
    try:
        code = _KEYS + "print(add(USER, b'left-by-first'), add(SESSION, b'left-by-first-s'))"
        added = _run(first, code)["stdout"].split()
        # added, or refused outright by the filter (ENOSYS: keyring calls are refused)
        assert all(int(k) > 0 or (CAPS["seccomp"] and int(k) == -38) for k in added), added
        with _box(tmp_path, "concurrent", slot=1) as concurrent:
            probe = _KEYS + (
                "print(find(USER, b'left-by-first'), find(SESSION, b'left-by-first-s'),"
                " find(SESSION, b'grader-session-key-7c1'))"
            )
            seen_concurrently = _run(concurrent, probe)["stdout"].split()
        uids = {first.uid, concurrent.uid}
    finally:
        first.close()
    with _box(tmp_path, "next", slot=0) as later:
        seen_later = _run(later, probe)["stdout"].split()
        uids.add(later.uid)
    for seen in (seen_concurrently, seen_later):
        assert all(int(v) < 0 for v in seen), seen  # ENOKEY (or no keyring at all)
    if CAPS["mode"] == "namespaces" and CAPS["as_root"]:
        assert len(uids) == 3 and not uids & set(range(61000, 61100)), uids


def test_uids_are_never_handed_out_twice():
    from autograder.sandbox import uids

    if not CAPS["as_root"]:
        pytest.skip("sandboxes have their own uids only when the grader is root")
    drawn = [uids.allocate() for _ in range(200)]
    assert len(set(drawn)) == 200
    assert all(uids.FIRST <= uid < uids.LAST for uid in drawn)


# -- sockets: none but AF_UNIX -----------------------------------------------------------------

_SOCKETS = """
import socket, subprocess, sys
def try_(make):
    try:
        make().close()
        return "made"
    except OSError as exc:
        return exc.errno
print(try_(lambda: socket.socket(socket.AF_INET)))
print(try_(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)))
print(try_(lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)))
print(try_(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)))
print(try_(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)))
print(try_(lambda: socket.socketpair(socket.AF_INET)[0]))
print(try_(lambda: socket.socket(socket.AF_UNIX)))
print(try_(lambda: socket.socketpair(socket.AF_UNIX)[0]))
child = "import socket\\ntry:\\n    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)\\n" \\
        "except OSError as e:\\n    print(e.errno)"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout.strip())
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.syscall(425, 8, ctypes.create_string_buffer(120)), ctypes.get_errno())  # io_uring
"""


@needs_seccomp
@pytest.mark.parametrize("mode", ["namespaces", "rlimits"])
def test_no_socket_but_af_unix(start, tmp_path, monkeypatch, mode):
    if mode == "namespaces" and CAPS["mode"] != "namespaces":
        pytest.skip("namespace sandbox unavailable")
    monkeypatch.setenv("AUTOGRADER_SANDBOX", mode)
    try:
        with _box(tmp_path) as box:
            lines = _run(box, _SOCKETS)["stdout"].split("\n")
    finally:
        monkeypatch.delenv("AUTOGRADER_SANDBOX")
        capabilities()
    refused = "97"  # EAFNOSUPPORT
    assert lines[:6] == [refused] * 6, lines  # INET, INET6, VSOCK, NETLINK, PACKET, pair
    assert lines[6:8] == ["made", "made"]  # AF_UNIX: socket and socketpair
    assert lines[8] == refused  # inherited by every process the submission starts
    assert lines[9] == "-1 38"  # io_uring (which opens sockets without socket()): ENOSYS


@needs_seccomp
def test_honest_frameworks_import_and_run_under_the_filter(tmp_path):
    code = """
    import numpy, torch
    torch.set_num_threads(1)
    print(tuple(torch.nn.Linear(2, 3)(torch.ones(1, 2)).shape))
    import keras
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    print(model.predict(numpy.ones((1, 2)), verbose=0).shape)
    """
    with _box(tmp_path) as box:
        answer = _run(box, code, timeout=300)
    assert answer["ok"], answer["error"]
    assert answer["stdout"].split("\n")[:2] == ["(1, 3)", "(1, 3)"]


# -- one graded batch: resource attackers between honest students, a second run beside it ------

FULL = 10
_HOLD = "\nimport time as _t\n_t.sleep(7)  # keep the attack running while neighbours are graded\n"


def _graded_attacks(solution: dict) -> dict:
    """student -> (cells, most points allowed)."""
    spin = _SPIN.replace("print(len(spinners))", "")
    hoard = textwrap.dedent(
        """

        _real_auc = auc_trapezoid
        def auc_trapezoid(x, y):
            import os
            fds = []
            for i in range(40):
                fds.append(os.memfd_create(f"hoard{i}"))
                for _ in range(60):
                    os.write(fds[-1], b"x" * 2**20)
            return _real_auc(x, y)
        """
    )
    fill = _FILL.replace("print(", "_full = (")
    held = {k: v + _HOLD for k, v in solution.items()}
    return {
        "s01-busy-loops": ({**held, "counts": spin + held["counts"]}, FULL),
        "s04-memfd-hoard": ({**solution, "roc": solution["roc"] + hoard}, FULL - 2),
        "s06-process-limit": ({**held, "counts": fill + held["counts"]}, FULL),
    }


def _grading_run(root: Path, students: dict, released, jobs: int) -> subprocess.Popen:
    import nbformat

    from autograder.grading import authoring

    subs = root / "submitted"
    for student, cells in students.items():
        target = subs / student / "a1_metrics"
        target.mkdir(parents=True)
        nbformat.write(authoring.submission(released, cells), target / "a1_metrics.ipynb")
    command = [sys.executable, "-m", "autograder", "grade", "a1_metrics"]
    command += ["--course", str(root / "course"), "--submissions", str(subs)]
    command += ["--jobs", str(jobs), "--csv", str(root / "grades.csv")]
    command += ["--cell-timeout", "10", "--timeout", "150", "--memory-mb", "1024"]
    command += ["--processes", "64"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _rows(root: Path) -> dict:
    import csv

    with (root / "grades.csv").open() as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    children: dict = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[1]
            except (OSError, IndexError):
                continue
            children.setdefault(int(parent), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _grader_peaks(pids: list[int], peaks: dict) -> None:
    """Record each grader process's peak resident memory (VmHWM); sandboxes (in their own
    control group or namespace) are left out: the kernel limits them."""
    for pid in pids:
        try:
            groups = Path(f"/proc/{pid}/cgroup").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if "autograder-sandbox" in groups:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]) * 1024)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, released_course):
    import threading

    import nbformat

    from autograder.grading import authoring

    if not CAPS["cgroups"]:
        pytest.skip(f"no cgroups here: {CAPS['missing'][:1]}")
    main, beside = tmp_path_factory.mktemp("isolation"), tmp_path_factory.mktemp("beside")
    for root in (main, beside):
        folder = released_course("a1_metrics", root / "course")
    released = nbformat.read(folder / "a1_metrics.ipynb", as_version=4)
    source = nbformat.read(
        main / "course" / "source" / "a1_metrics" / "a1_metrics.ipynb", as_version=4
    )
    solution = authoring.solutions(source)
    attacks = _graded_attacks(solution)
    students = {f"s{i:02d}-honest": solution for i in (0, 2, 3, 5, 7)}
    students.update({name: cells for name, (cells, _) in attacks.items()})
    honest_beside = {f"c{i}-honest": solution for i in range(3)}
    peaks: dict = {}
    runs = [
        _grading_run(main, students, released, 2),
        _grading_run(beside, honest_beside, released, 1),
    ]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for run in runs:
                _grader_peaks(_tree(run.pid), peaks)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        outputs = [run.communicate(timeout=900)[0] for run in runs]
    finally:
        stop.set()
        sampler.join()
        for run in runs:
            run.kill()
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
    return {
        "rows": _rows(main),
        "beside": _rows(beside),
        "most": {name: most for name, (_, most) in attacks.items()},
        "peak": max(peaks.values(), default=0),
        "peaks": sorted(peaks.values()),
    }


def test_honest_students_keep_full_marks_beside_resource_attackers(batch):
    for student, row in batch["rows"].items():
        if "honest" in student:
            assert (row["status"], float(row["score"])) == ("graded", FULL), row


def test_a_concurrent_grading_run_is_untouched(batch):
    assert len(batch["beside"]) == 3
    for row in batch["beside"].values():
        assert (row["status"], float(row["score"])) == ("graded", FULL), row


def test_resource_attackers_score_no_more_than_their_code(batch):
    for student, most in batch["most"].items():
        row = batch["rows"][student]
        assert row["status"] == "graded" and float(row["score"]) <= most, row
    hoard = batch["rows"]["s04-memfd-hoard"]
    assert "memory" in hoard["reason"].lower(), hoard


def test_no_grader_process_grows_past_the_limit(batch):
    """Every grader process (the run and its workers) stays within 1.5 x the sandbox memory
    limit (1024 MB) while the attackers hoard memory and flood the channel."""
    assert 0 < batch["peak"] <= 1.5 * 1024 * MB, batch["peaks"]
