"""One network, four implementations: numpy, Keras, PyTorch and scikit-learn MLPs from one spec (chapter 7).

- :class:`MLPSpec`: the framework-neutral description (layers, activation, output, dropout,
  L1/L2, optimizer and learning rate or schedule, batch size, epochs, early stopping, seed).
- Builders: :func:`build_numpy` (coursekit's own loop), :func:`build_keras`, :func:`build_torch` (+ :func:`train_torch`, the lesson's
  loop), :func:`build_sklearn` (what scikit-learn cannot express is reported).
- :func:`fit` / :func:`evaluate`: one interface for all three, returning a :class:`History`
  of the same shape.
- :func:`get_weights` / :func:`set_weights`: ``[(W (in, out), b), ...]`` everywhere.

Frameworks are imported only when a builder or ``fit`` runs.
"""

from __future__ import annotations

from coursekit._params import validate_params
from coursekit.mlp._args import FRAMEWORK, SCORE, SPEC, TRAIN, WEIGHTS
from coursekit.mlp._framework import framework_of
from coursekit.mlp.history import History
from coursekit.mlp.keras_mlp import build_keras, evaluate_keras, fit_keras, predict_keras
from coursekit.mlp.numpy_mlp import NumpyMLP, build_numpy, fit_numpy
from coursekit.mlp.sklearn_mlp import build_sklearn, evaluate_sklearn, fit_sklearn
from coursekit.mlp.spec import MLPSpec
from coursekit.mlp.torch_mlp import build_torch, evaluate_torch, predict_torch, train_torch
from coursekit.mlp.weights import get_weights, init_weights, set_weights

__all__ = [
    "History",
    "MLPSpec",
    "NumpyMLP",
    "build",
    "build_keras",
    "build_numpy",
    "build_sklearn",
    "build_torch",
    "evaluate",
    "fit",
    "get_weights",
    "init_weights",
    "predict_keras",
    "predict_torch",
    "set_weights",
    "train_torch",
]

FRAMEWORKS = ("numpy", "keras", "torch", "sklearn")


@validate_params({"framework": [FRAMEWORK], "spec": [SPEC], "weights": [WEIGHTS, None]})
def build(framework: str, spec: MLPSpec, weights=None, **kwargs):
    """``build_numpy`` / ``build_keras`` / ``build_torch`` / ``build_sklearn`` by name."""
    builders = {
        "numpy": build_numpy,
        "keras": build_keras,
        "torch": build_torch,
        "sklearn": build_sklearn,
    }
    return builders[framework](spec, weights, **kwargs)


@validate_params(TRAIN)
def fit(model, spec: MLPSpec, X, y, validation_data=None) -> History:
    """Train any of the three models with the spec's settings; same :class:`History` shape."""
    fitters = {"numpy": fit_numpy, "keras": fit_keras, "torch": train_torch, "sklearn": fit_sklearn}
    return fitters[framework_of(model)](model, spec, X, y, validation_data)


@validate_params(SCORE)
def evaluate(model, spec: MLPSpec, X, y) -> dict[str, float]:
    """``{"loss": ..., "accuracy": ...}`` (no accuracy for regression) for any of the three."""
    evaluators = {
        "numpy": _evaluate_numpy,
        "keras": evaluate_keras,
        "torch": evaluate_torch,
        "sklearn": evaluate_sklearn,
    }
    return evaluators[framework_of(model)](model, spec, X, y)


def _evaluate_numpy(model, spec, X, y):
    from coursekit.mlp.scoring import score_outputs

    return score_outputs(spec, model.predict(X), y)
