"""A tampered notebook is repaired from the source, or refused with the reason named."""

import copy

import pytest

from autograder.grading import authoring
from autograder.grading.steps.repair import InvalidSubmission, repair


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


@pytest.mark.parametrize("how", ["renamed", "stripped, new id"])
def test_a_renamed_or_stripped_test_cell_runs_as_plain_code_and_the_test_comes_back(source, how):
    nb = copy.deepcopy(source)
    cell = nb.cells[_index(nb, "test-counts")]
    if how == "renamed":
        cell.metadata["nbgrader"]["grade_id"] = "mine"
    else:
        del cell.metadata["nbgrader"]
        cell["id"] = "0000beef"  # not the source's cell: nothing says it is test-counts
    repaired, notes = repair(nb, source)
    assert _ids(repaired).count("test-counts") == 1 and "mine" not in _ids(repaired)
    assert len(repaired.cells) == len(source.cells) + 1  # the student's copy stays, ungraded
    assert notes[-1] == "restored the deleted cell 'test-counts'"


def test_a_stripped_test_cell_with_its_id_is_that_cell_again(source):
    nb = copy.deepcopy(source)
    del nb.cells[_index(nb, "test-counts")].metadata["nbgrader"]
    repaired, notes = repair(nb, source)
    assert _ids(repaired) == _ids(source)
    assert notes == ["restored the stripped metadata of 'test-counts' (matched by cell id)"]


def test_extra_copies_of_a_locked_cell_are_dropped(source):
    nb = copy.deepcopy(source)
    nb.cells.insert(3, copy.deepcopy(nb.cells[_index(nb, "test-auc")]))
    repaired, notes = repair(nb, source)
    assert _ids(repaired).count("test-auc") == 1
    assert notes == ["dropped a copy of the locked cell 'test-auc'"]


def _answered(nb, grade_id, text):
    nb.cells[_index(nb, grade_id)].source = text
    return nb


