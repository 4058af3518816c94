r"""Stable pseudonyms: graders see ``anon-7KQ3ZP``, not the student's id, until names are revealed.

A student's pseudonym for an assignment is

.. math:: \mathrm{anon}\text{-}\mathrm{base32}\big(\mathrm{HMAC}_k(a \,\|\, 0 \,\|\, s)\big)_{1..6},
          \qquad k = \mathrm{HMAC}_{\mathrm{secret}}(\texttt{"handgrade pseudonyms"})

with the course's secret (:func:`autograder.grading.state.course_secret`): the same on every start and
for every grader, different per assignment, and not computable from the id without the secret.
The grading server holds only :math:`k`, never the secret itself. Six base32 characters are 30
bits; if two students of a class ever collide, every pseudonym of the class is lengthened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Pseudonyms", "pseudonym_key"]


def pseudonym_key(course: Path) -> bytes:
    """:math:`k`, derived from the course's secret (made on first use)."""
    from autograder.grading.state import course_secret

    return hmac.new(course_secret(course), b"handgrade pseudonyms", hashlib.sha256).digest()


def _code(key: bytes, assignment: str, student: str) -> str:
    digest = hmac.new(key, f"{assignment}\0{student}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()


class Pseudonyms:
    """Both directions for one class: student id <-> pseudonym."""

    def __init__(self, key: bytes, assignment: str, students: Iterable[str]):
        students = sorted(set(students))
        codes = {s: _code(key, assignment, s) for s in students}
        length = 6
        while len({c[:length] for c in codes.values()}) < len(codes):
            length += 2
        self.of = {s: f"anon-{c[:length]}" for s, c in codes.items()}
        self.student = {p: s for s, p in self.of.items()}

    def __getitem__(self, student: str) -> str:
        return self.of[student]
