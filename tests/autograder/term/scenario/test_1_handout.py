"""Stage 1 of the term (``story``): roster from Canvas, release with a deadline, an
extension, hand-out to the exchange and as an LMS zip."""

from __future__ import annotations

import zipfile

import pytest

from tests.autograder.term.scenario.story import COURSE_ID, A


def test_the_roster_release_and_handout_give_every_student_the_notebook_without_solutions(
    store, tmp_path
):
    state = store.copy("handed_out", tmp_path)
    assert "30 students" in state.outputs["roster"]
    assert f"handout/{A}.zip" in state.outputs["handout"]
    with zipfile.ZipFile(state.course / "handout" / f"{A}.zip") as zf:
        assert f"{A}/{A}.ipynb" in zf.namelist()
        assert not any(b"BEGIN SOLUTION" in zf.read(n) for n in zf.namelist())
    outbound = state.base / "exchange" / COURSE_ID / "outbound" / A / f"{A}.ipynb"
    assert outbound.is_file() and b"BEGIN SOLUTION" not in outbound.read_bytes()


def test_release_due_is_the_gradebooks_due_date(store, tmp_path):
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID as GRADEBOOK_COURSE
    from autograder.config import default_db_url

    state = store.copy("handed_out", tmp_path)
    with Gradebook(default_db_url(state.course), course_id=GRADEBOOK_COURSE) as gb:
        assert gb.find_assignment(A).duedate == state.due.replace(tzinfo=None)


def test_a_stored_state_holds_no_absolute_path_so_a_copy_works_anywhere(store, tmp_path):
    """The stages copy stored states; a path of the store inside one would point back at it."""
    state = store.state("collected")
    copy = store.copy("collected", tmp_path)
    root = str(store.root).encode()
    holders = [p for p in copy.base.rglob("*") if p.is_file() and root in p.read_bytes()]
    assert holders == []
    assert sorted(p.relative_to(copy.base) for p in copy.base.rglob("*")) == sorted(
        p.relative_to(state.base) for p in state.base.rglob("*")
    )


def test_a_test_that_writes_into_a_stored_state_is_named(tmp_path):
    """The guard of every copy, on a store of its own (the run's stored states stay as built)."""
    from tests.autograder.term.scenario.story import Store, tree_digest

    store = Store(root=tmp_path / "store")
    base = store.root / "handed_out" / "base"
    base.mkdir(parents=True)
    (base / "roster.csv").write_text("id\n")
    (base.parent / "digest").write_text(tree_digest(base))
    (base.parent / "outputs.json").write_text("{}")
    assert (store.copy("handed_out", tmp_path / "one").base / "roster.csv").read_text() == "id\n"
    (base / "roster.csv").write_text("id\ns99\n")  # a stage that wrote into the stored state
    with pytest.raises(AssertionError, match="handed_out"):
        store.copy("handed_out", tmp_path / "two")
