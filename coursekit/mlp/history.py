"""The training history every framework's ``fit`` returns, in one shape."""

from __future__ import annotations

from dataclasses import dataclass, field

from coursekit._params import result_record

__all__ = ["History"]


@result_record
@dataclass
class History:
    """Per-epoch curves of one training run.

    Attributes
    ----------
    framework : str
        ``"numpy"``, ``"keras"``, ``"torch"`` or ``"sklearn"``.
    loss : list of float
        Training loss per epoch: the mean of the batch losses computed before each update,
        including the L1/L2 penalty (what Keras reports).
    val_loss : list of float
        Validation loss after each epoch (empty without validation data).
    val_accuracy : list of float
        For classifiers with validation data, validation accuracy after each epoch
        (dropout off).
    best_epoch, stopped_epoch : int or None
        Early-stopping bookkeeping (0-based); ``stopped_epoch`` is None when all epochs ran.
    seconds : float
        Wall time of the fit.
    """

    framework: str
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    seconds: float = 0.0

    @property
    def epochs_run(self) -> int:
        return len(self.loss)

    @property
    def diverged_epoch(self) -> int | None:
        """The first epoch (1-based) whose training loss was NaN, infinite or more than twice
        the first epoch's (:func:`coursekit.divergence.diverged_epoch`), else None."""
        from coursekit.divergence import diverged_epoch

        return diverged_epoch(self.loss)

    def as_dict(self) -> dict[str, list[float]]:
        """The curves as Keras' ``History.history`` dict (non-empty ones only)."""
        names = ("loss", "val_loss", "val_accuracy")
        return {name: list(getattr(self, name)) for name in names if getattr(self, name)}
