"""The typed records of hand grading, and their JSON form (one ``to_dict``/``from_dict`` each).

- :class:`RubricItem`: one reusable decision for a question: a description and a points delta;
- :class:`Mark`: what a grader decided for one student's answer: the items applied, a comment;
- :class:`AuditEntry`: one change of a score or comment: who, when, old, new and why
  (:class:`Why`);
- :class:`RegradeRequest`: a student's request, open until a grader resolves it
  (:class:`RequestStatus`).

A record read from disk is checked field by field; a bad value raises ``ValueError`` naming it.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from dataclasses import dataclass

__all__ = [
    "AuditEntry",
    "Mark",
    "RegradeRequest",
    "RequestStatus",
    "RubricItem",
    "Why",
    "check_grader",
    "now",
]

GRADER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_DESCRIPTION = 300
MAX_TEXT = 5000


def now() -> str:
    """The time, ISO-8601 in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def check_grader(name) -> str:
    """A grader's name: 1-64 letters, digits, ``.``, ``_``, ``@``, ``-``; else ValueError."""
    if not isinstance(name, str) or GRADER.fullmatch(name) is None:
        from autograder.names import printable

        raise ValueError(
            f"a grader's name must be 1-64 letters, digits, '.', '_', '@' or '-', got "
            f"{printable(repr(name))[:80]}"
        )
    return name


def check_text(value, name: str, most: int, *, empty: bool = True) -> str:
    """``value`` if it is a string of at most ``most`` characters (non-blank unless ``empty``)."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > most:
        raise ValueError(f"{name} must be at most {most} characters, got {len(value)}")
    if not empty and not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def check_points(value, most: float) -> float:
    """A points delta: a finite number in ``[-most, most]``; else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"points must be a number, got {value!r:.40}")
    if not -most <= value <= most:
        raise ValueError(f"points must be in [-{most:g}, {most:g}] (the question's), got {value!r}")
    return float(value)


class Why(enum.StrEnum):
    """Why a score or comment changed (the audit log's reason)."""

    ITEM_APPLIED = "item applied"
    ITEM_REMOVED = "item removed"
    ITEM_POINTS = "item's points edited"  #: every answer the item was applied to
    COMMENT = "comment"
    REGRADE = "regrade request resolved"
    ITEM_DELETED = "item deleted"  #: every answer the item was applied to
    CLEARED = "marks deleted"  #: the answer's items and comment, ungraded again
    REASSIGNED = "reassigned"  #: the answer moved to another grader (its score unchanged)


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class RubricItem:
    """A rubric item of one question: applied to an answer, it adds ``points`` (may be < 0)."""

    id: str
    question: str
    description: str
    points: float

    def to_dict(self) -> dict:
        return {"id": self.id, "question": self.question, "description": self.description,
                "points": self.points}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> RubricItem:
        return cls(
            id=str(data["id"]),
            question=str(data["question"]),
            description=check_text(data["description"], "description", MAX_DESCRIPTION),
            points=float(data["points"]),
        )


@dataclass(frozen=True)
class Mark:
    """One student's answer to one question as graded: items applied and a comment."""

    student: str
    question: str
    items: tuple[str, ...] = ()
    comment: str = ""
    grader: str = ""  #: who changed it last
    at: str = ""
    answer: str = ""  #: digest of the answer as it was graded (a resubmission changes it)

    @property
    def graded(self) -> bool:
        """Graded once an item is applied (an item worth 0 grades an answer as 0)."""
        return bool(self.items)

    def to_dict(self) -> dict:
        return {"student": self.student, "question": self.question, "items": list(self.items),
                "comment": self.comment, "grader": self.grader, "at": self.at,
                "answer": self.answer}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Mark:
        return cls(
            student=str(data["student"]),
            question=str(data["question"]),
            items=tuple(str(i) for i in data.get("items", ())),
            comment=check_text(data.get("comment", ""), "comment", MAX_TEXT),
            grader=str(data.get("grader", "")),
            at=str(data.get("at", "")),
            answer=str(data.get("answer", "")),
        )


@dataclass(frozen=True)
class AuditEntry:
    """One change: ``old``/``new`` are the cell's hand score (None: not graded)."""

    who: str
    when: str
    student: str
    question: str
    old: float | None
    new: float | None
    why: Why
    detail: str = ""  #: the item's description, the comment, the request's note

    def to_dict(self) -> dict:
        return {"who": self.who, "when": self.when, "student": self.student,
                "question": self.question, "old": self.old, "new": self.new,
                "why": self.why.value, "detail": self.detail}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> AuditEntry:
        return cls(
            who=str(data["who"]),
            when=str(data["when"]),
            student=str(data["student"]),
            question=str(data["question"]),
            old=None if data.get("old") is None else float(data["old"]),
            new=None if data.get("new") is None else float(data["new"]),
            why=Why(data["why"]),
            detail=str(data.get("detail", "")),
        )


@dataclass(frozen=True)
class RegradeRequest:
    """A student's request to look again at one answer."""

    id: str
    student: str
    question: str
    why: str
    opened: str
    score_then: float | None = None  #: the hand score when it was opened
    status: RequestStatus = RequestStatus.OPEN
    resolved_by: str = ""
    resolved_at: str = ""
    note: str = ""  #: the grader's answer
    score_after: float | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "student": self.student, "question": self.question,
                "why": self.why, "opened": self.opened, "score_then": self.score_then,
                "status": self.status.value, "resolved_by": self.resolved_by,
                "resolved_at": self.resolved_at, "note": self.note,
                "score_after": self.score_after}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> RegradeRequest:
        def score(key):
            return None if data.get(key) is None else float(data[key])

        return cls(
            id=str(data["id"]),
            student=str(data["student"]),
            question=str(data["question"]),
            why=check_text(data["why"], "why", MAX_TEXT),
            opened=str(data["opened"]),
            score_then=score("score_then"),
            status=RequestStatus(data.get("status", "open")),
            resolved_by=str(data.get("resolved_by", "")),
            resolved_at=str(data.get("resolved_at", "")),
            note=check_text(data.get("note", ""), "note", MAX_TEXT),
            score_after=score("score_after"),
        )
