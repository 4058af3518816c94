"""The one comparison every hidden check makes: what a student's function returned, read strictly.

A returned value is judged in this order, and the first thing wrong is the failure:

1. its **kind**: a plain ``numpy.ndarray`` (never a subclass: no ``np.matrix``, masked array
   or an array that overrides its operators), or a list/tuple of plain numbers where an array is
   due; a plain ``int``/``float`` (or numpy real scalar, or 0-d array) where a number is due;
   a plain ``dict``/``tuple``/``list`` where those are due;
2. its **dtype**: real numbers only: no ``object``, no ``bool`` where a number is due, no
   complex; integers where integers are due;
3. its **exact shape**: ``np.allclose(np.zeros((0, 1, 1)), x)`` is True for any ``x``, so the
   shape is required before any tolerance is looked at;
4. **finite** values where the contract says so (NaN never passes);
5. only then the **tolerance**.

Every failure is an :class:`AssertionError` whose message names the function, what was wrong
and which hidden case (by number), never a hidden input or an expected value: the grader shows it
to the student. Messages come from a fixed vocabulary: they name *kinds* ("an array of the wrong
shape", "a tuple of the wrong length", "an array of integers"), never data the student's value
chose (its shape, its length, a class name, a text), which could carry a hidden input out.

Reading a student's value never raises anything but :class:`AssertionError`: a value the
comparison cannot handle (an int too large for a float, say) fails the check
(:func:`reading`), so that an exception escaping a check is the check's own code failing on
valid inputs: the instructor's bug, reported as such.
"""

from __future__ import annotations

import contextlib

import numpy as np

__all__ = [
    "as_array",
    "describe",
    "expect_array",
    "expect_dict",
    "expect_equal",
    "expect_scalar",
    "expect_sequence",
    "reading",
]

_INTEGERS = frozenset({int, *(np.dtype(c).type for c in "bBhHiIlLqQ")})
_NUMBERS = _INTEGERS | {float, *(np.dtype(c).type for c in "efdg")}
_KINDS = {"f": "fiu", "i": "iu"}  # the dtype kinds accepted where floats / integers are due


_DTYPE_WORDS = {"b": "booleans", "i": "integers", "u": "integers", "f": "real numbers"}


def dtype_words(dtype) -> str:
    """The kind of numbers an array holds, in fixed words (``complex numbers``, ...)."""
    return _DTYPE_WORDS.get(dtype.kind, "complex numbers" if dtype.kind == "c" else "other values")


def describe(value) -> str:
    """What ``value`` is, in fixed words that hold nothing the student's code chose: no class
    names, shapes, lengths or texts (each could carry a hidden input)."""
    if type(value) is np.ndarray:
        return f"an array of {dtype_words(value.dtype)}"
    if isinstance(value, np.ndarray):
        return "a subclass of numpy.ndarray (a plain array is asked for)"
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "a bool"
    for kind, words in ((dict, "a dict"), (tuple, "a tuple"), (list, "a list"), (str, "a str")):
        if type(value) is kind:
            return words
        if isinstance(value, kind):
            return f"a subclass of {kind.__name__}"
    if type(value) in _NUMBERS:
        return "a number"
    return "an object of another type"


@contextlib.contextmanager
def reading(name: str, where: str = ""):
    """Around the conversion of a student's value (and nothing of the check's own): an
    exception there (``float(10**400)``: OverflowError) fails the check, in fixed words."""
    try:
        yield
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        raise AssertionError(
            f"{name} returned a value the check cannot read{_where(where)}"
        ) from None


def _where(where: str) -> str:
    return f" on {where}" if where else ""


def as_array(
    got,
    *,
    name: str,
    shape: tuple,
    where: str = "",
    kind: str = "f",
    finite: bool = True,
    what: str = "an array",
) -> np.ndarray:
    """``got`` as a plain float64 (``kind="f"``) or int64 (``kind="i"``) array of ``shape``."""
    shape = tuple(int(n) for n in shape)
    if type(got) in (list, tuple):
        if len(shape) == 0 or len(got) != shape[0]:
            raise AssertionError(
                f"{name} returned {describe(got)} of the wrong length{_where(where)} where "
                f"{what} is asked for"
            )
        if not all(type(v) in _NUMBERS or type(v) in (list, tuple) for v in got):
            raise AssertionError(f"{name} must return {what} of numbers{_where(where)}")
        try:
            got = np.asarray(got)
        except (ValueError, TypeError, OverflowError):
            raise AssertionError(f"{name} must return {what} of numbers{_where(where)}") from None
    if type(got) is not np.ndarray:
        raise AssertionError(f"{name} returned {describe(got)}{_where(where)}, not {what}")
    if got.dtype.kind not in _KINDS[kind] or got.dtype.fields is not None:
        due = "real numbers" if kind == "f" else "integers"
        raise AssertionError(
            f"{name} returned {describe(got)}{_where(where)} where {due} are asked for"
        )
    if got.shape != shape:
        raise AssertionError(f"{name} returned an array of the wrong shape{_where(where)}")
    with reading(name, where):
        value = np.array(got, dtype=np.float64 if kind == "f" else np.int64, copy=True)
    if kind == "f":
        if np.isnan(value).any():
            raise AssertionError(f"{name} returned NaN{_where(where)}")
        if finite and not np.isfinite(value).all():
            raise AssertionError(f"{name} returned an infinite value{_where(where)}")
    return value


