r"""Sanity checks before a long training run (chapter 9).

Two cheap checks catch most wiring bugs (a wrong loss, labels that do not match the outputs,
a learning rate off by orders of magnitude, a layer that is not trained) before hours are spent:

1. **The initial loss.** With small random initial weights a classifier's logits are close to
   0, softmax gives every one of the :math:`C` classes about :math:`1/C`, and the
   cross-entropy starts near

   .. math:: L_0 \approx -\log\frac{1}{C} = \ln C

   (0.693 for 2 classes, 2.303 for 10). A much larger initial loss means confident wrong
   outputs (weights too large, a missing softmax/logit convention); a much smaller one, a leak.

2. **Overfitting a tiny batch.** A network that can fit anything must drive the training loss
   on a handful of samples (say 8) close to 0 within a few hundred steps, with no
   regularization. If it cannot, the bug is in the model or the training loop, not in the data.

(CS231n's "Babysitting the learning process" and Karpathy's "A recipe for training neural
networks" list both.) numpy only. Lesson: chapter 9, "Training deep networks".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coursekit._params import (
    CallableConstraint,
    Integral,
    Interval,
    Options,
    Real,
    result_record,
    validate_params,
)
from coursekit.divergence import first_non_finite

__all__ = [
    "InitialLossCheck",
    "OverfitResult",
    "check_initial_loss",
    "expected_initial_loss",
    "overfit_tiny_batch",
]

_CLASSES = [Interval(Integral, 2, None)]


@validate_params({"n_classes": _CLASSES})
def expected_initial_loss(n_classes: int) -> float:
    r""":math:`\ln C`: the cross-entropy of the uniform prediction over ``n_classes`` classes."""
    return math.log(n_classes)


@result_record
@dataclass(frozen=True)
class InitialLossCheck:
    """A measured initial loss beside :math:`\\ln C`; ``ok`` when within ``rtol`` of it."""

    loss: float
    expected: float
    rtol: float

    @property
    def ratio(self) -> float:
        """The measured loss divided by :math:`\\ln C`."""
        return self.loss / self.expected

    @property
    def ok(self) -> bool:
        """Is the loss within ``rtol`` (relative) of :math:`\\ln C`?"""
        return abs(self.ratio - 1) <= self.rtol


@validate_params(
    {
        "loss": [Interval(Real, 0, math.inf), Options((math.nan,))],
        "n_classes": _CLASSES,
        "rtol": [Interval(Real, 0, None, closed="neither")],
    }
)
def check_initial_loss(loss: float, n_classes: int, rtol: float = 0.1) -> InitialLossCheck:
    r"""Compare an untrained network's loss with :math:`\ln C` (within ``rtol``, relative).

    A loss that already overflowed (inf, or NaN) is the extreme of "much too large": the check
    says not ``ok``, it does not raise.
    """
    return InitialLossCheck(float(loss), expected_initial_loss(n_classes), float(rtol))


@result_record
@dataclass(frozen=True)
class OverfitResult:
    """The losses of an attempt to overfit one small batch; ``reached`` when one fell below
    ``threshold`` (then ``steps`` is how many steps it took)."""

    losses: np.ndarray
    threshold: float

    @property
    def reached(self) -> bool:
        """Did the loss fall below the threshold?"""
        return bool((self.losses < self.threshold).any())

    @property
    def steps(self) -> int | None:
        """Steps until the loss first fell below the threshold (None if it never did)."""
        below = np.flatnonzero(self.losses < self.threshold)
        return int(below[0]) + 1 if below.size else None

    @property
    def diverged_step(self) -> int | None:
        """The step (1-based) whose loss was NaN or infinite, where the attempt stopped;
        None if every loss was finite."""
        bad = first_non_finite(self.losses)
        return None if bad is None else bad + 1


@validate_params(
    {
        "step": [CallableConstraint("a callable step() -> float (one training step's loss)")],
        "max_steps": [Interval(Integral, 1, None)],
        "threshold": [Interval(Real, 0, None, closed="neither")],
    }
)
def overfit_tiny_batch(
    step: Callable[[], float], max_steps: int, threshold: float
) -> OverfitResult:
    """Call ``step()`` (one training step on the tiny batch, returning its loss) until the loss
    falls below ``threshold`` or ``max_steps`` steps are taken.

    A NaN or infinite loss stops the attempt: it is recorded as the last loss, ``reached`` is
    False and ``diverged_step`` says at which step (no error, no warning).
    """
    losses = []
    for _ in range(max_steps):
        loss = float(step())
        losses.append(loss)
        if not math.isfinite(loss) or loss < threshold:
            break
    return OverfitResult(np.array(losses), float(threshold))
