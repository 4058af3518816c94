"""Chapter 9's modules against Keras 3 (TensorFlow backend), beside their torch checks:
softmax and cross-entropy from logits against ``keras.ops`` and ``keras.losses``, batch
normalization against ``keras.layers.BatchNormalization`` in training and inference, clipping
against ``keras.ops.clip`` and the optimizers' ``clipvalue``/``clipnorm``/``global_clipnorm``,
AdamW against ``keras.optimizers.AdamW``. Where Keras' convention differs (its momentum, its
biased running variance, clipping without torch's 1e-6, epsilon outside the bias correction),
the test checks the documented difference exactly, not a loose tolerance.

TensorFlow is imported once for the whole file (one module-scoped fixture), single-threaded.
"""

import numpy as np
import pytest

from coursekit import optim
from coursekit import softmax as S
from coursekit.batchnorm import BatchNormStats, batchnorm_forward
from coursekit.clipping import clip_by_global_norm, clip_by_value, global_norm
from coursekit.weight_decay import AdamW

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(0, 3, size=(7, 5))
Y = RNG.integers(0, 5, size=7)


@pytest.fixture(scope="module")
def tf():
    """TensorFlow, imported once for this file, one thread per op."""
    tf = pytest.importorskip("tensorflow")
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised by an earlier test file in this process
        pass
    return tf


