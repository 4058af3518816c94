r"""The spec's network in scikit-learn: ``MLPClassifier`` / ``MLPRegressor``.

scikit-learn's MLP has no dropout, no L1 penalty, no RMSprop or AdaGrad, no per-step
learning-rate callable and one activation for every hidden layer. :func:`build_sklearn`
raises a ``ValueError`` that lists every such field of the spec (``strict=True``), or warns
and leaves them out (``strict=False``); it never drops them silently.

L2: scikit-learn adds :math:`\frac{\alpha}{2 n_b}\sum w^2` to the mean loss of a batch of
:math:`n_b` samples, Keras adds :math:`\lambda \sum w^2`, so :math:`\alpha = 2\lambda n_b`
(exact for full batches; a smaller last batch gets a slightly stronger penalty).

Training runs one ``partial_fit`` per epoch so that validation loss, early stopping on it
and the restored best weights work as in the other frameworks.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from coursekit._params import Boolean, validate_params
from coursekit.mlp._args import MODEL, SCORE, SPEC, TRAIN, WEIGHTS, X
from coursekit.mlp.history import History
from coursekit.mlp.spec import MLPSpec
from coursekit.mlp.weights import Weights, init_weights, set_weights
from coursekit.regularization import EarlyStopping

__all__ = [
    "SklearnUnsupported",
    "build_sklearn",
    "evaluate_sklearn",
    "fit_sklearn",
    "predict_sklearn",
    "unsupported",
]

_ACTIVATION = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic", "identity": "identity"}


class SklearnUnsupported(UserWarning):
    """A spec field scikit-learn's MLP cannot express (raised as ValueError when strict)."""


@validate_params({"spec": [SPEC]})
def unsupported(spec: MLPSpec) -> list[str]:
    """Every field of ``spec`` that scikit-learn's MLP cannot express, with the reason."""
    problems = []
    if any(rate > 0 for rate in spec.dropout_rates):
        problems.append(f"dropout={spec.dropout!r}: scikit-learn's MLP has no dropout")
    if spec.l1:
        problems.append(f"l1={spec.l1!r}: scikit-learn's MLP has only an L2 penalty (alpha)")
    if spec.optimizer in ("rmsprop", "adagrad"):
        problems.append(f"optimizer={spec.optimizer!r}: scikit-learn offers only 'sgd' and 'adam'")
    if callable(spec.lr):
        problems.append("lr=<schedule>: scikit-learn has only 'constant', 'invscaling', 'adaptive'")
    if spec.output == "softmax" and spec.n_outputs == 2:
        problems.append("softmax over 2 classes: scikit-learn uses one sigmoid unit for 2 classes")
    return problems


