"""Every hand-grading action, from the rubric store to nbgrader's gradebook.

A :class:`Session` is one grader's view of one assignment: the hand-graded questions, every
student's answer (:mod:`~autograder.handgrade.answers`), the grader's share of each question
(:mod:`~autograder.handgrade.split`), pseudonyms instead of ids unless names are revealed
(:mod:`~autograder.handgrade.pseudonyms`). Each action

1. changes the store under its lock (:meth:`Store.change`): an item added or edited, an item
   applied to or removed from answers, a comment, a regrade request resolved;
2. recomputes the score of every answer it touched (:func:`~autograder.handgrade.scoring.score`;
   editing an item's points touches every answer it is applied to, whoever graded it);
3. writes each changed score to the gradebook as the cell's ``manual_score`` (None and
   ``needs_manual_grade`` again when no item is left) and the comment as its
   ``manual_comment``, in one commit, through nbgrader's API, so formgrader, ``export``,
   ``feedback`` and ``report`` show it;
4. records one :class:`~autograder.handgrade.records.AuditEntry` per answer whose score or
   comment changed: who, when, the old score (the gradebook's), the new one, why.

The gradebook is written before the store: if its commit fails, the store is left unchanged.
Answers are addressed by pseudonym; an answer outside the grader's share is refused. Every
action is checked against the session's :class:`~autograder.handgrade.roles.Role` first
(:data:`~autograder.handgrade.roles.ALLOWED`): a TA's session is refused, with
``PermissionError``, whatever reaches beyond their share (editing or deleting an item,
resolving a regrade, revealing names, reassigning answers). :meth:`Session.as_grader` gives a
TA's session over the same gradebook and answers (one server serves every grader).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import replace
from pathlib import Path

from autograder.grading.gradebook import quiet
from autograder.handgrade.records import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    AuditEntry,
    Mark,
    RequestStatus,
    RubricItem,
    Why,
    check_grader,
    check_points,
    check_text,
    now,
)
from autograder.handgrade.roles import ALLOWED, Action, Role, check_allowed
from autograder.handgrade.scoring import score
from autograder.handgrade.store import Store

__all__ = ["INSTRUCTOR", "Session", "hand_graded_questions", "name_graders"]

INSTRUCTOR = "instructor"  #: who acts when no ``--grader`` is given (sees every answer)


def hand_graded_questions(course: Path, assignment: str) -> list[dict]:
    """The assignment's cells graded by a person (``graded_cells`` entries with ``manual``)."""
    from autograder.grading.authoring import graded_cells

    source = Path(course) / "source" / assignment / f"{assignment}.ipynb"
    if not source.is_file():
        raise ValueError(
            f"{assignment!r} is not released in {course}: run "
            f"`python -m autograder release {assignment}` first"
        )
    found = [c for c in graded_cells(course, assignment) if c["manual"]]
    if not found:
        raise ValueError(f"{assignment!r} has no question graded by hand")
    return found


