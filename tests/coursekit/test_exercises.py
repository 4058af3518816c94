"""The book's exercise checks say where a reader's function differs and what differs."""

import numpy as np
import pytest

from coursekit.exercises import ExerciseFailed, check, compare


def _momentum(phi, g, v, lr, mu):
    v = mu * v + g
    return phi - lr * v, v


CASES = [
    (np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.2, 0.3]), 0.1, 0.9),
    (np.ones((2, 2)), np.full((2, 2), 2.0), np.zeros((2, 2)), 0.5, 0.5),
]


def test_a_right_function_passes_every_case(capsys):
    # None: a lesson cell ending with the call shows the printed line only, no stray Out
    assert check(_momentum, reference=_momentum, cases=CASES, name="momentum_step") is None
    assert capsys.readouterr().out == "✓ momentum_step: all 2 cases agree with the reference\n"


def test_a_wrong_entry_is_named_with_both_values_and_how_many_differ():
    def wrong(phi, g, v, lr, mu):
        v = mu * v + g
        return phi - lr * v, v + np.array([0.0, 0.0, 1.0])  # the last velocity entry off by 1

    with pytest.raises(ExerciseFailed) as failure:
        check(wrong, reference=_momentum, cases=CASES[:1], name="momentum_step")
    assert str(failure.value) == (
        "momentum_step, case 1 of 1: result[1][2]: yours is 3.27, the reference gives 2.27; "
        "1 of 3 entries differ, by up to 1"
    )


@pytest.mark.parametrize(
    ("distort", "pattern"),
    [
        (lambda x: -x, "the opposite sign of the reference everywhere"),
        (lambda x: 2 * x, "every entry is 2 times the reference's"),
        (lambda x: x.T, "the reference transposed"),
    ],
    ids=["sign", "factor", "transposed"],
)
def test_a_pattern_every_entry_shows_is_named(distort, pattern):
    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ExerciseFailed, match=rf"^result\[0, [01]\]: yours is .*\({pattern}\)$"):
        compare(distort(want), want)


def test_a_scalar_says_both_values_without_a_count():
    with pytest.raises(ExerciseFailed, match=r"^result: yours is 0.5, the reference gives 0.25$"):
        compare(0.5, 0.25)
