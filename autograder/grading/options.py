"""The grading options: one typed record, read by the CLI, sent to workers, given to the step.

Every limit and switch of a grading run exists once, here, with its default. The command line
(``python -m autograder grade``) takes its defaults from these fields, ``grade.main`` takes a
``GradingOptions``, a worker receives it as JSON (:meth:`to_json`) and the sandboxed step is
configured from it (:meth:`from_json`); nothing else spells a limit. The sandbox's share
(memory, CPU time, processes) has its defaults where the sandbox declares its limits
(:class:`autograder.sandbox.base.Limits`, which the grading core may import and the sandbox never
imports back): each number is written once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from autograder.sandbox.base import Limits

__all__ = ["GradingOptions"]


@dataclass(frozen=True)
class GradingOptions:
    """Limits of one grading run, per submission unless said otherwise."""

    cell_timeout: int = 60  # seconds for one cell or one check
    notebook_timeout: int = 600  # seconds for the whole notebook
    memory_mb: int = Limits.memory_mb  # memory of one sandbox
    cpu_s: int = Limits.cpu_s  # CPU seconds of one sandbox
    processes: int = Limits.processes  # processes and threads of one sandbox
    grader_margin: int = 120  # seconds a worker may take beyond the notebook's limit

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"{item.name.replace('_', '-')} must be a positive whole number, got {value!r}"
                )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GradingOptions:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown grading options {unknown}")
        return cls(**data)

    def sandbox_limits(self) -> Limits:
        """The sandbox's share of these options (:class:`autograder.sandbox.base.Limits`)."""
        return Limits(memory_mb=self.memory_mb, cpu_s=self.cpu_s, processes=self.processes)
