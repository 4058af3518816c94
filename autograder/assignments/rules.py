"""The rules every check of every assignment keeps, visible and hidden alike (numpy only).

One module, two users: the hidden checks import it in the trusted grader, and ``release``
copies it into each assignment's generated ``coursecheck.py`` (so it imports nothing of the
instructor's: no ``autograder``, no ``coursekit``). What it holds:

- **Reading a returned value** (:func:`as_array`, :func:`expect_array`, :func:`expect_scalar`,
  :func:`expect_equal`, :func:`expect_sequence`, :func:`expect_dict`), in this order, the first
  thing wrong being the failure:

  1. its *kind*: a plain ``numpy.ndarray`` (never a subclass: no ``np.matrix``, masked array or
     an array that overrides its operators), or a list/tuple of plain numbers where an array is
     due; a plain ``int``/``float`` (or numpy real scalar, or 0-d array) where a number is due;
     a plain ``dict``/``tuple``/``list`` where those are due;
  2. its *dtype*: real numbers only (no ``object``, ``bool`` or complex); integers where
     integers are due;
  3. its *exact shape*: ``np.allclose(np.zeros((0, 1, 1)), x)`` is True for any ``x``, so the
     shape is required before any tolerance is looked at;
  4. *finite* values where the contract says so (NaN never passes);
  5. only then the *tolerance*.

  Messages come from a fixed vocabulary: they name kinds ("an array of the wrong shape"),
  never data the student's value chose, which could carry a hidden input out. On public inputs
  (``show=True``, the visible checks) the student's own shape, dtype or value is added.
- **Inputs must not change** (:func:`private`, :func:`changed`): the copy taken before a call
  and the comparison after it.
- **The reference guard** (:func:`reference_guard`): a graded function that runs code of the
  course's reference implementation (``coursekit``) fails its check.
- **Recognising a mistake** (:func:`recognise`, :func:`diagnose`, :func:`hint_for`,
  :func:`differs`): a wrong value gets the hint of the known-wrong variant it equals; when it
  equals none, what differs is said without guessing a cause.

A model's weights are read by :func:`autograder.sandbox.inside.models.dense_weights`, the one
home of that rule: the sandbox's harness imports it from its own folder (the only one mounted
there), the hidden checks import it for local models, and the generated ``coursecheck.py``
holds it as a part of its own.

Every failure is a :class:`CheckFailed` (an ``AssertionError``); reading a student's value
never raises anything else (:func:`reading`).
"""

from __future__ import annotations

import contextlib
import copy
import sys

import numpy as np

__all__ = [
    "ROUNDOFF",
    "SMALL",
    "CheckFailed",
    "ReferenceUsed",
    "as_array",
    "as_ints",
    "as_number",
    "changed",
    "close",
    "describe",
    "diagnose",
    "differs",
    "expect_array",
    "expect_dict",
    "expect_equal",
    "expect_scalar",
    "expect_sequence",
    "hint_for",
    "private",
    "reading",
    "recognise",
    "reference_guard",
    "show_value",
]


class CheckFailed(AssertionError):
    """A check found a wrong value; the message says what (and, visibly, where to look).

    IPython and Jupyter show it as its message alone: no frames of the checks."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class ReferenceUsed(CheckFailed):
    """The graded function called the course's reference implementation (coursekit)."""


# -- reading a returned value ---------------------------------------------------------------

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
    if isinstance(value, bool | np.bool_):
        return "a bool"
    for kind, words in ((dict, "a dict"), (tuple, "a tuple"), (list, "a list"), (str, "a str")):
        if type(value) is kind:
            return words
        if isinstance(value, kind):
            return f"a subclass of {kind.__name__}"
    if type(value) in _NUMBERS:
        return "a number"
    return "an object of another type"


