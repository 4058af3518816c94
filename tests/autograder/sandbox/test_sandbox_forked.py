"""The fork server (zygote): sandboxes forked from a process that imported the assignment's
libraries once are as fresh and as isolated as executed ones, and fail safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.grading.steps.analysis import imported_modules
from autograder.sandbox import Sandbox, SandboxDied, capabilities, forked, open_sandbox

needs_namespaces = pytest.mark.skipif(
    capabilities()["mode"] != "namespaces", reason="namespace sandbox unavailable"
)
# a standard-library module neither the harness nor IPython imports: its presence shows a preload
PRELOADED = "wave"


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "namespaces")
    monkeypatch.setenv("AUTOGRADER_ZYGOTE", "1")


def _box(tmp_path: Path, name: str, preload=(PRELOADED,)) -> Sandbox:
    files = tmp_path / name / "files"
    files.mkdir(parents=True)
    return open_sandbox(files, tmp_path / name / "work", preload=preload)


def _run(box, code: str) -> dict:
    return box.request({"op": "run", "code": code}, 30)


# -- what is preloaded -------------------------------------------------------------------------


def _notebook(*sources: tuple[str, dict]):
    nb = nbformat.v4.new_notebook()
    for source, meta in sources:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": f"c{len(nb.cells)}", **meta}
        nb.cells.append(cell)
    return nb


def test_the_preload_is_what_the_handed_out_notebook_imports():
    solution = {"solution": True, "grade": False, "locked": False}
    test = {"solution": False, "grade": True, "locked": True, "points": 1}
    nb = _notebook(
        ("import numpy as np\nfrom sklearn.model_selection import train_test_split", {}),
        (
            "import torch\n### BEGIN SOLUTION\nimport hintlib\n### END SOLUTION\n"
            "def f(x):\n    import copy\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION",
            solution,
        ),
        ("from coursekit import data\nimport autograder.grading.check\nfrom . import local", {}),
        (
            "import scipy\nassert f(1) == 1\n### BEGIN HIDDEN TESTS\nimport pandas\n"
            "### END HIDDEN TESTS",
            test,
        ),
    )
    # the solution's own import, a test cell's, the course's packages: never preloaded
    assert imported_modules(nb) == ("numpy", "sklearn.model_selection", "torch")


def test_the_assignments_preloads():
    import jupytext

    root = Path(__file__).resolve().parents[3] / "autograder" / "assignments"
    a4 = imported_modules(jupytext.read(root / "a4_mlp" / "notebook.py"))
    assert a4 == ("numpy", "sklearn.datasets", "sklearn.model_selection", "torch")
    # PyTorch's optimisers import torch._dynamo on first use: the zygote imports it too
    assert forked.with_warm_up(a4)[-2:] == ("torch", "torch._dynamo")
    assert imported_modules(jupytext.read(root / "a1_metrics" / "notebook.py")) == ("numpy",)


def test_a_bad_switch_is_named(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_ZYGOTE", "yes")
    with pytest.raises(ValueError, match="AUTOGRADER_ZYGOTE must be 0 or 1, got 'yes'"):
        forked.enabled()


# -- fresh and isolated ------------------------------------------------------------------------


@needs_namespaces
def test_a_fork_starts_with_the_preload_and_nothing_of_the_sandbox_before(tmp_path, forking):
    """Student A changes a preloaded module, the interpreter, its files and its environment;
    student B, forked from the same zygote next, sees none of it."""
    with _box(tmp_path, "a") as a:
        assert isinstance(a, forked.ForkedSandbox)
        code = (
            "import sys, os, wave, random\n"
            f"print({PRELOADED!r} in sys.modules)\n"
            "wave.Wave_read = 'changed by A'; sys.path.append('/from-a')\n"
            "os.environ['FROM_A'] = '1'; open('/tmp/from-a', 'w').write('x')\n"
            "print(random.random())\n"
        )
        answer_a = _run(a, code)
        zygote_a = a.process.zygote
    assert answer_a["ok"], answer_a
    assert answer_a["stdout"].splitlines()[0] == "True"  # preloaded, before any cell imported it
    with _box(tmp_path, "b") as b:
        assert b.process.zygote is zygote_a  # the same fork server
        code = (
            "import sys, os, wave, random\n"
            "print(wave.Wave_read != 'changed by A', '/from-a' not in sys.path)\n"
            "print('FROM_A' not in os.environ, not os.path.exists('/tmp/from-a'))\n"
            "print(random.random())\n"
        )
        answer_b = _run(b, code)
    lines = answer_b["stdout"].splitlines()
    assert lines[:2] == ["True True", "True True"], answer_b
    # reseeded as a fresh interpreter is: the forks do not share a random stream
    assert lines[2] != answer_a["stdout"].splitlines()[1]


@needs_namespaces
def test_no_fork_finds_an_earlier_submission_in_its_memory(tmp_path, forking):
    """What one sandbox was (its files' path, what it computed) never reaches the zygote, so a
    later fork scanning its whole memory finds only itself (the control)."""
    marker_a, marker_b = "studentAAA" + "7d1e", "studentBBB" + "52c9"
    with _box(tmp_path, marker_a) as a:
        assert _run(a, f"secret = {marker_a[:10]!r} + {marker_a[10:]!r} * 1000")["ok"]
    # the needle is searched for in two halves, so that it is never whole in B's own memory
    scan = (
        "import ctypes\n"
        "def scan(head, tail):\n"
        "    for line in open('/proc/self/maps'):\n"
        "        span, perms, *rest = line.split()\n"
        "        start, end = (int(x, 16) for x in span.split('-'))\n"
        "        if 'r' not in perms or end - start > 1 << 30 or rest[-1].startswith('[v'):\n"
        "            continue\n"
        "        data = ctypes.string_at(start, end - start)\n"
        "        at = data.find(head)\n"
        "        while at >= 0:\n"
        "            if data[at + len(head):at + len(head) + len(tail)] == tail:\n"
        "                return True\n"
        "            at = data.find(head, at + 1)\n"
        "    return False\n"
    )
    with _box(tmp_path, marker_b) as b:
        assert _run(b, scan)["ok"]
        # the control: B's own spec (its files' path holds its marker) is in B's memory
        halves = [f"{m[:10].encode()!r}, {m[10:].encode()!r}" for m in (marker_b, marker_a)]
        answer = _run(b, f"print(scan({halves[0]}), scan({halves[1]}))")
    assert answer["stdout"].strip() == "True False", answer


@needs_namespaces
def test_the_fork_is_as_locked_down_as_an_executed_sandbox(tmp_path, monkeypatch):
    """The same view of the machine either way: processes, uid, root, capabilities, network."""
    code = (
        "import os, socket\n"
        "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
        "print(os.getuid() != 0, sorted(os.listdir('/')))\n"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('Cap')])\n"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith(('NoNewPrivs', 'Seccomp:'))])\n"
        "try:\n    socket.socket().connect(('127.0.0.1', 22))\n"
        "except OSError as e:\n    print(e.errno)\n"
    )
    seen = {}
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "namespaces")
    for switch in ("1", "0"):
        monkeypatch.setenv("AUTOGRADER_ZYGOTE", switch)
        with _box(tmp_path, f"z{switch}") as box:
            assert isinstance(box, forked.ForkedSandbox) == (switch == "1")
            seen[switch] = _run(box, code)["stdout"]
    assert seen["1"] == seen["0"]
    assert seen["1"].splitlines()[0] == "['1', '2']"  # its init and the harness


@needs_namespaces
def test_the_grader_sees_how_a_fork_died(tmp_path, forking):
    with _box(tmp_path, "a") as box:
        with pytest.raises(SandboxDied) as died:
            _run(box, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert died.value.cause == "signal" and "SIGSEGV" in died.value.detail


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie's parent, the subreaper, reaps it later)."""
    try:
        return ") Z" not in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False


@needs_namespaces
def test_when_the_zygote_dies_its_sandboxes_die_and_the_next_starts_a_new_one(tmp_path, forking):
    box = _box(tmp_path, "a", preload=(PRELOADED, "fractions"))
    box.start()
    try:
        zygote = box.process.zygote
        assert _run(box, "import subprocess\np = subprocess.Popen(['sleep', '4245'])")["ok"]
        tree = _descendants(zygote.process.pid)
        assert len(tree) >= 4  # the fork, the sandbox's init, the harness, its sleep
        os.kill(zygote.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(_running, tree)):
            time.sleep(0.05)
        alive = [p for p in tree if _running(p)]
        assert alive == []
        with pytest.raises(SandboxDied):
            _run(box, "1")
    finally:
        box.close()
    with _box(tmp_path, "b", preload=(PRELOADED, "fractions")) as again:
        assert again.process.zygote is not zygote
        assert _run(again, "print(2 + 2)")["stdout"] == "4\n"


@needs_namespaces
def test_a_zygote_with_threads_is_not_forked_from(tmp_path, forking, monkeypatch):
    """A fork keeps one thread of several (and whatever locks the others held): the worker
    executes the harness instead."""
    monkeypatch.setattr(forked.Zygote, "forkable", property(lambda self: False))
    with _box(tmp_path, "a") as box:
        assert isinstance(box.process, subprocess.Popen)
        assert _run(box, "print(2 + 2)")["stdout"] == "4\n"


# -- what grading processes skip ---------------------------------------------------------------


def test_new_gradebooks_get_alembics_head_without_a_subprocess(tmp_path):
    """The in-process head revision is the one ``alembic heads`` prints (nbgrader's way)."""
    import nbgrader.api
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, text

    from autograder.config import alembic_head, ensure_tools_on_path

    ensure_tools_on_path()
    assert getattr(nbgrader.api.get_alembic_version, "in_process", False)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from nbgrader.dbutil import _temp_alembic_ini as t\n"
            "import subprocess\nwith t('sqlite:////tmp/x.db') as ini:\n"
            "    print(subprocess.check_output(['alembic', '-c', ini, 'heads']).decode())",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert out.split()[0] == alembic_head()
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with Gradebook(url):
        pass
    with create_engine(url).connect() as db:
        assert (
            db.execute(text("select version_num from alembic_version")).scalar() == out.split()[0]
        )


def test_grading_processes_skip_the_unused_iri_parser():
    """``import autograder`` (every worker's first) leaves out jsonschema's optional IRI
    checker, whose grammars cost seconds of import; notebooks are still validated."""
    code = (
        "import sys\nimport autograder\nimport nbformat\n"
        "nb = nbformat.v4.new_notebook(); nbformat.validate(nb)\n"
        "nb.cells.append({'cell_type': 'code'})\n"
        "try:\n    nbformat.validate(nb)\nexcept nbformat.ValidationError:\n    print('invalid')\n"
        "print(sys.modules.get('rfc3987_syntax'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["invalid", "None"]  # validation works; the parser never loaded


# -- one fork server per grading batch ---------------------------------------------------------


@pytest.fixture
def pool_server(tmp_path, forking):
    """A pool's shared zygote for a one-cell assignment importing ``wave``."""
    from autograder.grading.pool import WorkerPool

    source = tmp_path / "source" / "hw"
    source.mkdir(parents=True)
    nb = _notebook((f"import {PRELOADED}", {}))
    nbformat.write(nb, source / "hw.ipynb")
    pool = WorkerPool(1)
    address = pool.fork_server(str(source), "hw")
    yield address
    pool.close()


@needs_namespaces
def test_a_pools_workers_share_one_fork_server(tmp_path, pool_server):
    assert pool_server and Path(pool_server).is_socket()
    assert oct(Path(pool_server).parent.stat().st_mode & 0o777) == "0o700"
    with open_sandbox(
        _files(tmp_path, "a"), tmp_path / "a" / "work", preload=(PRELOADED,),
        fork_server=pool_server,
    ) as box:  # fmt: skip
        assert box.process.zygote.address == pool_server
        assert box.process.zygote.process is None  # a client, not the owner
        assert _run(box, f"import sys\nprint({PRELOADED!r} in sys.modules)")["stdout"] == "True\n"
    # a sandbox for other modules than the shared server loaded gets this process's own
    with open_sandbox(
        _files(tmp_path, "b"), tmp_path / "b" / "work", preload=("fractions",),
        fork_server=pool_server,
    ) as box:  # fmt: skip
        assert box.process.zygote.address == ""
        assert _run(box, "print(1)")["stdout"] == "1\n"


def _files(tmp_path: Path, name: str) -> Path:
    files = tmp_path / name / "files"
    files.mkdir(parents=True)
    return files


@needs_namespaces
def test_the_shared_fork_server_refuses_other_users(tmp_path, pool_server):
    """Only the grading user's processes may ask it for sandboxes (SO_PEERCRED)."""
    import shutil

    python = shutil.which("python3", path="/usr/bin:/bin")  # one another uid may run
    if os.geteuid() != 0 or python is None:
        pytest.skip("needs root and a system python3 to connect as another uid")
    code = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
        "try:\n    s.connect(sys.argv[1])\nexcept OSError as e:\n    print('refused', e.errno); raise SystemExit\n"
        "s.settimeout(60)\nprint('answer', s.recv(65536)[:20])\n"
    )

    def as_nobody():
        os.setgid(65534)
        os.setuid(65534)

    os.chmod(Path(pool_server).parent, 0o755)  # even with the folder opened up
    os.chmod(pool_server, 0o777)
    out = subprocess.run(
        [python, "-c", code, pool_server], preexec_fn=as_nobody,
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert out.strip() == "answer b''", out  # connected, then closed without a word
    # the control: the grading user itself is answered
    mine = subprocess.run(
        [python, "-c", code, pool_server], capture_output=True, text=True, timeout=120
    ).stdout
    assert mine.startswith('answer b\'{"ready": true'), mine
