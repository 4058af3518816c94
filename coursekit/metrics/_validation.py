"""Input checks shared by every metric: one place, errors that show the bad value."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["UndefinedMetricWarning", "binary_labels", "binary_targets_and_scores", "warn_undefined"]


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for this input and was set by convention (as scikit-learn does)."""


def warn_undefined(message: str) -> None:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)


def _as_1d(values, name: str) -> np.ndarray:
    if isinstance(values, str | bytes):
        raise ValueError(f"{name} must be array-like, got a string {values!r}")
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: need at least one sample")
    return arr


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} have different lengths: {len(a)} and {len(b)}")


def _is_01(arr: np.ndarray) -> bool:
    """True when every value is 0 or 1 (bools included), checked without sorting."""
    if arr.dtype == bool:
        return True
    if arr.dtype.kind in "iu":
        return bool(((arr == 0) | (arr == 1)).all())
    if arr.dtype.kind == "f":
        return bool(((arr == 0.0) | (arr == 1.0)).all())
    return False


def _labels_to_bool(arr: np.ndarray, pos_label, name: str) -> np.ndarray:
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    if _is_01(arr) and pos_label in (1, True):
        return arr.astype(bool, copy=False)
    labels = np.unique(arr)
    if len(labels) > 2:
        raise ValueError(
            f"{name} must hold binary labels, got {len(labels)} classes: {labels[:10].tolist()}"
        )
    return arr == pos_label


def binary_labels(y_true, y_pred, pos_label=1) -> tuple[np.ndarray, np.ndarray]:
    """Validate two label vectors and return them as booleans (True = positive class).

    Labels may be {0, 1}, {False, True} or any two values, with ``pos_label`` naming the
    positive one; it must be one of the labels present unless labels are {0, 1}.
    """
    t = _as_1d(y_true, "y_true")
    p = _as_1d(y_pred, "y_pred")
    _same_length(t, p, "y_true", "y_pred")
    if not (_is_01(t) and _is_01(p)):
        present = np.unique(np.concatenate([np.unique(t), np.unique(p)]))
        if len(present) > 2:
            raise ValueError(
                f"labels must be binary, got {len(present)} classes: {present[:10].tolist()}"
            )
        if pos_label not in present.tolist():
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label: it should be one of "
                f"{present.tolist()}"
            )
    return _labels_to_bool(t, pos_label, "y_true"), _labels_to_bool(p, pos_label, "y_pred")


def binary_targets_and_scores(y_true, y_score, pos_label=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores for a curve; return (bool labels, float64 scores).

    As scikit-learn: with ``pos_label=None`` the labels must be {0, 1} or {-1, 1}, and 1 is
    positive; otherwise ``pos_label`` names the positive class.
    """
    t = _as_1d(y_true, "y_true")
    s = _as_1d(y_score, "y_score")
    _same_length(t, s, "y_true", "y_score")
    if s.dtype.kind not in "biuf":
        raise ValueError(f"y_score must be numeric, got dtype {s.dtype}")
    s = s.astype(np.float64, copy=False)
    if not np.all(np.isfinite(s)):
        bad = s[~np.isfinite(s)][:5].tolist()
        raise ValueError(f"y_score contains NaN or infinity: {bad}")
    if pos_label is None:
        if _is_01(t):
            return t.astype(bool, copy=False), s
        labels = np.unique(t)
        if set(labels.tolist()) <= {-1, 1}:
            return t == 1, s
        raise ValueError(
            f"y_true takes values in {labels[:10].tolist()} and pos_label is not specified: "
            "either make y_true take values in {0, 1} or {-1, 1} or pass pos_label explicitly"
        )
    labels = np.unique(t)
    if len(labels) > 2:
        raise ValueError(f"y_true must hold binary labels, got {len(labels)} classes")
    return t == pos_label, s


def check_zero_division(zero_division):
    if isinstance(zero_division, str):
        if zero_division != "warn":
            raise ValueError(
                f"zero_division must be 'warn', 0.0, 1.0 or nan, got {zero_division!r}"
            )
        return zero_division
    if not (zero_division in (0, 1) or np.isnan(zero_division)):
        raise ValueError(f"zero_division must be 'warn', 0.0, 1.0 or nan, got {zero_division!r}")
    return float(zero_division)
