"""Data sets that ship or are generated: shapes, seeding, stratification, no leakage."""

import numpy as np
import pytest

from coursekit import data


@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_every_dataset_loads_split_and_is_seeded(name):
    a, b = data.load(name, seed=3), data.load(name, seed=3)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    total = len(a.X_train) + len(a.X_val) + len(a.X_test)
    assert len(a.X_val) == pytest.approx(0.2 * total, abs=2)
    assert len(a.X_test) == pytest.approx(0.2 * total, abs=2)
    assert a.X_train.dtype == np.float64 and np.all(np.isfinite(a.X_train))
    c = data.load(name, seed=4)
    assert not np.array_equal(a.X_train, c.X_train)


def test_splits_do_not_share_samples():
    s = data.load("breast_cancer", seed=0)
    rows = lambda X: {tuple(r) for r in X}  # noqa: E731
    assert not rows(s.X_train) & rows(s.X_test)
    assert not rows(s.X_train) & rows(s.X_val)


def test_classification_splits_are_stratified():
    s = data.load("breast_cancer", seed=0)
    assert abs(s.y_train.mean() - s.y_test.mean()) < 0.02


def test_lecture_xor_is_the_four_points():
    s = data.load("xor", n_samples=4, noise=0)
    assert s.X_train.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert s.y_train.tolist() == [0, 1, 1, 0]


def test_digits_has_ten_classes_and_diabetes_is_regression():
    assert data.load("digits").n_classes == 10
    d = data.load("diabetes")
    assert d.y_train.dtype == np.float64 and len(np.unique(d.y_train)) > 50


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "mnist"}, "name must be one of 'xor', .*, got 'mnist'"),
        ({"name": "moons", "n_samples": 2}, "n_samples must be an int >= 4, got 2"),
        ({"name": "moons", "noise": -1.0}, "noise must be"),
        ({"name": "moons", "val_size": 0.5, "test_size": 0.5}, "val_size \\+ test_size"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.load(**kwargs)
