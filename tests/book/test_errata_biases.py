"""The errata page's bias typos (coursekit.errata.bias_errata), checked against the network."""

from coursekit import errata, xor


def test_every_printed_bias_disagrees_with_the_network_in_name_or_shape():
    rows = errata.bias_errata()
    assert [r.quantity for r in rows] == list(errata.BIAS_PRINTED)
    assert not any(r.correct for r in rows)
    for row in rows:
        assert row.shape == xor.PARAM_SHAPES[row.name]


def test_the_output_bias_is_named_b1_on_the_slide_but_is_b2_with_one_entry():
    row = next(r for r in errata.bias_errata() if r.quantity == "output bias")
    assert (row.printed_name, row.name, row.shape) == ("b1", "b2", (1,))


def test_the_printed_hidden_bias_is_b1_broadcast_over_a_batch_of_two():
    row = next(r for r in errata.bias_errata() if r.quantity == "hidden bias")
    X, _ = xor.dataset()
    z1 = xor.forward(xor.lecture_params(), X[:2])["z1"]
    assert row.printed_shape == z1.shape and row.shape == xor.lecture_params()["b1"].shape
