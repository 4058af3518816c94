r"""Claims a lesson makes about its own results, checked when the book builds.

A lesson that writes "L2 closes the gap between training and validation loss" computes the
numbers that say so and states the claim in a hidden cell (tag ``remove-cell``)::

    from coursekit.claims import claim

    claim("L2 closes the train/validation gap", gap_l2 < 0.5 * gap_none,
          gap_none=gap_none, gap_l2=gap_l2)

A claim that does not hold raises :class:`ClaimFailed`, naming the claim and the numbers; the
book is built with ``--warningiserror`` and cells may not raise, so a false claim fails the
build. The numbers are printed with the claim so the failure says by how much it missed.

**Record mode** (the claim-robustness check, ``book/check_claims.py``): with the environment
variable ``COURSEKIT_CLAIMS_RECORD`` set to a file path, :func:`claim` never raises for a
false claim; it appends one JSON line ``{"text", "holds", "numbers"}`` to that file and the
lesson runs on, so one run of a lesson names *every* claim that does not hold under the
conditions it ran in (a CPU kernel path, a thread count, a seed).
"""

from __future__ import annotations

import json
import math
import numbers
import os

from coursekit._params import Boolean, InstanceOf, validate_params

__all__ = ["RECORD_ENV", "ClaimFailed", "claim"]

#: The environment variable that switches :func:`claim` to record mode (a file path).
RECORD_ENV = "COURSEKIT_CLAIMS_RECORD"


class ClaimFailed(AssertionError):
    """A lesson's claim about its own results is false for the numbers it computed."""


def _shown(value) -> str:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):.4g}" if math.isfinite(float(value)) else str(float(value))
    return repr(value)


@validate_params(
    {"text": [InstanceOf(str, "the claim's text (str)", lambda: "a claim")], "holds": [Boolean()]}
)
def claim(text: str, holds, **numbers_) -> None:
    """Check that ``holds`` is true; else raise :class:`ClaimFailed` naming ``text``.

    ``holds`` must be a plain bool (or numpy bool): a float, an array or ``None`` is a bug in
    the lesson, not a claim, and raises ``TypeError`` (an ``InvalidParameterError``).
    Keyword arguments are the numbers the
    claim rests on; they appear in the failure message.
    """
    if not text.strip():
        raise ValueError(f"text must be the claim's text, got {text!r}")
    record = os.environ.get(RECORD_ENV)
    if record:
        numbers_shown = {k: _shown(v) for k, v in numbers_.items()}
        line = {"text": text, "holds": bool(holds), "numbers": numbers_shown}
        with open(record, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
        return
    if not bool(holds):
        detail = ", ".join(f"{k}={_shown(v)}" for k, v in numbers_.items())
        raise ClaimFailed(f"the lesson claims {text!r}, but it does not hold ({detail})")
