"""Assignment authoring, release and the students' check, on assignment 1."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest

from autograder.assignments import generate, names
from autograder.assignments.a1_metrics import hidden as hidden_metrics
from autograder.assignments.calls import seeded, student_rng
from autograder.config import ASSIGNMENTS
from autograder.grading import authoring, check
from tests.autograder.assignment_helpers import reference


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
def released(tmp_path_factory, released_course):
    course = tmp_path_factory.mktemp("course")
    folder = released_course("a1_metrics", course)
    return course, folder / "a1_metrics.ipynb"


@pytest.mark.slow
def test_release_has_no_solution_and_no_hidden_test(released):
    course, notebook = released
    text = notebook.read_text()
    assert (
        "BEGIN SOLUTION" not in text
        and "HIDDEN TESTS" not in text
        and "autograder.assignments" not in text
    )
    assert "raise NotImplementedError()" in text
    folder = notebook.parent
    assert sorted(p.name for p in folder.iterdir()) == ["a1_metrics.ipynb", "coursecheck.py"]
    shipped = (folder / "coursecheck.py").read_text()
    assert shipped == generate.coursecheck_text("a1_metrics")  # generated, not copied
    assert "GENERATED FILE: DO NOT EDIT" in shipped
    assert "BEGIN SOLUTION" not in shipped and "HIDDEN TESTS" not in shipped
    assert _checks_in(shipped) == _checks_in(_visible("a1_metrics"))  # its own checks only
    source = (course / "source" / "a1_metrics" / "a1_metrics.ipynb").read_text()
    assert "BEGIN SOLUTION" in source and "BEGIN HIDDEN TESTS" in source
    assert (course / "gradebook.db").exists()


def _visible(name: str) -> str:
    return (ASSIGNMENTS / name / "visible.py").read_text()


def _checks_in(text: str) -> set[str]:
    """The visible checks a module's text defines (by name) and the assignments it registers."""
    import ast

    tree = ast.parse(text)
    found = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and "check_" in n.name}
    return found - {"check_saved"}


@pytest.mark.parametrize("name", names())
def test_a_generated_coursecheck_holds_its_own_assignments_checks_and_no_other(name, tmp_path):
    text = generate.ship(tmp_path, name).read_text()
    assert text == generate.coursecheck_text(name)
    assert text.startswith('"""coursecheck: the visible checks of ' + name)
    own = _checks_in(_visible(name))
    assert own and _checks_in(text) == own
    for other in (n for n in names() if n != name):
        assert not _checks_in(_visible(other)) & _checks_in(text)
        assert f'"{other}"' not in text  # nor its assignment's name (its registry key)
    module = generate.load(name, tmp_path)
    assert sorted(module.CHECKS) == [name]


def test_generation_refuses_parts_that_would_silently_replace_each_other(tmp_path, monkeypatch):
    """Two parts defining one top-level name: one would silently win; generation refuses."""
    clash = tmp_path / "visible.py"
    clash.write_text("def close(a, b):\n    return True\n")  # rules.close, replaced
    monkeypatch.setattr(generate, "folder", lambda name: tmp_path)
    with pytest.raises(generate.GenerationError, match="defines 'close', which .* defines too"):
        generate.coursecheck_text("a1_metrics")
    clash.write_text("from autograder.assignments.rules import nothing_of_that_name\n")
    with pytest.raises(generate.GenerationError, match="which no earlier part defines"):
        generate.coursecheck_text("a1_metrics")


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
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "all 5 visible checks passed; hidden checks run at grading" in cli.stdout
    assert cli.stderr == ""  # no transport or library noise