def show_value(value) -> str:
    """A value in a message about a public input: a real number to 10 digits, an array by its
    dtype and shape, anything else by its repr (short)."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        return f"{float(value):.10g}"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"{value!r:.40}"


@contextlib.contextmanager
def reading(name: str, where: str = ""):
    """Around the conversion of a student's value (and nothing of the check's own): an
    exception there (``float(10**400)``: OverflowError) fails the check, in fixed words."""
    try:
        yield
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        raise CheckFailed(f"{name} returned a value the check cannot read{_where(where)}") from None


def _where(where: str) -> str:
    return f" on {where}" if where else ""


def _shown(show: bool, detail: str) -> str:
    """`` (detail)`` where the input is public (``show``), else nothing."""
    return f" ({detail})" if show and detail else ""


def as_array(
    got,
    *,
    name: str,
    shape: tuple,
    where: str = "",
    kind: str = "f",
    finite: bool = True,
    what: str = "an array",
    show: bool = False,
) -> np.ndarray:
    """``got`` as a plain float64 (``kind="f"``) or int64 (``kind="i"``) array of ``shape``."""
    shape = tuple(int(n) for n in shape)
    if type(got) in (list, tuple):
        if len(shape) == 0 or len(got) != shape[0]:
            raise CheckFailed(
                f"{name} returned {describe(got)} of the wrong length{_where(where)} where "
                f"{what} is asked for{_shown(show, f'length {len(got)}; shape {shape} is asked for')}"
            )
        if not all(type(v) in _NUMBERS or type(v) in (list, tuple) for v in got):
            raise CheckFailed(f"{name} must return {what} of numbers{_where(where)}")
        try:
            got = np.asarray(got)
        except (ValueError, TypeError, OverflowError):
            raise CheckFailed(f"{name} must return {what} of numbers{_where(where)}") from None
    if type(got) is not np.ndarray:
        plain = "a plain numpy array: np.asarray(...)" if isinstance(got, np.ndarray) else ""
        raise CheckFailed(
            f"{name} returned {describe(got)}{_where(where)}, not {what}"
            + _shown(show, plain or f"got {type(got).__name__}")
        )
    if got.dtype.kind not in _KINDS[kind] or got.dtype.fields is not None:
        due = "real numbers" if kind == "f" else "integers"
        raise CheckFailed(
            f"{name} returned {describe(got)}{_where(where)} where {due} are asked for"
            + _shown(show, f"dtype {got.dtype}")
        )
    if got.shape != shape:
        raise CheckFailed(
            f"{name} returned an array of the wrong shape{_where(where)}"
            + _shown(show, f"shape {got.shape}; shape {shape} is asked for")
        )
    with reading(name, where):
        value = np.array(got, dtype=np.float64 if kind == "f" else np.int64, copy=True)
    if kind == "f":
        if np.isnan(value).any():
            raise CheckFailed(f"{name} returned NaN{_where(where)}")
        if finite and not np.isfinite(value).all():
            raise CheckFailed(f"{name} returned an infinite value{_where(where)}")
    return value


def close(got, want, rtol: float = 1e-7, atol: float = 1e-10) -> bool:
    """Every entry of ``got`` within ``atol + rtol * |want|`` of ``want`` (NaN never)."""
    return bool(np.allclose(got, want, rtol=rtol, atol=atol))


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
    show: bool = False,
) -> np.ndarray:
    """Fail unless ``got`` is ``want`` (an array we computed) under the rules above."""
    want = np.asarray(want)
    value = as_array(
        got,
        name=name,
        shape=want.shape,
        where=where,
        kind=kind,
        finite=finite,
        what=what,
        show=show,
    )
    if not np.isclose(value, want, rtol=rtol, atol=atol, equal_nan=False).all():
        raise CheckFailed(f"{name} is wrong{_where(where)}{hint}")
    return value


def as_number(got, *, name: str, where: str = "", finite: bool = True, show: bool = False):
    """``got`` as a float: a plain real number (or numpy real scalar, or 0-d array)."""
    if type(got) is np.ndarray and got.shape == () and got.dtype.kind in "fiu":
        got = got[()]
    if type(got) not in _NUMBERS:
        raise CheckFailed(
            f"{name} returned {describe(got)}{_where(where)}, not a number"
            + _shown(show, f"got {show_value(got)}")
        )
    with reading(name, where):
        value = float(got)
    if np.isnan(value):
        raise CheckFailed(f"{name} returned NaN{_where(where)}")
    if finite and not np.isfinite(value):
        raise CheckFailed(f"{name} returned an infinite value{_where(where)}")
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
    show: bool = False,
) -> float:
    """Fail unless ``got`` is a real number within ``atol + rtol * |want|`` of ``want``."""
    value = as_number(got, name=name, where=where, finite=finite, show=show)
    if not abs(value - float(want)) <= atol + rtol * abs(float(want)):
        shown = _shown(show, f"it gives {value:.6g}, not {float(want):.6g}")
        raise CheckFailed(f"{name} is wrong{_where(where)}{shown}{hint}")
    return value


def as_ints(
    got, n: int, *, name: str, where: str = "", none: bool = False, what: str = "", show=False
) -> tuple:
    """``got`` as a tuple of ``n`` plain ints (``None`` allowed where ``none``)."""
    what = what or f"{n} values"
    if type(got) is np.ndarray and got.ndim == 1 and got.dtype.kind in "iu" and not none:
        got = tuple(got.tolist())
    if type(got) not in (tuple, list):
        raise CheckFailed(f"{name} returned {describe(got)}{_where(where)}, not {what}")
    if len(got) != n:
        raise CheckFailed(
            f"{name} returned {describe(got)} of the wrong length{_where(where)}, not {what}"
        )
    for value in got:
        if (value is not None and type(value) not in _INTEGERS) or (value is None and not none):
            raise CheckFailed(
                f"{name} returned {describe(value)} in its result{_where(where)} where an int "
                f"{'or None ' if none else ''}is asked for{_shown(show, f'got {value!r:.20}')}: "
                "use int(...)"
            )
    with reading(name, where):
        return tuple(None if v is None else int(v) for v in got)


def expect_equal(
    got, want: tuple, *, name: str, where: str = "", hint: str = "", what: str = "", show=False
):
    """Fail unless ``got`` is a tuple/list equal to ``want``, a tuple of ints and ``None``.

    Each entry must be a plain integer (no bool, no float) or ``None`` where ``None`` is due.
    """
    value = as_ints(got, len(want), name=name, where=where, none=None in want, what=what)
    if value != tuple(want):
        raise CheckFailed(
            f"{name} is wrong{_where(where)}{_shown(show, f'it gives {value}, not {tuple(want)}')}"
            f"{hint}"
        )
    return tuple(got)


def expect_sequence(got, n: int, *, name: str, what: str, where: str = "") -> tuple:
    """``got`` as a tuple of ``n`` items (a plain tuple or list), else fail."""
    if type(got) not in (tuple, list):
        raise CheckFailed(f"{name} must return {what}; it returned {describe(got)}{_where(where)}")
    if len(got) != n:
        raise CheckFailed(
            f"{name} must return {what}; it returned {describe(got)} of the wrong length"
            f"{_where(where)}"
        )
    return tuple(got)


def expect_dict(got, keys, *, name: str, where: str = "", show: bool = False) -> dict:
    """``got`` as a plain dict holding every key of ``keys`` (string keys only), else fail."""
    if type(got) is not dict:
        raise CheckFailed(f"{name} must return a dict; it returned {describe(got)}{_where(where)}")
    missing = [k for k in keys if k not in got]
    if missing:
        raise CheckFailed(
            f"{name} must return {missing[0]!r} (in its dict){_where(where)}"
            + _shown(show, f"its keys are {list(got)}; {list(keys)} are asked for")
        )
    return got


# -- inputs must not change -------------------------------------------------------------------

#: A change of an entry by at most this fraction of it counts as rounding, not as a change.
ROUNDOFF = 1e-12


def private(value):
    """A copy of an argument that shares no mutable state with ``value`` (the data in it:
    arrays, lists, tuples, dicts; a random generator copied; a model or callback as is)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, dict):
        return {k: private(v) for k, v in value.items()}
    if isinstance(value, list):
        return [private(v) for v in value]
    if isinstance(value, tuple):
        return tuple(private(v) for v in value)
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value)
    return value  # numbers, strings, functions (the grader's callbacks), models


