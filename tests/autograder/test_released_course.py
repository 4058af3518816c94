"""The shared ``released_course`` fixture (``tests/autograder/conftest.py``): is a copy of the
template what ``release.main`` makes, and is a test that writes into the template caught?"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from tests.autograder.conftest import ReleasedTemplates, tree_digest

A = "a1_metrics"


def _gradebook_rows(course):
    """Every table's rows, with nbgrader's random ids (32 hex digits) as ``<id>``."""

    def row(values):
        return re.sub(r"'[0-9a-f]{32}'", "'<id>'", repr(values))

    with sqlite3.connect(course / "gradebook.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(map(row, db.execute(f"SELECT * FROM {t}"))) for t in sorted(tables)}


def _content(path):
    """A file's bytes; a notebook's JSON without its cells' ids (random in every release)."""
    if path.suffix != ".ipynb":
        return path.read_bytes()
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        cell.pop("id", None)
    return notebook


def test_a_copied_course_is_what_a_release_makes(released_course, tmp_path):
    from autograder.term import release

    made = release.main(assignment=A, course=tmp_path / "released")
    copied = released_course(A, tmp_path / "copied")
    assert copied == (tmp_path / "copied" / "release" / A).resolve() and copied.is_dir()
    fresh, copy = tmp_path / "released", tmp_path / "copied"
    files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file())
    for name in files:
        if name.suffix != ".db":  # the gradebook's file holds free pages; compare its rows
            assert _content(fresh / name) == _content(copy / name), name
    assert _gradebook_rows(fresh) == _gradebook_rows(copy)
    assert any(r for r in _gradebook_rows(copy).values())  # the assignment is in it
    assert made.parent.parent == fresh.resolve()


def test_each_test_gets_its_own_copy(released_course, tmp_path):
    one = released_course(A, tmp_path / "one")
    (one / f"{A}.ipynb").write_text("overwritten by a test")
    two = released_course(A, tmp_path / "two")
    assert (two / f"{A}.ipynb").read_text() != "overwritten by a test"


def test_a_test_that_writes_into_the_template_is_named(tmp_path):
    templates = ReleasedTemplates(root=tmp_path / "templates")
    template = templates.template(A)
    before = tree_digest(template)
    (template / "release" / A / "coursecheck.py").write_text("# changed by a test\n")
    assert tree_digest(template) != before
    with pytest.raises(AssertionError, match=A):
        templates.copy(A, tmp_path / "course")


def test_a_copy_refuses_a_course_that_holds_files(released_course, tmp_path):
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "roster.csv").write_text("id\n")
    with pytest.raises(ValueError, match="roster|holds files"):
        released_course(A, tmp_path / "course")
