r"""L2 in the loss versus decoupled weight decay: AdamW (chapter 9).

Two ways to pull weights towards zero. **L2 in the loss** adds :math:`\frac{\lambda}{2}\|\phi\|^2`
to the loss, so the gradient the optimizer sees is :math:`g + \lambda\phi` (``torch.optim``'s
``weight_decay``, :class:`coursekit.optim.Adam` with the torch convention). **Decoupled weight
decay** leaves the gradient alone and shrinks the weights directly, before the update:

.. math::

    \phi \leftarrow \phi - \alpha\lambda\phi, \qquad \text{then the optimizer's step with } g

For plain gradient descent the two are the same update,
:math:`\phi - \alpha(g + \lambda\phi)`. For Adam they differ: the L2 term
:math:`\lambda\phi` enters :math:`m` and :math:`v` and is divided by :math:`\sqrt{\hat v}`, so
a weight with large gradients is barely decayed and one with tiny gradients is decayed hard;
AdamW (Loshchilov and Hutter, "Decoupled weight decay regularization", 2019) decays every
weight at the same rate :math:`\alpha\lambda`. :class:`AdamW` makes ``torch.optim.AdamW``'s
update (torch's epsilon, decay by default :math:`\lambda = 0.01`).

numpy only. Lesson: chapter 9, "Training deep networks".
"""

from __future__ import annotations

from typing import ClassVar

from coursekit._params import Interval, Real, SequenceOf, validate_params
from coursekit.optim import Adam

__all__ = ["AdamW"]

_UNIT = Interval(Real, 0, 1, closed="left")


class AdamW(Adam):
    r"""Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    .. math::

        \phi \leftarrow \phi - \alpha\lambda\phi, \qquad
        \phi \leftarrow \phi - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    Parameters
    ----------
    lr : float or schedule, default 1e-3
    betas : (float, float), each in [0, 1), default (0.9, 0.999)
    eps : float > 0, default 1e-8
    weight_decay : float >= 0, default 0.01 (torch's)
    """

    decoupled: ClassVar[bool] = True

    @validate_params(
        {
            "lr": [Interval(Real, 0, None, closed="left"), None],
            "betas": [SequenceOf(_UNIT, length=2, description="a pair (beta1, beta2) in [0, 1)")],
            "eps": [Interval(Real, 0, None, closed="neither"), None],
            "weight_decay": [Interval(Real, 0, None, closed="left")],
        }
    )
    def __init__(self, lr=None, betas=(0.9, 0.999), eps=None, weight_decay=0.01):
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
