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
