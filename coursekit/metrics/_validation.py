"""Input checks shared by every metric: one place, errors that name the problem and show the value.

Labels are turned into boolean arrays (``True`` = the positive class) and scores into float64
arrays here, once, so that the metrics themselves only count.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from coursekit._params import ArrayLike, Boolean, InstanceOf, Options

#: The constraints the metrics share (see :mod:`coursekit._params`).
LABELS = ArrayLike()  # semantic checks (binary, finite, one kind) in the functions below
SCORES = ArrayLike()  # numeric and finite: checked by finite_scores with its own messages
POS_LABEL = InstanceOf((numbers.Real, str, bool, np.bool_), "a label (int, float, bool or str)")
ZERO_DIVISION = Options(("warn", 0.0, 1.0, np.nan))
FLAG = Boolean()

__all__ = [
    "FLAG",
    "LABELS",
    "POS_LABEL",
    "SCORES",
    "ZERO_DIVISION",
    "UndefinedMetricWarning",
    "binary_labels",
    "binary_target",
    "check_pos_label",
    "check_same_length",
    "check_zero_division",
    "column",
    "default_labels",
    "finite_scores",
    "larger_label_positive",
    "present_labels",
    "warn_undefined",
]


class UndefinedMetricWarning(UserWarning):
    """The metric is undefined for this input; a conventional value was returned instead."""


def warn_undefined(message: str, stacklevel: int = 2) -> None:
    """Warn with ``UndefinedMetricWarning``; ``stacklevel`` counts from the caller of this."""
    warnings.warn(message, UndefinedMetricWarning, stacklevel=stacklevel + 1)


def _show(values: np.ndarray, limit: int = 10) -> str:
    """The first ``limit`` values as a list, ``[0, 1, 2, ...]``."""
    shown = ", ".join(repr(v) for v in values[:limit].tolist())
    return f"[{shown}, ...]" if len(values) > limit else f"[{shown}]"


def column(values, name: str) -> np.ndarray:
    """``values`` as a non-empty 1-D array; a column vector of shape (n, 1) is flattened."""
    if isinstance(values, str | bytes):
        raise ValueError(f"{name} must be array-like, got the string {values!r}")
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (n_samples,), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: need at least one sample")
    return arr


def check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} have different lengths: {len(a)} and {len(b)}")


def _is_01(arr: np.ndarray) -> bool:
    """True when every value is 0 or 1 (bools included); min/max for integers, no sorting."""
    if arr.dtype == bool:
        return True
    if arr.dtype.kind in "iu":
        return bool(arr.min() >= 0 and arr.max() <= 1)
    if arr.dtype.kind == "f":
        return bool(np.all((arr == 0) | (arr == 1)))
    return False


def _label_kind(value) -> str:
    if isinstance(value, str | bytes):
        return "string"
    if isinstance(value, numbers.Number | np.bool_):
        return "number"
    return type(value).__name__


def _is_textual(arr: np.ndarray) -> bool:
    """Strings, as a numpy string dtype or as Python objects."""
    if arr.dtype.kind in "US":
        return True
    return arr.dtype.kind == "O" and all(isinstance(v, str | bytes) for v in arr.tolist())


def _check_discrete(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind == "O":  # Python objects: one kind of label only, as scikit-learn
        kinds = sorted({_label_kind(v) for v in arr.tolist()})
        if len(kinds) > 1:
            examples = {}
            for v in arr.tolist():
                examples.setdefault(_label_kind(v), v)
            raise ValueError(
                f"{name} mixes label types ({' and '.join(kinds)}): "
                f"{_show(np.array(list(examples.values()), dtype=object))}"
            )
        if kinds and kinds[0] not in ("string", "number"):
            raise ValueError(f"{name} must hold class labels, got {kinds[0]} values")
        if kinds == ["number"]:
            _check_discrete(np.asarray(arr.tolist()), name)
        return
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinity: {_show(arr[~np.isfinite(arr)])}")
        if np.any(arr != np.round(arr)):
            bad = arr[arr != np.round(arr)]
            raise ValueError(
                f"{name} must hold class labels, got continuous values such as {_show(bad, 3)}"
            )
    elif arr.dtype.kind not in "biuUSO":
        raise ValueError(f"{name} must hold class labels, got dtype {arr.dtype}")


def present_labels(*arrays: np.ndarray, names: tuple[str, ...]) -> list:
    """Sorted labels occurring in ``arrays``; ValueError unless there are at most two."""
    for arr, name in zip(arrays, names, strict=True):
        _check_discrete(arr, name)
    textual = {name: _is_textual(arr) for arr, name in zip(arrays, names, strict=True)}
    if len(set(textual.values())) > 1:
        shown = ", ".join(
            f"{name}={_show(np.unique(arr), 5)}" for arr, name in zip(arrays, names, strict=True)
        )
        raise ValueError(f"labels mix strings and numbers: {shown}")
    labels = np.unique(np.concatenate([np.unique(arr) for arr in arrays]))
    if len(labels) > 2:
        raise ValueError(f"labels must be binary, got {len(labels)} classes: {_show(labels)}")
    return labels.tolist()


def check_pos_label(pos_label, present: list) -> None:
    """As scikit-learn: when two labels occur, ``pos_label`` must be one of them."""
    if len(present) == 2 and pos_label not in present:
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label: it should be one of {present}"
        )


def binary_labels(y_true, y_pred, pos_label=1, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate two label vectors; return them as booleans (``True`` = ``pos_label``).

    ``pos_label=None`` picks the larger label as positive (for metrics where the choice does
    not matter). ``labels=[negative, positive]`` fixes both classes: every label must be one
    of them.
    """
    t, p = column(y_true, "y_true"), column(y_pred, "y_pred")
    check_same_length(t, p, "y_true", "y_pred")
    if labels is not None:
        labels = np.asarray(labels).tolist()
        if len(labels) != 2 or labels[0] == labels[1]:
            raise ValueError(f"labels must be [negative, positive], got {labels!r}")
        pos_label = labels[1]
    if _is_01(t) and _is_01(p) and labels in (None, [0, 1]) and pos_label in (None, 0, 1):
        if pos_label == 0:
            return t == 0, p == 0
        return t.astype(bool, copy=False), p.astype(bool, copy=False)
    present = present_labels(t, p, names=("y_true", "y_pred"))
    if labels is not None:
        unknown = [label for label in present if label not in labels]
        if unknown:
            raise ValueError(f"y_true or y_pred has labels {unknown} not in labels={labels!r}")
    elif pos_label is None:
        pos_label = present[-1]
    else:
        check_pos_label(pos_label, present)
    return t == pos_label, p == pos_label


