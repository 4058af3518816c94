"""Who may do what on the grading page: the instructor and the TAs, and the actions they take.

One server serves the instructor and every named grader (TA), each through an address with a
token of their own (:mod:`~autograder.handgrade.server`); a token opens one
:class:`~autograder.handgrade.session.Session` with one :class:`Role`, and the session checks
every action against :data:`ALLOWED` before it reads or writes anything, so no route, present or
future, acts beyond its role.

================  ==========  ==================================================================
action            who         what it changes
================  ==========  ==================================================================
``item``          both        adds a rubric item (no score changes until it is applied)
``apply``         both        applies or removes an item on answers of the actor's share
``comment``       both        a comment on answers of the actor's share
``clear``         both        deletes the marks (items and comment) of answers of the share
``edit``          instructor  an item's points or description: re-scores every answer it is on
``delete``        instructor  deletes an item: re-scores every answer it was applied to
``resolve``       instructor  resolves a regrade request
``reveal``        instructor  shows students' ids instead of pseudonyms (this session only)
``reassign``      instructor  moves answers of a question to another grader's share
================  ==========  ==================================================================

Why these: a TA's decisions stay inside their share (a mark is one student's answer); whatever
reaches answers outside it (an item's points, an item's removal), undoes a decision made on
appeal (a regrade), breaks anonymity or moves work between graders is the instructor's.
A TA sees only their share and never a student's id, even on a server started with
``--reveal-names``.
"""

from __future__ import annotations

import enum

__all__ = ["ALLOWED", "Action", "Role", "check_allowed"]


class Role(enum.StrEnum):
    INSTRUCTOR = "instructor"  #: every action, every answer
    TA = "ta"  #: their share only, their share's marks only


class Action(enum.StrEnum):
    """The changes the JSON API makes: ``POST /api/<action>``, one session method each."""

    ITEM = "item"  #: add a rubric item
    APPLY = "apply"  #: apply an item to answers, or remove it
    COMMENT = "comment"
    CLEAR = "clear"  #: delete the marks of answers (ungraded again)
    EDIT = "edit"  #: edit an item (its points re-score every answer it is applied to)
    DELETE = "delete"  #: delete a rubric item (re-scores every answer it was on)
    RESOLVE = "resolve"  #: resolve a regrade request
    REVEAL = "reveal"  #: show students' ids
    REASSIGN = "reassign"  #: move answers to another grader

    @property
    def words(self) -> str:
        """What the action does, for a refusal."""
        return WORDS[self]


WORDS = {
    Action.ITEM: "add a rubric item",
    Action.APPLY: "apply a rubric item",
    Action.COMMENT: "comment on an answer",
    Action.CLEAR: "delete an answer's marks",
    Action.EDIT: "edit a rubric item",
    Action.DELETE: "delete a rubric item",
    Action.RESOLVE: "resolve a regrade request",
    Action.REVEAL: "reveal students' names",
    Action.REASSIGN: "reassign answers to another grader",
}

EVERYONE = frozenset(Role)
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.ITEM: EVERYONE,
    Action.APPLY: EVERYONE,
    Action.COMMENT: EVERYONE,
    Action.CLEAR: EVERYONE,
    Action.EDIT: frozenset({Role.INSTRUCTOR}),
    Action.DELETE: frozenset({Role.INSTRUCTOR}),
    Action.RESOLVE: frozenset({Role.INSTRUCTOR}),
    Action.REVEAL: frozenset({Role.INSTRUCTOR}),
    Action.REASSIGN: frozenset({Role.INSTRUCTOR}),
}


def check_allowed(action: Action, role: Role, who: str) -> None:
    """Return if ``role`` may take ``action``; else PermissionError naming both."""
    if role not in ALLOWED[action]:
        raise PermissionError(f"{who} grades as a TA: only the instructor may {action.words}")
