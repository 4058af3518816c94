# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Assignment 3: regularization and learning-rate schedules
#
# numpy only. Parameters are dicts; weight matrices are the 2-D arrays, biases the 1-D ones.
# Lessons: chapters 4 and 5.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np

# %% [markdown] nbgrader={"grade": false, "grade_id": "l2-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. L2 penalty (2 points)
#
# `l2_penalty(params, lam)` $= \lambda\sum w^2$ over the **weight matrices only**;
# `l2_grad(params, lam)` returns a dict of the same keys: $2\lambda W$ for weights, zeros for biases.


# %% nbgrader={"grade": false, "grade_id": "l2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def l2_penalty(params, lam):
    ### BEGIN SOLUTION
    return lam * sum(float(np.sum(v**2)) for v in params.values() if np.ndim(v) >= 2)
    ### END SOLUTION


def l2_grad(params, lam):
    ### BEGIN SOLUTION
    return {k: 2 * lam * v if np.ndim(v) >= 2 else np.zeros_like(v) for k, v in params.items()}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-l2", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "lambda * sum(W**2) and its gradient 2 * lambda * W, over weight matrices only (biases excluded)", "lesson": "05_regularization#penalties-l1-and-l2"}
p = {"W": np.array([[1.0, -2.0]]), "b": np.array([3.0])}
assert abs(l2_penalty(p, 0.1) - 0.5) < 1e-12
### BEGIN HIDDEN TESTS
from autograder.hidden.regularization import expect_l2

expect_l2(l2_penalty, l2_grad)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "dropout-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Inverted dropout (3 points)
#
# `dropout(a, rate, rng, training)`: while training, zero each entry with probability `rate`
# (draw `rng.random(a.shape) >= rate` to keep) and scale the kept ones by `1 / (1 - rate)`;
# when not training return `a` unchanged.


# %% nbgrader={"grade": false, "grade_id": "dropout", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout(a, rate, rng, training=True):
    ### BEGIN SOLUTION
    if not training:
        return a
    keep = rng.random(a.shape) >= rate
    return a * keep / (1.0 - rate)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-dropout", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "about rate of the units zeroed, the kept ones scaled by 1/(1-rate) in training, identity at evaluation", "lesson": "05_regularization#dropout"}
out = dropout(np.ones((100, 100)), 0.5, np.random.default_rng(0), True)
assert set(np.unique(out)) <= {0.0, 2.0}
### BEGIN HIDDEN TESTS
from autograder.hidden.regularization import expect_dropout

expect_dropout(dropout)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "es-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Early stopping (3 points)
#
# `early_stopping(val_losses, patience)` walks the validation losses epoch by epoch (epochs
# from 0) and returns `(stop_epoch, best_epoch)`: the epoch at which training stops because
# the loss has not improved for `patience` epochs in a row (None if it never stops), and the
# epoch whose weights are restored (the lowest loss seen up to the stop).


# %% nbgrader={"grade": false, "grade_id": "es", "locked": false, "schema_version": 3, "solution": true, "task": false}
def early_stopping(val_losses, patience):
    ### BEGIN SOLUTION
    best, best_epoch, wait = np.inf, None, 0
    for epoch, value in enumerate(val_losses):
        if value < best:
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-es", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "stop after patience epochs without improvement and keep the best epoch's weights", "lesson": "05_regularization#early-stopping"}
assert early_stopping([1.0, 0.8, 0.9, 0.95, 0.7], 2) == (3, 1)
### BEGIN HIDDEN TESTS
from autograder.hidden.regularization import expect_early_stopping

expect_early_stopping(early_stopping)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "decay-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. Exponential decay, both forms (2 points)
#
# `per_epoch_decay(lr0, rate, epoch)` $= \alpha_0\,r^{\text{epoch}}$ (epoch 0 gives $\alpha_0$).
# `keras_decay(step, lr0, decay_steps, decay_rate, staircase)` $= \alpha_0\,r^{t/T}$, with
# $\lfloor t/T \rfloor$ when `staircase`, as Keras' `ExponentialDecay`.


# %% nbgrader={"grade": false, "grade_id": "decay", "locked": false, "schema_version": 3, "solution": true, "task": false}
def per_epoch_decay(lr0, rate, epoch):
    ### BEGIN SOLUTION
    return lr0 * rate**epoch
    ### END SOLUTION


def keras_decay(step, lr0, decay_steps, decay_rate, staircase=False):
    ### BEGIN SOLUTION
    p = step / decay_steps
    if staircase:
        p = np.floor(p)
    return lr0 * decay_rate**p
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-decay", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "alpha0 * r**epoch from epoch 0, and Keras' ExponentialDecay with and without staircase", "lesson": "04_learning_rate#schedules-change-the-rate-during-training"}
assert abs(per_epoch_decay(0.1, 0.95, 0) - 0.1) < 1e-15
assert abs(keras_decay(250_000, 0.1, 100_000, 0.96, True) - 0.1 * 0.96**2) < 1e-12
### BEGIN HIDDEN TESTS
from autograder.hidden.regularization import expect_decay

expect_decay(per_epoch_decay, keras_decay)
### END HIDDEN TESTS
