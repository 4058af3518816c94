"""Attacks on the hidden checks themselves, graded end to end between honest students.

Each attacker is a correct solution with one function replaced by an attack on how the checks
compare (issue "Grading security, round two", classes 1-3 and 8):

- **argument write-back**: the function changes its arguments so that a check computing its
  expectation from them afterwards would agree (``x[:] = 0`` in ``auc_trapezoid``, a
  ``precision`` that rigs the ``y, p`` the next score is checked on, ``sgd_step`` and
  ``l2_penalty``/``l2_grad`` zeroing what they were given);
- **empty broadcasting**: ``np.allclose(np.zeros((0, 1, 1)), x)`` is True for any ``x``;
- **self-described models**: a scikit-learn model dressed as a Keras (or PyTorch) network;
- **grader-side callbacks**: ``numerical_gradient`` calling the grader's ``loss`` with huge,
  long-double or endlessly many arguments.

For each attacker we know what the same code scores without the trick; it must get no more,
every honest student around it full marks, and the callback attacks must be refused *before*
the grader computes anything (the check says so). One batch per assignment, graded once.
"""

from __future__ import annotations

import textwrap

import nbformat
import pytest

from autograder.grading import authoring, grade
from autograder.grading.options import GradingOptions
from autograder.term import release

pytestmark = pytest.mark.slow

FULL = {"a1_metrics": 10, "a2_backprop": 10, "a3_regularization": 10, "a4_mlp": 6}
AUTO_A4 = ("test-architecture", "test-accuracy")


def _after(cell: str, code: str) -> str:
    """The correct cell, then the attacker's redefinitions."""
    return cell + "\n\n" + textwrap.dedent(code)


