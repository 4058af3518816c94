"""Known-wrong versions of assignments 2 and 3's functions: the mistakes students make, each
written once, for the visible checks' tests and the hidden checks' tests alike (each must name
the same mistake)."""

import numpy as np

from tests.autograder.assignment_helpers import reference

A2 = reference("a2_backprop")


def backward_of_the_sum(params, cache, X, y):
    return {k: v * len(y) for k, v in A2["backward"](params, cache, X, y).items()}


def backward_off_in_one_entry(params, cache, X, y):
    grads = A2["backward"](params, cache, X, y)
    return {**grads, "dW2": grads["dW2"] + np.array([[0.0], [0.01]])}


def backward_relu_prime_zero_is_one(params, cache, X, y):
    n = len(y)
    dz2 = (cache["a2"] - np.asarray(y, float).reshape(n, 1)) / n
    dz1 = (dz2 @ params["W2"].T) * (cache["z1"] >= 0)
    return {"dW1": X.T @ dz1, "db1": dz1.sum(0), "dW2": cache["a1"].T @ dz2, "db2": dz2.sum(0)}


def backward_transposed(params, cache, X, y):
    grads = A2["backward"](params, cache, X, y)
    return {**grads, "dW1": grads["dW1"].T}


def backward_with(dz1_of=None, dz2_of=None, keep_batch_axis=False):
    """The reference backward pass with one step replaced (a known mistake)."""

    def backward(params, cache, X, y):
        n = len(y)
        dz2 = (cache["a2"] - np.asarray(y, float).reshape(n, 1)) / n
        dz2 = dz2 if dz2_of is None else dz2_of(dz2, cache)
        da1 = dz2 @ params["W2"].T
        dz1 = da1 * (cache["z1"] > 0) if dz1_of is None else dz1_of(da1, cache)
        sum_ = (lambda d: d) if keep_batch_axis else (lambda d: d.sum(axis=0))
        return {"dW1": X.T @ dz1, "db1": sum_(dz1), "dW2": cache["a1"].T @ dz2, "db2": sum_(dz2)}

    return backward


def decay_off_by_one(lr0, rate, epoch):
    return lr0 * rate ** (epoch + 1)


def dropout_in_place(a, rate, rng, training=True):
    if training:
        a *= rng.random(a.shape) >= rate
        a /= 1 - rate
    return a


def dropout_not_rescaled(a, rate, rng, training=True):
    return a * (rng.random(a.shape) >= rate) if training else a


def dropout_on_at_eval(a, rate, rng, training=True):
    return a * (rng.random(a.shape) >= rate) / (1 - rate)


def forward_W1_transposed(params, X):
    z1 = X @ params["W1"].T + params["b1"]
    a1 = np.maximum(z1, 0.0)
    z2 = a1 @ params["W2"] + params["b2"]
    return {"z1": z1, "a1": a1, "z2": z2, "a2": 1 / (1 + np.exp(-z2))}


def l2_on_biases(params, lam):
    return lam * sum(float(np.sum(v**2)) for v in params.values())


def numerical_gradient_never_restores(loss, params, eps=1e-6):
    out = {}
    for k, v in params.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            v[idx] += eps
            plus = loss(params)
            v[idx] -= 2 * eps  # and never put back
            g[idx] = (plus - loss(params)) / (2 * eps)
        out[k] = g
    return out


def sgd_ascent(params, grads, lr):
    return {k: v + lr * grads["d" + k] for k, v in params.items()}


def sgd_in_place(params, grads, lr):
    for k in params:
        params[k] -= lr * grads["d" + k]
    return params
