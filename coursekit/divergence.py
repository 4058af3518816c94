r"""When a run diverged: the one rule every experiment helper of the lessons records.

An experiment that exists to show a learning rate too large, an initialization too wide or
exploding gradients must survive what it shows: the floats overflow to infinity, then become
NaN, and that is its *result*, never an exception. Every helper of the lessons (the
learning-rate experiment, the worked XOR network, gradient descent on a line, optimizer paths,
deep networks at initialization, early stopping, the tiny-batch check) keeps running, records
the non-finite values, and says where they began with the functions here.

- :func:`diverged_epoch`: with :math:`L_1, \dots, L_E` a run's loss per epoch and :math:`L_0`
  the loss before training, the first epoch :math:`e` (1-based) with

  .. math:: L_e \notin \mathbb{R} \ \text{(NaN, inf: the float overflowed)} \quad\text{or}\quad
            L_e > 2\,L_0 \ \text{(it blew up; } \texttt{BLOW\_UP}\text{)}

- :func:`first_non_finite`: the first entry (or row, for a path of points) holding NaN or
  infinity; for a path whose row 0 is the start, that is the step where it overflowed.

Lessons: chapters 3, 4, 5 and 9. numpy only.
"""

from __future__ import annotations

import numpy as np

from coursekit._params import AnyReal, Anything, ArrayLike, validate_params

__all__ = ["BLOW_UP", "diverged_epoch", "first_non_finite"]

#: A run whose loss ever exceeds this multiple of its start has blown up.
BLOW_UP = 2.0


@validate_params(
    {
        "history": [
            Anything("a History (its .loss) or a sequence of losses per epoch"),
        ],
        "initial_loss": [AnyReal(), None],
    }
)
def diverged_epoch(history, initial_loss: float | None = None) -> int | None:
    r"""The first epoch :math:`e` (1-based) whose training loss blew up, or None.

    Blew up: :math:`L_e` is not finite (NaN, inf: the float overflowed) or
    :math:`L_e > 2 L_0` (``BLOW_UP``), with :math:`L_0` the loss before training
    (``initial_loss``; without it, :math:`L_1`).

    >>> diverged_epoch([0.7, 0.5, float("nan"), float("nan")], initial_loss=0.7)
    3
    >>> diverged_epoch([0.7, 0.5, 0.4]) is None
    True
    """
    loss = np.asarray(getattr(history, "loss", history), dtype=float)
    if loss.ndim != 1:
        raise ValueError(f"history must hold one loss per epoch, got shape {loss.shape}")
    if not loss.size:
        return None
    start = float(loss[0]) if initial_loss is None else float(initial_loss)
    with np.errstate(invalid="ignore", over="ignore"):
        blown = ~np.isfinite(loss) | (loss > BLOW_UP * start)
    return int(np.argmax(blown)) + 1 if blown.any() else None


@validate_params({"values": [ArrayLike(numeric=True)]})
def first_non_finite(values) -> int | None:
    """The index of the first entry of ``values`` (the first row, if 2-D) with NaN or inf.

    For a path of points whose row 0 is the start (:func:`coursekit.landscapes.trajectory`,
    :func:`coursekit.line_fit.descent_path`), the index is the step at which it overflowed.

    >>> first_non_finite([[0.0, 1.0], [1e308, 2.0], [float("inf"), float("nan")]])
    2
    >>> first_non_finite([0.5, 0.25]) is None
    True
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        return None if np.isfinite(values) else 0
    finite = np.isfinite(values).all(axis=tuple(range(1, values.ndim)))  # (n,): a finite row
    return None if finite.all() else int(np.argmin(finite))
