"""Softmax, log-sum-exp and cross-entropy from logits against torch's own (F.softmax,
torch.logsumexp, F.cross_entropy and its autograd gradient, BCEWithLogitsLoss)."""

import numpy as np
import pytest

from coursekit import softmax as S

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
F = torch.nn.functional

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(0, 3, size=(7, 5))
Y = RNG.integers(0, 5, size=7)


def test_softmax_logsumexp_log_softmax_match_torch():
    z = torch.tensor(LOGITS)
    np.testing.assert_allclose(S.softmax(LOGITS), F.softmax(z, dim=1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(S.logsumexp(LOGITS), torch.logsumexp(z, 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(S.log_softmax(LOGITS), F.log_softmax(z, 1).numpy(), atol=1e-12)
    np.testing.assert_allclose(S.softmax(LOGITS, axis=0), F.softmax(z, dim=0).numpy(), rtol=1e-12)


def test_cross_entropy_and_its_gradient_match_torch_autograd():
    z = torch.tensor(LOGITS, requires_grad=True)
    loss = F.cross_entropy(z, torch.tensor(Y))
    loss.backward()
    assert S.cross_entropy(LOGITS, Y) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(S.cross_entropy_grad(LOGITS, Y), z.grad.numpy(), atol=1e-14)


def test_huge_logits_stay_finite_where_the_naive_formula_overflows():
    z = LOGITS + 1000.0  # a constant shift changes nothing mathematically
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.isnan(naive).all()
    np.testing.assert_allclose(S.softmax(z), S.softmax(LOGITS), rtol=1e-9)
    assert S.cross_entropy(z, Y) == pytest.approx(S.cross_entropy(LOGITS, Y), rel=1e-9)
    very_negative = np.array([[-1000.0, -1001.0]])
    assert np.isfinite(S.logsumexp(very_negative)).all()


def test_binary_cross_entropy_with_logits_matches_torch_even_for_extreme_logits():
    z = np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 40.0, 800.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    want = torch.nn.BCEWithLogitsLoss()(torch.tensor(z), torch.tensor(y)).item()
    assert S.binary_cross_entropy_with_logits(z, y) == pytest.approx(want, rel=1e-12)


def test_two_class_softmax_equals_the_sigmoid_of_the_logit_difference():
    z = LOGITS[:, :2]
    sigmoid = 1 / (1 + np.exp(-(z[:, 1] - z[:, 0])))
    np.testing.assert_allclose(S.softmax(z)[:, 1], sigmoid, rtol=1e-12)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([0, 5, 1, 1, 1, 1, 1]), r"y must hold class indices in \[0, 5\), got 5"),
        (np.array([0, -1, 1, 1, 1, 1, 1]), "got -1"),
        (np.zeros(7), "integer class indices, got dtype float64"),
        (np.zeros(3, dtype=int), r"one label per row of logits \(7, 5\)"),
    ],
)
def test_bad_labels_are_refused_with_the_value(y, message):
    with pytest.raises(ValueError, match=message):
        S.cross_entropy(LOGITS, y)
    with pytest.raises(ValueError, match=message):
        S.cross_entropy_grad(LOGITS, y)


def test_nan_logits_are_refused_by_name():
    bad = LOGITS.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="logits must be finite"):
        S.cross_entropy(bad, Y)
