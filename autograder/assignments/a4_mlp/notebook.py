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
# # Assignment 4: an MLP to a spec, and the review questions
#
# Part 1 is graded automatically, part 2 by hand. Lessons: chapters 3–8.
#
# ## Part 1 (6 points)
#
# In **PyTorch or Keras**, write `build_and_train(X_train, y_train, X_val, y_val, epochs)` that
# builds this network and returns the trained model:
#
# - hidden layers of **16** and **8** ReLU units, one sigmoid output (binary cross-entropy);
# - Adam with learning rate $10^{-3}$, batches of 32, at most `epochs` epochs, early stopping on
#   the validation loss with patience 10 and the best weights restored.
#
# and `predict_proba(model, X)` returning one probability per row. The data are sklearn's
# breast-cancer set, already standardized. The grader trains your network on its own split
# and needs a test accuracy of at least 88% (its feedback says the accuracy reached).
#
# What your functions receive and return:
#
# | name | type and shape |
# |---|---|
# | `X_train`, `X_val` | float64 numpy arrays `(n, 30)` (convert them yourself, e.g. `torch.tensor(X, dtype=torch.float32)`) |
# | `y_train`, `y_val` | int numpy arrays `(n,)` of 0s and 1s (a PyTorch loss wants float targets of shape `(n, 1)`) |
# | `epochs` | int >= 0 |
# | `build_and_train` returns | the trained `torch.nn.Module` or `keras.Model` (dense layers only count: 30 → 16 → 8 → 1) |
# | `predict_proba(model, X)` returns | a 1-D float numpy array `(n,)` of probabilities in [0, 1] |
#
# Neither function may modify the arrays it receives (standardize or convert into new arrays):
# the checks compare them before and after each call.
#
# The check cells run their visible checks on the public split below (they come from
# `coursecheck.py`, which must sit beside this notebook); the grader uses its own split.
# The last cell says which visible checks passed; from a terminal,
# `python coursecheck.py a4_mlp.ipynb` runs the notebook as saved in a fresh kernel.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

X_all, y_all = load_breast_cancer(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(
    X_all, y_all, test_size=0.25, random_state=0, stratify=y_all
)
mean, std = X_train.mean(axis=0), X_train.std(axis=0)
X_train, X_val = (X_train - mean) / std, (X_val - mean) / std

# %% nbgrader={"grade": false, "grade_id": "model", "locked": false, "schema_version": 3, "solution": true, "task": false}
import torch


def build_and_train(X_train, y_train, X_val, y_val, epochs):
    ### BEGIN SOLUTION
    import copy

    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(X_train.shape[1], 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 1),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    X, y = (
        torch.tensor(X_train, dtype=torch.float32),
        torch.tensor(y_train, dtype=torch.float32).reshape(-1, 1),
    )
    Xv, yv = (
        torch.tensor(X_val, dtype=torch.float32),
        torch.tensor(y_val, dtype=torch.float32).reshape(-1, 1),
    )
    best, best_state, wait = np.inf, copy.deepcopy(model.state_dict()), 0
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(X), generator=generator).split(32):
            opt.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(Xv), yv).item()
        if val < best:
            best, best_state, wait = val, copy.deepcopy(model.state_dict()), 0
        else:
            wait += 1
            if wait >= 10:
                break
    model.load_state_dict(best_state)
    return model
    ### END SOLUTION


def predict_proba(model, X):
    ### BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model(torch.tensor(X, dtype=torch.float32))).numpy().ravel()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-architecture", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "a Keras or PyTorch network with hidden layers of 16 and 8 units and one output unit", "lesson": "07_hands_on_mlps#pytorch"}
# visible check: one epoch on 50 public rows; the layer sizes, predict_proba against the weights
from coursecheck import check_architecture

check_architecture(build_and_train, predict_proba)
### BEGIN HIDDEN TESTS
from autograder.assignments.a4_mlp.hidden import expect_architecture

expect_architecture(build_and_train)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test-accuracy", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "trained with early stopping, the network reaches 88% test accuracy on a fresh split", "lesson": "07_hands_on_mlps#the-small-binary-classifier-of-the-review-notes"}
# visible check: trained for up to 100 epochs, at least 93% accuracy on the public validation rows
from coursecheck import check_accuracy

check_accuracy(build_and_train, predict_proba)
### BEGIN HIDDEN TESTS
from autograder.assignments.a4_mlp.hidden import expect_accuracy

expect_accuracy(build_and_train, predict_proba)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "review-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part 2: review questions (8 points, graded by hand)
#
# Answer each in a few sentences.
#
# **Q1.** What is learning-rate decay, and why is it needed?
#
# *A full answer contains* (2 points): what decay does (the learning rate is lowered during
# training, e.g. step, exponential or cosine schedules) and why (large steps early for speed,
# small steps late so the parameters settle instead of oscillating around a minimum).

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Decay lowers the learning rate during training (step, exponential or cosine schedules): large
# steps early for speed, small steps late so the parameters settle into a minimum instead of
# oscillating around it.

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q2.** What are the saddle-point and plateau problems?
#
# *A full answer contains* (2 points): why they slow training (the gradient is near zero there
# although it is no minimum) and one remedy (momentum, an adaptive optimizer, mini-batch noise).

# %% [markdown] nbgrader={"grade": true, "grade_id": "q2", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# The gradient is (nearly) zero at a saddle point or across a plateau, though it is no minimum,
# so gradient descent crawls; momentum, adaptive optimizers and mini-batch noise help escape.

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q3.** Why avoid grid search?
#
# *A full answer contains* (2 points): two of its costs (trials grow combinatorially with the
# hyperparameters, only the grid's values are tried, trials are wasted on unimportant ones, bad
# trials are not stopped early) and a better alternative (random search, or a tuner that stops
# bad trials).

# %% [markdown] nbgrader={"grade": true, "grade_id": "q3", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Its cost grows combinatorially, it tries only the grid's values, it wastes trials on
# unimportant hyperparameters and cannot stop bad trials early; random search does better.

# %% [markdown] nbgrader={"grade": false, "grade_id": "q4-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q4.** What is a mini-batch, and how is it used?
#
# *A full answer contains* (2 points): what it is (a small random subset of the training set)
# and how it is used (each update uses the gradient on one mini-batch; an epoch passes through
# all of them).

# %% [markdown] nbgrader={"grade": true, "grade_id": "q4", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A small random subset of the training set; each update uses the gradient of the loss on one
# mini-batch, an epoch passes through all of them: cheap, vectorized, mildly regularizing noise.

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
    summary("a4_mlp")
