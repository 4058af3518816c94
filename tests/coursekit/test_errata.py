"""Which of the lecture's printed numbers follow from its formulas?"""

import numpy as np

from coursekit import errata, xor


def _rows():
    return {row.quantity: row for row in errata.worked_example_errata()}


def test_forward_numbers_and_losses_follow_from_the_formulas():
    rows = _rows()
    assert rows["a2 = sigmoid(z2)"].follows_from_formulas
    assert rows["per-sample loss"].follows_from_formulas
    assert rows["dL/dz2"].follows_from_formulas


def test_the_loss_as_written_on_the_slide_is_not_the_printed_value():
    reason = _rows()["per-sample loss"].reason
    written = float(reason.split("gives ")[1].split(",")[0])
    assert abs(written - 0.52) > 0.3


def test_dz1_is_flagged_and_needs_relu_prime_of_zero_equal_one():
    row = _rows()["dL/dz1"]
    assert not row.follows_from_formulas  # -0.2424 comes from the rounded a2
    np.testing.assert_allclose(row.lecture_convention, row.printed, atol=2e-4)
    assert np.all(row.framework_convention[0] == 0)  # ReLU'(0) = 0 kills row 1
    np.testing.assert_allclose(row.framework_convention[1], row.lecture_convention[1] / 2)


def test_matching_is_to_the_printed_number_of_decimals():
    assert errata._matches_as_printed([0.596], [0.59628])
    assert not errata._matches_as_printed([0.2424], [0.24223])
    assert errata._matches_as_printed([0.5], [0.54])
    assert not errata._matches_as_printed([0.5], [0.56])


def test_second_example_output_follows_its_formula_and_0644_needs_unstated_inputs():
    assert errata.second_example_output(0, 0) == float(xor.sigmoid(0.1 + 0.6 * 0.1 + 0.7 * 0.2))
    inputs = errata.second_example_inputs_for(0.644)
    assert (0.0, 0.0) not in inputs and inputs
    for x1, x2 in inputs:
        assert round(errata.second_example_output(x1, x2), 3) == 0.644
