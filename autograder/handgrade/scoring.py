r"""The score of an answer, from the rubric items applied to it.

An answer to a question worth :math:`m` points with the set :math:`A` of items applied, item
:math:`i` worth :math:`\delta_i` (negative for a deduction), scores

.. math:: s = \min\Big(m,\ \max\big(0,\ \textstyle\sum_{i \in A} \delta_i\big)\Big)

and is not graded while :math:`A` is empty (an item worth 0, "no answer", grades it as 0).
The score is always within the cell's bounds :math:`[0, m]`, whatever the items are worth, so a
hand grade never exceeds the question's points. Editing :math:`\delta_i` changes :math:`s` of
every answer with :math:`i \in A`; the session writes each changed score to the gradebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from autograder.handgrade.records import RubricItem

__all__ = ["score"]


def score(applied: Iterable[str], items: Mapping[str, RubricItem], most: float) -> float | None:
    """The score of an answer with the items ``applied`` (ids into ``items``); None: ungraded.

    >>> from autograder.handgrade.records import RubricItem
    >>> items = {"i1": RubricItem("i1", "q1", "full answer", 2.0),
    ...          "i2": RubricItem("i2", "q1", "says what, not why", -1.0)}
    >>> score(["i1", "i2"], items, 2.0), score(["i2"], items, 2.0), score([], items, 2.0)
    (1.0, 0.0, None)
    """
    applied = [items[i] for i in applied if i in items]
    if not applied:
        return None
    return min(float(most), max(0.0, sum(i.points for i in applied)))
