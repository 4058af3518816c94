"""Do the lessons' claims hold on every machine? Recompute them under perturbations.

Every claim a lesson makes (``coursekit.claims.claim``) is checked when the book builds, on
the build machine's CPU kernels, one thread, the lesson's seeds. A claim that rests on float
rounding holds there and fails on a reader's laptop or in CI. This check runs each lesson's
code again (its code cells as one script, no Jupyter, no page build) under **conditions**:

- PyTorch's CPU kernel path: ``ATEN_CPU_CAPABILITY`` = ``default`` (generic, with
  ``OPENBLAS_CORETYPE=Prescott``), ``avx2``, or the machine's native one;
- the thread count: 1 or 2 (the lesson's own ``torch.set_num_threads(1)`` is overridden);
- the seeds: every seed of the lesson's training noise (initial weights, shuffling, dropout,
  searches: ``seed=N``, ``random_state=N``, ``seed_everything(N)``, ``torch.manual_seed(N)``,
  ``keras.utils.set_random_seed(N)``) shifted by ``k``, so shift 0 is the lesson as written
  and 1-4 are its neighbouring seeds. The seeds that draw a lesson's data (``data.load``,
  ``make_classification``, ``default_rng``) stay: the data are the lesson's example, the
  same for every reader (:func:`shift_seeds`).

Claims run in record mode (``COURSEKIT_CLAIMS_RECORD``): a false claim is written down and the
lesson runs on, so one run names every claim that does not hold. One interpreter per condition
runs all the lessons asked for (torch is imported once). The result names each claim that
fails under some condition, with the condition and the claim's numbers; a lesson that stops
with an error is named with the error.

Usage (a lesson author checking a new claim; exit status 1 if any claim flips)::

    .venv/bin/python book/check_claims.py 04_learning_rate        # the 7 conditions of COVERING
    .venv/bin/python book/check_claims.py 04_learning_rate --paths native,default,avx2 \\
        --threads 1,2 --seeds 0-4                                  # the full product: 30 runs
    .venv/bin/python book/check_claims.py --jobs 2                 # every lesson, 2 at a time
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "notebooks" / "lessons"
RECORD_ENV = (
    "COURSEKIT_CLAIMS_RECORD"  # coursekit.claims.RECORD_ENV (not imported: no coursekit here)
)


class KernelPath(Enum):
    """A CPU kernel path of PyTorch (and OpenBLAS), as ``ATEN_CPU_CAPABILITY`` selects it."""

    NATIVE = "native"
    DEFAULT = "default"
    AVX2 = "avx2"

    @property
    def env(self) -> dict[str, str]:
        """The environment variables that select this path (native: none)."""
        if self is KernelPath.DEFAULT:
            return {"ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Prescott"}
        if self is KernelPath.AVX2:
            return {"ATEN_CPU_CAPABILITY": "avx2"}
        return {}


@dataclass(frozen=True)
class Condition:
    """One run of the lessons: a kernel path, a thread count, a seed shift."""

    path: KernelPath
    threads: int
    seed_shift: int

    def __str__(self) -> str:
        return f"{self.path.value} kernels, {self.threads} thread(s), seeds +{self.seed_shift}"


@dataclass(frozen=True)
class Outcome:
    """What one condition gave for one lesson: its claims and, if it stopped, why."""

    lesson: str
    condition: Condition
    claims: tuple[dict, ...]
    error: str | None
    seconds: float


@dataclass(frozen=True)
class Flip:
    """A claim that does not hold (or was not reached) under a condition."""

    lesson: str
    text: str
    condition: Condition
    numbers: dict

    def __str__(self) -> str:
        detail = ", ".join(f"{k}={v}" for k, v in self.numbers.items())
        return f"{self.lesson}: {self.text!r} fails with {self.condition} ({detail})"


#: The conditions ``make test`` runs (tests/book/test_claim_robustness.py) and the default
#: here: every kernel path at the lesson's own seeds with one thread (what a build on another
#: machine computes), two threads, and each neighbouring seed (shifts 1-4) on a different
#: kernel path and thread count. Seven runs of the lessons, not the 30 of the full product
#: (``--paths native,default,avx2 --threads 1,2 --seeds 0-4``), yet every value of every
#: axis appears.
COVERING = (
    Condition(KernelPath.DEFAULT, 1, 0),
    Condition(KernelPath.AVX2, 1, 0),
    Condition(KernelPath.NATIVE, 2, 0),
    Condition(KernelPath.NATIVE, 1, 1),
    Condition(KernelPath.DEFAULT, 2, 2),
    Condition(KernelPath.AVX2, 2, 3),
    Condition(KernelPath.AVX2, 1, 4),
)

_SEED_KEYWORD = re.compile(r"\b(seed|random_state)(\s*=\s*)(\d+)\b")
_SEED_CALL = re.compile(r"\b(seed_everything|manual_seed|set_random_seed)\((\d+)\)")
#: Calls whose seed draws the lesson's *data* (its example), not the noise of training
_DATA_CALL = re.compile(r"(?:\bdata\.load|\bmake_[a-z_]+|\bdefault_rng)$")


def _in_data_call(code: str, position: int) -> bool:
    """Whether ``position`` is inside the parentheses of a data call (``data.load(...)``)."""
    depth = 0
    for i in range(position - 1, -1, -1):
        if code[i] == ")":
            depth += 1
        elif code[i] == "(":
            if depth == 0:
                return _DATA_CALL.search(code[max(0, i - 40) : i]) is not None
            depth -= 1
    return False


def shift_seeds(code: str, shift: int) -> str:
    """``code`` with every seed of its training noise moved by ``shift``.

    Moved: ``seed=N`` and ``random_state=N`` (initial weights, shuffling, dropout, a
    search), ``seed_everything(N)``, ``torch.manual_seed(N)``,
    ``keras.utils.set_random_seed(N)``. Kept: the seeds that draw the lesson's data, its
    example (``data.load(..., seed=N)``, ``make_classification(..., random_state=N)``,
    ``np.random.default_rng(N)``), which a reader on any machine gets the same.

    >>> shift_seeds("data.load('moons', seed=3); torch.manual_seed(0); f(x, seed=1)", 2)
    "data.load('moons', seed=3); torch.manual_seed(2); f(x, seed=3)"
    """
    if shift == 0:
        return code

    def keyword(m: re.Match) -> str:
        if _in_data_call(code, m.start()):
            return m[0]
        return f"{m[1]}{m[2]}{int(m[3]) + shift}"

    code = _SEED_KEYWORD.sub(keyword, code)
    return _SEED_CALL.sub(lambda m: f"{m[1]}({int(m[2]) + shift})", code)


def lesson_cells(name: str, lessons: Path = LESSONS) -> list[str]:
    """The code cells of lesson ``name`` (``notebooks/lessons/NAME.md``), in order."""
    import jupytext

    source = lessons / f"{name}.md"
    if not source.is_file():
        known = sorted(p.stem for p in lessons.glob("*.md"))
        raise SystemExit(f"error: no lesson {name!r}; the lessons are {known}")
    notebook = jupytext.reads(source.read_text(), fmt="md:myst")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def lessons_with_claims(lessons: Path = LESSONS) -> list[str]:
    """Every lesson that makes a claim, by name."""
    return sorted(p.stem for p in lessons.glob("*.md") if "claim(" in p.read_text())


# ---------------------------------------------------------------------------- the child


def _run_lessons_here(
    names: list[str], threads: int, shift: int, out: Path, lessons: Path = LESSONS
) -> None:
    """Run each lesson's code in this interpreter; write one JSON line per lesson to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    torch.set_num_threads(threads)
    torch.set_num_threads = lambda n: None  # the lesson's own setting would undo the condition
    plt.show = lambda *a, **k: plt.close("all")
    from IPython.display import display

    for name in names:
        record = out.with_suffix(f".{name}.claims")
        os.environ[RECORD_ENV] = str(record)
        namespace = {"__name__": "__main__", "display": display}
        started, error = time.perf_counter(), None
        try:
            for number, cell in enumerate(lesson_cells(name, lessons)):
                code = shift_seeds(cell, shift)
                code = "\n".join(
                    ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))
                )
                exec(compile(code, f"<{name} cell {number}>", "exec"), namespace)
        except BaseException as exc:  # a stopped lesson is a finding, named
            error = f"{type(exc).__name__}: {exc}"[:500]
        plt.close("all")
        claims = []
        if record.is_file():
            claims = [json.loads(line) for line in record.read_text().splitlines() if line]
        line = {
            "lesson": name,
            "claims": claims,
            "error": error,
            "seconds": time.perf_counter() - started,
        }
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


