"""coursekit: reference implementations for the unit on optimization and
regularization of feed-forward networks.

Everything the lessons print, the assignments check and the autograder
expects comes from here. Only numpy is imported eagerly; TensorFlow, Keras,
PyTorch and scikit-learn are imported inside the functions that need them, so
``import coursekit`` stays cheap (see ``benchmarks/bench_import.py``).

Submodules (import them explicitly, e.g. ``from coursekit import xor``):

- ``xor``            the lecture's worked 2-2-1 example (chapter 2)
- ``gradcheck``      finite-difference gradient checking with a diagnosis
- ``metrics``        binary classification metrics and curves (chapter 1)
- ``regularization`` L1/L2 penalties, inverted dropout, early stopping (chapter 5)
- ``schedules``      learning-rate schedules and the range test (chapter 4)
- ``optim``          SGD, momentum, RMSprop, AdaGrad, Adam in numpy (chapters 3-4)
"""

from coursekit.seeding import seed_everything

__version__ = "0.1.0"
__all__ = ["__version__", "seed_everything"]
