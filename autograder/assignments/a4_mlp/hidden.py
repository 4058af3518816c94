"""Hidden checks of assignment 4 (an MLP to a given spec, trained to a test-accuracy threshold).

The network itself stays in the submission's sandbox; what the sandbox reports about it (its
framework, its layers' weights: :func:`autograder.sandbox.inside.models.dense_weights`) is evidence
to verify, never a verdict. Here, in the trusted grader:

- the **architecture** is the reported arrays, checked strictly against the spec: exactly three
  dense layers, kernels ``(30, 16)``, ``(16, 8)``, ``(8, 1)`` and their biases, plain finite
  float arrays;
- the **forward pass** is recomputed from those weights,

  .. math:: a_0 = X,\\quad a_\\ell = \\mathrm{ReLU}(a_{\\ell-1} W_\\ell + b_\\ell),\\quad
            p = \\sigma(a_{L-1} W_L + b_L),

- ``predict_proba`` must agree with it on the student's hidden test rows *and* on probe rows
  drawn here (not data: a lookup of the public data set's labels cannot agree on them), so the
  reported weights are the weights of the model that predicts; a disagreement is diagnosed as
  the visible check diagnoses it (``visible.read_proba``: logits, the other class, labels, a
  hidden activation other than ReLU), in fixed words;
- the **accuracy** is that of the recomputed network on the hidden test rows.

The framework name the sandbox reports earns nothing. What no check can verify is how the
weights came about: that the student's own training loop (Adam, early stopping) produced them,
rather than weights computed some other way; the messages say so.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments.a4_mlp.visible import SPEC_UNITS, forward, read_proba, spec_layers
from autograder.assignments.calls import call, note, student_rng
from autograder.sandbox.inside.models import dense_weights

__all__ = [
    "SPEC_UNITS",
    "THRESHOLD",
    "expect_accuracy",
    "expect_architecture",
    "forward",
    "hidden_accuracy",
]

#: The test accuracy the network must reach on the student's hidden split (114 test rows), fair
#: on every split: the assignment's own reference solution, trained on each of 1,000 student
#: splits, reaches at least 0.912 (10 rows wrong, on 2 splits; median 0.974), and 0.88 allows
#: 13, a margin of 3 rows on the hardest split (``tests/autograder/grading/test_grade_mlp.py``). The
#: former 0.93 failed the reference on 13 of those splits.
THRESHOLD = 0.88
#: What the checks import lazily (``coursekit.data`` splits with scikit-learn: 1.4 s), which the
#: grading worker imports while the sandbox starts (``SandboxedExecute``).
PREPARE = ("sklearn.model_selection", "sklearn.datasets")
#: How many probe rows (random inputs, not data) predict_proba is asked about besides the test rows.
PROBES = 64
ASSUMED = (
    "the grader checks the network's architecture and recomputes its accuracy from its weights; "
    "it cannot check that your own training loop produced those weights"
)


def _split():
    from coursekit import data
    from coursekit.scaling import Standardizer

    seed = int(student_rng(41).integers(0, 2**31))
    split = data.load("breast_cancer", seed=seed)  # a different split for each student
    scaler = Standardizer().fit(split.X_train)
    return (
        scaler.transform(split.X_train),
        split.y_train,
        scaler.transform(split.X_val),
        split.y_val,
        scaler.transform(split.X_test),
        split.y_test,
    )


def _layers(model, n_inputs: int) -> list[np.ndarray]:
    """The model's reported weights, verified against the spec (16 and 8 units, 1 output)."""
    _framework, arrays = (  # the name it reports earns nothing: the arrays are checked
        model.weights() if getattr(model, "remote", False) is True else dense_weights(model)
    )
    return spec_layers(arrays, n_inputs)


def expect_architecture(build_and_train) -> None:
    X, y, Xv, yv, _, _ = _split()
    _layers(call(build_and_train, X[:64], y[:64], Xv[:32], yv[:32], 2), X.shape[1])


def hidden_accuracy(build_and_train, predict_proba) -> float:
    """The accuracy of the network ``build_and_train`` returns (trained for up to 100 epochs on
    this student's split) on the split's test rows, recomputed from its weights, after
    ``predict_proba`` was found to compute that network."""
    X, y, Xv, yv, Xt, yt = _split()
    rng = student_rng(42)
    probes = rng.normal(0.0, 1.5, size=(PROBES, X.shape[1]))
    rows = np.concatenate([Xt, probes])
    order = rng.permutation(len(rows))  # test rows and probes mixed, in an order of our own
    model = call(build_and_train, X, y, Xv, yv, 100)
    weights = _layers(model, X.shape[1])
    proba = call(predict_proba, model, rows[order])
    read_proba(proba, weights, rows[order], name="predict_proba")
    test = order < len(Xt)  # which of the rows sent are test rows
    expected = forward(weights, rows[order])
    return float(np.mean((expected[test] >= 0.5) == (yt[order[test]] == 1)))


def expect_accuracy(build_and_train, predict_proba) -> None:
    """The network reaches :data:`THRESHOLD` on the student's hidden test rows; the outcome's
    message says the accuracy reached, passed or failed."""
    accuracy = hidden_accuracy(build_and_train, predict_proba)
    if accuracy < THRESHOLD:
        raise AssertionError(
            f"test accuracy {accuracy:.1%} on your hidden split of the data, below the required "
            f"{THRESHOLD:.0%} ({ASSUMED})"
        )
    note(f"test accuracy {accuracy:.1%} on your hidden split (at least {THRESHOLD:.0%} asked)")
