"""Assignments 2 and 3 graded end to end through the sandbox.

The reference solutions earn every point, so the remote calls keep what the checks rely on:
dicts of arrays, in-place changes written back (an ``sgd_step`` that updates in place, a
``numerical_gradient`` that never puts an entry back, a ``dropout`` that zeroes its input: each
loses its check), a grader function called back from the student's code (``numerical_gradient``
calls the check's loss), numpy generators (dropout), tuples and ``None`` (early stopping).
"""

import nbformat
import pytest

from autograder.grading import authoring, grade

pytestmark = pytest.mark.slow

IN_PLACE = """
def sgd_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads["d" + k]
    return params
"""


def _batch(root, assignment, variants, released_course):
    course, subs = root / "course", root / "submitted"
    folder = released_course(assignment, course)
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


NEVER_RESTORES = """
def numerical_gradient(loss, params, eps=1e-6):
    out = {}
    for k, v in params.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            v[idx] += eps
            plus = loss(params)
            v[idx] -= 2 * eps
            g[idx] = (plus - loss(params)) / (2 * eps)
        out[k] = g
    return out
"""

W1_TRANSPOSED = """
def forward(params, X):
    z1 = X @ params["W1"].T + params["b1"]
    a1 = np.maximum(z1, 0.0)
    z2 = a1 @ params["W2"] + params["b2"]
    return {"z1": z1, "a1": a1, "z2": z2, "a2": 1 / (1 + np.exp(-z2))}
"""

TIMES_A1 = """
def backward(params, cache, X, y):
    n = len(y)
    dz2 = (cache["a2"] - np.asarray(y, dtype=float).reshape(n, 1)) / n
    dz1 = (dz2 @ params["W2"].T) * cache["a1"]
    return {"dW1": X.T @ dz1, "db1": dz1.sum(0), "dW2": cache["a1"].T @ dz2, "db2": dz2.sum(0)}
"""

DROPOUT_IN_PLACE = """
def dropout(a, rate, rng, training=True):
    if training:
        a *= rng.random(a.shape) >= rate
        a /= 1 - rate
    return a
"""


def _message(result, grade_id):
    return result.cells[grade_id].outcome.message


def test_assignment_2_reference_full_marks_and_each_mistake_loses_its_own_check(
    tmp_path, released_course
):
    """Through the sandbox: modified inputs are seen, and each mistake gets its own hint."""
    results = _batch(
        tmp_path,
        "a2_backprop",
        {
            "reference": {},
            "in-place": {"step": IN_PLACE},
            "never-restores": {"step": NEVER_RESTORES},
            "w1-transposed": {"forward": W1_TRANSPOSED},
            "times-a1": {"backward": TIMES_A1},
        },
        released_course,
    )
    assert results["reference"].score == results["reference"].max_score == 10
    wrong = results["in-place"]
    assert wrong.scores["test-step"] == 0 and wrong.score == 8, wrong
    assert "sgd_step must not modify params['W1'] in place" in _message(wrong, "test-step")
    wrong = results["never-restores"]
    assert wrong.scores["test-gradcheck"] == 0 and wrong.score == 8, wrong
    message = _message(wrong, "test-gradcheck")
    assert "must not modify params in place" in message and "never put back" in message
    assert "Inputs must not change" in message
    wrong = results["w1-transposed"]  # forward's points only: backward gets the right cache
    assert wrong.scores["test-forward"] == 0 and wrong.score == 8, wrong
    assert "this is X @ W1.T" in _message(wrong, "test-forward")
    wrong = results["times-a1"]
    assert wrong.scores["test-backward"] == 0 and wrong.score == 6, wrong
    assert "dz1 = da1 * a1 multiplies by the activation" in _message(wrong, "test-backward")


def test_assignment_3_reference_full_marks_and_dropout_in_place_caught(tmp_path, released_course):
    results = _batch(
        tmp_path,
        "a3_regularization",
        {"reference": {}, "dropout-in-place": {"dropout": DROPOUT_IN_PLACE}},
        released_course,
    )
    assert results["reference"].score == results["reference"].max_score == 10, results
    wrong = results["dropout-in-place"]
    assert wrong.scores["test-dropout"] == 0 and wrong.score == 7, wrong
    assert "dropout must not modify a in place" in _message(wrong, "test-dropout")