def changed(now, before, path: str, show: bool = False) -> tuple[str, str, float] | None:
    """``(path, what changed, largest change)`` of the first difference of ``now`` (an argument
    after the call) from ``before`` (its :func:`private` copy from before), or None.

    Only data is compared (arrays, lists, tuples, dicts, numbers, str); a random generator, a
    model or a callback may change. ``path`` names the argument and dict keys only: which list
    item or array entry changed is named only where the input is public (``show``): on a
    hidden input it could spell the input. Anything unreadable counts as changed.
    """
    if isinstance(before, np.ndarray):
        if type(now) is not np.ndarray or now.shape != before.shape:
            was = f"{path} was an array of shape {before.shape}, now {show_value(now)}"
            return path, was if show else f"{path} changed", np.inf
        try:
            diff = np.abs(now.astype(np.float64) - before.astype(np.float64))
        except (TypeError, ValueError):
            return path, f"{path} changed", np.inf
        diff[np.isnan(now) & np.isnan(before)] = 0.0
        # a value put back by arithmetic (x + eps - eps) may differ from x in its last bits
        moved = np.isnan(diff) | (diff > ROUNDOFF * np.abs(before.astype(np.float64)))
        if not moved.any():
            return None
        largest = np.inf if np.isnan(diff).any() else float(diff.max())
        if not show:
            return path, f"{path} changed", largest
        at = tuple(int(i) for i in np.argwhere(moved)[0])
        entry = f"[{', '.join(map(str, at))}]" if at else ""
        return (
            path,
            f"{path}{entry} was {show_value(before[at])}, it is now {show_value(now[at])}; "
            f"{int(moved.sum())} of its {before.size} entries changed",
            largest,
        )
    if isinstance(before, dict):
        if type(now) is not dict or set(now) != set(before):
            keys = list(now) if isinstance(now, dict) else show_value(now)
            what = f"the keys of {path} were {list(before)}, now {keys}"
            return path, what if show else f"{path} changed", np.inf
        for key, value in before.items():
            found = changed(now[key], value, f"{path}[{key!r}]", show)
            if found:
                return found
        return None
    if isinstance(before, list | tuple):
        if type(now) not in (list, tuple) or len(now) != len(before):
            size = f"{len(now)} items" if isinstance(now, list | tuple) else show_value(now)
            what = f"{path} had {len(before)} items, now {size}"
            return path, what if show else f"{path} changed", np.inf
        for i, (n, b) in enumerate(zip(now, before, strict=True)):
            found = changed(n, b, f"{path}[{i}]" if show else path, show)
            if found:
                return found
        return None
    if isinstance(before, bool | int | float | str | np.number):
        if type(now) not in (bool, int, float, str) and not isinstance(now, np.number):
            return path, f"{path} changed", np.inf
        if now == before:
            return None
        what = f"{path} was {show_value(before)}, it is now {show_value(now)}"
        return path, what if show else f"{path} changed", np.inf
    return None  # a generator, a model, a callback: not data