@pytest.fixture(scope="module")
def keras(tf):
    """Keras 3 on the TensorFlow backend (the conftest selects it)."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip(f"Keras runs on {keras.backend.backend()!r}, not TensorFlow")
    return keras


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


# -- softmax and cross-entropy from logits ------------------------------------------------


def test_softmax_logsumexp_log_softmax_match_keras_ops(keras):
    z = keras.ops.convert_to_tensor(LOGITS, dtype="float64")
    np.testing.assert_allclose(S.softmax(LOGITS), _np(keras.ops.softmax(z, axis=-1)), rtol=1e-12)
    np.testing.assert_allclose(S.softmax(LOGITS, axis=0), _np(keras.ops.softmax(z, 0)), rtol=1e-12)
    np.testing.assert_allclose(S.logsumexp(LOGITS), _np(keras.ops.logsumexp(z, 1)), rtol=1e-12)
    np.testing.assert_allclose(
        S.log_softmax(LOGITS), _np(keras.ops.log_softmax(z, axis=-1)), atol=1e-12
    )


def test_cross_entropy_and_its_gradient_match_keras_from_logits_and_gradient_tape(keras, tf):
    z = tf.Variable(LOGITS, dtype=tf.float64)
    onehot = np.eye(5)[Y]
    with tf.GradientTape() as tape:
        per_sample = keras.losses.categorical_crossentropy(onehot, z, from_logits=True)
        loss = tf.reduce_mean(per_sample)
    grad = tape.gradient(loss, z)
    assert S.cross_entropy(LOGITS, Y) == pytest.approx(float(loss), rel=1e-12)
    np.testing.assert_allclose(S.cross_entropy_grad(LOGITS, Y), _np(grad), atol=1e-14)
    sparse = keras.losses.sparse_categorical_crossentropy(Y, z, from_logits=True)
    np.testing.assert_allclose(_np(sparse), _np(per_sample), rtol=1e-12)


def test_huge_logits_agree_with_keras_where_the_naive_softmax_overflows(keras):
    z = LOGITS + 1000.0
    onehot = np.eye(5)[Y]
    want = keras.losses.categorical_crossentropy(
        onehot, keras.ops.convert_to_tensor(z, dtype="float64"), from_logits=True
    )
    assert np.isfinite(_np(want)).all()
    assert S.cross_entropy(z, Y) == pytest.approx(float(np.mean(_np(want))), rel=1e-9)


def test_binary_cross_entropy_with_logits_matches_keras_even_for_extreme_logits(keras):
    z = np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 40.0, 800.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    per_sample = keras.losses.binary_crossentropy(
        y[:, None], keras.ops.convert_to_tensor(z[:, None], dtype="float64"), from_logits=True
    )
    want = float(np.mean(_np(per_sample)))
    assert S.binary_cross_entropy_with_logits(z, y) == pytest.approx(want, rel=1e-12)


# -- batch normalization ---------------------------------------------------------------------


def test_batchnorm_matches_keras_in_training_and_inference_with_its_momentum_and_variance(keras):
    """Keras' ``momentum`` is coursekit's (torch's) 1 - m, and Keras keeps the *biased* batch
    variance in its moving variance where coursekit keeps the unbiased one: each step, the new
    part of coursekit's running variance is n/(n-1) times Keras'."""
    rng = np.random.default_rng(1)
    d, n, m, eps = 4, 16, 0.2, 1e-3
    layer = keras.layers.BatchNormalization(momentum=1 - m, epsilon=eps, dtype="float64")
    layer.build((None, d))
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    stats = BatchNormStats.initial(d)
    keras_var = _np(layer.moving_variance)
    for step in range(5):
        X = rng.normal(3.0 + step, 2.0, size=(n, d))
        want = _np(layer(X, training=True))
        before = stats
        out, stats = batchnorm_forward(X, gamma, beta, stats, training=True, momentum=m, eps=eps)
        np.testing.assert_allclose(out, want, atol=1e-12)
        np.testing.assert_allclose(stats.mean, _np(layer.moving_mean), atol=1e-12)
        new_keras_var = _np(layer.moving_variance)
        ours_new_part = stats.var - (1 - m) * before.var
        keras_new_part = new_keras_var - (1 - m) * keras_var
        np.testing.assert_allclose(ours_new_part, n / (n - 1) * keras_new_part, rtol=1e-12)
        keras_var = new_keras_var
    X = rng.normal(5.0, 2.0, size=(3, d))
    keras_stats = BatchNormStats(_np(layer.moving_mean), _np(layer.moving_variance))
    out, same = batchnorm_forward(X, gamma, beta, keras_stats, training=False, eps=eps)
    np.testing.assert_allclose(out, _np(layer(X, training=False)), atol=1e-12)
    assert same is keras_stats


# -- clipping ---------------------------------------------------------------------------------

GRADS = {"W": RNG.normal(0, 3, size=(4, 3)), "b": RNG.normal(0, 3, size=3)}


def _keras_clipped(keras, grads, **clip):
    """The gradients a Keras optimizer applies after its own clipping: SGD with lr 1 from 0."""
    variables = [keras.Variable(np.zeros(g.shape), dtype="float64") for g in grads.values()]
    opt = keras.optimizers.SGD(learning_rate=1.0, **clip)
    opt.apply_gradients(
        [
            (keras.ops.convert_to_tensor(g), v)
            for g, v in zip(grads.values(), variables, strict=True)
        ]
    )
    return {k: -_np(v) for k, v in zip(grads, variables, strict=True)}


def test_clip_by_value_matches_keras_ops_clip_and_the_optimizers_clipvalue(keras):
    ours = clip_by_value(GRADS, 0.7)
    applied = _keras_clipped(keras, GRADS, clipvalue=0.7)
    for k, g in GRADS.items():
        np.testing.assert_array_equal(ours[k], _np(keras.ops.clip(g, -0.7, 0.7)))
        np.testing.assert_allclose(ours[k], applied[k], rtol=1e-15, atol=0)
    assert max(np.abs(g).max() for g in GRADS.values()) > 0.7  # the bound did clip


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e6])
def test_clip_by_global_norm_is_keras_global_clipnorm_up_to_torchs_1e_minus_6(keras, max_norm):
    """Keras scales by min(1, c/||g||); coursekit (as torch) by min(1, c/(||g|| + 1e-6))."""
    ours, norm = clip_by_global_norm(GRADS, max_norm)
    applied = _keras_clipped(keras, GRADS, global_clipnorm=max_norm)
    correction = norm / (norm + 1e-6) if norm > max_norm else 1.0
    for k in GRADS:
        np.testing.assert_allclose(ours[k], applied[k] * correction, rtol=1e-12)
    assert float(_np(keras.ops.sqrt(sum(keras.ops.sum(g**2) for g in GRADS.values())))) == (
        pytest.approx(global_norm(GRADS), rel=1e-12)
    )


def test_keras_clipnorm_clips_each_array_alone_which_is_the_global_norm_of_each_alone(keras):
    applied = _keras_clipped(keras, GRADS, clipnorm=1.0)
    for k, g in GRADS.items():
        alone, norm = clip_by_global_norm({k: g}, 1.0)
        assert norm > 1.0
        np.testing.assert_allclose(alone[k], applied[k] * norm / (norm + 1e-6), rtol=1e-12)
    joint, _ = clip_by_global_norm(GRADS, 1.0)
    assert not np.allclose(joint["b"], applied["b"])  # per array is not joint


# -- decoupled weight decay -------------------------------------------------------------------

START = RNG.normal(size=(3, 2))
STEPS = [RNG.normal(size=(3, 2)) * 10.0 ** RNG.integers(-3, 2) for _ in range(12)]
#: Keras rounds its hyperparameters through float32 (the learning rate is a float32 variable;
#: betas and the decay are cast from a float32 tensor): 0.999 becomes 0.99900001, a relative
#: change of 7e-6 in the first step. Values float32 holds exactly make the comparison exact.
LR, DECAY, BETAS = 0.0625, 0.25, (0.875, 0.998046875)


def _keras_adamw(keras, **kwargs):
    w = keras.Variable(START.copy(), dtype="float64")
    opt = keras.optimizers.AdamW(
        learning_rate=LR, weight_decay=DECAY, beta_1=BETAS[0], beta_2=BETAS[1], **kwargs
    )
    for g in STEPS:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g), w)])
    return _np(w)


def _ours(opt):
    params = {"W": START}
    for g in STEPS:
        params = opt.step(params, {"W": g})
    return params["W"]


def test_hyperparameters_are_exact_in_float32():
    assert all(float(np.float32(x)) == x for x in (LR, DECAY, *BETAS))


def test_adamw_matches_keras_adamw_where_epsilon_does_not_matter(keras):
    """Keras adds epsilon to sqrt(v) before the bias correction, torch after it; with a tiny
    epsilon the two updates, each decoupled decay then Adam's step, are the same."""
    want = _keras_adamw(keras, epsilon=1e-14)
    ours = _ours(AdamW(lr=LR, betas=BETAS, eps=1e-14, weight_decay=DECAY))
    np.testing.assert_allclose(ours, want, rtol=1e-9)
    no_decay = _ours(AdamW(lr=LR, betas=BETAS, eps=1e-14, weight_decay=0.0))
    assert np.abs(no_decay - want).max() > 1e-3  # the decay is what makes them agree


def test_keras_convention_adam_with_weight_decay_is_keras_adamw_at_its_default_epsilon(keras):
    want = _keras_adamw(keras)  # epsilon 1e-7, added to sqrt(v)
    ours = _ours(optim.Adam(lr=LR, betas=BETAS, weight_decay=DECAY, convention="keras"))
    np.testing.assert_allclose(ours, want, rtol=1e-12)
    torch_eps = _ours(AdamW(lr=LR, betas=BETAS, eps=1e-7, weight_decay=DECAY))
    assert not np.allclose(torch_eps, want, rtol=1e-9, atol=0)  # epsilon's place shows
