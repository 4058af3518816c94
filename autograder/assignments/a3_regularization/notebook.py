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
# numpy only. Lessons: chapter 5, "Regularization", and chapter 4, "The learning rate".
#
# What your functions receive: `params` is a dict of float64 numpy arrays (any keys, e.g.
# `"W1"`, `"b1"`, ...): the weight matrices are its 2-D arrays, the biases its 1-D ones; `lam`
# a float >= 0. `a` of `dropout` is a float array of any shape, `rng` a
# `numpy.random.Generator`. `val_losses` is a list of floats, one per epoch (epoch 0 first),
# `patience` an int >= 1. No function may modify its inputs: the checks compare them before
# and after each call, and a function that changes one fails its check (`dropout` returns a
# new array; it does not zero `a` in place).
#
# The check cell under each function runs its visible checks on public examples (they come
# from `coursecheck.py`, which must sit beside this notebook); the hidden checks run at grading,
# on other inputs. The last cell says which visible checks passed; from a terminal,
# `python coursecheck.py a3_regularization.ipynb` runs the notebook as saved in a fresh kernel.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np

# %% [markdown] nbgrader={"grade": false, "grade_id": "l2-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. L2 penalty (2 points)
#
# `l2_penalty(params, lam)` returns the float $\lambda\sum w^2$ over the entries of the
# **weight matrices only** (biases are not penalized). `l2_grad(params, lam)` returns a dict
# with the same keys as `params`, each array of its parameter's shape: $2\lambda W$ for a
# weight matrix, zeros for a bias.


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
# visible check: penalty and gradient on two public parameter dicts with biases
from coursecheck import check_l2

check_l2(l2_penalty, l2_grad)
### BEGIN HIDDEN TESTS
from autograder.assignments.a3_regularization.hidden import expect_l2

expect_l2(l2_penalty, l2_grad)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "dropout-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Inverted dropout (3 points)
#
# `dropout(a, rate, rng, training=True)` returns a new array of the shape of `a`. While
# training, zero each entry with probability `rate`, a float in [0, 1) (draw
# `rng.random(a.shape) >= rate` to keep), and scale the kept ones by `1 / (1 - rate)`; when
# not training (`training=False`, at evaluation) return `a` unchanged.


# %% nbgrader={"grade": false, "grade_id": "dropout", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout(a, rate, rng, training=True):
    ### BEGIN SOLUTION
    if not training:
        return a
    keep = rng.random(a.shape) >= rate
    return a * keep / (1.0 - rate)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-dropout", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "about rate of the units zeroed, the kept ones scaled by 1/(1-rate) in training, identity at evaluation", "lesson": "05_regularization#dropout"}
# visible check: rates 0.2 and 0.5 while training (fraction zeroed, scaling), and evaluation
from coursecheck import check_dropout

check_dropout(dropout)
### BEGIN HIDDEN TESTS
from autograder.assignments.a3_regularization.hidden import expect_dropout

expect_dropout(dropout)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "es-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Early stopping (3 points)
#
# `early_stopping(val_losses, patience)` walks the validation losses epoch by epoch (epochs
# from 0) and returns the tuple `(stop_epoch, best_epoch)` of two ints: the epoch at which
# training stops because the loss has not improved for `patience` epochs in a row (`None` if
# it never stops), and the epoch whose weights are restored (the lowest loss seen up to the
# stop). A loss equal to the best so far is no improvement.


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
# visible check: four public loss curves (a stop, no stop, ties, patience 1)
from coursecheck import check_early_stopping

check_early_stopping(early_stopping)
### BEGIN HIDDEN TESTS
from autograder.assignments.a3_regularization.hidden import expect_early_stopping

expect_early_stopping(early_stopping)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "decay-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. Exponential decay, both forms (2 points)
#
# `per_epoch_decay(lr0, rate, epoch)` returns the float $\alpha_0\,r^{\text{epoch}}$ for an
# int `epoch >= 0` (epoch 0 gives $\alpha_0$).
# `keras_decay(step, lr0, decay_steps, decay_rate, staircase=False)` returns the float
# $\alpha_0\,r^{t/T}$ for an int `step` $t \ge 0$ and `decay_steps` $T$, with
# $\lfloor t/T \rfloor$ when `staircase` is True, as Keras' `ExponentialDecay`.


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
# visible check: epochs 0 and 3; Keras' decay at steps 0 and 270,000, with and without staircase
from coursecheck import check_decay

check_decay(per_epoch_decay, keras_decay)
### BEGIN HIDDEN TESTS
from autograder.assignments.a3_regularization.hidden import expect_decay

expect_decay(per_epoch_decay, keras_decay)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "summary-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Save, then *Kernel → Restart & Run All*: the cell below says which visible checks passed.
# Passing them is not the grade: the hidden checks run at grading, on other inputs.

# %% nbgrader={"grade": false, "grade_id": "summary", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    from coursecheck import summary
except ModuleNotFoundError:  # in Colab: upload coursecheck.py (it came with the assignment)
    print("coursecheck.py, which came with this assignment, must sit beside this notebook")
else:
    summary("a3_regularization")