@pytest.fixture(scope="module")
def student_python(tmp_path_factory):
    """A Python with this checkout's libraries (numpy, Jupyter) but not coursekit or autograder.

    A fresh virtual environment whose ``.pth`` adds the project venv's site-packages as a plain
    path: the editable install of this repository is a ``.pth`` hook there, which is then not
    run, so neither ``coursekit`` nor ``autograder`` can be imported, as on a student's machine.
    """
    env = tmp_path_factory.mktemp("student_env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "course_libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _student_run(python, folder, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JPY_SESSION_NAME")}
    return subprocess.run(
        [str(python), "-I", *args], capture_output=True, text=True, cwd=folder, env=env
    )


@pytest.mark.slow
def test_the_shipped_check_runs_from_the_release_alone(released, student_python, tmp_path):
    """Only the released folder, a Python without the course's code: the solution passes all."""
    folder = tmp_path / "a1_metrics"
    shutil.copytree(released[1].parent, folder)  # the release alone, as students receive it
    for module in ("coursekit", "autograder", "numpy, nbclient, ipykernel"):
        probe = _student_run(student_python, folder, "-c", f"import {module}")
        if module.startswith("numpy"):
            assert probe.returncode == 0, probe.stderr  # what the check needs is there
        else:
            assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr
    source = authoring.read_source("a1_metrics")
    answers = authoring.solutions(source)
    release_nb = nbformat.read(folder / "a1_metrics.ipynb", as_version=4)
    solved = authoring.submission(release_nb, answers)
    probe_cell = nbformat.v4.new_code_cell(
        "import importlib.util\nassert importlib.util.find_spec('coursekit') is None"
    )
    solved.cells.insert(1, probe_cell)  # the kernel cannot import the reference either
    nbformat.write(solved, folder / "a1_metrics.ipynb")
    run = _student_run(student_python, folder, "coursecheck.py", "a1_metrics.ipynb")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all 5 visible checks passed; hidden checks run at grading" in run.stdout
    assert "!" not in run.stdout and run.stderr == ""

    wrong = dict(answers)
    wrong["scores"] = answers["scores"].replace(
        "return (tp * tn - fp * fn) / np.sqrt(den) if den else 0.0",
        "return (tp * tn - fp * fn) / np.sqrt(den)",
    )
    assert wrong["scores"] != answers["scores"]
    nbformat.write(authoring.submission(release_nb, wrong), folder / "a1_metrics.ipynb")
    run = _student_run(student_python, folder, "coursecheck.py", "a1_metrics.ipynb")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "✗ test-f1-mcc (2 points)" in run.stdout
    assert "mcc([0, 0, 0, 0], [0, 1, 0, 1]) returned NaN (a denominator is 0 here" in run.stdout
    assert (
        "Revisit lesson 1, Evaluating classifiers, section “Scores from the counts”" in run.stdout
    )
    assert "4 of 5 visible checks passed" in run.stdout


def test_cli_help_shows_a_real_example():
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "python -m autograder release a1_metrics" in out.stdout


# -- the hidden checks against the reference and known-wrong solutions ----------------------


def _reference():
    """The functions of assignment 1's solution, defined by running its code cells."""
    return reference("a1_metrics")


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
            "mcc (is wrong|returned NaN).*a denominator is 0 here: return 0.0",
        ),
        ("roc order", lambda: hidden_metrics.expect_roc(_roc_unsorted), "decreasing"),
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


def test_hidden_inputs_differ_per_student():
    with seeded(1):
        a = student_rng(1).integers(0, 2, 20)
    with seeded(2):
        b = student_rng(1).integers(0, 2, 20)
    assert not np.array_equal(a, b)


def test_each_assignment_is_one_folder_with_its_notebook_and_its_checks():
    assert authoring.assignment_names() == names()
    assert names() == ["a1_metrics", "a2_backprop", "a3_regularization", "a4_mlp"]
    for name in authoring.assignment_names():
        assert sorted(p.name for p in (ASSIGNMENTS / name).glob("*.py")) == [
            "__init__.py",
            "hidden.py",
            "notebook.py",
            "visible.py",
        ]


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


def test_a_course_released_before_each_assignment_had_its_folder_is_refused_by_grade(tmp_path):
    """Its source notebook imports the checks from where they were (``autograder.hidden``):
    grading it would fail every check of every student on a missing module; grade refuses,
    naming the command that re-releases it (whose results are then regraded)."""
    import json

    from autograder import assignments
    from autograder.grading import grade

    course = tmp_path / "course"
    folder = course / "source" / "a1_metrics"
    folder.mkdir(parents=True)
    cell = {
        "cell_type": "code",
        "source": "### BEGIN HIDDEN TESTS\nfrom autograder.hidden.metrics import expect_counts\n",
        "metadata": {"nbgrader": {"grade": True, "grade_id": "test-counts", "points": 2}},
    }
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "a1_metrics.ipynb").write_text(json.dumps(notebook))
    (course / "submitted").mkdir()
    with pytest.raises(assignments.ReleasedBeforeMove, match=r"release a1_metrics --force"):
        grade.plan("a1_metrics", course, course / "submitted")
    cell["source"] = cell["source"].replace(
        "autograder.hidden.metrics", "autograder.assignments.a1_metrics.hidden"
    )
    (folder / "a1_metrics.ipynb").write_text(json.dumps(notebook))
    assert not grade.plan("a1_metrics", course, course / "submitted").todo  # nobody to grade


def test_the_weights_reader_students_get_is_the_sandboxs_own_text():
    """One home for reading a model's weights: the harness's module, word for word in a4's
    coursecheck.py (and not in an assignment that builds no model)."""
    import inspect

    from autograder.sandbox.inside import models

    source = inspect.getsource(models.dense_weights)
    assert source in generate.coursecheck_text("a4_mlp")
    assert "def dense_weights" not in generate.coursecheck_text("a1_metrics")


@pytest.mark.parametrize("name", names())
def test_an_assignments_version_holds_its_own_checks_and_no_other_assignments(name):
    """What grading of ``name`` runs: its own folder's checks and the shared modules."""
    from autograder import assignments

    source = authoring.source_path(name).read_text()
    used = {p.relative_to(assignments.ROOT).as_posix() for p in assignments.check_modules([source])}
    own = {f"{name}/__init__.py", f"{name}/hidden.py", f"{name}/visible.py"}
    assert own <= used
    assert used - own <= {"__init__.py", "calls.py", "rules.py", "runner.py"}
