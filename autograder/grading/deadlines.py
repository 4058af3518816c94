r"""Due dates, extensions and the late policy of each assignment, and the penalty they give.

The policy lives in the course folder, ``C/autograder_course.json``, one record per assignment
(:class:`AssignmentPolicy`): the due date (ISO-8601 *with* a time zone: a naive time is refused,
since "23:59" means a different instant on the grader's machine and the students'), the
penalty per started day late as a fraction of the assignment's points, a cap on the total
penalty (a fraction of the points, default 1) and per-student extensions (a later due date).

.. math:: \mathrm{penalty} = \min\bigl(f \cdot P \cdot \lceil (t - d) / 24\,\mathrm{h} \rceil,\;
          c \cdot P,\; \mathrm{earned}\bigr)

with :math:`f` the fraction per day, :math:`P` the points, :math:`t` the submission time,
:math:`d` the student's due date and :math:`c` the cap: one second late is one started day. No
late policy is ``f = 0``; "late means zero" is ``f = 1``.

The rule is applied when a grade is *read* (:mod:`autograder.grading.gradebook`), to the gradebook's
current scores and the policy as it is now: nothing here is frozen at grading time, so an
extension, a hand grade or a new due date changes every page and export at once, whatever the
order of the commands. The same rule reaches nbgrader's own tools through :class:`LatePenalty`,
a ``LateSubmissionPlugin`` (``c.AssignLatePenalties.plugin_class =
"autograder.grading.deadlines.LatePenalty"``). Submission times are nbgrader's ``timestamp.txt``
(:func:`read_timestamp`, :func:`write_timestamp`); a submission an LMS marked late without
saying when carries :data:`LATE_MARK` instead, and counts as submitted one second after the
student's due date *as it is when read* (:func:`submission_time`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autograder.config import COURSE_ID, DEFAULT_COURSE, default_db_url

__all__ = [
    "LATE_MARK",
    "AssignmentPolicy",
    "CoursePolicy",
    "Penalty",
    "has_late_mark",
    "late_penalty",
    "load_policy",
    "parse_time",
    "read_timestamp",
    "remove_extension",
    "set_extension",
    "set_policy",
    "submission_time",
    "write_late_mark",
    "write_timestamp",
]

POLICY_FILE = "autograder_course.json"
#: nbgrader's ``Exchange.timestamp_format``, written in UTC: what ``nbgrader submit`` writes.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
DAY = timedelta(days=1)
#: In a submission folder: the LMS marked it late but did not say when (Canvas's ``_late_``).
LATE_MARK = "late_without_time.txt"


def parse_time(value: str | datetime, *, name: str = "due") -> datetime:
    """An aware datetime from ISO-8601 text; a time without a zone is refused, naming it."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(
                text.replace("Z", "+00:00") if text.endswith("Z") else text
            )
        except ValueError:
            raise ValueError(
                f"{name} must be an ISO-8601 date and time with a zone, e.g. "
                f"2026-12-01T23:59:00+01:00 or 2026-12-01T22:59Z, got {value!r}"
            ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} {value!s} has no time zone: add one (2026-12-01T23:59+01:00, or Z for UTC)"
        )
    return moment


@dataclass(frozen=True)
class AssignmentPolicy:
    """When one assignment is due and what lateness costs."""

    assignment: str
    due: datetime | None = None  #: aware; None: no deadline, nothing is late
    late_penalty_per_day: float = 0.0  #: fraction of the points per started day late
    late_penalty_cap: float = 1.0  #: the most the penalty can be, as a fraction of the points
    extensions: dict[str, datetime] = field(default_factory=dict)  #: student -> their due date

    def __post_init__(self):
        for name in ("late_penalty_per_day", "late_penalty_cap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}")
        if self.due is not None:
            parse_time(self.due)

    def due_for(self, student: str) -> datetime | None:
        """The student's due date: the later of their extension and the assignment's (a due
        date moved past an extension given earlier leaves no one an earlier date than the class)."""
        extension = self.extensions.get(student)
        if extension is None or self.due is None:
            return self.due if extension is None else extension
        return max(extension, self.due)

    def to_json(self) -> dict:
        return {
            "due": self.due.isoformat() if self.due else None,
            "late_penalty_per_day": self.late_penalty_per_day,
            "late_penalty_cap": self.late_penalty_cap,
            "extensions": {s: d.isoformat() for s, d in sorted(self.extensions.items())},
        }

    @classmethod
    def from_json(cls, assignment: str, data: dict) -> AssignmentPolicy:
        return cls(
            assignment=assignment,
            due=parse_time(data["due"]) if data.get("due") else None,
            late_penalty_per_day=float(data.get("late_penalty_per_day", 0.0)),
            late_penalty_cap=float(data.get("late_penalty_cap", 1.0)),
            extensions={
                s: parse_time(d, name=f"extension of {s}")
                for s, d in data.get("extensions", {}).items()
            },
        )


