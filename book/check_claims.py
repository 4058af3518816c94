"""Do the lessons' claims hold on every machine? Recompute them under perturbations.

Every claim a lesson makes (``coursekit.claims.claim``) is checked when the book builds, on
the build machine's CPU kernels, one thread, the lesson's seeds. A claim that rests on float
rounding holds there and fails on a reader's laptop or in CI. This check runs each lesson's
code again (its code cells as one script, no Jupyter, no page build) under **conditions**:

- PyTorch's CPU kernel path: ``ATEN_CPU_CAPABILITY`` = ``default`` (generic, with
  ``OPENBLAS_CORETYPE=Prescott``), ``avx2``, or the machine's native one;
- the thread count: 1 or 2 (the lesson's own ``torch.set_num_threads(1)`` is overridden);
- the seeds: every seed the lesson fixes in its code (``seed=N``, ``random_state=N``,
  ``seed_everything(N)``, ``torch.manual_seed(N)``, ``keras.utils.set_random_seed(N)``,
  ``default_rng(N)``) shifted by ``k``, so shift 0 is the lesson as written and 1-4 are its
  neighbouring seeds.

Claims run in record mode (``COURSEKIT_CLAIMS_RECORD``): a false claim is written down and the
lesson runs on, so one run names every claim that does not hold. One interpreter per condition
runs all the lessons asked for (torch is imported once). The result names each claim that
fails under some condition, with the condition and the claim's numbers; a lesson that stops
with an error is named with the error.

Usage (a lesson author checking a new claim; exit status 1 if any claim flips)::

    .venv/bin/python book/check_claims.py 04_learning_rate
    .venv/bin/python book/check_claims.py 04_learning_rate --seeds 0-4 --threads 1,2
    .venv/bin/python book/check_claims.py --paths default,avx2,native --threads 1 --seeds 0
"""

from __future__ import annotations

import argparse
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


_SEED_KEYWORD = re.compile(r"\b(seed|random_state)(\s*=\s*)(\d+)\b")
_SEED_CALL = re.compile(r"\b(seed_everything|manual_seed|set_random_seed|default_rng)\((\d+)\)")


def shift_seeds(code: str, shift: int) -> str:
    """``code`` with every seed it fixes (``seed=3``, ``manual_seed(0)``, ...) moved by ``shift``.

    >>> shift_seeds("data.load('moons', seed=3); torch.manual_seed(0)", 2)
    "data.load('moons', seed=5); torch.manual_seed(2)"
    """
    if shift == 0:
        return code
    code = _SEED_KEYWORD.sub(lambda m: f"{m[1]}{m[2]}{int(m[3]) + shift}", code)
    return _SEED_CALL.sub(lambda m: f"{m[1]}({int(m[2]) + shift})", code)


def lesson_cells(name: str) -> list[str]:
    """The code cells of lesson ``name`` (``notebooks/lessons/NAME.md``), in order."""
    import jupytext

    source = LESSONS / f"{name}.md"
    if not source.is_file():
        known = sorted(p.stem for p in LESSONS.glob("*.md"))
        raise SystemExit(f"error: no lesson {name!r}; the lessons are {known}")
    notebook = jupytext.reads(source.read_text(), fmt="md:myst")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def lessons_with_claims() -> list[str]:
    """Every lesson that makes a claim, by name."""
    return sorted(p.stem for p in LESSONS.glob("*.md") if "claim(" in p.read_text())


# ---------------------------------------------------------------------------- the child


def _run_lessons_here(names: list[str], threads: int, shift: int, out: Path) -> None:
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
            for number, cell in enumerate(lesson_cells(name)):
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


def run_condition(names: list[str], condition: Condition, workdir: Path) -> list[Outcome]:
    """Run the lessons ``names`` in a fresh interpreter under ``condition``."""
    out = workdir / f"{condition.path.value}-{condition.threads}-{condition.seed_shift}.jsonl"
    env = {
        k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "OPENBLAS_CORETYPE")
    }
    env.update(condition.path.env)
    env.update(
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
    parser.add_argument(
        "--paths",
        default="native,default,avx2",
        help="kernel paths, of native, default, avx2 (default: all three)",
    )
    parser.add_argument("--threads", default="1,2", help="thread counts (default: 1,2)")
    parser.add_argument("--seeds", default="0", help="seed shifts, e.g. 0-4 (default: 0)")
    parser.add_argument("--jobs", type=int, default=1, help="conditions run at once (default 1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.lessons or lessons_with_claims()
    threads, shifts = _int_list(args.threads), _int_list(args.seeds)
    if args.child:
        _run_lessons_here(names, threads[0], shifts[0], Path(args.child))
        return 0
    try:
        paths = [KernelPath(p) for p in args.paths.split(",")]
    except ValueError as exc:
        parser.error(f"--paths: {exc}; choose from {[p.value for p in KernelPath]}")
    for name in names:
        lesson_cells(name)  # an unknown lesson is named before anything runs
    conditions = [Condition(p, t, s) for p in paths for t in threads for s in shifts]
    outcomes = check(names, conditions, jobs=args.jobs)
    found, stopped = flips(outcomes)
    n_claims = len({(o.lesson, c["text"]) for o in outcomes for c in o.claims})
    for line in stopped:
        print(line)
    for flip in found:
        print(f"FLIPS {flip}")
    seconds = sum(o.seconds for o in outcomes)
    print(
        f"{n_claims} claims of {len(names)} lesson(s) under {len(conditions)} conditions "
        f"({seconds:.0f} s of lesson runs): {len(found)} failure(s)"
    )
    return 1 if found or stopped else 0


def check(names: list[str], conditions: list[Condition], jobs: int = 1) -> list[Outcome]:
    """Run the lessons under every condition (``jobs`` interpreters at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory(prefix="claims-") as tmp:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            parts = pool.map(lambda c: run_condition(names, c, Path(tmp)), conditions)
            return [o for part in parts for o in part]


if __name__ == "__main__":
    sys.exit(main())
