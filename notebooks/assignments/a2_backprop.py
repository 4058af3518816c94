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
# cross-entropy **averaged over the batch**, used as $z_1 = X W_1 + b_1$. Parameters are a dict
# `{"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}`. Use numpy only. Lesson: chapter 2.

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
# Return `{"z1", "a1", "z2", "a2"}` with `z2` and `a2` of shape `(n, 1)`.


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
cache = forward(params, X[:2])
assert np.allclose(cache["a1"], [[0, 0], [0.3, 0.4]]) and cache["a2"].shape == (2, 1)
### BEGIN HIDDEN TESTS
from autograder.hidden.backprop import expect_forward

expect_forward(forward)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "backward-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Backward pass (4 points)
#
# `backward(params, cache, X, y)` returns `{"dW1", "db1", "dW2", "db2"}`, the gradients of the
# **mean** loss over the batch, with ReLU'(0) = 0 as in TensorFlow and PyTorch.


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
g = backward(params, forward(params, X[:2]), X[:2], y[:2])
assert np.allclose(g["dW2"], [[0.3 * (-0.40372) / 2], [0.4 * (-0.40372) / 2]], atol=1e-5)
### BEGIN HIDDEN TESTS
from autograder.hidden.backprop import expect_backward

expect_backward(forward, backward)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "step-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. One SGD step and a gradient check (4 points)
#
# `sgd_step(params, grads, lr)` returns **new** parameters $\phi - \alpha\,\partial L/\partial\phi$
# (grads keyed `"dW1"`, ...), leaving `params` unchanged. `numerical_gradient(loss, params,
# eps=1e-6)` returns central finite differences of `loss(params)` for every entry.


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
new = sgd_step(
    params,
    {"dW1": np.ones((2, 2)), "db1": np.ones(2), "dW2": np.ones((2, 1)), "db2": np.ones(1)},
    0.1,
)
assert np.allclose(new["W1"], params["W1"] - 0.1) and params["b1"][0] == 0.0
### BEGIN HIDDEN TESTS
from autograder.hidden.backprop import expect_sgd_step

expect_sgd_step(sgd_step)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test-gradcheck", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "central finite differences (f(x+eps) - f(x-eps)) / (2 eps) for every entry", "lesson": "02_forward_backward#gradient-checking"}
num = numerical_gradient(lambda p: float(np.sum(p["W1"] ** 2)), {"W1": np.array([[1.0, 2.0]])})
assert np.allclose(num["W1"], [[2.0, 4.0]], atol=1e-6)
### BEGIN HIDDEN TESTS
from autograder.hidden.backprop import expect_numerical_gradient

expect_numerical_gradient(numerical_gradient)
### END HIDDEN TESTS
