"""Standardizer: same numbers as sklearn's StandardScaler, fitted on training data only."""

import numpy as np
import pytest

from coursekit.scaling import Standardizer


def test_matches_sklearn_standard_scaler():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    train, test = rng.normal(5, 3, size=(50, 4)), rng.normal(5, 3, size=(20, 4))
    train[:, 2] = 7.0  # a constant column
    ours, theirs = Standardizer().fit(train), StandardScaler().fit(train)
    np.testing.assert_allclose(ours.transform(test), theirs.transform(test), rtol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(test)), test, rtol=1e-12)


def test_targets_use_training_statistics_only():
    y_train, y_test = np.array([100.0, 200.0, 300.0]), np.array([1000.0, 2000.0])
    scaler = Standardizer().fit(y_train)
    assert scaler.transform(y_test).shape == (2,)
    np.testing.assert_allclose(scaler.transform(y_test), (y_test - 200.0) / np.std(y_train))
    assert abs(scaler.transform(y_test).mean()) > 1  # test data is not re-centred


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform([1.0])
    with pytest.raises(ValueError, match="expected 2 columns"):
        Standardizer().fit(np.ones((3, 2))).transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().fit([1.0, np.nan])
