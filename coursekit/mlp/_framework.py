"""Which framework a model belongs to: the one rule :mod:`coursekit.mlp` recognises it by.

A model is recognised as an instance of its framework's base class (``torch.nn.Module``,
``keras.Model``, scikit-learn's ``MLPClassifier``/``MLPRegressor``), looked up among the
modules already loaded (whoever built the model imported its framework): nothing is imported
here, and a module's name proves nothing (the rule the grader's weights reader keeps).
coursekit's own :class:`~coursekit.mlp.numpy_mlp.NumpyMLP` is the model that holds its layers
in ``layers_``. The constraints (``_args``), the weight layout (``weights``) and the dispatch of
``fit``/``evaluate`` all ask here, so none of them imports another for it.
"""

from __future__ import annotations

import sys


def _instance_of(model, module: str, *names: str) -> bool:
    """``model`` is an instance of ``module.NAME`` for a NAME, where ``module`` is already
    loaded (whoever built the model imported it): never imported here."""
    loaded = sys.modules.get(module)
    for name in names:
        base = loaded
        for part in name.split("."):
            base = getattr(base, part, None)
        if isinstance(base, type) and isinstance(model, base):
            return True
    return False


def framework_of(model) -> str:
    """``"torch"``, ``"keras"``, ``"sklearn"`` or ``"numpy"``: the framework whose weight layout
    ``model`` has. A ``TypeError`` names any other object's class and module."""
    if _instance_of(model, "torch", "nn.Module"):
        return "torch"
    if any(
        _instance_of(model, name, "Model") for name in ("keras", "tensorflow.keras", "tf_keras")
    ):
        return "keras"
    if _instance_of(model, "sklearn.neural_network", "MLPClassifier", "MLPRegressor"):
        return "sklearn"
    if hasattr(model, "layers_") or type(model).__name__ == "NumpyMLP":
        return "numpy"
    module = type(model).__module__
    raise TypeError(f"don't know the weight layout of {type(model).__name__} ({module})")
