r"""Declarative checks of public arguments: one constraint list per parameter, one error format.

Every public function of coursekit states what each of its parameters accepts, once, next to
its signature, as scikit-learn does with ``validate_params``::

    @validate_params({"a": [ArrayLike()], "rate": [Interval(Real, 0, 1, closed="left")],
                      "training": [Boolean()], "rng": [InstanceOf(np.random.Generator), None]})
    def dropout_forward(a, rate, training=True, rng=None): ...

A value is accepted when it satisfies *any* constraint of its list (``None`` in a list means
"or None"). Otherwise :class:`InvalidParameterError` is raised before the function runs, naming
the parameter and showing the value::

    InvalidParameterError: rate must be in [0, 1), got '0.5'

:class:`InvalidParameterError` is both a ``ValueError`` and a ``TypeError`` (as scikit-learn's),
so ``except ValueError`` and ``except TypeError`` both catch it.

The constraints are deliberately strict where Python is lenient: ``True`` is not a number,
``"no"`` is not a bool, ``"3"`` is not an int, NaN is in no interval and infinity only in one
that is closed at ``math.inf``. Dataclasses are checked field by field with
:func:`validate_fields`. Checks of the relation *between* parameters (``lr_max > lr_min``) stay
in the function body.

What a function accepts is readable from code: ``fn.__coursekit_params__`` maps each
parameter to its constraints. A class that coursekit returns and a user never builds (a
training history, a check's report) says so with :func:`result_record` instead: its fields are
results (a diverged run's NaN loss among them), not inputs. The registry test in
``tests/coursekit`` walks the whole package (``pkgutil``) and requires one or the other of
every public function, class and method.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real

import numpy as np

__all__ = [
    "AnyReal",
    "Anything",
    "ArrayDict",
    "ArrayLike",
    "Boolean",
    "CallableConstraint",
    "Constraint",
    "InstanceOf",
    "Integral",
    "Interval",
    "InvalidParameterError",
    "Options",
    "Real",
    "SequenceOf",
    "check_param",
    "result_record",
    "validate_fields",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A public argument of coursekit does not satisfy its declared constraints."""


def show(value, limit: int = 80) -> str:
    """``repr(value)``, shortened to about ``limit`` characters."""
    with np.printoptions(threshold=8, edgeitems=2):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Constraint:
    """One kind of accepted value: ``problem(value)`` is None when ``value`` satisfies it."""

    description = "a valid value"

    def problem(self, name: str, value) -> str | None:
        """None if ``value`` is accepted; else a sentence naming ``name`` and showing ``value``."""
        if self.is_satisfied_by(value):
            return None
        return f"{name} must be {self.description}, got {show(value)}"

    def is_satisfied_by(self, value) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def example(self):
        """A value that satisfies the constraint (used by the registry test)."""
        raise NotImplementedError(f"{type(self).__name__} has no example")

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.description}>"


class _NoneConstraint(Constraint):
    description = "None"

    def is_satisfied_by(self, value) -> bool:
        return value is None

    def example(self):
        return None


def _is_number(value, kind) -> bool:
    """A real (or integral) number that is not a bool and not a string."""
    if isinstance(value, bool | np.bool_):
        return False
    return isinstance(value, kind)


def _fmt(x) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else repr(x)


