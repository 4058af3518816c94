"""Visible checks of assignment 4 (an MLP to a given spec, trained to an accuracy).

The network's weights are read with :func:`autograder.sandbox.inside.models.dense_weights` and
checked against the spec by :func:`spec_layers`; ``predict_proba`` must agree with the
network recomputed from them (:func:`forward`), and a disagreement is diagnosed by the
known-wrong variants it equals (:func:`proba_variants`: logits, the other class, labels, a
hidden activation other than ReLU). The hidden checks use the same functions on the
student's hidden split and probe rows.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from autograder.assignments.rules import (
    CheckFailed,
    as_array,
    close,
    hint_for,
)
from autograder.assignments.runner import call, check, lessons
from autograder.sandbox.inside.models import dense_weights

A4 = "a4_mlp"
lessons({"07_hands_on_mlps": "lesson 7, Hands-on MLPs"})
#: The hidden layer sizes the assignment asks for.
SPEC_UNITS = (16, 8)
#: How close predict_proba must be to the network recomputed from its weights.
PROBA_ATOL = 1e-4


class Mistake(Enum):
    """A classic mistake of assignment 4; its value is the hint that names it."""

    NO_SIGMOID = "these are the output's logits: apply the sigmoid, 1 / (1 + exp(-z))"
    OTHER_CLASS = "that is the probability of class 0: return P(y = 1), the sigmoid of the output"
    LABELS = "these are labels (0 or 1): return the probabilities, before any threshold"
    SIGMOID_HIDDEN = "the hidden layers apply the sigmoid: ReLU hidden layers are asked for"
    TANH_HIDDEN = "the hidden layers apply tanh: ReLU hidden layers are asked for"
    NO_HIDDEN_ACTIVATION = "the hidden layers have no activation: apply ReLU after each"
    COLUMN = "a column of shape (n, 1): return a 1-D array of shape (n,), e.g. proba.ravel()"

    @property
    def hint(self) -> str:
        return self.value


def _spec(n_inputs: int) -> list[tuple[int, ...]]:
    """The shapes of ``[W1, b1, W2, b2, W3, b3]`` the assignment asks for."""
    units = (*SPEC_UNITS, 1)
    shapes = []
    for fan_in, fan_out in zip((n_inputs, *units[:-1]), units, strict=True):
        shapes += [(fan_in, fan_out), (fan_out,)]
    return shapes


def spec_layers(arrays, n_inputs: int, show: bool = False) -> list[np.ndarray]:
    """The reported weights ``[W1, b1, ...]``, verified against the spec (16 and 8 units, 1
    output, no other layer with weights), as float arrays; in fixed words unless ``show``."""
    if type(arrays) not in (list, tuple) or len(arrays) == 0:
        raise CheckFailed(
            "build_and_train must return a Keras or PyTorch model (no dense layers were found)"
        )
    shapes = _spec(n_inputs)
    layers = "hidden layers of 16 and 8 units, one output unit, and no other layer with weights"
    plain = all(type(a) is np.ndarray for a in arrays)
    seen = f"its weight arrays have the shapes {[a.shape for a in arrays]}" if plain else ""
    if len(arrays) != len(shapes):
        raise CheckFailed(f"the network must have {layers}" + (f" ({seen})" if show else ""))
    if not plain or [a.shape for a in arrays] != shapes:
        kernels = [a.shape for a in arrays[0::2] if type(a) is np.ndarray]
        if [k[-1] if k else None for k in kernels] != [*SPEC_UNITS, 1]:
            raise CheckFailed(f"the network must have {layers}" + (f" ({seen})" if show else ""))
        raise CheckFailed(
            "the network's layers do not connect (check each layer's input size"
            + (f"; {seen}, the first takes {n_inputs} inputs" if show else "")
            + ")"
        )
    return [
        as_array(a, name="the network's weights", shape=s, what="a weight array")
        for a, s in zip(arrays, shapes, strict=True)
    ]


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward(arrays: list[np.ndarray], X, hidden=None, output=_sigmoid) -> np.ndarray:
    r"""Probabilities of the network given by ``arrays``:

    .. math:: a_0 = X,\quad a_\ell = \mathrm{ReLU}(a_{\ell-1} W_\ell + b_\ell),\quad
              p = \sigma(a_{L-1} W_L + b_L)

    (``hidden`` and ``output`` replace ReLU and the sigmoid: the known-wrong variants)."""
    a = np.asarray(X, dtype=np.float64)
    n_layers = len(arrays) // 2
    for i in range(n_layers):
        z = a @ arrays[2 * i] + arrays[2 * i + 1]
        if i < n_layers - 1:
            a = np.maximum(z, 0.0) if hidden is None else hidden(z)
        else:
            a = output(z)
    return a.reshape(-1)


def proba_variants(arrays: list[np.ndarray], X) -> dict:
    """{mistake: the probabilities it gives} on rows ``X``."""
    right = forward(arrays, X)
    return {
        Mistake.NO_SIGMOID: forward(arrays, X, output=lambda z: z),
        Mistake.OTHER_CLASS: 1.0 - right,
        Mistake.LABELS: (right >= 0.5).astype(float),
        Mistake.SIGMOID_HIDDEN: forward(arrays, X, hidden=_sigmoid),
        Mistake.TANH_HIDDEN: forward(arrays, X, hidden=np.tanh),
        Mistake.NO_HIDDEN_ACTIVATION: forward(arrays, X, hidden=lambda z: z),
    }


def read_proba(got, arrays: list[np.ndarray], X, *, name: str, show: bool = False) -> np.ndarray:
    """``got`` (what predict_proba returned for rows ``X``) read strictly and compared with the
    network the weights ``arrays`` compute; a mistake is named by the variant it equals."""
    n = len(X)
    if type(got) is np.ndarray and got.shape == (n, 1):
        raise CheckFailed(f"{name} returned an array of the wrong shape ({Mistake.COLUMN.hint})")
    proba = as_array(got, name=name, shape=(n,), what="one probability per row", show=show)
    expected = forward(arrays, X)
    inside = bool(np.all((proba >= 0) & (proba <= 1)))
    if inside and close(proba, expected, rtol=0.0, atol=PROBA_ATOL):
        return proba
    hint = hint_for(proba, expected, proba_variants(arrays, X), rtol=0.0, atol=PROBA_ATOL)
    if not inside:
        raise CheckFailed(
            f"{name} must return probabilities in [0, 1]" + (hint or " (apply the sigmoid)")
        )
    raise CheckFailed(
        f"{name} does not match the network's own weights"
        + (hint or " (ReLU hidden layers and a sigmoid output are asked for)")
    )


_A4_HINTS = {
    "import": "install the framework you use: pip install torch (PyTorch) or tensorflow (Keras)",
    "signature": "the signatures are build_and_train(X_train, y_train, X_val, y_val, epochs) "
    "and predict_proba(model, X)",
    "shapes": "X_train has shape (n, 30), y_train (n,); a PyTorch loss wants targets of shape "
    "(n, 1) and float32 tensors",
}


def _public_split():
    """The notebook's own public split: the breast-cancer data, standardized on training rows."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return (X_train - mean) / std, y_train, (X_val - mean) / std, y_val


