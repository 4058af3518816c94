"""Ready recipes from the review notes (chapter 7).

The small binary classifier of the review notes (on the learning rate and hyperparameter
settings)::

    Input(n_features) -> Dense(5, relu) -> Dense(1, sigmoid)
    Adam(lr=1e-3), binary cross-entropy, batch 16, up to 500 epochs,
    EarlyStopping(monitor="val_loss", patience=20, restore_best_weights=True)

and its regression variant (linear output, MSE) where both the features and the *targets* are
standardized with statistics of the training split only (:class:`coursekit.scaling.Standardizer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit._params import (
    InstanceOf,
    Integral,
    Interval,
    Options,
    result_record,
    validate_params,
)
from coursekit.data import Split
from coursekit.mlp.history import History
from coursekit.mlp.spec import OUTPUTS, MLPSpec
from coursekit.scaling import Standardizer

__all__ = ["RecipeResult", "small_classifier", "small_classifier_spec", "small_regressor"]


_SPLIT = InstanceOf(
    Split, "a coursekit.data.Split", lambda: Split(*[np.zeros((2, 2)), np.zeros(2)] * 3)
)
_FRAMEWORK = Options(("numpy", "keras", "torch", "sklearn"))


@validate_params({"n_features": [Interval(Integral, 1, None)], "output": [Options(OUTPUTS)]})
def small_classifier_spec(n_features: int, output: str = "sigmoid", **changes) -> MLPSpec:
    """The review notes' network and training settings as an :class:`MLPSpec`."""
    spec = MLPSpec(
        n_inputs=n_features,
        hidden=(5,),
        activation="relu",
        output=output,
        optimizer="adam",
        lr=1e-3,
        batch_size=16,
        epochs=500,
        patience=20,
    )
    return spec.with_(**changes) if changes else spec


@result_record
@dataclass
class RecipeResult:
    """What a recipe returns: the trained model, its history and test scores."""

    model: object
    spec: MLPSpec
    history: History
    test: dict[str, float]
    x_scaler: Standardizer
    y_scaler: Standardizer | None = None


@validate_params({"split": [_SPLIT], "framework": [_FRAMEWORK]})
def small_classifier(split, framework: str = "torch", **changes) -> RecipeResult:
    """Train the review notes' small classifier on a :class:`coursekit.data.Split` (binary labels)."""
    from coursekit import mlp

    x_scaler = Standardizer().fit(split.X_train)
    spec = small_classifier_spec(split.n_features, **changes)
    model = mlp.build(framework, spec)
    history = mlp.fit(
        model,
        spec,
        x_scaler.transform(split.X_train),
        split.y_train,
        validation_data=(x_scaler.transform(split.X_val), split.y_val),
    )
    test = mlp.evaluate(model, spec, x_scaler.transform(split.X_test), split.y_test)
    return RecipeResult(model, spec, history, test, x_scaler)


@validate_params({"split": [_SPLIT], "framework": [_FRAMEWORK]})
def small_regressor(split, framework: str = "torch", **changes) -> RecipeResult:
    """The regression variant: linear output, MSE, features *and targets* standardized.

    The test scores are reported in the original target units (``rmse``) and in scaled
    units (``loss``). Training that diverges is a result: both are NaN and
    ``result.history.diverged_epoch`` says when it began.
    """
    from coursekit import mlp

    x_scaler = Standardizer().fit(split.X_train)
    y_scaler = Standardizer().fit(split.y_train)  # training targets only
    spec = small_classifier_spec(split.n_features, output="linear", **changes)
    model = mlp.build(framework, spec)
    history = mlp.fit(
        model,
        spec,
        x_scaler.transform(split.X_train),
        y_scaler.transform(split.y_train),
        validation_data=(x_scaler.transform(split.X_val), y_scaler.transform(split.y_val)),
    )
    X_test = x_scaler.transform(split.X_test)
    test = mlp.evaluate(model, spec, X_test, y_scaler.transform(split.y_test))
    scaled = _predict(framework, model, spec, X_test).ravel()
    if np.all(np.isfinite(scaled)):
        predictions = y_scaler.inverse_transform(scaled)
        test["rmse"] = float(np.sqrt(np.mean((predictions - split.y_test) ** 2)))
    else:  # the training diverged (see ``history.diverged_epoch``): a result, not an error
        test["rmse"] = float("nan")
    return RecipeResult(model, spec, history, test, x_scaler, y_scaler)


def _predict(framework, model, spec, X):
    from coursekit import mlp

    if framework == "keras":
        return mlp.predict_keras(model, X)
    if framework == "torch":
        return mlp.predict_torch(model, spec, X)
    return model.predict(X)
