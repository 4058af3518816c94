"""Assignment authoring, release and the students' check, on assignment 1."""

import subprocess
import sys

import jupytext
import nbformat
import numpy as np
import pytest

from autograder import authoring, check, release
from autograder.config import ASSIGNMENTS
from autograder.hidden import metrics as hidden_metrics
from autograder.hidden import student_rng


def _nbgrader_meta(nb):
    return [c.metadata.get("nbgrader") for c in nb.cells]


@pytest.mark.parametrize("name", authoring.assignment_names())
def test_nbgrader_metadata_survives_the_jupytext_round_trip(name, tmp_path):
    notebook = authoring.read_source(name)
    as_ipynb = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, as_ipynb)
    back_to_text = tmp_path / f"{name}.py"
    jupytext.write(nbformat.read(as_ipynb, as_version=4), back_to_text, fmt="py:percent")
    again = jupytext.read(back_to_text)
    assert _nbgrader_meta(again) == _nbgrader_meta(notebook)
    assert [c.source for c in again.cells] == [c.source for c in notebook.cells]


@pytest.mark.parametrize("name", authoring.assignment_names())
def test_grade_ids_are_unique_and_graded_cells_have_points(name):
    meta = _nbgrader_meta(authoring.read_source(name))
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids))
    assert all(m.get("points", 0) > 0 for m in meta if m["grade"])


def test_validation_names_the_bad_cell():
    nb = authoring.read_source("a1_metrics")
    nb.cells[3].metadata["nbgrader"]["grade_id"] = nb.cells[2].metadata["nbgrader"]["grade_id"]
    with pytest.raises(
        authoring.AuthoringError, match="cell 4: grade_id 'counts-text' already used by cell 3"
    ):
        authoring.validate(nb, "a1_metrics")
    nb = authoring.read_source("a1_metrics")
    graded = next(c for c in nb.cells if c.metadata["nbgrader"]["grade"])
    del graded.metadata["nbgrader"]["points"]
    with pytest.raises(authoring.AuthoringError, match="needs points"):
        authoring.validate(nb)
    with pytest.raises(authoring.AuthoringError, match="no assignment 'a9'"):
        authoring.read_source("a9")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    folder = release.main(assignment="a1_metrics", course=course)
    return course, folder / "a1_metrics.ipynb"


@pytest.mark.slow
def test_release_has_no_solution_and_no_hidden_test(released):
    course, notebook = released
    text = notebook.read_text()
    assert (
        "BEGIN SOLUTION" not in text
        and "HIDDEN TESTS" not in text
        and "autograder.hidden" not in text
    )
    assert "raise NotImplementedError()" in text
    source = (course / "source" / "a1_metrics" / "a1_metrics.ipynb").read_text()
    assert "BEGIN SOLUTION" in source and "BEGIN HIDDEN TESTS" in source
    assert (course / "gradebook.db").exists()


@pytest.mark.slow
def test_check_fails_every_check_of_an_untouched_release(released):
    result = check.main(notebook=released[1])
    assert not result.passed and len(result.checks) == 5
    assert all("NotImplementedError" in error for _, _, _, error in result.checks)


@pytest.mark.slow
def test_check_passes_the_reference_solution_and_the_cli_says_so(released):
    course, _ = released
    source = course / "source" / "a1_metrics" / "a1_metrics.ipynb"
    result = check.main(notebook=source)
    assert result.passed and sum(points for _, points, _, _ in result.checks) == 10
    cli = subprocess.run(
        [sys.executable, "-m", "autograder", "check", str(source)], capture_output=True, text=True
    )
    assert cli.returncode == 0 and "5 of 5 visible checks passed" in cli.stdout


@pytest.mark.slow
def test_the_one_line_check_inside_a_notebook_uses_jupyters_notebook_path(
    released, monkeypatch, capsys
):
    monkeypatch.setenv("JPY_SESSION_NAME", str(released[1]))
    result = check.here()
    assert not result.passed and "0 of 5 visible checks passed" in capsys.readouterr().out
    monkeypatch.delenv("JPY_SESSION_NAME")
    with pytest.raises(ValueError, match="cannot tell which notebook"):
        check.here()


def test_cli_help_shows_a_real_example():
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "python -m autograder release a1_metrics" in out.stdout


# -- the hidden checks against the reference and known-wrong solutions ----------------------