@dataclass(frozen=True)
class CoursePolicy:
    """Every assignment's policy in one course."""

    assignments: dict[str, AssignmentPolicy] = field(default_factory=dict)

    def get(self, assignment: str) -> AssignmentPolicy:
        return self.assignments.get(assignment, AssignmentPolicy(assignment))


@dataclass(frozen=True)
class Penalty:
    """What lateness cost one submission."""

    days_late: int  #: started days after the student's due date (0: on time or no deadline)
    penalty: float  #: points taken off


def _path(course: Path) -> Path:
    return Path(course) / POLICY_FILE


def load_policy(course: Path = DEFAULT_COURSE) -> CoursePolicy:
    """The course's policy (empty when none was set)."""
    path = _path(course)
    if not path.exists():
        return CoursePolicy()
    data = json.loads(path.read_text())
    return CoursePolicy(
        {a: AssignmentPolicy.from_json(a, d) for a, d in data.get("assignments", {}).items()}
    )


def _save(course: Path, policy: CoursePolicy) -> None:
    path = _path(course)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["assignments"] = {a: p.to_json() for a, p in sorted(policy.assignments.items())}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def set_policy(
    course: Path,
    assignment: str,
    *,
    due: str | datetime | None = None,
    late_penalty_per_day: float | None = None,
    late_penalty_cap: float | None = None,
) -> AssignmentPolicy:
    """Set what is given (the rest is kept) and save; return the assignment's policy."""
    policy = load_policy(course)
    current = policy.get(assignment)
    changes = {}
    if due is not None:
        changes["due"] = parse_time(due, name="--due")
    if late_penalty_per_day is not None:
        changes["late_penalty_per_day"] = late_penalty_per_day
    if late_penalty_cap is not None:
        changes["late_penalty_cap"] = late_penalty_cap
    updated = replace(current, **changes)
    _save(course, CoursePolicy({**policy.assignments, assignment: updated}))
    return updated


def set_extension(
    course: Path, assignment: str, student: str, until: str | datetime
) -> AssignmentPolicy:
    """Give ``student`` the due date ``until`` for ``assignment`` and save; return the policy.

    The storage of :mod:`autograder.term.extensions` (which also checks the student against the
    roster). ``ValueError`` names an assignment without a due date (nothing to extend; it is
    not added to the course file) and an ``until`` not after the due date.
    """
    from autograder import names

    names.check_student_id(student, where="--student")
    policy = load_policy(course)
    current = policy.assignments.get(assignment)
    if current is None or current.due is None:
        raise ValueError(f"{assignment} has no due date in {course}: nothing to extend")
    moment = parse_time(until, name="--until")
    if moment <= current.due:
        raise ValueError(
            f"--until {moment.isoformat()} is not after {assignment}'s due date "
            f"{current.due.isoformat()}: an extension moves a student's due date later"
        )
    updated = replace(current, extensions={**current.extensions, student: moment})
    _save(course, CoursePolicy({**policy.assignments, assignment: updated}))
    return updated


def remove_extension(course: Path, assignment: str, student: str) -> datetime:
    """Take back ``student``'s extension of ``assignment`` and save; return its date.

    ``ValueError`` names a student without one, listing those who have one.
    """
    policy = load_policy(course)
    current = policy.get(assignment)
    if student not in current.extensions:
        given = ", ".join(sorted(current.extensions)) or "none"
        raise ValueError(
            f"--remove {student!r}: no extension of {assignment} for them (extensions: {given})"
        )
    kept = {s: d for s, d in current.extensions.items() if s != student}
    _save(
        course, CoursePolicy({**policy.assignments, assignment: replace(current, extensions=kept)})
    )
    return current.extensions[student]


