"""A tampered notebook is repaired from the source, or refused with the reason named."""

import copy

import pytest

from autograder import authoring
from autograder.steps.repair import InvalidSubmission, repair


@pytest.fixture(scope="module")
def source():
    return authoring.read_source("a1_metrics")


def _ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def _index(nb, grade_id):
    return _ids(nb).index(grade_id)


def test_an_untouched_notebook_needs_no_repair(source):
    repaired, notes = repair(source, source)
    assert notes == [] and _ids(repaired) == _ids(source)


def test_a_deleted_test_cell_is_put_back_where_the_source_has_it(source):
    nb = copy.deepcopy(source)
    del nb.cells[_index(nb, "test-counts")]
    repaired, notes = repair(nb, source)
    assert _ids(repaired) == _ids(source)
    assert notes == ["restored the deleted cell 'test-counts'"]
    assert "BEGIN HIDDEN TESTS" in repaired.cells[_index(repaired, "test-counts")].source


@pytest.mark.parametrize(
    ("key", "value"), [("points", 100), ("grade", False), ("locked", False), ("solution", True)]
)
def test_edited_metadata_of_a_locked_cell_is_restored(source, key, value):
    nb = copy.deepcopy(source)
    nb.cells[_index(nb, "test-roc")].metadata["nbgrader"][key] = value
    repaired, notes = repair(nb, source)
    cell = repaired.cells[_index(repaired, "test-roc")]
    assert (
        cell.metadata["nbgrader"] == source.cells[_index(source, "test-roc")].metadata["nbgrader"]
    )
    assert notes == [f"restored the metadata of 'test-roc' ({key})"]


@pytest.mark.parametrize("how", ["renamed", "stripped"])
def test_a_renamed_or_stripped_test_cell_runs_as_plain_code_and_the_test_comes_back(source, how):
    nb = copy.deepcopy(source)
    cell = nb.cells[_index(nb, "test-counts")]
    if how == "renamed":
        cell.metadata["nbgrader"]["grade_id"] = "mine"
    else:
        del cell.metadata["nbgrader"]
    repaired, notes = repair(nb, source)
    assert _ids(repaired).count("test-counts") == 1 and "mine" not in _ids(repaired)
    assert len(repaired.cells) == len(source.cells) + 1  # the student's copy stays, ungraded
    assert notes[-1] == "restored the deleted cell 'test-counts'"


def test_extra_copies_of_a_locked_cell_are_dropped(source):
    nb = copy.deepcopy(source)
    nb.cells.insert(3, copy.deepcopy(nb.cells[_index(nb, "test-auc")]))
    repaired, notes = repair(nb, source)
    assert _ids(repaired).count("test-auc") == 1
    assert notes == ["dropped a copy of the locked cell 'test-auc'"]


def test_a_duplicated_or_missing_answer_cell_is_refused_with_its_name(source):
    nb = copy.deepcopy(source)
    nb.cells.insert(3, copy.deepcopy(nb.cells[_index(nb, "roc")]))
    with pytest.raises(InvalidSubmission, match="'roc' appears 2 times"):
        repair(nb, source)
    nb = copy.deepcopy(source)
    del nb.cells[_index(nb, "scores")]
    with pytest.raises(InvalidSubmission, match="'scores' is missing"):
        repair(nb, source)


def test_the_submitted_notebook_itself_is_not_modified(source):
    nb = copy.deepcopy(source)
    del nb.cells[_index(nb, "test-counts")]
    before = copy.deepcopy(nb)
    repair(nb, source)
    assert nb == before