def _reference():
    """The functions of assignment 1's solution, defined by running its code cells."""
    namespace = {}
    for cell in authoring.read_source("a1_metrics").cells:
        meta = cell.metadata["nbgrader"]
        if cell.cell_type == "code" and not meta["grade"]:
            exec(cell.source, namespace)
    return namespace


def test_reference_solution_passes_every_hidden_check():
    ref = _reference()
    hidden_metrics.expect_counts(ref["confusion_counts"])
    hidden_metrics.expect_scores(
        {k: ref[k] for k in ("precision", "recall", "specificity", "f1", "mcc")}
    )
    hidden_metrics.expect_roc(ref["roc_points"])
    hidden_metrics.expect_auc(ref["auc_trapezoid"], ref["roc_points"])


def _mcc_divides_by_zero(y_true, y_pred):
    tn, fp, fn, tp = _reference()["confusion_counts"](y_true, y_pred)
    with np.errstate(all="ignore"):
        return (tp * tn - fp * fn) / np.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))


def _roc_unsorted(y_true, scores):
    fpr, tpr, thr = _reference()["roc_points"](y_true, scores)
    return fpr[::-1], tpr[::-1], thr[::-1]


def _precision_calls_the_reference(y_true, y_pred):
    from coursekit.metrics import precision_score

    return precision_score(y_true, y_pred, zero_division=0.0)


def _specificity_is_recall(y_true, y_pred):
    return _reference()["recall"](y_true, y_pred)


def _counts_swapped(y_true, y_pred):
    tn, fp, fn, tp = _reference()["confusion_counts"](y_true, y_pred)
    return tn, fn, fp, tp


@pytest.mark.parametrize(
    "check_name, call, match",
    [
        (
            "counts",
            lambda: hidden_metrics.expect_counts(_counts_swapped),
            "confusion_counts is wrong",
        ),
        (
            "mcc /0",
            lambda: hidden_metrics.expect_scores({"mcc": _mcc_divides_by_zero}),
            "mcc is wrong.*zero denominator",
        ),
        ("roc order", lambda: hidden_metrics.expect_roc(_roc_unsorted), "decreasing order"),
        (
            "specificity",
            lambda: hidden_metrics.expect_scores({"specificity": _specificity_is_recall}),
            "specificity is wrong",
        ),
        (
            "reference",
            lambda: hidden_metrics.expect_scores({"precision": _precision_calls_the_reference}),
            "reference implementation",
        ),
    ],
)
def test_each_known_wrong_solution_fails_the_check_aimed_at_it(check_name, call, match):
    with pytest.raises(AssertionError, match=match):
        call()


def test_hidden_inputs_differ_per_student(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SEED", "1")
    a = student_rng(1).integers(0, 2, 20)
    monkeypatch.setenv("AUTOGRADER_SEED", "2")
    b = student_rng(1).integers(0, 2, 20)
    assert not np.array_equal(a, b)


def test_assignment_sources_live_in_notebooks_assignments():
    assert (ASSIGNMENTS / "a1_metrics.py").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", authoring.assignment_names())
def test_every_reference_solution_passes_all_its_checks_in_a_kernel(name, tmp_path):
    """The source notebook (solutions and hidden tests) run as nbgrader would run it."""
    source = authoring.write_source_notebook(name, tmp_path)
    result = check.main(notebook=source)
    assert result.passed, result.report()
    assert len(result.checks) >= 2


def test_solutions_and_submissions_are_built_from_the_source():
    source = authoring.read_source("a1_metrics")
    answers = authoring.solutions(source)
    answer_ids = [
        c.metadata["nbgrader"]["grade_id"]
        for c in source.cells
        if c.metadata["nbgrader"]["solution"]
    ]
    assert list(answers) == answer_ids
    assert all(
        "### BEGIN SOLUTION" not in code and "### END SOLUTION" not in code
        for code in answers.values()
    )
    assert "def confusion_counts" in answers["counts"]
    before = [c.source for c in source.cells]
    nb = authoring.submission(source, {"counts": "pass"})
    assert [c.source for c in source.cells] == before  # the given notebook is not modified
    changed = [
        i
        for i, (a, b) in enumerate(zip(before, (c.source for c in nb.cells), strict=True))
        if a != b
    ]
    assert [source.cells[i].metadata["nbgrader"]["grade_id"] for i in changed] == ["counts"]