class Interval(Constraint):
    """A number of type ``kind`` (``Real`` or ``Integral``) between ``left`` and ``right``.

    ``None`` for a bound means unbounded on that side but still finite; a bound of
    ``math.inf`` closed on that side admits infinity. NaN never satisfies an interval.
    """

    def __init__(self, kind, left=None, right=None, *, closed: str = "both"):
        if kind not in (Real, Integral):
            raise TypeError(f"kind must be numbers.Real or numbers.Integral, got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither', got {closed!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed
        self.description = self._describe()

    def _describe(self) -> str:
        what = "an int" if self.kind is Integral else "a finite number"
        lo, hi = self.left, self.right
        left_in = self.closed in ("both", "left")
        right_in = self.closed in ("both", "right")
        if lo is None and hi is None:
            return what
        if hi is None:
            return f"{what} {'>=' if left_in else '>'} {_fmt(lo)}"
        if lo is None:
            return f"{what} {'<=' if right_in else '<'} {_fmt(hi)}"
        interval = f"{'[' if left_in else '('}{_fmt(lo)}, {_fmt(hi)}{']' if right_in else ')'}"
        return f"an int in {interval}" if self.kind is Integral else f"in {interval}"

    def is_satisfied_by(self, value) -> bool:
        if not _is_number(value, self.kind):
            return False
        if isinstance(value, Real) and math.isnan(value):
            return False
        lo = -math.inf if self.left is None else self.left
        hi = math.inf if self.right is None else self.right
        above = value >= lo if self.closed in ("both", "left") else value > lo
        below = value <= hi if self.closed in ("both", "right") else value < hi
        if not (above and below):
            return False
        if math.isinf(value):  # only an explicit closed bound at infinity admits it
            return (value == lo and self.left is not None) or (
                value == hi and self.right is not None
            )
        return True

    def example(self):
        lo = self.left if self.left is not None and math.isfinite(self.left) else None
        hi = self.right if self.right is not None and math.isfinite(self.right) else None
        if lo is not None and hi is not None:
            mid = (lo + hi) / 2
        elif lo is not None:
            mid = lo + 1
        elif hi is not None:
            mid = hi - 1
        else:
            mid = 0
        return math.ceil(mid) if self.kind is Integral else float(mid)


class AnyReal(Constraint):
    """Any real number, NaN and infinity included (a monitored loss), or a 0-d numeric array."""

    description = "a number"

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, np.ndarray):
            return value.ndim == 0 and value.dtype.kind in "iuf"
        return _is_number(value, Real)

    def example(self):
        return 0.5


class Options(Constraint):
    """One of a fixed set of values; a string only equals a string, a bool only a bool."""

    def __init__(self, values):
        self.values = tuple(values)
        shown = [repr(v) for v in self.values]
        if len(shown) <= 2:
            self.description = " or ".join(shown)
        else:
            self.description = "one of " + ", ".join(shown)

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, np.ndarray):
            return False
        for option in self.values:
            if isinstance(option, float) and math.isnan(option):
                if is_real(value) and math.isnan(value):
                    return True
                continue
            same_kind = isinstance(value, str) == isinstance(option, str) and isinstance(
                value, bool | np.bool_
            ) == isinstance(option, bool)
            try:
                if same_kind and bool(value == option):
                    return True
            except (TypeError, ValueError):
                continue
        return False

    def example(self):
        return self.values[0]


class Boolean(Constraint):
    """``True`` or ``False`` (a Python or numpy bool); the strings "no" and "False" are not."""

    description = "a bool (True or False)"

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, bool | np.bool_)

    def example(self):
        return True


class CallableConstraint(Constraint):
    """Anything callable."""

    def __init__(self, description: str = "a callable"):
        self.description = description

    def is_satisfied_by(self, value) -> bool:
        return callable(value)

    def example(self):
        return lambda *args, **kwargs: 0.0


class InstanceOf(Constraint):
    """An instance of ``cls`` (a class or a tuple of classes)."""

    def __init__(self, cls, description: str | None = None, example: Callable | None = None):
        self.cls = cls
        names = [c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,))]
        self.description = description or "an instance of " + " or ".join(names)
        self._example = example

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.cls)

    def example(self):
        if self._example is not None:
            return self._example()
        for cls in self.cls if isinstance(self.cls, tuple) else (self.cls,):
            try:
                return cls()  # dict, list, str, ...
            except TypeError:
                continue
        return super().example()


class Anything(Constraint):
    """No constraint, with the reason (e.g. "whatever step_fn accepts")."""

    def __init__(self, reason: str):
        self.description = reason

    def is_satisfied_by(self, value) -> bool:
        return True

    def example(self):
        return object()


