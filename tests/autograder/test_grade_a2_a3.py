"""Assignments 2 and 3 graded end to end through the sandbox.

The reference solutions earn every point, so the remote calls keep what the checks rely on:
dicts of arrays, in-place changes written back (an ``sgd_step`` that updates in place loses
that check), a grader function called back from the student's code (``numerical_gradient``
calls the check's loss), numpy generators (dropout), tuples and ``None`` (early stopping).
"""

import nbformat
import pytest

from autograder import authoring, grade, release

pytestmark = pytest.mark.slow

IN_PLACE = """
def sgd_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads["d" + k]
    return params
"""


def _batch(root, assignment, variants):
    course, subs = root / "course", root / "submitted"
    folder = release.main(assignment=assignment, course=course)
    released = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    solution = authoring.solutions(source)
    for student, changes in variants.items():
        answers = {k: code + changes.get(k, "") for k, code in solution.items()}
        nb = authoring.submission(released, answers)
        (subs / student / assignment).mkdir(parents=True)
        nbformat.write(nb, subs / student / assignment / f"{assignment}.ipynb")
    results = grade.main(
        assignment=assignment, submissions=subs, course=course, jobs=2, progress=lambda *a: None
    )
    return {r.student_id: r for r in results}


def test_assignment_2_reference_full_marks_and_in_place_update_caught(tmp_path):
    results = _batch(tmp_path, "a2_backprop", {"reference": {}, "in-place": {"step": IN_PLACE}})
    assert results["reference"].score == results["reference"].max_score == 10
    wrong = results["in-place"]
    assert wrong.scores["test-step"] == 0 and wrong.score == 8, wrong


def test_assignment_3_reference_full_marks(tmp_path):
    results = _batch(tmp_path, "a3_regularization", {"reference": {}})
    assert results["reference"].score == results["reference"].max_score == 10, results
