"""What do coursekit's declarative parameter constraints accept, and what do they say?"""

import math
from dataclasses import dataclass

import numpy as np
import pytest

from coursekit._params import (
    AnyReal,
    ArrayDict,
    ArrayLike,
    Boolean,
    CallableConstraint,
    Integral,
    Interval,
    InvalidParameterError,
    Options,
    Real,
    SequenceOf,
    check_param,
    validate_fields,
    validate_params,
)


def test_the_error_is_both_a_value_error_and_a_type_error():
    with pytest.raises(ValueError):
        check_param("p", "x", [Boolean()])
    with pytest.raises(TypeError):
        check_param("p", "x", [Boolean()])
    assert issubclass(InvalidParameterError, ValueError | TypeError)


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_a_bool_is_a_bool(value):
    check_param("flag", value, [Boolean()])


@pytest.mark.parametrize("value", ["no", "yes", "False", "", 0, 1, 1.0, None, np.array(True)])
def test_nothing_else_is_a_bool(value):
    with pytest.raises(InvalidParameterError, match=r"^flag must be a bool \(True or False\), got"):
        check_param("flag", value, [Boolean()])


@pytest.mark.parametrize(
    "interval, inside, outside",
    [
        (Interval(Real, 0, 1, closed="left"), [0, 0.5, np.float32(0.9)], [1, -0.1, math.nan]),
        (Interval(Real, 0, None, closed="neither"), [1e-300, 1e300], [0, math.inf, math.nan]),
        (Interval(Real, 0, math.inf), [0, math.inf], [-1, math.nan, -math.inf]),
        (Interval(Integral, 1, None), [1, np.int64(7)], [0, 1.0, 2.5, True, "3"]),
        (Interval(Real), [-1e300, 0], [math.inf, -math.inf, math.nan, "0", True, None]),
    ],
)
def test_an_interval_holds_numbers_not_strings_bools_or_nan(interval, inside, outside):
    assert all(interval.is_satisfied_by(v) for v in inside)
    assert not any(interval.is_satisfied_by(v) for v in outside)


@pytest.mark.parametrize(
    "interval, text",
    [
        (Interval(Real, 0, None, closed="left"), "a finite number >= 0"),
        (Interval(Real, 0, None, closed="neither"), "a finite number > 0"),
        (Interval(Real, 0, 1, closed="right"), "in (0, 1]"),
        (Interval(Integral, 3, None), "an int >= 3"),
        (Interval(Integral, 0, 10, closed="left"), "an int in [0, 10)"),
    ],
)
def test_an_interval_says_what_it_holds(interval, text):
    assert interval.description == text


def test_options_match_kind_as_well_as_value():
    options = Options(("mean", "sum"))
    assert options.is_satisfied_by("sum")
    assert not any(options.is_satisfied_by(v) for v in ["avg", None, True, np.array(["sum"])])
    numbers = Options(("warn", 0.0, 1.0, math.nan))
    assert all(numbers.is_satisfied_by(v) for v in ["warn", 0, 1.0, math.nan, np.float64("nan")])
    assert not any(numbers.is_satisfied_by(v) for v in [True, False, "0", 0.5])


def test_array_like_checks_kind_numbers_finiteness_shape_and_bounds():
    c = ArrayLike(finite=True, ndim=1, low=0)
    assert c.problem("x", [0, 1.5]) is None
    assert (
        c.problem("x", "01")
        == "x must be an array-like of finite numbers >= 0 of shape (n,), got '01'"
    )
    assert "x must be finite" in c.problem("x", [0, math.nan])
    assert "x must be >= 0" in c.problem("x", [0, -1])
    assert "shape (1, 2)" in c.problem("x", [[0, 1]])
    assert ArrayLike(numeric=True).problem("x", ["a"]) is not None
    assert ArrayLike().problem("x", ["a", "b"]) is None  # labels may be strings
    assert ArrayLike().problem("x", None) is not None


