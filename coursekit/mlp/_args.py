"""The constraints the builders, trainers and scorers of :mod:`coursekit.mlp` share."""

from __future__ import annotations

from coursekit._params import (
    ArrayLike,
    Constraint,
    InstanceOf,
    Options,
    SequenceOf,
)
from coursekit.mlp._framework import framework_of
from coursekit.mlp.spec import MLPSpec


class _Model(Constraint):
    """A model whose framework :func:`~coursekit.mlp._framework.framework_of` recognises.

    Its example is a scikit-learn ``MLPClassifier`` (imported when asked for), not a
    ``NumpyMLP``: the numpy network and the weight layout are built on these constraints, so
    the constraints cannot build them.
    """

    description = "a model built by coursekit.mlp (numpy, Keras, PyTorch or scikit-learn)"

    def is_satisfied_by(self, value) -> bool:
        try:
            framework_of(value)
        except TypeError:
            return False
        return True

    def example(self):
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(hidden_layer_sizes=(2,))


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
