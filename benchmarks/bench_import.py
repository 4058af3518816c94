"""Claim: ``import coursekit`` costs at most 3x ``import numpy`` and loads no framework.

Both imports are timed in fresh interpreters (``python -X importtime`` would also count
the interpreter's own start-up differently), taking the median of several runs, in the
same run of this script so the ratio is fair on a noisy machine.
"""

import statistics
import subprocess
import sys

FRAMEWORKS = ("tensorflow", "keras", "torch", "sklearn", "scipy", "matplotlib")
RUNS = 7


def _time_import(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _loaded_frameworks() -> list[str]:
    code = (
        "import sys, coursekit\n"
        "from coursekit import xor, gradcheck, metrics, regularization, schedules, optim\n"
        f"print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def main() -> None:
    numpy_s = statistics.median(_time_import("import numpy") for _ in range(RUNS))
    # coursekit imports numpy itself: the fair comparison includes it
    ck_s = statistics.median(_time_import("import coursekit") for _ in range(RUNS))
    all_s = statistics.median(
        _time_import(
            "import coursekit; from coursekit import xor, gradcheck, metrics, "
            "regularization, schedules, optim"
        )
        for _ in range(RUNS)
    )
    print(f"{'what':<44}{'seconds':>10}{'ratio to numpy':>16}")
    print(f"{'import numpy':<44}{numpy_s:>10.4f}{1.0:>16.2f}")
    print(f"{'import coursekit':<44}{ck_s:>10.4f}{ck_s / numpy_s:>16.2f}")
    print(f"{'import coursekit + all numpy submodules':<44}{all_s:>10.4f}{all_s / numpy_s:>16.2f}")
    print(
        f"goal: import coursekit <= 3x import numpy -> {'met' if ck_s <= 3 * numpy_s else 'MISSED'}"
    )
    loaded = _loaded_frameworks()
    print(f"framework modules loaded by coursekit: {loaded or 'none'}")


if __name__ == "__main__":
    main()
