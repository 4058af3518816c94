"""One seed for every random number generator a lesson, test or grader uses."""

import os
import random
import sys

import numpy as np

from coursekit._params import Boolean, Integral, Interval, validate_params

__all__ = ["seed_everything"]


@validate_params(
    {"seed": [Interval(Integral, 0, 2**32, closed="left")], "deterministic": [Boolean()]}
)
def seed_everything(seed: int, deterministic: bool = True) -> np.random.Generator:
    """Seed ``random``, numpy and, only if already imported, TensorFlow/Keras and torch.

    With ``deterministic`` (the default) the frameworks that are imported are also switched to
    deterministic kernels: ``tf.config.experimental.enable_op_determinism()`` and
    ``torch.use_deterministic_algorithms(True, warn_only=True)``, so that the same seed gives
    the same numbers on the CPU run after run.

    Frameworks are never imported here: seeding must not cost the 2-5 s of
    importing TensorFlow or torch when a lesson does not use them.

    Parameters
    ----------
    seed : int
        A non-negative integer below 2**32.

    Returns
    -------
    numpy.random.Generator
        A fresh generator seeded with ``seed``, for code that prefers
        explicit generators over the global state.
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeding the legacy global state is the point
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        tf.random.set_seed(seed)
        if deterministic:
            tf.config.experimental.enable_op_determinism()
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)
