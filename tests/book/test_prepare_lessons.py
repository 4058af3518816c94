"""book/prepare_lessons.py: lesson sources to notebooks, converting only what changed."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book"))

import prepare_lessons  # noqa: E402

from tests.book.pages import MYST_HEADER  # noqa: E402

LESSON = (
    MYST_HEADER
    + """
# A lesson

```{code-cell} ipython3
print(1)
```
"""
)


@pytest.fixture
def folders(tmp_path, monkeypatch):
    sources, target = tmp_path / "sources", tmp_path / "target"
    sources.mkdir()
    (sources / "01_a.md").write_text(LESSON)
    monkeypatch.setattr(prepare_lessons, "SOURCES", sources)
    monkeypatch.setattr(prepare_lessons, "TARGET", target)
    return sources, target


def test_an_unchanged_lesson_is_not_converted_again(folders, monkeypatch):
    _, target = folders
    prepare_lessons.main()
    written = (target / "01_a.ipynb").read_text()
    assert '"print(1)"' in written

    def refuse(text):
        raise AssertionError("converted an unchanged lesson")

    monkeypatch.setattr(prepare_lessons, "to_notebook", refuse)
    prepare_lessons.main()
    assert (target / "01_a.ipynb").read_text() == written


def test_a_changed_lesson_is_converted_and_a_removed_one_deleted(folders):
    sources, target = folders
    prepare_lessons.main()
    (sources / "01_a.md").write_text(LESSON.replace("print(1)", "print(2)"))
    (sources / "02_b.md").write_text(LESSON)
    prepare_lessons.main()
    assert '"print(2)"' in (target / "01_a.ipynb").read_text()
    (sources / "02_b.md").unlink()
    prepare_lessons.main()
    assert sorted(p.name for p in target.iterdir()) == [".01_a.source", "01_a.ipynb"]


def test_a_deleted_notebook_is_written_again_even_with_its_stamp(folders):
    _, target = folders
    prepare_lessons.main()
    (target / "01_a.ipynb").unlink()
    prepare_lessons.main()
    assert (target / "01_a.ipynb").exists()


def _names(code: str) -> tuple[set[str], set[str]]:
    """(names a cell binds, names it reads)."""
    import ast

    bound, read = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else read).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound, read


def names_only_claims_define(notebook) -> set[str]:
    """Names a kept cell reads that, before it, only a (stripped) claim cell defined."""
    by_claims, by_kept, missing = set(), set(), set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        bound, read = _names(cell.source)
        if prepare_lessons.is_claim_cell(cell):
            by_claims |= bound
        else:
            missing |= (read - by_kept - bound) & by_claims
            by_kept |= bound
    return missing


CLAIMED = (
    MYST_HEADER
    + """
```{code-cell} ipython3
loss = 0.5
```

```{code-cell} ipython3
:tags: [remove-cell]

from coursekit.claims import claim
ratio = loss / 2
claim("the loss is small", loss < 1)
```

```{code-cell} ipython3
print(loss)
```
"""
)


def test_the_readers_copy_has_no_claim_cells_and_keeps_the_rest():
    notebook = prepare_lessons.to_notebook(CLAIMED)
    copy = prepare_lessons.reader_copy(prepare_lessons.to_notebook(CLAIMED))
    assert [c.source for c in copy.cells] == ["loss = 0.5", "print(loss)"]
    assert len(notebook.cells) == 3
    assert names_only_claims_define(copy) == set()


def test_a_cell_that_reads_what_only_a_claim_cell_defined_is_found():
    """The check below would see a reader's copy that stops with a NameError."""
    planted = prepare_lessons.to_notebook(CLAIMED.replace("print(loss)", "print(ratio)"))
    assert names_only_claims_define(planted) == {"ratio"}


@pytest.mark.parametrize(
    "lesson", sorted(p.stem for p in (ROOT / "notebooks" / "lessons").glob("*.md"))
)
def test_every_lessons_reader_copy_runs_without_its_claim_cells(lesson):
    """No kept cell reads a name that only a stripped claim cell defines; no claim is left."""
    text = (ROOT / "notebooks" / "lessons" / f"{lesson}.md").read_text()
    notebook = prepare_lessons.to_notebook(text)
    assert names_only_claims_define(notebook) == set()
    copy = prepare_lessons.reader_copy(notebook)
    assert not any("claim(" in c.source for c in copy.cells if c.cell_type == "code")