# ---------------------------------------------------------------------------- the parent


def run_condition(
    names: list[str], condition: Condition, workdir: Path, lessons: Path = LESSONS
) -> list[Outcome]:
    """Run the lessons ``names`` in a fresh interpreter under ``condition``."""
    out = workdir / f"{condition.path.value}-{condition.threads}-{condition.seed_shift}.jsonl"
    env = {
        k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "OPENBLAS_CORETYPE")
    }
    env.update(condition.path.env)
    env.update(
        # idle OpenMP threads sleep instead of spinning: on a busy machine a spinning thread
        # takes the core its partner needs and two threads run 10x slower (same numbers)
        OMP_WAIT_POLICY="PASSIVE",
        PYTHONHASHSEED="0",
        TF_CPP_MIN_LOG_LEVEL="3",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS=str(condition.threads),
    )
    command = [
        sys.executable,
        __file__,
        "--child",
        str(out),
        "--threads",
        str(condition.threads),
        "--seeds",
        str(condition.seed_shift),
        "--lessons-dir",
        str(lessons),
        *names,
    ]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    outcomes = []
    if out.is_file():
        for line in out.read_text().splitlines():
            d = json.loads(line)
            outcomes.append(
                Outcome(d["lesson"], condition, tuple(d["claims"]), d["error"], d["seconds"])
            )
    done = {o.lesson for o in outcomes}
    for name in names:
        if name not in done:  # the interpreter itself died (a crash, a kill)
            why = f"the run ended with status {result.returncode}: {result.stderr[-500:]}"
            outcomes.append(Outcome(name, condition, (), why, 0.0))
    return outcomes


