"""Claim: a clean build of the book, executing every lesson, takes at most 10 minutes on 2
cores, and a rebuild with no change takes at most 5% of that.

The book's sources are copied into a temporary folder (book/build_copy.py: the book, the
lessons, links to .venv and the MathJax package) and built there twice with book/build.sh, so
the reader's book/_build and its execution cache are left alone and the first build is truly
clean.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))

import build_copy  # noqa: E402


def _build(root: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["bash", str(root / "book" / "build.sh")], check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    with tempfile.TemporaryDirectory(prefix="coursekit-book-") as tmp:
        root = build_copy.mirror(Path(tmp))  # no execution cache: a clean build
        clean = _build(root)
        rebuild = _build(root)
    print(f"{'build':<28}{'seconds':>10}")
    print(
        f"{'clean, executing lessons':<28}{clean:>10.1f}   goal <= 600 s: {'met' if clean <= 600 else 'MISSED'}"
    )
    print(
        f"{'no-change rebuild':<28}{rebuild:>10.1f}   ratio {rebuild / clean:.1%}, goal <= 5%: "
        f"{'met' if rebuild <= 0.05 * clean else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