@validate_params({"spec": [SPEC], "weights": [WEIGHTS, None], "strict": [Boolean()]})
def build_sklearn(spec: MLPSpec, weights: Weights | None = None, strict: bool = True):
    """An ``MLPClassifier`` (sigmoid/softmax output) or ``MLPRegressor`` (linear) for ``spec``.

    The estimator is initialised with ``weights`` (default
    :func:`~coursekit.mlp.weights.init_weights`) so that it starts where the Keras and torch
    builders start; the initialisation fits nothing.
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    problems = unsupported(spec)
    if problems and strict:
        raise ValueError("scikit-learn cannot express: " + "; ".join(problems))
    for problem in problems:
        warnings.warn(f"left out for scikit-learn: {problem}", SklearnUnsupported, stacklevel=2)
    cls = MLPRegressor if spec.output == "linear" else MLPClassifier
    lr = spec.lr(0) if callable(spec.lr) else spec.lr
    model = cls(
        hidden_layer_sizes=spec.hidden,
        activation=_ACTIVATION[spec.activation],
        solver="adam" if spec.optimizer in ("adam", "rmsprop", "adagrad") else "sgd",
        alpha=2.0 * spec.l2 * spec.batch_size,
        batch_size=spec.batch_size,
        learning_rate_init=lr,
        momentum=spec.momentum if spec.optimizer == "momentum" else 0.0,
        nesterovs_momentum=False,
        shuffle=spec.shuffle,
        random_state=spec.seed,
        max_iter=spec.epochs,
        tol=0.0,
        n_iter_no_change=spec.epochs + 1,
    )
    _initialise(model, spec, weights if weights is not None else init_weights(spec))
    return model


def _initialise(model, spec: MLPSpec, weights: Weights) -> None:
    """Give the estimator its layers without training: one partial_fit step at lr = 0."""
    n_classes = spec.n_outputs if spec.output == "softmax" else 2
    X0 = np.zeros((1, spec.n_inputs))
    saved = model.learning_rate_init, model.momentum
    model.set_params(learning_rate_init=1e-300, momentum=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.output == "linear":
            model.partial_fit(X0, np.zeros((1, spec.n_outputs)) if spec.n_outputs > 1 else [0.0])
        else:
            model.partial_fit(X0, [0], classes=np.arange(n_classes))
    model.set_params(learning_rate_init=saved[0], momentum=saved[1])
    del model._optimizer  # the optimizer state of that step must not carry over
    model.loss_curve_ = []
    model.t_ = 0
    set_weights(model, weights)


@validate_params(TRAIN)
@np.errstate(over="ignore", invalid="ignore")  # a diverging run is a result (NaN losses)
def fit_sklearn(model, spec: MLPSpec, X, y, validation_data=None) -> History:
    """One ``partial_fit`` per epoch; early stopping on validation loss restores the best.

    Training that diverges (scikit-learn refuses weights that overflowed) is recorded, not
    raised: the loss is NaN from that epoch on and no further step is taken.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if spec.output == "linear" and spec.n_outputs == 1:
        y = y.reshape(-1)
    elif spec.output != "linear":
        y = y.reshape(-1).astype(int)
    stopper = EarlyStopping(spec.patience) if spec.patience is not None else None
    history = History("sklearn")
    start = time.perf_counter()
    diverged = False
    for _ in range(spec.epochs):
        if not diverged:
            try:
                model.partial_fit(X, y)
            except ValueError as exc:  # the weights overflowed: a result, not an error
                if "non-finite parameter weights" not in str(exc):
                    raise
                diverged = True
        # a diverged network stays so: NaN from that epoch on (every epoch still recorded)
        history.loss.append(float("nan") if diverged else float(model.loss_))
        if validation_data is not None:
            scores = evaluate_sklearn(model, spec, *validation_data)
            penalty = 0.5 * model.alpha * sum(float((W**2).sum()) for W in model.coefs_)
            history.val_loss.append(scores["loss"] + penalty / spec.batch_size)
            if "accuracy" in scores:
                history.val_accuracy.append(scores["accuracy"])
            if stopper is not None:
                current = [
                    (W.copy(), b.copy())
                    for W, b in zip(model.coefs_, model.intercepts_, strict=True)
                ]
                if stopper.step(history.val_loss[-1], current):
                    break
    if stopper is not None and stopper.best_params is not None:
        best = stopper.final_params(None)  # copies of this model's arrays, NaN if it diverged
        model.coefs_, model.intercepts_ = [W for W, _ in best], [b for _, b in best]
        history.best_epoch, history.stopped_epoch = stopper.best_epoch, stopper.stopped_epoch
    history.seconds = time.perf_counter() - start
    return history


@validate_params({"model": [MODEL], "spec": [SPEC], "X": [X]})
def predict_sklearn(model, spec: MLPSpec, X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if spec.output == "linear":
        return model.predict(X).reshape(len(X), -1)
    proba = model.predict_proba(X)
    return proba[:, 1:] if spec.output == "sigmoid" else proba


@validate_params(SCORE)
def evaluate_sklearn(model, spec: MLPSpec, X, y) -> dict[str, float]:
    """Loss (without the penalty) and, for classifiers, accuracy on ``(X, y)``."""
    from coursekit.mlp.scoring import score_outputs

    return score_outputs(spec, predict_sklearn(model, spec, X), y)