def _attacks(correct: dict) -> dict:
    """assignment -> {name: (cells, most points, (grade id, words its message must hold))}."""
    a1, a2, a3 = correct["a1_metrics"], correct["a2_backprop"], correct["a3_regularization"]
    huge = """
        _numgrad = numerical_gradient

        def numerical_gradient(loss, params, eps=1e-6):
            bad = {{"W1": np.zeros((2, 2), dtype={dtype}), "b1": np.zeros(({n}, 1, 2), dtype={dtype}),
                   "W2": np.zeros((2, {n}), dtype={dtype}), "b2": np.zeros(1, dtype={dtype})}}
            try:
                loss(bad)
            except Exception:
                pass
            return _numgrad(loss, params, eps)
        """
    sklearn_model = """
        import numpy as np
        from sklearn.linear_model import LogisticRegression


        def _encoded(X_train, y_train):
            # the logistic regression's logit z, written as a 16-8-1 ReLU network: relu(z) - relu(-z) = z
            lr = LogisticRegression(max_iter=2000).fit(X_train, y_train)
            w, b = lr.coef_[0], lr.intercept_[0]
            W1 = np.zeros((X_train.shape[1], 16)); W1[:, 0], W1[:, 1] = w, -w
            b1 = np.zeros(16); b1[0], b1[1] = b, -b
            W2 = np.zeros((16, 8)); W2[0, 0], W2[1, 0], W2[0, 1], W2[1, 1] = 1, -1, -1, 1
            W3 = np.zeros((8, 1)); W3[0, 0], W3[1, 0] = 1, -1
            return lr, [W1, b1, W2, np.zeros(8), W3, np.zeros(1)]


        def predict_proba(model, X):
            return model.sk.predict_proba(X)[:, 1]
        """
    as_keras = (
        sklearn_model
        + """

        class Dense:
            def __init__(self, kernel, bias):
                self._weights = [kernel, bias]

            def get_weights(self):
                return self._weights


        class Sequential:
            pass


        Dense.__module__ = "keras.src.layers.core.dense"
        Sequential.__module__ = "keras.src.models.sequential"


        def build_and_train(X_train, y_train, X_val, y_val, epochs):
            lr, w = _encoded(X_train, y_train)
            model = Sequential()
            model.layers = [Dense(w[0], w[1]), Dense(w[2], w[3]), Dense(w[4], w[5])]
            model.sk = lr
            return model
        """
    )
    as_torch = (
        sklearn_model
        + """

        import torch


        class Sequential:
            def modules(self):
                return iter(self._layers)


        Sequential.__module__ = "torch.nn.modules.container"


        def build_and_train(X_train, y_train, X_val, y_val, epochs):
            lr, w = _encoded(X_train, y_train)
            model = Sequential()
            model._layers = []
            for kernel, bias in zip(w[0::2], w[1::2]):
                layer = torch.nn.Linear(*kernel.shape)
                with torch.no_grad():
                    layer.weight.copy_(torch.tensor(kernel.T))
                    layer.bias.copy_(torch.tensor(bias))
                model._layers.append(layer)
            model.sk = lr
            return model
        """
    )
    return {
        "a1_metrics": {
            # 1. argument write-back
            "auc-zeroes-its-curve": (
                {
                    "roc": _after(
                        a1["roc"],
                        """
                        def auc_trapezoid(x, y):
                            x[:] = 0
                            y[:] = 0
                            return 0.0
                        """,
                    )
                },
                8,
                ("test-auc", "auc_trapezoid must not modify"),
            ),
            "scores-rig-the-shared-labels": (
                {
                    "scores": _after(
                        a1["scores"],
                        """
                        _precision, _f1 = precision, f1

                        def precision(y_true, y_pred):
                            value = _precision(y_true, y_pred)
                            y_true[:] = 1
                            y_pred[:] = 1
                            return value

                        def f1(y_true, y_pred):
                            value = _f1(y_true, y_pred)
                            y_true[:] = 1
                            y_pred[:] = 1
                            return value

                        def recall(y_true, y_pred):
                            return 1.0

                        def specificity(y_true, y_pred):
                            return 0.0

                        def mcc(y_true, y_pred):
                            return 0.0
                        """,
                    )
                },
                6,
                ("test-rates", "must not modify"),
            ),
            # 2. empty broadcasting
            "roc-empty-points": (
                {
                    "roc": _after(
                        a1["roc"],
                        """
                        def roc_points(y_true, scores):
                            k = len(np.unique(scores)) + 1
                            empty = np.zeros((0, 1, 1))
                            return empty, empty, -np.arange(k, dtype=float)
                        """,
                    )
                },
                8,
                ("test-roc", "roc_points (thresholds) is wrong"),
            ),
            # 2, one more: the right thresholds, (0, 1) points
            "roc-right-thresholds-empty-columns": (
                {
                    "roc": _after(
                        a1["roc"],
                        """
                        _roc_points = roc_points

                        def roc_points(y_true, scores):
                            fpr, tpr, thresholds = _roc_points(y_true, scores)
                            return np.zeros((0, 1)), np.zeros((0, 1)), thresholds
                        """,
                    )
                },
                8,
                ("test-roc", "the wrong shape"),
            ),
        },
        "a2_backprop": {
            # 1. argument write-back
            "sgd-zeroes-the-gradients": (
                {
                    "step": _after(
                        a2["step"],
                        """
                        def sgd_step(params, grads, lr):
                            for g in grads.values():
                                g[...] = 0
                            return {k: v.copy() for k, v in params.items()}
                        """,
                    )
                },
                8,
                ("test-step", "sgd_step must not modify"),
            ),
            # 1, one more: gradients rewritten so that params - lr * grads is what it returns
            "sgd-rewrites-the-gradients": (
                {
                    "step": _after(
                        a2["step"],
                        """
                        def sgd_step(params, grads, lr):
                            for k, v in params.items():
                                grads["d" + k][...] = v / lr
                            return {k: np.zeros_like(v) for k, v in params.items()}
                        """,
                    )
                },
                8,
                ("test-step", "sgd_step must not modify"),
            ),
            "sgd-in-place": (
                {
                    "step": _after(
                        a2["step"],
                        """
                        def sgd_step(params, grads, lr):
                            for k in params:
                                params[k] -= lr * grads["d" + k]
                            return params
                        """,
                    )
                },
                8,
                ("test-step", "sgd_step must not modify params"),
            ),
            # 2. empty broadcasting
            "sgd-empty": (
                {
                    "step": _after(
                        a2["step"],
                        """
                        def sgd_step(params, grads, lr):
                            return {k: np.zeros((0, 1, 1)) for k in params}
                        """,
                    )
                },
                8,
                ("test-step", "the wrong shape"),
            ),
            "numerical-gradient-empty": (
                {
                    "step": _after(
                        a2["step"],
                        """
                        def numerical_gradient(loss, params, eps=1e-6):
                            return {k: np.zeros((0, 1, 1)) for k in params}
                        """,
                    )
                },
                8,
                ("test-gradcheck", "the wrong shape"),
            ),
            # 8. grader-side callbacks: refused before anything is computed
            "loss-called-with-huge-arrays": (
                {"step": _after(a2["step"], huge.format(dtype="float", n=3000))},
                8,
                ("test-gradcheck", "loss was called with the wrong kind of value"),
            ),
            "loss-called-with-long-doubles": (
                {"step": _after(a2["step"], huge.format(dtype="np.longdouble", n=1500))},
                8,
                ("test-gradcheck", "loss was called with the wrong kind of value"),
            ),
            # 8, one more: arguments fine, but endlessly many calls
            "loss-called-endlessly": (
                {
                    "step": _after(
                        a2["step"],
                        """
                        _numgrad = numerical_gradient

                        def numerical_gradient(loss, params, eps=1e-6):
                            for _ in range(100_000):
                                try:
                                    loss(params)
                                except Exception:
                                    break
                            return _numgrad(loss, params, eps)
                        """,
                    )
                },
                8,
                ("test-gradcheck", "loss was called more than"),
            ),
        },
        "a3_regularization": {
            # 1. argument write-back
            "l2-zeroes-the-parameters": (
                {
                    "l2": _after(
                        a3["l2"],
                        """
                        def l2_penalty(params, lam):
                            for v in params.values():
                                v[...] = 0
                            return 0.0

                        def l2_grad(params, lam):
                            for v in params.values():
                                v[...] = 0
                            return {k: np.zeros_like(v) for k, v in params.items()}
                        """,
                    )
                },
                8,
                ("test-l2", "l2_penalty must not modify"),
            ),
            # 2. empty broadcasting
            "l2-grad-empty": (
                {
                    "l2": _after(
                        a3["l2"],
                        """
                        def l2_grad(params, lam):
                            return {k: np.zeros((0, 1, 1)) for k in params}
                        """,
                    )
                },
                8,
                ("test-l2", "the wrong shape"),
            ),
        },
        "a4_mlp": {
            # 3. self-described models: what the sandbox reports is evidence, not a verdict
            "sklearn-dressed-as-keras": ({"model": textwrap.dedent(as_keras)}, 0, None),
            "sklearn-dressed-as-torch": ({"model": textwrap.dedent(as_torch)}, 0, None),
        },
    }


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Every assignment's attackers, each between two honest students, graded once."""
    root = tmp_path_factory.mktemp("check-attacks")
    course = root / "course"
    released, correct = {}, {}
    for assignment in FULL:
        folder = release.main(assignment=assignment, course=course)
        released[assignment] = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
        source = course / "source" / assignment / f"{assignment}.ipynb"
        correct[assignment] = authoring.solutions(nbformat.read(source, as_version=4))
    out = {}
    for assignment, attacks in _attacks(correct).items():
        subs = root / f"submitted-{assignment}"
        students, expected = [], {}

        def submit(student, cells, assignment=assignment, subs=subs):
            nb = authoring.submission(released[assignment], {**correct[assignment], **cells})
            (subs / student / assignment).mkdir(parents=True)
            nbformat.write(nb, subs / student / assignment / f"{assignment}.ipynb")

        for i, (name, (cells, most, message)) in enumerate(sorted(attacks.items())):
            submit(f"h{i:02d}", {})
            submit(f"x{i:02d}-{name}", cells)
            students.append(f"h{i:02d}")
            expected[f"x{i:02d}-{name}"] = (most, message)
        submit(f"h{len(attacks):02d}", {})
        students.append(f"h{len(attacks):02d}")
        results = grade.main(
            assignment=assignment,
            submissions=subs,
            course=course,
            jobs=2,
            options=GradingOptions(),
            progress=lambda *a: None,
        )
        out[assignment] = ({r.student_id: r for r in results}, students, expected)
    return out