def _aware(moment: datetime) -> datetime:
    """nbgrader keeps naive UTC times: a naive time here is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def late_penalty(
    policy: CoursePolicy | AssignmentPolicy,
    assignment: str,
    student: str,
    submitted_at: datetime | None,
    earned: float,
    points: float,
) -> Penalty:
    """Days late and points taken off (see the module's formula); no time: not late.

    ``submitted_at`` without a zone is taken as UTC (nbgrader's gradebook convention).
    """
    if isinstance(policy, CoursePolicy):
        policy = policy.get(assignment)
    due = policy.due_for(student)
    if submitted_at is None or due is None:
        return Penalty(0, 0.0)
    seconds = (_aware(submitted_at) - due).total_seconds()
    if seconds <= 0:
        return Penalty(0, 0.0)
    days = math.ceil(seconds / DAY.total_seconds())
    penalty = min(
        policy.late_penalty_per_day * points * days,
        policy.late_penalty_cap * points,
        max(earned, 0.0),
    )
    return Penalty(days, round(penalty, 6))


def write_timestamp(folder: Path, moment: datetime) -> Path:
    """Write ``folder/timestamp.txt`` as ``nbgrader submit`` does (UTC, nbgrader's format)."""
    path = Path(folder) / "timestamp.txt"
    path.write_text(_aware(moment).astimezone(UTC).strftime(TIMESTAMP_FORMAT))
    return path


def read_timestamp(submission_folder: Path) -> datetime | None:
    """The submission time in ``submission_folder/timestamp.txt`` (aware, UTC), or ``None``.

    Parsed by nbgrader's own ``parse_utc``, so anything ``nbgrader collect`` accepts is read.
    """
    from nbgrader.utils import parse_utc

    path = Path(submission_folder) / "timestamp.txt"
    if not path.exists():
        return None
    text = path.read_text().strip()
    if not text:
        return None
    try:
        return parse_utc(text).replace(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{path}: not a timestamp nbgrader can read: {text!r} ({exc})") from None


def set_gradebook_due(course: Path, assignment: str, db_url: str | None = None) -> None:
    """Copy the assignment's due date into nbgrader's gradebook (``Assignment.duedate``),
    through the gradebook's one writer."""
    from nbgrader.api import Gradebook

    from autograder.grading.gradebook_writer import write_due

    due = load_policy(course).get(assignment).due
    with Gradebook(db_url or default_db_url(course), course_id=COURSE_ID) as gb:
        write_due(gb, assignment, due)


def write_late_mark(folder: Path) -> Path:
    """Mark ``folder`` as submitted late at an unknown time (see :func:`submission_time`)."""
    path = Path(folder) / LATE_MARK
    path.write_text("marked late by the LMS, without a time\n")
    return path


def has_late_mark(folder: Path) -> bool:
    """Whether ``folder`` holds :data:`LATE_MARK` (a regular file, never a link)."""
    path = Path(folder) / LATE_MARK
    return path.is_file() and not path.is_symlink()


def submission_time(
    policy: AssignmentPolicy, student: str, stored: datetime | None, late_mark: bool
) -> datetime | None:
    """When the submission counts as made: its stored time, else for a late mark without a
    time one second after the student's due date under the policy *now* (one started day
    late, the least the mark says; an extension given before or after collecting counts
    alike), else unknown (on time). A naive stored time is UTC (nbgrader's convention)."""
    if stored is not None:
        return _aware(stored).astimezone(UTC)
    due = policy.due_for(student)
    if late_mark and due is not None:
        return (due + timedelta(seconds=1)).astimezone(UTC)
    return None


def _late_penalty_class():
    """nbgrader's plugin class, made on first use: importing nbgrader takes seconds, and every
    ``python -m autograder`` command imports this module."""
    from nbgrader.plugins import LateSubmissionPlugin

    class LatePenalty(LateSubmissionPlugin):
        """nbgrader's late-submission plugin with the course's rule (:func:`late_penalty`).

        In ``nbgrader_config.py``: ``c.AssignLatePenalties.plugin_class =
        "autograder.grading.deadlines.LatePenalty"``. The course folder is ``CourseDirectory.root``; the
        assignment and the submission time come from the ``AssignLatePenalties`` preprocessor that
        creates the plugin (its gradebook is open while it asks).
        """

        def late_submission_penalty(self, student_id, score, total_seconds_late):
            parent = self.parent
            assignment = getattr(parent, "assignment_id", None)
            gradebook = getattr(parent, "gradebook", None)
            if not assignment or gradebook is None:
                raise ValueError("LatePenalty must be created by nbgrader's AssignLatePenalties")
            root = self.config.CourseDirectory.get("root") or "."
            policy = load_policy(Path(root)).get(assignment)
            found = gradebook.find_assignment(assignment)
            submitted_at = gradebook.find_submission(assignment, student_id).timestamp
            if submitted_at is None and found.duedate is not None:
                submitted_at = found.duedate + timedelta(seconds=total_seconds_late)
            result = late_penalty(
                policy, assignment, student_id, submitted_at, score, found.max_score
            )
            self.log.info(
                "%s on %s: %d days late, penalty %g",
                student_id,
                assignment,
                *(result.days_late, result.penalty),
            )
            return result.penalty

    return LatePenalty


def __getattr__(name: str):
    if name == "LatePenalty":  # nbgrader's import_item("autograder.grading.deadlines.LatePenalty")
        cls = _late_penalty_class()
        globals()["LatePenalty"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