def _array_problem(name, value, *, numeric, finite, ndim, low, what) -> str | None:
    """The shared checks of one array-like: kind, dimensions, numbers, finiteness, lower bound."""
    if isinstance(value, str | bytes | Mapping | set | frozenset) or value is None:
        return f"{name} must be {what}, got {show(value)}"
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        return f"{name} must be {what}, got {show(value)} ({exc})"
    if ndim is not None and arr.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        return f"{name} must be {what}, got shape {arr.shape}: {show(value)}"
    if numeric:
        if arr.dtype.kind not in "biuf":
            if arr.dtype.kind != "O" or not all(
                _is_number(v, Real) or isinstance(v, bool | np.bool_) for v in arr.ravel()
            ):
                return f"{name} must be {what}, got {show(value)}"
            arr = arr.astype(np.float64)
        if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            return f"{name} must be finite (no NaN or infinity), got {show(value)}"
        if low is not None and arr.size and not np.all(arr >= low):
            return f"{name} must be >= {low}, got {show(value)}"
    return None


class ArrayLike(Constraint):
    """Something ``numpy.asarray`` turns into an array (not a string, dict or None).

    ``numeric``: of numbers (bool, int or float); ``finite``: without NaN or infinity
    (implies numeric); ``ndim``: the allowed number(s) of dimensions; ``low``: every value
    at least this.
    """

    def __init__(self, *, numeric=False, finite=False, ndim=None, low=None, example=None):
        self.numeric = numeric or finite or low is not None
        self.finite, self.ndim, self.low = finite, ndim, low
        what = "an array-like"
        if self.numeric:
            what += " of finite numbers" if finite else " of numbers"
        if low is not None:
            what += f" >= {low}"
        if ndim == 1:
            what += " of shape (n,)"
        elif ndim == 2:
            what += " of shape (n, m)"
        elif ndim == 0:
            what = what.replace("an array-like of", "a") if self.numeric else "a scalar"
        self.description = what
        self._example = example

    def problem(self, name, value):
        return _array_problem(
            name,
            value,
            numeric=self.numeric,
            finite=self.finite,
            ndim=self.ndim,
            low=self.low,
            what=self.description,
        )

    def is_satisfied_by(self, value) -> bool:
        return self.problem("value", value) is None

    def example(self):
        if self._example is not None:
            return self._example()
        if self.ndim == 0:
            return 1.0
        if self.ndim == 2:
            return np.ones((2, 2))
        return np.array([0.0, 1.0])


class ArrayDict(Constraint):
    """A dict of named numeric arrays (parameters or gradients by name).

    ``finite=True`` refuses NaN and infinity, naming the entry.
    """

    def __init__(self, *, finite: bool = True):
        self.finite = finite
        self.description = "a dict of arrays" + (" of finite numbers" if finite else "")

    def problem(self, name, value):
        if not isinstance(value, Mapping):
            return f"{name} must be {self.description}, got {type(value).__name__} {show(value)}"
        for key, item in value.items():
            problem = _array_problem(
                f"{name}[{key!r}]",
                item,
                numeric=True,
                finite=self.finite,
                ndim=None,
                low=None,
                what="an array of numbers",
            )
            if problem is not None:
                return problem
        return None

    def is_satisfied_by(self, value) -> bool:
        return self.problem("value", value) is None

    def example(self):
        return {"W": np.ones((2, 2)), "b": np.zeros(2)}


class SequenceOf(Constraint):
    """A list or tuple whose every item satisfies ``item`` (and of ``length`` items if given)."""

    def __init__(
        self,
        item: Constraint,
        *,
        length: int | None = None,
        min_length: int = 0,
        description: str | None = None,
    ):
        self.item, self.length, self.min_length = item, length, min_length
        count = f"{length} " if length is not None else ""
        self.description = description or f"a tuple of {count}values, each {item.description}"

    def problem(self, name, value):
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            return f"{name} must be {self.description}, got {show(value)}"
        if self.length is not None and len(value) != self.length:
            return f"{name} must be {self.description}, got {len(value)} values: {show(value)}"
        if len(value) < self.min_length:
            values = "value" if self.min_length == 1 else "values"
            return f"{name} must hold at least {self.min_length} {values}, got {show(value)}"
        for i, item in enumerate(value):
            problem = self.item.problem(f"{name}[{i}]", item)
            if problem is not None:
                return problem
        return None

    def is_satisfied_by(self, value) -> bool:
        return self.problem("value", value) is None

    def example(self):
        return tuple([self.item.example()] * (self.length or max(1, self.min_length)))