class Session:
    """One grader's hand-grading session on one assignment (thread-safe: one lock)."""

    def __init__(
        self,
        course: Path,
        assignment: str,
        *,
        db_url: str | None = None,
        grader: str | None = None,
        reveal: bool = False,
        key: bytes | None = None,
    ):
        from nbgrader.api import Gradebook, MissingEntry

        from autograder.config import COURSE_ID, default_db_url
        from autograder.grading.gradebook import check_exists
        from autograder.handgrade.answers import read_answers
        from autograder.handgrade.pseudonyms import Pseudonyms, pseudonym_key

        self.course, self.assignment = Path(course).resolve(), assignment
        self.lock = threading.RLock()
        self.questions = {c["grade_id"]: c for c in hand_graded_questions(self.course, assignment)}
        self.store = Store(self.course, assignment)
        self.key = key if key is not None else pseudonym_key(self.course)
        self.grader = self._check_grader(grader)
        self.role = Role.INSTRUCTOR if grader is None else Role.TA
        self.reveal = bool(reveal) and self.role is Role.INSTRUCTOR  # a TA never sees ids
        url = db_url or default_db_url(self.course)
        check_exists(url)
        with quiet():
            self.gb = Gradebook(url, course_id=COURSE_ID)
            try:
                submissions = self.gb.find_assignment(assignment).submissions
            except MissingEntry:
                self.gb.close()
                raise ValueError(f"the gradebook has no assignment {assignment!r}") from None
            self.cells = {}  # (question, student) -> (Grade id, Comment id or None)
            self.manual = {}  # (question, student) -> manual score, as last read or written
            self.remarks = {}  # (question, student) -> manual comment, as last read or written
            for submission in submissions:
                student = submission.student.id
                for nb in submission.notebooks:
                    comments = {c.name: c for c in nb.comments}
                    for grade in nb.grades:
                        key = (grade.name, student)
                        if grade.name in self.questions and key not in self.cells:
                            comment = comments.get(grade.name)
                            self.cells[key] = (grade.id, comment.id if comment else None)
                            self.manual[key] = grade.manual_score
                            self.remarks[key] = comment.manual_comment if comment else None
            self.gb.db.expunge_all()  # from here on, plain rows: nothing the ORM tracks
        self.students = sorted({s for _, s in self.cells})
        self._owners: dict[tuple, dict[str, str]] = {}
        self.names = Pseudonyms(self.key, assignment, self.students)
        self.answers = read_answers(self.course, assignment, self.students, list(self.questions))

    def _check_grader(self, grader: str | None) -> str | None:
        if grader is None:
            return None
        check_grader(grader)
        graders = self.store.read().graders
        if grader not in graders:
            team = ", ".join(graders) or "none yet"
            raise ValueError(
                f"{grader!r} is not one of {self.assignment}'s graders ({team}): the "
                f"instructor names them with `python -m autograder handgrade {self.assignment} "
                "--graders NAME,NAME`"
            )
        return grader

    def as_grader(self, grader: str) -> Session:
        """A TA's session over this one's gradebook, answers and lock (names never shown)."""
        ta = copy.copy(self)
        ta.grader = self._check_grader(grader)
        ta.role, ta.reveal = Role.TA, False
        return ta

    def close(self) -> None:
        self.gb.close()

    def warm_up(self) -> None:
        """Render every question's answers and make one gradebook round trip, so that every
        module an action needs is imported now (a server that drops root can no longer read
        the interpreter's files if they are root's)."""
        with self.lock:
            for question in self.questions:
                self.view(question)
            with quiet():
                self._reread(list(self.cells)[:1])
                self._write([], [])

    # -- who sees what -------------------------------------------------------------------------

    @property
    def who(self) -> str:
        return self.grader or INSTRUCTOR

    def owners(self, question: str, state) -> dict[str, str]:
        """student -> grader of ``question``: the split (everyone's is the instructor's without
        graders), then the answers the instructor reassigned to a grader still named."""
        from autograder.handgrade.split import split

        graders = state.graders
        key = (question, tuple(graders))
        if key not in self._owners:
            students = [s for q, s in self.cells if q == question]
            self._owners[key] = (split(self.key, question, students, graders) if graders
                                 else dict.fromkeys(students, INSTRUCTOR))  # fmt: skip
        owners = self._owners[key]
        moved = {s: g for (q, s), g in state.assigned.items()
                 if q == question and g in graders and s in owners}  # fmt: skip
        return {**owners, **moved} if moved else owners

    def share(self, question: str, state) -> list[str]:
        """The students whose answer to ``question`` this grader sees."""
        owners = self.owners(question, state)
        return sorted((s for s, g in owners.items() if self.grader is None or g == self.grader),
                      key=self.names.__getitem__)  # fmt: skip

    def _may(self, action: Action) -> None:
        check_allowed(action, self.role, repr(self.who))

    def question_info(self, question) -> dict:
        """The question's ``graded_cells`` entry; ValueError naming the hand-graded ones."""
        if question not in self.questions:
            known = ", ".join(self.questions)
            raise ValueError(f"{question!r} is not a hand-graded question (those are: {known})")
        return self.questions[question]

    def _students(self, question: str, answers, state) -> list[str]:
        """The students behind pseudonyms ``answers``, each in this grader's share."""
        if not isinstance(answers, list) or not answers:
            raise ValueError("answers must be a non-empty list of pseudonyms")
        mine = set(self.share(question, state))
        students = []
        for pid in answers:
            student = self.names.student.get(pid) if isinstance(pid, str) else None
            if student is None or student not in mine:
                raise ValueError(f"no answer {str(pid)[:40]!r} in your share of {question}")
            students.append(student)
        return students

    # -- what the page shows -------------------------------------------------------------------

    def _member(self, question: str, student: str, state) -> dict:
        mark = state.marks.get((question, student)) or Mark(student, question)
        most = self.questions[question]["points"]
        open_requests = [r.id for r in state.requests.values()
                         if r.student == student and r.question == question
                         and r.status is RequestStatus.OPEN]  # fmt: skip
        return {
            "id": self.names[student],
            "name": student if self.reveal else None,
            "score": score(mark.items, state.items, most),
            "items": list(mark.items),
            "comment": mark.comment,
            "by": mark.grader,
            "grader": self.owners(question, state).get(student),  #: whose share it is in
            "requests": open_requests,
            # the gradebook's manual score: another value was set elsewhere (formgrader)
            "gradebook": self.manual[(question, student)],
            # graded, then resubmitted and regraded: the answer is not the one graded
            "changed": bool(mark.answer) and mark.answer != self.answers[question][student].digest,
        }

    def _reread(self, keys) -> None:
        """Read again the manual score and comment of each (question, student) into
        :attr:`manual` and :attr:`remarks` (formgrader may have written them meanwhile): two
        column-only queries per 500 cells, no ORM objects."""
        from nbgrader.api import Comment, Grade
        from sqlalchemy import select

        keys = list(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            grades = {self.cells[k][0]: k for k in chunk}
            comments = {self.cells[k][1]: k for k in chunk if self.cells[k][1] is not None}
            query = select(Grade.id, Grade.manual_score).where(Grade.id.in_(list(grades)))
            for row_id, value in self.gb.db.execute(query):
                self.manual[grades[row_id]] = value
            if comments:
                query = select(Comment.id, Comment.manual_comment).where(
                    Comment.id.in_(list(comments))
                )
                for row_id, value in self.gb.db.execute(query):
                    self.remarks[comments[row_id]] = value

    def _write(self, grades: list[dict], comments: list[dict]) -> None:
        """One transaction through the gradebook's one writer: UPDATEs by primary key
        (``executemany``), then the commit."""
        from autograder.grading.gradebook_writer import write_hand_marks

        write_hand_marks(
            self.gb,
            {g["key"]: g["score"] for g in grades},
            {c["key"]: c["text"] for c in comments},
        )

    def progress(self, state) -> dict:
        """question -> grader -> [graded, total]."""
        table = {}
        for q, info in self.questions.items():
            row: dict[str, list[int]] = {}
            for student, g in self.owners(q, state).items():
                done = row.setdefault(g, [0, 0])
                done[1] += 1
                mark = state.marks.get((q, student))
                done[0] += int(score(mark.items, state.items, info["points"]) is not None
                               if mark else 0)  # fmt: skip
            table[q] = row
        return table

    def _items(self, question: str, state) -> list[dict]:
        uses: dict[str, int] = {}
        for (q, _), mark in state.marks.items():
            if q == question:
                for i in mark.items:
                    uses[i] = uses.get(i, 0) + 1
        return [{**i.to_dict(), "uses": uses.get(i.id, 0)} for i in state.items_of(question)]

    def _requests(self, question: str, state) -> list[dict]:
        mine = set(self.share(question, state))
        shown = []
        for r in state.requests.values():
            if r.question == question and r.student in mine:
                entry = r.to_dict()
                entry["student"] = r.student if self.reveal else None
                entry["answer"] = self.names[r.student]
                shown.append(entry)
        return shown

    def view(self, question: str) -> dict:
        """Everything the page shows for ``question`` (this grader's share, grouped)."""
        with self.lock:
            info = self.question_info(question)
            state = self.store.read()
            mine = self.share(question, state)
            with quiet():
                self._reread([(question, s) for s in mine])
            groups: dict[str, list[str]] = {}
            for student in mine:
                groups.setdefault(self.answers[question][student].key, []).append(student)
            ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0] != "", kv[0]))
            return {
                "assignment": self.assignment,
                "grader": self.who,
                "role": self.role.value,
                "allowed": [a.value for a in Action if self.role in ALLOWED[a]],
                "reveal": self.reveal,
                "graders": state.graders,
                "questions": [{"id": q, "points": c["points"]} for q, c in self.questions.items()],
                "question": {"id": question, "points": info["points"], "rubric": info["rubric"]},
                "items": self._items(question, state),
                "groups": [
                    {
                        "empty": key == "",
                        "html": self.answers[question][members[0]].html,
                        "members": [self._member(question, s, state) for s in members],
                    }
                    for key, members in ordered
                ],
                "requests": self._requests(question, state),
                "progress": self.progress(state),
            }

    def _delta(self, question: str, students, state) -> dict:
        """What an action changed, for the page to patch in place."""
        return {
            "items": self._items(question, state),
            "members": [self._member(question, s, state) for s in students],
            "requests": self._requests(question, state),
            "progress": self.progress(state),
        }

    # -- actions -------------------------------------------------------------------------------

    def _commit(self, state, before: dict, why: Why, detail: str) -> None:
        """Write to the gradebook every answer whose score or comment differs from ``before``
        ((question, student) -> Mark or None), and audit each."""
        changed, grades, comments = [], [], []
        scores, remarks = {}, {}
        with quiet():
            try:
                self._reread(before)
                for (q, student), old_mark in before.items():
                    key = (q, student)
                    mark = state.marks.get(key) or Mark(student, q)
                    new = score(mark.items, state.items, self.questions[q]["points"])
                    old = self.manual[key]
                    old_comment = (old_mark.comment if old_mark else "") or ""
                    grade_id, comment_id = self.cells[key]
                    if old != new:
                        grades.append({"key": grade_id, "score": new, "pending": new is None})
                        scores[key] = new
                    if comment_id is not None and (self.remarks[key] or "") != mark.comment:
                        comments.append({"key": comment_id, "text": mark.comment or None})
                        remarks[key] = mark.comment or None
                    if old != new or old_comment != mark.comment:
                        changed.append(AuditEntry(self.who, now(), student, q, old, new, why,
                                                  detail))  # fmt: skip
                self._write(grades, comments)
            except Exception:
                self.gb.db.rollback()
                raise
        self.manual.update(scores)
        self.remarks.update(remarks)
        state.audit.extend(changed)

    def add_item(self, question: str, description, points) -> dict:
        self._may(Action.ITEM)
        with self.lock:
            info = self.question_info(question)
            check_text(description, "description", MAX_DESCRIPTION, empty=False)
            points = check_points(points, info["points"])
            with self.store.change() as state:
                item = RubricItem(state.new_id("i"), question, description.strip(), points)
                state.items[item.id] = item
                return self._delta(question, [], state)

    def _item(self, item_id, state) -> RubricItem:
        item = state.items.get(item_id) if isinstance(item_id, str) else None
        if item is None:
            raise ValueError(f"no rubric item {str(item_id)[:40]!r}")
        return item

    def edit_item(self, item_id, *, description=None, points=None) -> dict:
        """Change an item; a new ``points`` re-scores every answer it is applied to."""
        self._may(Action.EDIT)
        with self.lock, self.store.change() as state:
            item = self._item(item_id, state)
            most = self.questions[item.question]["points"]
            if description is not None:
                check_text(description, "description", MAX_DESCRIPTION, empty=False)
                item = replace(item, description=description.strip())
            if points is not None:
                item = replace(item, points=check_points(points, most))
            affected = {k: m for k, m in state.marks.items() if item.id in m.items}
            state.items[item.id] = item
            self._commit(state, affected, Why.ITEM_POINTS,
                         f"{item.description} ({item.points:+g})")  # fmt: skip
            return self._delta(item.question, [s for _, s in affected], state)

    def apply(self, question: str, item_id, answers, on) -> dict:
        """Apply (``on``) or remove an item on the answers (one group: one decision)."""
        self._may(Action.APPLY)
        if not isinstance(on, bool):
            raise ValueError(f"on must be true or false, got {on!r:.20}")
        with self.lock:
            self.question_info(question)
            with self.store.change() as state:
                item = self._item(item_id, state)
                if item.question != question:
                    raise ValueError(f"rubric item {item.id} belongs to {item.question}")
                students = self._students(question, answers, state)
                before = {(question, s): state.marks.get((question, s)) for s in students}
                for s in students:
                    mark = state.marks.get((question, s)) or Mark(s, question)
                    items = [i for i in mark.items if i != item.id] + ([item.id] if on else [])
                    state.marks[(question, s)] = replace(
                        mark, items=tuple(items), grader=self.who, at=now(),
                        answer=self.answers[question][s].digest,
                    )  # fmt: skip
                why = Why.ITEM_APPLIED if on else Why.ITEM_REMOVED
                self._commit(state, before, why, f"{item.description} ({item.points:+g})")
                return self._delta(question, students, state)

    def comment(self, question: str, answers, text) -> dict:
        self._may(Action.COMMENT)
        with self.lock:
            self.question_info(question)
            check_text(text, "comment", MAX_TEXT)
            with self.store.change() as state:
                students = self._students(question, answers, state)
                before = {(question, s): state.marks.get((question, s)) for s in students}
                for s in students:
                    mark = state.marks.get((question, s)) or Mark(s, question)
                    state.marks[(question, s)] = replace(
                        mark, comment=text.strip(), grader=self.who, at=now(),
                        answer=self.answers[question][s].digest,
                    )  # fmt: skip
                self._commit(state, before, Why.COMMENT, text.strip()[:200])
                return self._delta(question, students, state)

    def resolve(self, request_id, note) -> dict:
        """Resolve a regrade request, with a note to the student (the instructor's)."""
        self._may(Action.RESOLVE)
        check_text(note, "note", MAX_TEXT, empty=False)
        with self.lock, self.store.change() as state:
            request = state.requests.get(request_id) if isinstance(request_id, str) else None
            if request is None:
                raise ValueError(f"no regrade request {str(request_id)[:40]!r}")
            if request.status is RequestStatus.RESOLVED:
                raise ValueError(f"regrade request {request.id} is resolved already")
            q = request.question
            self._students(q, [self.names[request.student]], state)
            mark = state.marks.get((q, request.student)) or Mark(request.student, q)
            after = score(mark.items, state.items, self.questions[q]["points"])
            state.requests[request.id] = replace(
                request, status=RequestStatus.RESOLVED, resolved_by=self.who,
                resolved_at=now(), note=note.strip(), score_after=after,
            )  # fmt: skip
            state.audit.append(AuditEntry(self.who, now(), request.student, q,
                                          request.score_then, after, Why.REGRADE,
                                          f"{request.id}: {note.strip()[:200]}"))  # fmt: skip
            return self._delta(q, [request.student], state)

    def delete_item(self, item_id) -> dict:
        """Delete a rubric item: every answer it was applied to is re-scored without it (an
        answer left with no item is ungraded again), each change audited."""
        self._may(Action.DELETE)
        with self.lock, self.store.change() as state:
            item = self._item(item_id, state)
            affected = {k: m for k, m in state.marks.items() if item.id in m.items}
            for key, mark in affected.items():
                state.marks[key] = replace(mark, items=tuple(i for i in mark.items
                                                             if i != item.id))  # fmt: skip
            del state.items[item.id]
            self._commit(state, affected, Why.ITEM_DELETED,
                         f"{item.description} ({item.points:+g})")  # fmt: skip
            delta = self._delta(item.question, [s for _, s in affected], state)
            delta["deleted"] = item.id
            return delta

    def clear(self, question: str, answers) -> dict:
        """Delete the marks of answers of this grader's share: no item, no comment, ungraded."""
        self._may(Action.CLEAR)
        with self.lock:
            self.question_info(question)
            with self.store.change() as state:
                students = self._students(question, answers, state)
                before = {(question, s): state.marks.get((question, s)) for s in students}
                for s in students:
                    state.marks.pop((question, s), None)
                self._commit(state, before, Why.CLEARED, "")
                return self._delta(question, students, state)

    def set_reveal(self, reveal) -> dict:
        """Show students' ids (or pseudonyms again) on this session's pages."""
        self._may(Action.REVEAL)
        if not isinstance(reveal, bool):
            raise ValueError(f"reveal must be true or false, got {reveal!r:.20}")
        with self.lock:
            self.reveal = reveal
            return {"reveal": reveal}

    def reassign(self, question: str, answers, grader) -> dict:
        """Move answers of ``question`` to ``grader``'s share (one of the graders named);
        recorded in the store and, for each answer that moved, in the audit log."""
        self._may(Action.REASSIGN)
        with self.lock:
            self.question_info(question)
            with self.store.change() as state:
                if not isinstance(grader, str) or grader not in state.graders:
                    team = ", ".join(state.graders) or "none"
                    raise ValueError(f"no grader {str(grader)[:64]!r} (the graders: {team})")
                students = self._students(question, answers, state)
                owners = self.owners(question, state)
                most = self.questions[question]["points"]
                for s in students:
                    if owners[s] == grader:
                        continue
                    state.assigned[(question, s)] = grader
                    mark = state.marks.get((question, s))
                    kept = score(mark.items, state.items, most) if mark else None
                    state.audit.append(AuditEntry(self.who, now(), s, question, kept, kept,
                                                  Why.REASSIGNED,
                                                  f"{owners[s]} -> {grader}"))  # fmt: skip
                return self._delta(question, students, state)


def name_graders(course: Path, assignment: str, graders, who: str = INSTRUCTOR) -> list[str]:
    """Set the graders who split ``assignment``'s questions (in this order); return them."""
    graders = [check_grader(g) for g in graders]
    if len(set(graders)) != len(graders):
        raise ValueError(f"a grader is named twice in {graders}")
    if INSTRUCTOR in graders:
        raise ValueError(f"{INSTRUCTOR!r} is the name of the session without --grader")
    with Store(course, assignment).change() as state:
        state.graders = graders
    return graders