# -- the reference guard ------------------------------------------------------------------------


@contextlib.contextmanager
def reference_guard(name: str, roots: tuple[str, ...] = ()):
    """Fail if anything called inside the block runs code of the coursekit package: a module
    named ``coursekit...``, or (``roots``: the package's folders) a file under it, however it
    was imported."""
    hit = []

    def profile(frame, event, arg):
        if event == "call" and (
            str(frame.f_globals.get("__name__", "")).partition(".")[0] == "coursekit"
            or any(frame.f_code.co_filename.startswith(root) for root in roots)
        ):
            hit.append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)
    if hit:
        raise ReferenceUsed(
            f"{name} calls the course's reference implementation (coursekit's {hit[0]}): "
            "graded functions must be your own code, and the grader gives this check 0"
        )


# -- recognising a mistake ----------------------------------------------------------------------

#: The relative size below which a hidden check calls a difference small (fixed words).
SMALL = 0.01


def recognise(got, want, variants: dict, *, rtol=1e-7, atol=1e-10) -> list:
    """The mistakes (keys of ``variants``, each with a ``hint``) whose value ``got`` equals,
    where they differ from the right value ``want`` on this input."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    return [
        mistake
        for mistake, wrong in variants.items()
        if np.shape(wrong) == want.shape
        and np.shape(got) == want.shape
        and not close(wrong, want, rtol, atol)
        and close(got, wrong, rtol, atol)
    ]


def hint_for(got, want, variants: dict, *, rtol=1e-7, atol=1e-10) -> str:
    """`` (hint)`` of the one mistake ``got`` is recognised as (all of them if several), or ""."""
    matches = recognise(got, want, variants, rtol=rtol, atol=atol)
    return " (" + "; or ".join(m.hint for m in matches) + ")" if matches else ""


def diagnose(
    got, want, variants: dict, *, values: bool = True, others=(), rtol=1e-7, atol=1e-10
) -> str:
    """`` (hint)``: the hint of the variant ``got`` equals, else what differs (:func:`differs`).

    A variant that equals the right value on this input cannot be told apart: it is skipped.
    Where two variants give the same wrong value, ``others`` (``(got, want, variants)`` of
    other inputs, computed only when asked) keeps those that match there too; if still more
    than one, each hint is given.
    """
    got, want = np.asarray(got, float), np.asarray(want, float)
    matches = recognise(got, want, variants, rtol=rtol, atol=atol)
    if len(matches) > 1:
        for other_got, other_want, other_variants in others:
            kept = [
                m
                for m in matches
                if np.shape(other_got) == np.shape(other_want)
                and close(other_got, other_variants.get(m, other_want), rtol, atol)
            ]
            matches = kept or matches
            if len(matches) == 1:
                break
    if matches:
        return " (" + "; or ".join(m.hint for m in matches) + ")"
    return f" ({differs(got, want, values=values, rtol=rtol, atol=atol)})"


def differs(got, want, *, values: bool = True, rtol=1e-7, atol=1e-10) -> str:
    """Where ``got`` differs from ``want`` (same shape) and by how much, guessing no cause.

    ``values=True`` (the visible checks, public inputs): the first differing entry with both
    values, how many differ and the largest difference. ``values=False`` (the hidden checks):
    fixed words only, since the student's values are the student's to choose and could spell
    out a hidden input: one, some or every entry, and whether by more than 1% of the
    expected size (:data:`SMALL`).
    """
    got, want = np.asarray(got, float), np.asarray(want, float)
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    largest = float(np.max(np.abs(got - want)))
    if not values:
        small = largest <= SMALL * max(float(np.max(np.abs(want))), atol)
        amount = f"by {'under' if small else 'more than'} 1% of the expected size"
        if want.size == 1:
            return f"it is off {amount}"
        which = "every entry" if bad.all() else "one entry" if bad.sum() == 1 else "some entries"
        return f"{which} {'differs' if which == 'one entry' else 'differ'}, {amount}"
    if want.size == 1:
        return f"it is {float(got.ravel()[0]):.6g} where {float(want.ravel()[0]):.6g} is expected"
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    where = f"[{', '.join(map(str, at))}]"
    return (
        f"{int(bad.sum())} of its {want.size} entries differ: entry {where} is {got[at]:.6g} "
        f"where {want[at]:.6g} is expected; the largest difference is {largest:.3g}"
    )
