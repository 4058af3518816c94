"""Clipping by global norm and by value against torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

import numpy as np
import pytest

from coursekit.clipping import clip_by_global_norm, clip_by_value, global_norm

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

RNG = np.random.default_rng(0)
GRADS = {"W": RNG.normal(0, 3, size=(4, 3)), "b": RNG.normal(0, 3, size=3)}


def _torch_params(grads):
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads.values()]
    for p, g in zip(params, grads.values(), strict=True):
        p.grad = torch.tensor(g)
    return params


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e6])
def test_clip_by_global_norm_matches_torch(max_norm):
    params = _torch_params(GRADS)
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()
    clipped, ours = clip_by_global_norm(GRADS, max_norm)
    assert ours == pytest.approx(norm, rel=1e-12)
    for p, k in zip(params, GRADS, strict=True):
        np.testing.assert_allclose(clipped[k], p.grad.numpy(), rtol=1e-12)


def test_clipping_by_norm_keeps_the_direction_and_value_clipping_changes_it():
    clipped, norm = clip_by_global_norm(GRADS, 1.0)
    assert norm > 1.0
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-5)
    flat = np.concatenate([g.ravel() for g in GRADS.values()])
    by_norm = np.concatenate([g.ravel() for g in clipped.values()])
    by_value = np.concatenate([g.ravel() for g in clip_by_value(GRADS, 1.0).values()])
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    assert cos(flat, by_norm) == pytest.approx(1.0, abs=1e-12)
    assert cos(flat, by_value) < 0.99


def test_clip_by_value_matches_torch_and_leaves_the_input_alone():
    before = {k: v.copy() for k, v in GRADS.items()}
    params = _torch_params(GRADS)
    torch.nn.utils.clip_grad_value_(params, 0.7)
    ours = clip_by_value(GRADS, 0.7)
    for p, k in zip(params, GRADS, strict=True):
        np.testing.assert_array_equal(ours[k], p.grad.numpy())
        np.testing.assert_array_equal(GRADS[k], before[k])


def test_bad_bounds_are_refused_by_name():
    with pytest.raises(ValueError, match="max_norm must be"):
        clip_by_global_norm(GRADS, 0.0)
    with pytest.raises(ValueError, match="clip_value must be"):
        clip_by_value(GRADS, -1.0)