def flips(outcomes: list[Outcome]) -> tuple[list[Flip], list[str]]:
    """The claims that fail under some condition, and the lessons that stopped (named)."""
    texts: dict[str, list[str]] = {}
    for o in outcomes:
        for c in o.claims:
            texts.setdefault(o.lesson, [])
            if c["text"] not in texts[o.lesson]:
                texts[o.lesson].append(c["text"])
    found, stopped = [], []
    for o in outcomes:
        seen = {c["text"] for c in o.claims}
        for c in o.claims:
            if not c["holds"]:
                found.append(Flip(o.lesson, c["text"], o.condition, c["numbers"]))
        if o.error is not None:
            stopped.append(f"{o.lesson} stopped with {o.condition}: {o.error}")
            for text in texts.get(o.lesson, []):
                if text not in seen:
                    found.append(Flip(o.lesson, text, o.condition, {"reached": "no"}))
    return found, stopped


def _int_list(text: str) -> list[int]:
    values = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        values.extend(range(int(low), int(high or low) + 1))
    return values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Recompute every lesson's claims under other CPU kernels, threads and seeds.",
        epilog="example: .venv/bin/python book/check_claims.py 04_learning_rate --seeds 0-4",
    )
    parser.add_argument(
        "lessons", nargs="*", help="lesson names (default: every lesson with a claim)"
    )
    parser.add_argument("--paths", help="kernel paths, of native, default, avx2")
    parser.add_argument("--threads", help="thread counts, e.g. 1,2")
    parser.add_argument("--seeds", help="seed shifts, e.g. 0-4")
    parser.add_argument("--jobs", type=int, default=1, help="conditions run at once (default 1)")
    parser.add_argument(
        "--no-cache", action="store_true", help=f"run everything again (cache: {CACHE})"
    )
    parser.add_argument("--lessons-dir", type=Path, default=LESSONS, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.lessons or lessons_with_claims(args.lessons_dir)
    if args.child:
        _run_lessons_here(
            names, int(args.threads), int(args.seeds), Path(args.child), args.lessons_dir
        )
        return 0
    for name in names:
        lesson_cells(name, args.lessons_dir)  # an unknown lesson is named before anything runs
    conditions = list(COVERING)
    if args.paths or args.threads or args.seeds:  # the full product of what is given
        try:
            paths = [KernelPath(p) for p in (args.paths or "native,default,avx2").split(",")]
        except ValueError as exc:
            parser.error(f"--paths: {exc}; choose from {[p.value for p in KernelPath]}")
        threads, shifts = _int_list(args.threads or "1,2"), _int_list(args.seeds or "0")
        conditions = [Condition(p, t, k) for p in paths for t in threads for k in shifts]
    cache = None if args.no_cache else CACHE
    outcomes = check(names, conditions, jobs=args.jobs, lessons=args.lessons_dir, cache=cache)
    print(report(outcomes, conditions))
    return 1 if any(flips(outcomes)) else 0


def report(outcomes: list[Outcome], conditions: list[Condition]) -> str:
    """What failed (each flipped claim, each stopped lesson), the time per run, a summary."""
    found, stopped = flips(outcomes)
    lines = [*stopped, *(f"FLIPS {flip}" for flip in found)]
    for condition in conditions:
        times = ", ".join(
            f"{o.lesson[:2]} {o.seconds:.0f} s" for o in outcomes if o.condition == condition
        )
        lines.append(f"{condition}: {times}")
    n_claims = len({(o.lesson, c["text"]) for o in outcomes for c in o.claims})
    n_lessons = len({o.lesson for o in outcomes})
    seconds = sum(o.seconds for o in outcomes)
    lines.append(
        f"{n_claims} claims of {n_lessons} lesson(s) under {len(conditions)} conditions "
        f"({seconds:.0f} s of lesson runs): {len(found)} failure(s), {len(stopped)} stopped"
    )
    return "\n".join(lines)


#: Outcomes already computed, one file per lesson and condition, keyed by everything that
#: decides them (:func:`_key`): an unchanged lesson is not run again under a condition.
CACHE = ROOT / "book" / "_build" / "claims-cache"
_PACKAGES = ("torch", "numpy", "scikit-learn", "scipy", "tensorflow", "keras", "keras-tuner")


def _environment_digest() -> str:
    """coursekit's files and this script, the numerical packages' versions, the CPU."""
    from importlib import metadata

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(q for q in (ROOT / "coursekit").rglob("*") if q.is_file()):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    for package in _PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent".encode())
    cpu = Path("/proc/cpuinfo")
    if cpu.is_file():  # the model and the instruction sets: what the native kernels use
        lines = cpu.read_text().splitlines()
        digest.update(
            "".join(ln for ln in lines if ln.startswith(("model name", "flags")))[:4096].encode()
        )
    return digest.hexdigest()


def _key(environment: str, lessons: Path, name: str, condition: Condition) -> str:
    digest = hashlib.sha256(environment.encode())
    digest.update((lessons / f"{name}.md").read_bytes())
    digest.update(f"{condition.path.value} {condition.threads} {condition.seed_shift}".encode())
    return digest.hexdigest()[:32]


def check(
    names: list[str],
    conditions: list[Condition],
    jobs: int = 1,
    lessons: Path = LESSONS,
    cache: Path | None = CACHE,
) -> list[Outcome]:
    """Run the lessons under every condition (``jobs`` interpreters at a time).

    With ``cache`` (a folder; None: no cache), a lesson whose outcome under a condition is
    cached for the same lesson text, coursekit source, package versions and CPU is not run
    again; lessons that stopped with an error are never cached.
    """
    from concurrent.futures import ThreadPoolExecutor

    environment = _environment_digest() if cache is not None else ""
    known: dict[tuple[str, Condition], Outcome] = {}
    if cache is not None:
        for name in names:
            for c in conditions:
                file = cache / f"{_key(environment, lessons, name, c)}.json"
                if file.is_file():
                    d = json.loads(file.read_text())
                    known[name, c] = Outcome(name, c, tuple(d["claims"]), None, d["seconds"])

    def run(condition: Condition) -> list[Outcome]:
        todo = [n for n in names if (n, condition) not in known]
        done = run_condition(todo, condition, Path(tmp), lessons) if todo else []
        for o in done:
            if cache is not None and o.error is None:
                cache.mkdir(parents=True, exist_ok=True)
                file = cache / f"{_key(environment, lessons, o.lesson, condition)}.json"
                file.write_text(json.dumps({"claims": list(o.claims), "seconds": o.seconds}))
        return [known[n, condition] for n in names if (n, condition) in known] + done

    with tempfile.TemporaryDirectory(prefix="claims-") as tmp:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return [o for part in pool.map(run, conditions) for o in part]


if __name__ == "__main__":
    sys.exit(main())
