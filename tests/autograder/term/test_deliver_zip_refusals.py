"""``deliver --zip``: a refusal writes nothing, and a zip that fails half-way leaves no part behind.

Found by following the README as a new instructor: ``deliver a1_metrics --zip canvas`` on a
course without feedback pages was refused by name (exit 2) but left
``feedback/a1_metrics-canvas-feedback.zip.tmp`` behind.
"""

from __future__ import annotations

import pytest

from autograder.term import delivery

A = "a1_metrics"


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("lms", ["canvas", "moodle"])
def test_no_pages_is_refused_with_nothing_written(tmp_path, lms):
    course = tmp_path / "course"
    course.mkdir()
    with pytest.raises(ValueError, match="no feedback pages of a1_metrics"):
        delivery.main(assignment=A, course=course, lms=lms)
    assert _files(course) == []


def _page_as_written(monkeypatch, course):
    """jdoe's page, taken as ``feedback`` would write it now: the zip's writing is tested here,
    the pages' being written from the gradebook in the term scenario's
    ``test_8_deliver_current``."""
    page = course / "feedback" / "jdoe" / A / delivery.PAGE
    page.parent.mkdir(parents=True)
    page.write_text("<p>10 of 10 points</p>")
    monkeypatch.setattr(delivery, "current_pages", lambda *a, **k: {"jdoe": page})


def test_a_zip_that_cannot_be_put_in_place_leaves_no_part_behind(tmp_path, monkeypatch):
    course = tmp_path / "course"
    _page_as_written(monkeypatch, course)
    taken = tmp_path / "out" / "feedback.zip"  # a folder already holds the zip's name
    (taken / "kept.txt").parent.mkdir(parents=True)
    (taken / "kept.txt").write_text("mine")
    with pytest.raises(OSError):
        delivery.main(assignment=A, course=course, lms="canvas", out=taken)
    assert _files(tmp_path / "out") == ["feedback.zip", "feedback.zip/kept.txt"]


def test_the_honest_zip_is_written_whole(tmp_path, monkeypatch):
    course = tmp_path / "course"
    _page_as_written(monkeypatch, course)
    done = delivery.main(assignment=A, course=course, lms="canvas")
    assert done.target.is_file() and done.target.name == f"{A}-canvas-feedback.zip"
    assert [p.name for p in (course / "feedback").glob("*.zip*")] == [done.target.name]
    assert [s for s, _ in done.not_delivered] == ["jdoe"]  # not collected from Canvas: no name
