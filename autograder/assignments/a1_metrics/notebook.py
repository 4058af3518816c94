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
# # Assignment 1: classification metrics from scratch
#
# Implement each function below with numpy only (no scikit-learn, no `coursekit`): the
# graders call your functions on inputs you have not seen and compare the values they return.
# Lesson: chapter 1, "Evaluating classifiers".
#
# What your functions receive: `y_true` and `y_pred` are lists or 1-D int arrays of 0s and 1s,
# of one length `n`; `scores` a list or 1-D float array of length `n` (higher means more
# likely positive); `x` and `y` of `auc_trapezoid` 1-D float arrays of one length, `x`
# non-decreasing (as an ROC curve's fpr). No function may modify its inputs: the checks
# compare them before and after each call, and a function that changes one fails its check.
#
# The check cell under each function runs its visible checks on public examples (they come
# from `coursecheck.py`, which must sit beside this notebook); the hidden checks run at grading,
# on other inputs. The last cell says which visible checks passed; from a terminal,
# `python coursecheck.py a1_metrics.ipynb` runs the notebook as saved in a fresh kernel.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np

# %% [markdown] nbgrader={"grade": false, "grade_id": "counts-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. The confusion counts (2 points)
#
# `confusion_counts(y_true, y_pred)` returns the tuple `(tn, fp, fn, tp)` of four Python ints:
# true negatives (truth 0, predicted 0), false positives (truth 0, predicted 1), false
# negatives (truth 1, predicted 0) and true positives. Labels of one class only are allowed.


# %% nbgrader={"grade": false, "grade_id": "counts", "locked": false, "schema_version": 3, "solution": true, "task": false}
def confusion_counts(y_true, y_pred):
    ### BEGIN SOLUTION
    t = np.asarray(y_true).astype(bool)
    p = np.asarray(y_pred).astype(bool)
    tn = int(np.sum(~t & ~p))
    fp = int(np.sum(~t & p))
    fn = int(np.sum(t & ~p))
    tp = int(np.sum(t & p))
    return tn, fp, fn, tp
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-counts", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "confusion_counts returns (tn, fp, fn, tp) as ints for any binary labels, including one class only", "lesson": "01_evaluating_classifiers#the-confusion-matrix"}
# visible check: the lecture's example, one class only, no predicted positives
from coursecheck import check_counts

check_counts(confusion_counts)
### BEGIN HIDDEN TESTS
from autograder.assignments.a1_metrics.hidden import expect_counts

expect_counts(confusion_counts)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "scores-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Scores (4 points)
#
# Each takes `(y_true, y_pred)` and returns a Python float. When a denominator is 0 return
# 0.0 (scikit-learn's `zero_division=0`), for MCC too: never `nan`, never a `ZeroDivisionError`.
#
# $$\text{precision} = \frac{TP}{TP+FP},\quad \text{recall} = \frac{TP}{TP+FN},\quad
# \text{specificity} = \frac{TN}{TN+FP},\quad F_1 = \frac{2TP}{2TP+FP+FN}$$
#
# $$\mathrm{MCC} = \frac{TP\cdot TN - FP\cdot FN}{\sqrt{(TP+FP)(TP+FN)(TN+FP)(TN+FN)}}$$


# %% nbgrader={"grade": false, "grade_id": "scores", "locked": false, "schema_version": 3, "solution": true, "task": false}
def _ratio(num, den):
    return num / den if den else 0.0


def precision(y_true, y_pred):
    ### BEGIN SOLUTION
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    return _ratio(tp, tp + fp)
    ### END SOLUTION


def recall(y_true, y_pred):
    ### BEGIN SOLUTION
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    return _ratio(tp, tp + fn)
    ### END SOLUTION


def specificity(y_true, y_pred):
    ### BEGIN SOLUTION
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    return _ratio(tn, tn + fp)
    ### END SOLUTION


def f1(y_true, y_pred):
    ### BEGIN SOLUTION
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    return _ratio(2 * tp, 2 * tp + fp + fn)
    ### END SOLUTION


def mcc(y_true, y_pred):
    ### BEGIN SOLUTION
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    den = float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    return (tp * tn - fp * fn) / np.sqrt(den) if den else 0.0
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-rates", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "precision, recall and specificity follow their formulas and return 0.0 when the denominator is 0", "lesson": "01_evaluating_classifiers#scores-from-the-counts"}
# visible check: two public label sets and the three zero denominators
from coursecheck import check_rates

check_rates(precision, recall, specificity)
### BEGIN HIDDEN TESTS
from autograder.assignments.a1_metrics.hidden import expect_scores

expect_scores({"precision": precision, "recall": recall, "specificity": specificity})
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test-f1-mcc", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "F1 and MCC follow their formulas and return 0.0 when the denominator is 0 (no division by zero)", "lesson": "01_evaluating_classifiers#scores-from-the-counts"}
# visible check: public label sets, one class only (MCC's denominator is 0)
from coursecheck import check_f1_mcc

check_f1_mcc(f1, mcc)
### BEGIN HIDDEN TESTS
from autograder.assignments.a1_metrics.hidden import expect_scores

expect_scores({"f1": f1, "mcc": mcc})
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "roc-text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. The ROC curve and its area (4 points)
#
# `roc_points(y_true, scores)` returns `(fpr, tpr, thresholds)`, three 1-D float arrays of
# length (number of distinct scores + 1): one point per distinct score, thresholds in
# **decreasing** order, predicting positive when `score >= threshold`, starting with the point
# (0, 0) at threshold `np.inf` (no intermediate point dropped). `y_true` holds both classes.
#
# `auc_trapezoid(x, y)` returns the trapezoidal area under the curve through the points
# `(x[i], y[i])` as a float: $\sum_i (x_{i+1} - x_i)(y_i + y_{i+1})/2$.


# %% nbgrader={"grade": false, "grade_id": "roc", "locked": false, "schema_version": 3, "solution": true, "task": false}
def roc_points(y_true, scores):
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    thresholds = np.r_[np.inf, np.unique(scores)[::-1]]
    P, N = y_true.sum(), (~y_true).sum()
    tpr = np.array([np.sum(y_true & (scores >= t)) / P for t in thresholds])
    fpr = np.array([np.sum(~y_true & (scores >= t)) / N for t in thresholds])
    return fpr, tpr, thresholds
    ### END SOLUTION


def auc_trapezoid(x, y):
    ### BEGIN SOLUTION
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-roc", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "roc_points gives one point per distinct score, thresholds decreasing from inf, positive when score >= threshold", "lesson": "01_evaluating_classifiers#the-roc-curve-step-by-step"}
# visible check: the lecture's four scores, and scores with ties
from coursecheck import check_roc

check_roc(roc_points)
### BEGIN HIDDEN TESTS
from autograder.assignments.a1_metrics.hidden import expect_roc

expect_roc(roc_points)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test-auc", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} autograder={"expects": "auc_trapezoid is the trapezoidal area, also on ROC curves", "lesson": "01_evaluating_classifiers#the-roc-curve-step-by-step"}
# visible check: a small curve and the lecture's ROC curve
from coursecheck import check_auc

check_auc(auc_trapezoid, roc_points)
### BEGIN HIDDEN TESTS
from autograder.assignments.a1_metrics.hidden import expect_auc

expect_auc(auc_trapezoid, roc_points)
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
    summary("a1_metrics")