def _released(source):
    """The notebook as handed out: nbgrader's ClearSolutions and ClearHiddenTests."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    nb = copy.deepcopy(source)
    for pre in (ClearSolutions(), ClearHiddenTests()):
        nb, _ = pre.preprocess(nb, {"language": "python"})
    return nb


def test_a_duplicated_answer_cell_keeps_its_one_answer_when_that_is_certain(source):
    answer = "def roc_points(y_true, scores):\n    return 'mine'\n"
    released = _released(source)
    for how in ("identical copies", "a copy left as handed out", "handed out first"):
        nb = _answered(copy.deepcopy(released), "roc", answer)
        stub = copy.deepcopy(released.cells[_index(released, "roc")])
        where = _index(nb, "roc")
        if how == "identical copies":
            nb.cells.insert(where, copy.deepcopy(nb.cells[where]))
        else:
            nb.cells.insert(where + (how == "a copy left as handed out"), stub)
        repaired, notes = repair(nb, source)
        assert _ids(repaired).count("roc") == 1, how
        assert repaired.cells[_index(repaired, "roc")].source == answer, how
        assert any("kept one copy of the answer cell 'roc'" in n for n in notes), how


def test_a_duplicated_answer_with_two_answers_or_a_missing_answer_cell_is_refused(source):
    nb = copy.deepcopy(source)
    nb.cells.insert(3, copy.deepcopy(nb.cells[_index(nb, "roc")]))
    nb.cells[3].source = "def roc_points(y_true, scores):\n    return 'the other answer'\n"
    with pytest.raises(InvalidSubmission, match="'roc' appears 2 times with different answers"):
        repair(nb, source)
    nb = copy.deepcopy(source)
    del nb.cells[_index(nb, "scores")]
    with pytest.raises(InvalidSubmission, match="'scores' is missing"):
        repair(nb, source)


def test_a_markdown_answer_turned_into_code_is_markdown_again_with_its_text():
    import nbformat

    source = authoring.read_source("a4_mlp")
    q = next(c for c in source.cells if c.cell_type == "markdown" and c.metadata.get(
        "nbgrader", {}).get("solution"))  # fmt: skip
    grade_id = q.metadata["nbgrader"]["grade_id"]
    nb = copy.deepcopy(source)
    i = _index(nb, grade_id)
    nb.cells[i] = nbformat.v4.new_code_cell(source="Dropout rescales by 1/(1-p).",
                                            metadata=copy.deepcopy(q.metadata))  # fmt: skip
    repaired, notes = repair(nb, source)
    cell = repaired.cells[_index(repaired, grade_id)]
    assert cell.cell_type == "markdown" and cell.source == "Dropout rescales by 1/(1-p)."
    assert f"restored the type of the answer cell {grade_id!r} (markdown; the text kept)" in notes


def test_stripped_metadata_comes_back_by_cell_id_or_one_to_one_and_only_then(source):
    released = _released(source)
    answered = _answered(released, "counts", "def confusion_counts(y_true, y_pred):\n    return 1")
    for cell in answered.cells:
        cell.metadata.pop("nbgrader", None)
    repaired, notes = repair(answered, source)  # ids kept (nbgrader's release keeps them)
    assert _ids(repaired) == _ids(source) and "matched by cell id" in notes[0]
    assert repaired.cells[_index(repaired, "counts")].source.endswith("return 1")
    no_ids = copy.deepcopy(answered)
    for cell in no_ids.cells:
        cell["id"] = cell["id"][::-1]  # ids regenerated by the editor
    repaired, notes = repair(no_ids, source)
    assert _ids(repaired) == _ids(source) and "match the assignment's one to one" in notes[0]
    moved = copy.deepcopy(no_ids)
    moved.cells[4].source += "\nprint('a changed visible check')"  # a locked cell differs
    with pytest.raises(InvalidSubmission, match="is missing"):  # not certain: not guessed
        repair(moved, source)


def test_the_submitted_notebook_itself_is_not_modified(source):
    nb = copy.deepcopy(source)
    del nb.cells[_index(nb, "test-counts")]
    before = copy.deepcopy(nb)
    repair(nb, source)
    assert nb == before


def test_repaired_notebooks_are_graded_in_full_through_the_command_line(tmp_path, released_course):
    """``grade`` on three students: an honest one, one whose editor stripped every cell's
    metadata and one who duplicated an answer cell and answered in the copy. All three get the
    reference's full marks; the two repaired say so in the CSV's reason."""
    import csv
    import os
    import subprocess
    import sys

    import nbformat

    a = "a1_metrics"
    course = tmp_path / "course"
    released_course(a, course)
    released = nbformat.read(course / "release" / a / f"{a}.ipynb", as_version=4)
    honest = authoring.submission(released, authoring.solutions(authoring.read_source(a)))
    stripped = copy.deepcopy(honest)
    for cell in stripped.cells:
        cell.metadata.pop("nbgrader", None)
    duplicated = copy.deepcopy(honest)
    where = _index(duplicated, "scores")
    duplicated.cells.insert(where, copy.deepcopy(released.cells[_index(released, "scores")]))
    duplicated.cells[where]["id"] = "c0pyc0py"  # JupyterLab gives a copied cell a new id
    for student, nb in (("ann", honest), ("bob", stripped), ("cat", duplicated)):
        (course / "submitted" / student / a).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / a / f"{a}.ipynb")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", a, "--course",
                           str(course), "--jobs", "1", "--csv", str(tmp_path / "g.csv")],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0 and "graded 3 of 3 students" in done.stdout, done.stdout
    with (tmp_path / "g.csv").open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    scores = {s: float(rows[s]["score"]) for s in ("ann", "bob", "cat")}
    assert scores["ann"] == scores["bob"] == scores["cat"] > 0, scores
    assert "restored the stripped metadata" in rows["bob"]["reason"]
    assert "kept one copy of the answer cell 'scores'" in rows["cat"]["reason"]
