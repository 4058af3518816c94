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
# # Assignment 2: backpropagation by hand
#
# The lecture's network: 2 inputs → 2 hidden ReLU units → 1 sigmoid output, binary
# cross-entropy **averaged over the batch**, used as $z_1 = X W_1 + b_1$. Use numpy only.
# Lesson: chapter 2, "The forward and backward pass".
#
# What your functions receive (every array a float64 numpy array unless said otherwise):
#
# | name | type and shape | what |
# |---|---|---|
# | `X` | array `(n, 2)` | a batch of `n` inputs, one per row |
# | `y` | int array `(n,)` of 0s and 1s | the labels: **1-D**, while `a2` is `(n, 1)`; reshape `y` to `(n, 1)` before `a2 - y` (otherwise it broadcasts to `(n, n)`) |
# | `params` | dict | `"W1"` `(2, 2)`, `"b1"` `(2,)`, `"W2"` `(2, 1)`, `"b2"` `(1,)` |
# | `grads` | dict | `"dW1"`, `"db1"`, `"dW2"`, `"db2"`: a `d` before the parameter's name, each of its parameter's shape |
#
# No function may modify the arrays or dicts it receives: the checks compare them before and
# after each call, and a function that changes one fails its check. The check cell under each
# function runs its visible checks on public examples (they come from `coursecheck.py`, which
# must sit beside this notebook); the hidden checks run at grading, on other inputs. The last
# cell says which visible checks passed; from a terminal, `python coursecheck.py
# a2_backprop.ipynb` runs the notebook as saved in a fresh kernel.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0, 1, 1, 0])
params = {
    "W1": np.array([[0.1, 0.2], [0.3, 0.4]]),
    "b1": np.zeros(2),
    "W2": np.array([[0.5], [0.6]]),
    "b2": np.zeros(1),
}

# %% [markdown] nbgrader={"grade": false, "grade_id": "forward-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Forward pass (2 points)
#
# `forward(params, X)` returns the cache, a dict of four arrays:
#
# | key | shape | value |
# |---|---|---|
# | `"z1"` | `(n, 2)` | $z_1 = X W_1 + b_1$ |
# | `"a1"` | `(n, 2)` | $a_1 = \mathrm{ReLU}(z_1) = \max(z_1, 0)$ |
# | `"z2"` | `(n, 1)` | $z_2 = a_1 W_2 + b_2$ |
# | `"a2"` | `(n, 1)` | $a_2 = \sigma(z_2) = 1 / (1 + e^{-z_2})$ |


# %% nbgrader={"grade": false, "grade_id": "forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def forward(params, X):
    ### BEGIN SOLUTION
    z1 = X @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0.0)
    z2 = a1 @ params["W2"] + params["b2"]
    a2 = 1.0 / (1.0 + np.exp(-z2))
    return {"z1": z1, "a1": a1, "z2": z2, "a2": a2}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-forward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "z1, a1, z2, a2 of the 2-2-1 network for any parameters and batch", "lesson": "02_forward_backward#the-worked-example-quantity-by-quantity"}
# visible check: the lecture's batch X[:2] and a public case with some z1 < 0
from coursecheck import check_forward

check_forward(forward)
### BEGIN HIDDEN TESTS
from autograder.assignments.a2_backprop.hidden import expect_forward

expect_forward(forward)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "backward-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Backward pass (4 points)
#
# `backward(params, cache, X, y)` takes `params`, the `cache` that `forward(params, X)`
# returned, `X` `(n, 2)` and `y` `(n,)`, and returns the dict
# `{"dW1": (2, 2), "db1": (2,), "dW2": (2, 1), "db2": (1,)}`: the gradients of the **mean**
# loss over the batch, each of the shape of its parameter, with ReLU'(0) = 0 as in TensorFlow
# and PyTorch (an input can put $z_1$ exactly at 0: the lecture's first input does).


# %% nbgrader={"grade": false, "grade_id": "backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def backward(params, cache, X, y):
    ### BEGIN SOLUTION
    n = len(y)
    dz2 = (cache["a2"] - np.asarray(y, dtype=float).reshape(n, 1)) / n
    dz1 = (dz2 @ params["W2"].T) * (cache["z1"] > 0)
    return {
        "dW1": X.T @ dz1,
        "db1": dz1.sum(axis=0),
        "dW2": cache["a1"].T @ dz2,
        "db2": dz2.sum(axis=0),
    }
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-backward", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "gradients of the batch-mean loss with ReLU'(0) = 0, also when an input puts z1 exactly at 0", "lesson": "02_forward_backward#the-worked-example-quantity-by-quantity"}
# visible check: all four gradients on the lecture's batch X[:2] (its input (0, 0) has z1 = 0)
# and on a public case with some z1 < 0
from coursecheck import check_backward

check_backward(forward, backward)
### BEGIN HIDDEN TESTS
from autograder.assignments.a2_backprop.hidden import expect_backward

expect_backward(forward, backward)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "step-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. One SGD step and a gradient check (4 points)
#
# `sgd_step(params, grads, lr)` takes `params` (keys `"W1"`, ...), `grads` (keys `"dW1"`, ...)
# and a float `lr`, and returns a **new** dict with the keys of `params`:
# $\phi - \alpha\,\partial L/\partial\phi$ for each parameter, leaving `params` unchanged
# (no `-=` on its arrays).
#
# `numerical_gradient(loss, params, eps=1e-6)` takes a function `loss(params) -> float` and a
# dict of float arrays (any keys, any shapes), and returns a dict with **the same keys as
# `params`** (`"W1"`, not `"dW1"`), each array of its parameter's shape, holding the central
# differences $(L(\phi + \varepsilon) - L(\phi - \varepsilon)) / (2\varepsilon)$ for every
# entry; `params` holds its original values afterwards (put each entry back after its two
# loss calls, or perturb a copy of `params`).


# %% nbgrader={"grade": false, "grade_id": "step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sgd_step(params, grads, lr):
    ### BEGIN SOLUTION
    return {k: v - lr * grads["d" + k] for k, v in params.items()}
    ### END SOLUTION


def numerical_gradient(loss, params, eps=1e-6):
    ### BEGIN SOLUTION
    work = {k: np.array(v, dtype=float) for k, v in params.items()}
    out = {}
    for k, v in work.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            old = v[idx]
            v[idx] = old + eps
            plus = loss(work)
            v[idx] = old - eps
            minus = loss(work)
            v[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        out[k] = g
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-step", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "new parameters phi - lr * grad, inputs left unchanged", "lesson": "02_forward_backward#the-worked-example-quantity-by-quantity"}
# visible check: one step from the lecture's parameters; params must stay unchanged
from coursecheck import check_sgd_step

check_sgd_step(sgd_step)
### BEGIN HIDDEN TESTS
from autograder.assignments.a2_backprop.hidden import expect_sgd_step

expect_sgd_step(sgd_step)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test-gradcheck", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "central finite differences (f(x+eps) - f(x-eps)) / (2 eps) for every entry", "lesson": "02_forward_backward#gradient-checking"}
# visible check: the loss sum(W**3) + 2 sum(b**2), where one-sided differences are measurably off
from coursecheck import check_numerical_gradient

check_numerical_gradient(numerical_gradient)
### BEGIN HIDDEN TESTS
from autograder.assignments.a2_backprop.hidden import expect_numerical_gradient

expect_numerical_gradient(numerical_gradient)
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
    summary("a2_backprop")