def default_labels(t: np.ndarray, p: np.ndarray) -> list:
    """``[negative, positive]`` when not given: [0, 1] ({0, 1} or bools), [-1, 1], or both
    labels sorted as scikit-learn orders them. A single other label leaves the other unknown."""
    if _is_01(t) and _is_01(p):
        return [0, 1]
    present = present_labels(t, p, names=("y_true", "y_pred"))
    if set(present) <= {-1, 1} and t.dtype.kind not in "USO":
        return [-1, 1]
    if len(present) == 1:
        raise ValueError(
            f"only one label, {present[0]!r}, occurs in y_true and y_pred: "
            "pass labels=[negative, positive] to get the 2x2 matrix"
        )
    return present


def binary_target(y_true, pos_label=None, *, strict: bool = False) -> np.ndarray:
    """Validate the labels of a ranking metric; return booleans (``True`` = positive).

    As scikit-learn's curves: with ``pos_label=None`` the labels must be {0, 1} or {-1, 1}
    and 1 is positive; otherwise ``pos_label`` names the positive class, which may be absent
    unless ``strict`` (as in ``average_precision_score``) and two labels occur.
    """
    t = column(y_true, "y_true")
    if _is_01(t) and pos_label in (None, 0, 1):
        return t == 0 if pos_label == 0 else t.astype(bool, copy=False)
    present = present_labels(t, names=("y_true",))
    if pos_label is None:
        if t.dtype.kind in "USO" or not (set(present) <= {0, 1} or set(present) <= {-1, 1}):
            raise ValueError(
                f"y_true takes values in {present} and pos_label is not specified: either make "
                "y_true take values in {0, 1} or {-1, 1} or pass pos_label explicitly"
            )
        pos_label = 1
    elif strict:
        check_pos_label(pos_label, present)
    return t == pos_label


def larger_label_positive(y_true) -> np.ndarray:
    """Labels of ``roc_auc_score``: as scikit-learn, the larger of two labels is positive."""
    t = column(y_true, "y_true")
    if _is_01(t):
        return t.astype(bool, copy=False)
    present = present_labels(t, names=("y_true",))
    return t == present[-1]


def finite_scores(y_score, n_samples: int) -> np.ndarray:
    """Validate scores: numeric, finite, one per sample; return them as float64."""
    s = column(y_score, "y_score")
    if len(s) != n_samples:
        raise ValueError(f"y_true and y_score have different lengths: {n_samples} and {len(s)}")
    if s.dtype.kind not in "biuf":
        raise ValueError(f"y_score must be numeric, got dtype {s.dtype}: {_show(s, 3)}")
    s = s.astype(np.float64, copy=False)
    finite = np.isfinite(s)
    if not finite.all():
        raise ValueError(f"y_score contains NaN or infinity: {_show(s[~finite], 5)}")
    return s


def check_zero_division(zero_division):
    """``"warn"``, 0.0, 1.0 or NaN, as scikit-learn; the value returned for 0/0."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return zero_division
    elif isinstance(zero_division, numbers.Real) and (
        zero_division in (0, 1) or math.isnan(zero_division)
    ):
        return float(zero_division)
    raise ValueError(f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}")