@check(A4, "test-architecture", "07_hands_on_mlps#pytorch", "PyTorch")
def check_architecture(build_and_train, predict_proba):
    """One epoch on 50 public rows: the layers' sizes, and predict_proba against the weights."""
    X, y, Xv, yv = _public_split()
    model = call(
        "build_and_train",
        build_and_train,
        X[:50],
        y[:50],
        Xv[:20],
        yv[:20],
        1,
        hints=_A4_HINTS,
        guard=False,
    )
    arrays = spec_layers(dense_weights(model)[1], X.shape[1], show=True)
    got = call("predict_proba", predict_proba, model, Xv[:5], guard=False)
    read_proba(got, arrays, Xv[:5], name="predict_proba(model, X) on 5 rows", show=True)


@check(
    A4,
    "test-accuracy",
    "07_hands_on_mlps#the-small-binary-classifier-of-the-review-notes",
    "A binary classifier",
)
def check_accuracy(build_and_train, predict_proba):
    """Trained for up to 100 epochs: at least 93% accuracy on the public validation rows."""
    X, y, Xv, yv = _public_split()
    model = call(
        "build_and_train", build_and_train, X, y, Xv, yv, 100, hints=_A4_HINTS, guard=False
    )
    arrays = spec_layers(dense_weights(model)[1], X.shape[1], show=True)
    got = call("predict_proba", predict_proba, model, Xv, guard=False)
    proba = read_proba(
        got, arrays, Xv, name=f"predict_proba(model, X) on {len(Xv)} rows", show=True
    )
    accuracy = float(np.mean((proba >= 0.5) == (yv == 1)))
    if accuracy < 0.93:
        raise CheckFailed(
            f"validation accuracy {accuracy:.1%}, below the 93% asked for (the grader measures "
            "it on a test split of its own): does training run for the epochs given, with Adam "
            "at 1e-3 and early stopping that restores the best weights?"
        )
