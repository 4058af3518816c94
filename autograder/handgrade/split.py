r"""The deterministic split of one question's answers between graders.

With graders :math:`g_0, \dots, g_{k-1}` (in the order the instructor named them) and the
question's answers sorted by a key that hides who wrote them,

.. math:: h(s) = \mathrm{HMAC}_k(q \,\|\, 0 \,\|\, s), \qquad
          \text{answer at rank } r \text{ of } h \ \mapsto\ g_{r \bmod k}

each grader gets :math:`\lfloor n/k \rfloor` or :math:`\lceil n/k \rceil` answers, a different
mix for each question, the same on every start and for every grader's server. A student who
submits later can move answers between graders: the split is of the class as it is now.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

__all__ = ["split"]


def split(
    key: bytes, question: str, students: Iterable[str], graders: Sequence[str]
) -> dict[str, str]:
    """student -> the grader of their answer to ``question``."""
    if not graders:
        raise ValueError("a split needs at least one grader")

    def rank(student: str) -> bytes:
        return hmac.new(key, f"{question}\0{student}".encode(), hashlib.sha256).digest()

    ordered = sorted(set(students), key=rank)
    return {s: graders[r % len(graders)] for r, s in enumerate(ordered)}