def _auto(result, assignment) -> float:
    if assignment == "a4_mlp":
        return sum(result.cells[g].score or 0.0 for g in AUTO_A4)
    return result.score


@pytest.mark.parametrize("assignment", sorted(FULL))
def test_honest_students_around_every_check_attack_get_full_marks(batches, assignment):
    results, honest, _ = batches[assignment]
    for student in honest:
        result = results[student]
        assert result.status == "graded", (student, result.reason)
        assert _auto(result, assignment) == FULL[assignment], (student, result.reason)


@pytest.mark.parametrize("assignment", sorted(FULL))
def test_no_check_attacker_scores_more_than_its_code_without_the_trick(batches, assignment):
    results, _, expected = batches[assignment]
    unsaid = []
    for student, (most, message) in expected.items():
        result = results[student]
        assert result.status == "graded", (student, result.reason)
        assert _auto(result, assignment) <= most, (student, result.reason)
        if message is not None:  # the check that caught it says what it saw
            grade_id, words = message
            outcome = result.cells[grade_id].outcome
            assert outcome is not None and outcome.kind == "failed", (student, outcome)
            if words not in outcome.message:
                unsaid.append((student, words, outcome.message))
    assert unsaid == []


def test_a_dressed_up_model_earns_nothing_for_its_framework_name(batches):
    results, _, expected = batches["a4_mlp"]
    for student in expected:
        for grade_id in AUTO_A4:
            cell = results[student].cells[grade_id]
            assert cell.score == 0, (student, grade_id, cell.outcome)
            assert "Keras or PyTorch model" in cell.outcome.message
