"""Does a lesson's false claim fail the book's build, naming the claim?

``book/build.sh`` builds a one-chapter copy of the book (book/build_copy.py: the book's own
configuration, extensions and build command) whose chapter holds a hidden claim cell like the
lessons'. Cheap: one page, one kernel, no second full build.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.book.pages import MYST_HEADER

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"

PAGE = (
    MYST_HEADER
    + """
# A page that claims too much

```{{code-cell}} ipython3
gap_none, gap_l2 = 0.40, 0.35
print(f"gap without a penalty {{gap_none:.2f}}, with L2 {{gap_l2:.2f}}")
```

```{{code-cell}} ipython3
:tags: [remove-cell]

from coursekit.claims import claim

claim("{text}", {holds}, gap_none=gap_none, gap_l2=gap_l2)
```
"""
)


def _build(tmp_path: Path, text: str, holds: str) -> subprocess.CompletedProcess:
    sys.path.insert(0, str(BOOK))
    import build_copy

    copy = build_copy.mirror(tmp_path / "copy")
    if (copy / "notebooks" / "lessons" / "claims.md").is_file():  # a second build, unchanged
        return _run(copy)
    for lesson in (copy / "notebooks" / "lessons").glob("*.md"):
        lesson.unlink()
    (copy / "notebooks" / "lessons" / "claims.md").write_text(PAGE.format(text=text, holds=holds))
    (copy / "book" / "intro.md").write_text("# A one-chapter book\n")
    (copy / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: lessons/claims\n"
    )
    return _run(copy)


def _run(copy: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOK_")}
    return subprocess.run(
        ["bash", str(copy / "book" / "build.sh")], capture_output=True, text=True, env=env
    )


@pytest.mark.slow
def test_a_false_claim_fails_the_build_and_the_failure_names_it(tmp_path):
    result = _build(tmp_path, "L2 halves the train/validation gap", "gap_l2 < 0.5 * gap_none")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    named = (
        "lesson claims failed: ClaimFailed: the lesson claims 'L2 halves the train/validation gap'"
    )
    assert named in result.stderr, output[-3000:]
    assert "gap_none=0.4, gap_l2=0.35" in result.stderr  # and by how much it missed
    # no half-executed page is left: the page says the lesson failed, and why
    html = tmp_path / "copy" / "book" / "_build" / "html"
    page = (html / "lessons" / "claims.html").read_text()
    assert "Lesson claims failed to build" in page and "gap_none=0.4" in page
    assert "gap without a penalty" not in page  # the output of the cell before the claim
    assert not list((html / "_sources" / "lessons").glob("claims.*"))  # nor its download
    # a second build with nothing changed fails again (it does not write the saved page)
    again = _build(tmp_path, "L2 halves the train/validation gap", "gap_l2 < 0.5 * gap_none")
    assert again.returncode != 0, (again.stdout + again.stderr)[-3000:]
    assert named in again.stderr
    assert "gap without a penalty" not in (html / "lessons" / "claims.html").read_text()


@pytest.mark.slow
def test_the_same_page_with_a_true_claim_builds(tmp_path):
    result = _build(tmp_path, "L2 narrows the train/validation gap", "gap_l2 < gap_none")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
