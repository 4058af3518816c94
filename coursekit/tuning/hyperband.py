r"""Hyperband: successive halving in every bracket from "many, briefly" to "few, fully" (chapter 9).

Successive halving (:mod:`coursekit.tuning.halving`) must choose, for a budget, how many
configurations to start: many on a small budget risk dropping a slow starter, few on the full
budget spend it on bad ones. **Hyperband** (Li, Jamieson, DeSalvo, Rostamizadeh and
Talwalkar, "Hyperband: a novel bandit-based approach to hyperparameter optimization", JMLR
2018; keras-tuner's ``Hyperband``) does not choose: it runs one bracket of each trade-off.
With :math:`R` the most budget one configuration gets (``max_budget``, epochs) and
:math:`\eta` the halving factor,

.. math::

    s_{\max} = \lfloor \log_\eta R \rfloor, \qquad B = (s_{\max} + 1)\, R

and for each bracket :math:`s = s_{\max}, \dots, 0`, successive halving with :math:`s + 1`
rounds:

.. math::

    n = \left\lceil \frac{B}{R} \frac{\eta^s}{s + 1} \right\rceil, \qquad r = R\,\eta^{-s}

.. math::

    n_i = \lfloor n\, \eta^{-i} \rfloor, \qquad r_i = r\, \eta^{i}, \qquad i = 0, \dots, s

after round :math:`i` the best :math:`\lfloor n_i / \eta \rfloor` go on. Bracket
:math:`s_{\max}` is the most aggressive (:math:`\eta^{s_{\max}}` configurations, budget 1
first); bracket 0 is random search (:math:`s_{\max} + 1` configurations, each with :math:`R`).
Each round of bracket :math:`s` spends about :math:`B / (s + 1)`, so each bracket about
:math:`B` and Hyperband about :math:`(s_{\max} + 1)\, B`. With :math:`R = 27, \eta = 3`:
brackets of 27, 12, 6 and 4 configurations. The answer is the configuration with the smallest
loss seen in any round (as in the paper).

Budgets are whole units: :math:`r_i = \lceil R\, \eta^{i - s} \rceil`, as keras-tuner rounds
its epochs (exactly :math:`r\,\eta^i` when :math:`R` is a power of :math:`\eta`). When
:math:`R` is a power of :math:`\eta`, keras-tuner's ``Hyperband(max_epochs=R, factor=eta)``
starts the same :math:`n` configurations in each bracket with the same budgets; in later
rounds it promotes
:math:`\lceil \frac{s_{\max}+1}{s+1} \eta^{s-i} \rceil \ge n_i` (rounded up, not down).
For other :math:`R` it has the same brackets and budgets, but its sizes use
:math:`\lceil 1 + \log_\eta R \rceil` in place of :math:`s_{\max} + 1` (more configurations).

Every bracket is :func:`~coursekit.tuning.halving.run_rungs` over configurations drawn by
:func:`~coursekit.tuning.trials.draw_configs`; each trial's ``info`` is
``{"bracket": s, "rung": i, "budget": r_i}``. numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from coursekit._params import (
    CallableConstraint,
    InstanceOf,
    Integral,
    Interval,
    Options,
    SequenceOf,
    result_record,
    validate_fields,
    validate_params,
)
from coursekit.tuning.halving import HalvingResult, run_rungs
from coursekit.tuning.trials import SearchResult, Trial, draw_configs

__all__ = ["Bracket", "HyperbandResult", "hyperband_schedule", "hyperband_search"]

_BUDGET = Interval(Integral, 1, None)
_ETA = Interval(Integral, 2, None)
_COUNTS = SequenceOf(_BUDGET, min_length=1, description="a non-empty sequence of ints >= 1")


@validate_fields({"s": [Interval(Integral, 0, None)], "sizes": [_COUNTS], "budgets": [_COUNTS]})
@dataclass(frozen=True)
class Bracket:
    """One bracket of Hyperband: round ``i`` trains ``sizes[i]`` configurations ``budgets[i]``."""

    s: int
    sizes: tuple[int, ...]
    budgets: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(self.sizes))
        object.__setattr__(self, "budgets", tuple(self.budgets))
        if not len(self.sizes) == len(self.budgets) == self.s + 1:
            raise ValueError(
                f"a bracket with s={self.s} has {self.s + 1} rounds, got sizes={self.sizes} "
                f"and budgets={self.budgets}"
            )

    @property
    def n_configs(self) -> int:
        """Configurations the bracket starts: :math:`n = n_0`."""
        return self.sizes[0]

    @property
    def cost(self) -> int:
        r""":math:`\sum_i n_i\, r_i`: the budget the bracket spends when no trial fails."""
        return sum(n * r for n, r in zip(self.sizes, self.budgets, strict=True))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@validate_params({"max_budget": [_BUDGET], "eta": [_ETA]})
def hyperband_schedule(max_budget: int, eta: int = 3) -> list[Bracket]:
    r"""Hyperband's brackets, :math:`s = s_{\max}, \dots, 0` (see the module's formulas).

    Integer arithmetic throughout (:math:`s_{\max}` is the largest :math:`s` with
    :math:`\eta^s \le R`), so :math:`R = 243, \eta = 3` gives :math:`s_{\max} = 5`, never the
    4 that ``floor(math.log(243, 3))`` gives.

    >>> [(b.s, b.sizes, b.budgets) for b in hyperband_schedule(9, eta=3)]
    [(2, (9, 3, 1), (1, 3, 9)), (1, (5, 1), (3, 9)), (0, (3,), (9,))]
    """
    R = max_budget
    s_max = 0
    while eta ** (s_max + 1) <= R:
        s_max += 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = _ceil_div((s_max + 1) * eta**s, s + 1)  # ceil(B/R * eta^s / (s+1))
        sizes = tuple(n // eta**i for i in range(s + 1))
        budgets = tuple(_ceil_div(R, eta ** (s - i)) for i in range(s + 1))
        brackets.append(Bracket(s, sizes, budgets))
    return brackets


@result_record
@dataclass
class HyperbandResult:
    """Every bracket of one Hyperband run (each a :class:`HalvingResult`) and its schedule."""

    brackets: list[HalvingResult] = field(default_factory=list)
    schedule: list[Bracket] = field(default_factory=list)
    mode: str = "min"

    @property
    def trials(self) -> list[Trial]:
        """Every evaluation, bracket after bracket, rung after rung."""
        return [t for b in self.brackets for t in b.trials]

    @property
    def best(self) -> Trial | None:
        """The completed trial with the best score in any bracket and round (as in the paper)."""
        return SearchResult(self.trials, self.mode).best

    @property
    def total_budget(self) -> float:
        """The sum of the budgets of every evaluation (epochs spent in all)."""
        return float(sum(t.info["budget"] for t in self.trials))


@validate_params(
    {
        "space": [
            InstanceOf(Mapping, "a non-empty dict of hyperparameters", lambda: {"a": [1, 2]})
        ],
        "objective": [CallableConstraint("a callable objective(params, budget) -> float")],
        "max_budget": [_BUDGET],
        "eta": [_ETA],
        "seed": [Interval(Integral, 0, None)],
        "mode": [Options(("min", "max"))],
    }
)
def hyperband_search(
    space: dict,
    objective: Callable[[dict, int], float],
    max_budget: int = 27,
    eta: int = 3,
    seed: int = 0,
    mode: str = "min",
) -> HyperbandResult:
    """Run every bracket of :func:`hyperband_schedule`, most aggressive first.

    Each bracket draws its own ``n`` configurations (one generator seeded by ``seed``, bracket
    after bracket) and runs successive halving over its rounds: the best
    :math:`\\lfloor n_i / \\eta \\rfloor` that completed go on (failed ones never do).

    >>> r = hyperband_search({"x": [0, 1, 2, 3]}, lambda p, b: abs(p["x"] - 2) + 1 / b, max_budget=9)
    >>> [[len(rung.trials) for rung in b.rungs] for b in r.brackets], r.total_budget
    ([[9, 3, 1], [5, 1], [3]], 78.0)
    """
    if not space:
        raise ValueError(f"space must name at least one hyperparameter, got {space!r}")
    rng = np.random.default_rng(seed)
    result = HyperbandResult(schedule=hyperband_schedule(max_budget, eta), mode=mode)
    index = 0
    for bracket in result.schedule:
        ran = run_rungs(
            draw_configs(space, bracket.n_configs, rng),
            objective,
            bracket.budgets,
            keep=lambda i, n, sizes=bracket.sizes: sizes[i + 1],
            mode=mode,
            first_index=index,
            info={"bracket": bracket.s},
        )
        result.brackets.append(ran)
        index += len(ran.trials)
    return result
