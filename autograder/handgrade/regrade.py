"""``regrade-request``: a student asks for another look at one hand-graded answer.

``python -m autograder regrade-request A --student S --question Q --why TEXT`` opens a
:class:`~autograder.handgrade.records.RegradeRequest` in the course's hand-grading store,
remembering the answer's score at that moment (the gradebook's manual score). The grading page
lists it beside the answer (to the grader whose share holds it); resolving it there records
who, when, the note and the score before and after, in the request and the audit log.
"""

from __future__ import annotations

from pathlib import Path

from autograder.config import DEFAULT_COURSE
from autograder.handgrade.records import MAX_TEXT, RegradeRequest, RequestStatus, check_text, now

__all__ = ["main"]


def main(
    *,
    assignment: str,
    student: str,
    question: str,
    why: str,
    course: Path = DEFAULT_COURSE,
    db_url: str | None = None,
) -> RegradeRequest:
    """Open a regrade request; refuse an unknown question or student, or an empty reason."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.config import COURSE_ID, default_db_url
    from autograder.grading.gradebook import check_exists, quiet
    from autograder.handgrade.session import hand_graded_questions
    from autograder.handgrade.store import Store
    from autograder.names import check_student_id

    course = Path(course).resolve()
    check_student_id(student)
    check_text(why, "--why", MAX_TEXT, empty=False)
    questions = [c["grade_id"] for c in hand_graded_questions(course, assignment)]
    if question not in questions:
        raise ValueError(
            f"--question {question!r} is not a hand-graded question of {assignment} "
            f"(those are: {', '.join(questions)})"
        )
    url = db_url or default_db_url(course)
    check_exists(url)
    with quiet(), Gradebook(url, course_id=COURSE_ID) as gb:
        try:
            grade = gb.find_grade(question, assignment, assignment, student)
        except MissingEntry:
            raise ValueError(f"{student!r} has no graded submission of {assignment}") from None
        then = grade.manual_score
    with Store(course, assignment).change() as state:
        for r in state.requests.values():
            if (r.student, r.question, r.status) == (student, question, RequestStatus.OPEN):
                raise ValueError(f"{student} has an open regrade request of {question}: {r.id}")
        request = RegradeRequest(state.new_id("r"), student, question, why.strip(), now(), then)
        state.requests[request.id] = request
    return request
