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
- ``tuning``         grid, random and keras-tuner search (chapter 6)
- ``mlp``, ``data``, ``scaling``  one network spec in four frameworks, data sets, scaling (chapter 7)

Every public function checks its arguments at the boundary, declared once per parameter
(``coursekit._params.validate_params``): a bad one raises a ``ValueError`` (also a
``TypeError``) that names the parameter and shows the value, e.g.
``drop_intermediate must be a bool (True or False), got 'no'``.
"""

from coursekit.seeding import seed_everything

__version__ = "0.1.0"
__all__ = ["__version__", "seed_everything"]