def test_array_dict_names_the_entry():
    c = ArrayDict()
    assert c.problem("params", {"W": [[1.0]], "b": [0.0]}) is None
    assert c.problem("params", {"W": [[math.nan]]}).startswith("params['W'] must be finite")
    assert c.problem("params", [1.0]).startswith("params must be a dict of arrays")
    assert ArrayDict(finite=False).problem("grads", {"W": [math.nan]}) is None


def test_sequence_of_names_the_item():
    c = SequenceOf(Interval(Integral, 1, None), length=2)
    assert c.problem("sizes", (2, 3)) is None
    assert c.problem("sizes", (2, 0)) == "sizes[1] must be an int >= 1, got 0"
    assert "got 3 values" in c.problem("sizes", (1, 2, 3))
    assert c.problem("sizes", "ab") is not None


def test_several_constraints_are_alternatives_and_the_message_fits_the_value():
    lr = [Interval(Real, 0, None, closed="left"), CallableConstraint("a schedule"), None]
    for ok in (0.1, None, lambda t: 0.1):
        check_param("lr", ok, lr)
    with pytest.raises(InvalidParameterError, match=r"^lr must be a finite number >= 0, got -1$"):
        check_param("lr", -1, lr)
    with pytest.raises(InvalidParameterError, match="or a schedule or None, got '0.1'$"):
        check_param("lr", "0.1", lr)
    with pytest.raises(InvalidParameterError, match=r"^top must be an int >= 1 or None, got 0$"):
        check_param("top", 0, [Interval(Integral, 1, None), None])


def test_any_real_admits_nan_and_infinity_but_not_strings_or_bools():
    c = AnyReal()
    assert all(c.is_satisfied_by(v) for v in [math.nan, math.inf, -1, np.float32(2), np.array(1.0)])
    assert not any(c.is_satisfied_by(v) for v in ["1", True, None, [1.0], np.ones(2)])


def test_validate_params_checks_passed_arguments_before_the_body_runs():
    calls = []

    @validate_params({"rate": [Interval(Real, 0, 1)], "flag": [Boolean()]})
    def f(rate, flag=False):
        calls.append((rate, flag))
        return rate

    assert f(0.5) == 0.5 and f(rate=1, flag=True) == 1
    with pytest.raises(InvalidParameterError, match="^flag must be a bool"):
        f(0.5, "no")
    with pytest.raises(TypeError, match="missing a required argument"):
        f()
    assert calls == [(0.5, False), (1, True)]
    assert set(f.__coursekit_params__) == {"rate", "flag"}


def test_a_parameter_without_constraints_is_a_programming_error_at_import():
    with pytest.raises(TypeError, match=r"no constraint for \['flag'\]"):

        @validate_params({"rate": [Interval(Real, 0, 1)]})
        def f(rate, flag=False):
            pass

    with pytest.raises(TypeError, match=r"no such parameter \['rte'\]"):

        @validate_params({"rte": [Interval(Real, 0, 1)]})
        def g():
            pass


def test_validate_fields_checks_a_dataclass_before_its_post_init_and_on_replace():
    import dataclasses

    seen = []

    @validate_fields({"sizes": [SequenceOf(Interval(Integral, 1, None))], "rate": [Interval(Real)]})
    @dataclass(frozen=True)
    class Spec:
        sizes: tuple
        rate: float = 0.0

        def __post_init__(self):
            seen.append(self.sizes)
            object.__setattr__(self, "sizes", tuple(self.sizes))

    assert Spec([1, 2]).sizes == (1, 2) and seen == [[1, 2]]
    with pytest.raises(InvalidParameterError, match=r"^sizes\[0\] must be an int >= 1, got 0$"):
        Spec([0])
    with pytest.raises(InvalidParameterError, match="^rate must be a finite number, got 'x'$"):
        dataclasses.replace(Spec((1,)), rate="x")
    assert seen == [[1, 2], (1,)]