def _compile(constraints) -> tuple[Constraint, ...]:
    if isinstance(constraints, Constraint) or constraints is None:
        constraints = [constraints]
    out = []
    for c in constraints:
        if c is None:
            out.append(_NoneConstraint())
        elif isinstance(c, Constraint):
            out.append(c)
        else:
            raise TypeError(f"not a constraint: {c!r}")
    return tuple(out)


def check_param(name: str, value, constraints) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` satisfies one of ``constraints``."""
    compiled = constraints if isinstance(constraints, tuple) else _compile(constraints)
    problems = []
    for constraint in compiled:
        problem = constraint.problem(name, value)
        if problem is None:
            return
        problems.append(problem)
    if len(problems) == 1:
        raise InvalidParameterError(problems[0])
    # several alternatives: name them all, unless only one applies to this kind of value
    others = [c for c in compiled if not isinstance(c, _NoneConstraint)]
    if len(others) == 1:
        problem = problems[compiled.index(others[0])]
        generic = f"{name} must be {others[0].description}, got "
        if problem.startswith(generic):
            problem = problem.replace(
                generic, f"{name} must be {others[0].description} or None, got ", 1
            )
        raise InvalidParameterError(problem)
    # a value of the right kind but wrong in detail: say what is wrong with it
    if is_real(value):
        kind = Interval
    elif isinstance(value, list | tuple):
        kind = SequenceOf
    elif isinstance(value, Mapping):
        kind = ArrayDict
    else:
        kind = None
    same_kind = [c for c in compiled if kind is not None and isinstance(c, kind)]
    if len(same_kind) == 1:
        raise InvalidParameterError(problems[compiled.index(same_kind[0])])
    wanted = " or ".join(c.description for c in compiled)
    raise InvalidParameterError(f"{name} must be {wanted}, got {show(value)}")


def validate_params(constraints: Mapping[str, object]):
    """Decorator: check the arguments of every call against ``constraints`` before running.

    Every parameter of the function (except ``self``, ``*args`` and ``**kwargs``) must have an
    entry; a missing or unknown one is a programming error, raised when the module is imported.
    Only the arguments actually passed are checked (defaults are trusted).
    """

    def decorate(fn):
        sig = inspect.signature(fn)
        names = [
            p.name
            for p in sig.parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in ("self", "cls")
        ]
        unknown, missing = set(constraints) - set(names), set(names) - set(constraints)
        if unknown or missing:
            raise TypeError(
                f"validate_params on {fn.__qualname__}: no such parameter {sorted(unknown)}, "
                f"no constraint for {sorted(missing)}"
            )
        compiled = {name: _compile(c) for name, c in constraints.items()}

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                if name in compiled:
                    check_param(name, value, compiled[name])
            return fn(*args, **kwargs)

        wrapper.__coursekit_params__ = compiled
        return wrapper

    return decorate


def validate_fields(constraints: Mapping[str, object]):
    """Class decorator for a dataclass: check the fields given to ``__init__`` before it runs.

    Put it above ``@dataclass``; every field of ``__init__`` must have an entry. The check runs
    before the dataclass's own ``__post_init__`` (so that one may convert validated values),
    also for :func:`dataclasses.replace`.
    """

    def decorate(cls):
        cls.__init__ = validate_params(constraints)(cls.__init__)
        cls.__coursekit_params__ = cls.__init__.__coursekit_params__
        return cls

    return decorate


def result_record(cls):
    """Class decorator: ``cls`` is a result coursekit returns, not an input a user builds.

    Its fields hold what a coursekit function computed (NaN and infinity included, where a run
    diverged), so they are not checked; its methods that take parameters still declare them
    with :func:`validate_params`. ``cls.__coursekit_result__`` is True.
    """
    if not isinstance(cls, type):
        raise TypeError(f"result_record decorates a class, got {show(cls)}")
    cls.__coursekit_result__ = True
    return cls


def is_real(value) -> bool:
    """A real number that is neither a bool nor a string (NaN and infinity included)."""
    return _is_number(value, numbers.Real)