def expect_array(
    got,
    want,
    *,
    name: str,
    where: str = "",
    rtol: float = 1e-9,
    atol: float = 1e-12,
    kind: str = "f",
    finite: bool = True,
    hint: str = "",
    what: str = "an array",
) -> np.ndarray:
    """Fail unless ``got`` is ``want`` (an array we computed) under the rules above."""
    want = np.asarray(want)
    value = as_array(
        got, name=name, shape=want.shape, where=where, kind=kind, finite=finite, what=what
    )
    if not np.isclose(value, want, rtol=rtol, atol=atol, equal_nan=False).all():
        raise AssertionError(f"{name} is wrong{_where(where)}{hint}")
    return value


def expect_scalar(
    got,
    want: float,
    *,
    name: str,
    where: str = "",
    rtol: float = 0.0,
    atol: float = 1e-9,
    finite: bool = True,
    hint: str = "",
) -> float:
    """Fail unless ``got`` is a real number within ``atol + rtol * |want|`` of ``want``."""
    if type(got) is np.ndarray and got.shape == () and got.dtype.kind in "fiu":
        got = got[()]
    if type(got) not in _NUMBERS:
        raise AssertionError(f"{name} returned {describe(got)}{_where(where)}, not a number")
    with reading(name, where):
        value = float(got)
    if np.isnan(value):
        raise AssertionError(f"{name} returned NaN{_where(where)}")
    if finite and not np.isfinite(value):
        raise AssertionError(f"{name} returned an infinite value{_where(where)}")
    if not abs(value - float(want)) <= atol + rtol * abs(float(want)):
        raise AssertionError(f"{name} is wrong{_where(where)}{hint}")
    return value


def expect_equal(got, want: tuple, *, name: str, where: str = "", hint: str = "", what: str = ""):
    """Fail unless ``got`` is a tuple/list equal to ``want``, a tuple of ints and ``None``.

    Each entry must be a plain integer (no bool, no float) or ``None`` where ``None`` is due.
    """
    what = what or f"{len(want)} values"
    if type(got) is np.ndarray and got.ndim == 1 and got.dtype.kind in "iu" and None not in want:
        got = tuple(got.tolist())
    if type(got) not in (tuple, list):
        raise AssertionError(f"{name} returned {describe(got)}{_where(where)}, not {what}")
    if len(got) != len(want):
        raise AssertionError(
            f"{name} returned {describe(got)} of the wrong length{_where(where)}, not {what}"
        )
    for value in got:
        if value is not None and type(value) not in _INTEGERS:
            raise AssertionError(
                f"{name} returned {describe(value)} in its result{_where(where)} where an int "
                f"{'or None ' if None in want else ''}is asked for"
            )
    with reading(name, where):
        same = tuple(None if v is None else int(v) for v in got) == tuple(want)
    if not same:
        raise AssertionError(f"{name} is wrong{_where(where)}{hint}")
    return tuple(got)


def expect_sequence(got, n: int, *, name: str, what: str, where: str = "") -> tuple:
    """``got`` as a tuple of ``n`` items (a plain tuple or list), else fail."""
    if type(got) not in (tuple, list):
        raise AssertionError(
            f"{name} must return {what}; it returned {describe(got)}{_where(where)}"
        )
    if len(got) != n:
        raise AssertionError(
            f"{name} must return {what}; it returned {describe(got)} of the wrong length"
            f"{_where(where)}"
        )
    return tuple(got)


def expect_dict(got, keys, *, name: str, where: str = "") -> dict:
    """``got`` as a plain dict holding every key of ``keys`` (string keys only), else fail."""
    if type(got) is not dict:
        raise AssertionError(
            f"{name} must return a dict; it returned {describe(got)}{_where(where)}"
        )
    missing = [k for k in keys if k not in got]
    if missing:
        raise AssertionError(f"{name} must return {missing[0]!r} (in its dict){_where(where)}")
    return got
