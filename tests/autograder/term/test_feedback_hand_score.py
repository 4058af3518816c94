"""A hand-graded answer's row says the hand score, full marks or not, never "passed".

Found by a stranger: a review answer a TA gave 2 of 2 read "passed" on the page, as if a check
had run. The row of a person's score says "graded by hand: SCORE / POINTS"; an automatic
check's full marks still read "passed".
"""

from __future__ import annotations

from autograder.grading.gradebook import CellGrade, StudentGrade
from autograder.grading.records import CheckOutcome, Kind
from autograder.term import feedback

CHECKS = [
    {"grade_id": gid, "points": 2.0, "expects": "an answer", "rubric": "", "lesson": "01_x"}
    for gid in ("review", "auto")
]


def _row(page: str, grade_id: str) -> str:
    start = page.index(f"<td>{grade_id}</td>")
    return page[start : page.index("</tr>", start)]


def test_a_hand_score_at_full_marks_says_graded_by_hand():
    cells = {
        "review": CellGrade("review", 2.0, auto=0.0, manual=2.0),
        "auto": CellGrade(
            "auto", 2.0, auto=2.0, outcome=CheckOutcome("auto", 2.0, 2.0, Kind.PASSED)
        ),
    }
    page = feedback.render("a4_mlp", StudentGrade("jdoe", "graded", "", 4.0, cells), CHECKS, "")
    review = _row(page, "review")
    assert "graded by hand: 2 / 2" in review and Kind.PASSED.says("") not in review, review
    assert Kind.PASSED.says("") in _row(page, "auto")
    half = {**cells, "review": CellGrade("review", 2.0, auto=0.0, manual=1.5)}
    page = feedback.render("a4_mlp", StudentGrade("jdoe", "graded", "", 4.0, half), CHECKS, "")
    assert "graded by hand: 1.5 / 2" in _row(page, "review")
