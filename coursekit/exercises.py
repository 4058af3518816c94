r"""Hands-on exercises in the lessons: the reader writes a function, a cell checks it.

A lesson's exercise has three cells: the task (markdown), the reader's function (the book shows
the solution collapsed, tag ``hide-input``; the downloaded notebook has it too, so a reader
who wants to try replaces its body), and a check::

    from coursekit.exercises import check

    check(momentum_step, reference=coursekit_momentum_step,
          cases=[(w, g, v), ...], name="momentum_step")

:func:`check` calls the reader's function and the reference on private copies of each case
and compares every returned array with :func:`compare` (exact shape, finite values, then the
tolerance). It prints one line per case and a summary, and raises :class:`ExerciseFailed`
(an ``AssertionError``) naming the first case that differs, where (the entry) and what
(both values, how many entries differ, by how much, and a plain pattern such as a constant
factor), so a wrong solution in the book fails the build.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from coursekit._params import (
    Anything,
    CallableConstraint,
    InstanceOf,
    Interval,
    Real,
    validate_params,
)

_TOL = [Interval(Real, 0, None, closed="left")]

__all__ = ["ExerciseFailed", "check", "compare"]


class ExerciseFailed(AssertionError):
    """The reader's function disagrees with the reference on a case."""


@validate_params(
    {
        "got": [Anything("the reader's result (any value)")],
        "want": [Anything("the reference's result (any value)")],
        "rtol": _TOL,
        "atol": _TOL,
        "path": [InstanceOf(str, "a name for the value (str)")],
    }
)
def compare(got, want, *, rtol: float = 1e-6, atol: float = 1e-9, path: str = "result") -> None:
    """Raise :class:`ExerciseFailed` unless ``got`` equals ``want`` in structure and value.

    Tuples, lists and dicts are compared element by element; arrays and numbers need the same
    shape, finite values where ``want`` is finite, then ``|got - want| <= atol + rtol |want|``.
    """
    _compare(got, want, rtol=rtol, atol=atol, path=path)


def _compare(got, want, *, rtol, atol, path) -> None:
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            raise ExerciseFailed(f"{path}: expected the keys {sorted(want)}, got {keys}")
        for key in want:
            _compare(got[key], want[key], rtol=rtol, atol=atol, path=f"{path}[{key!r}]")
        return
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            raise ExerciseFailed(f"{path}: expected {len(want)} values, got {got!r:.80}")
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _compare(g, w, rtol=rtol, atol=atol, path=f"{path}[{i}]")
        return
    want_a = np.asarray(want, dtype=float)
    try:
        got_a = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise ExerciseFailed(f"{path}: expected numbers, got {type(got).__name__}") from None
    if got_a.shape != want_a.shape:
        raise ExerciseFailed(f"{path}: expected shape {want_a.shape}, got {got_a.shape}")
    finite = np.isfinite(want_a)
    if not np.isfinite(got_a[finite]).all():
        raise ExerciseFailed(f"{path}: contains NaN or inf")
    if not np.allclose(got_a, want_a, rtol=rtol, atol=atol, equal_nan=True):
        raise ExerciseFailed(f"{path}{_where_and_what(got_a, want_a, rtol=rtol, atol=atol)}")


def _where_and_what(got: np.ndarray, want: np.ndarray, *, rtol: float, atol: float) -> str:
    r"""Where ``got`` differs from ``want`` (same shape), by how much, and any plain pattern.

    The first differing entry with both values, how many entries differ and the largest
    difference; then, when every entry says it: the opposite sign, one constant factor
    (:math:`got = c \cdot want`), or the transpose.
    """
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    at = tuple(int(i) for i in np.argwhere(bad)[0]) if got.ndim else ()
    entry = f"[{', '.join(map(str, at))}]" if at else ""
    diff = np.abs(got - want)
    worst = float(np.max(diff[np.isfinite(diff)], initial=0.0))
    text = f"{entry}: yours is {got[at]:.6g}, the reference gives {want[at]:.6g}"
    if got.size > 1:
        text += f"; {int(bad.sum())} of {got.size} entries differ, by up to {worst:.3g}"
    pattern = _pattern(got, want, rtol=rtol, atol=atol)
    return text + (f" ({pattern})" if pattern else "")


def _pattern(got: np.ndarray, want: np.ndarray, *, rtol: float, atol: float) -> str:
    def close(a, b):
        return bool(np.allclose(a, b, rtol=rtol, atol=atol))

    if close(got, -want):
        return "the opposite sign of the reference everywhere"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and close(got, want.T):
        return "the reference transposed"
    nonzero = np.abs(want) > atol
    if got.size > 1 and nonzero.any():
        ratio = got[nonzero] / want[nonzero]
        c = float(np.median(ratio))
        if close(got, c * want):
            return f"every entry is {c:.4g} times the reference's"
    return ""


@validate_params(
    {
        "fn": [CallableConstraint("the reader's function")],
        "reference": [CallableConstraint("the reference function")],
        "cases": [
            InstanceOf(Iterable, "an iterable of argument tuples", lambda: [(1.0,)]),
        ],
        "name": [InstanceOf(str, "a name (str)"), None],
        "rtol": _TOL,
        "atol": _TOL,
    }
)
def check(
    fn: Callable,
    *,
    reference: Callable,
    cases: Iterable[Sequence],
    name: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> None:
    """Compare ``fn(*case)`` with ``reference(*case)`` for every case; print one line if all agree.

    Each side gets its own deep copy of the case, so a function that modifies its inputs in
    place cannot change what the other side sees. Returns None, so a lesson cell that ends
    with the call shows the printed line only; a disagreement raises :class:`ExerciseFailed`.
    """
    label = name or getattr(fn, "__name__", "your function")
    cases = [tuple(c) for c in cases]
    if not cases:
        raise ValueError(f"check({label!r}) needs at least one case")
    for i, case in enumerate(cases, start=1):
        want = reference(*copy.deepcopy(case))
        got = fn(*copy.deepcopy(case))
        try:
            _compare(got, want, rtol=rtol, atol=atol, path="result")
        except ExerciseFailed as exc:
            raise ExerciseFailed(f"{label}, case {i} of {len(cases)}: {exc}") from None
    print(f"✓ {label}: all {len(cases)} cases agree with the reference")
