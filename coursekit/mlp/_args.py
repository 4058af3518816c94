"""The constraints the builders, trainers and scorers of :mod:`coursekit.mlp` share."""

from __future__ import annotations

from coursekit._params import (
    ArrayLike,
    Constraint,
    InstanceOf,
    Options,
    SequenceOf,
)
from coursekit.mlp.spec import MLPSpec


class _Model(Constraint):
    description = "a model built by coursekit.mlp (numpy, Keras, PyTorch or scikit-learn)"

    def is_satisfied_by(self, value) -> bool:
        from coursekit.mlp.weights import _framework

        try:
            _framework(value)
        except TypeError:
            return False
        return True

    def example(self):
        from coursekit.mlp.numpy_mlp import NumpyMLP

        return NumpyMLP(MLPSpec(n_inputs=2, hidden=(2,)))


SPEC = InstanceOf(MLPSpec, "an MLPSpec", lambda: MLPSpec(n_inputs=2, hidden=(2,)))
MODEL = _Model()
X = ArrayLike(finite=True, ndim=2, example=lambda: [[0.0, 1.0], [1.0, 0.0]])
Y = ArrayLike(finite=True, ndim=(1, 2), example=lambda: [0, 1])
VALIDATION = SequenceOf(ArrayLike(finite=True), length=2, description="a pair (X_val, y_val)")
LAYER = SequenceOf(ArrayLike(finite=True), length=2, description="a pair (W, b)")
WEIGHTS = SequenceOf(LAYER, description="a list of (W, b) pairs, one per dense layer")
DTYPE = Options(("float32", "float64"))
FRAMEWORK = Options(("numpy", "keras", "torch", "sklearn"))

TRAIN = {
    "model": [MODEL],
    "spec": [SPEC],
    "X": [X],
    "y": [Y],
    "validation_data": [VALIDATION, None],
}
SCORE = {"model": [MODEL], "spec": [SPEC], "X": [X], "y": [Y]}
