"""Stage 4 of the term (``story``): hand grades entered through nbgrader's API are what the
gradebook reads back; late penalties derive from the due date, Canvas's late marks, the
exchange's submission times and the extension."""

from __future__ import annotations

import pytest

from tests.autograder.term.scenario.story import PER_DAY, A


def test_hand_grades_entered_in_the_gradebook_are_read_back(store, tmp_path):
    from autograder.grading.gradebook import read_grades

    hand_graded = store.copy("hand_graded", tmp_path / "hand_graded").course
    grades = {g.student_id: g for g in read_grades(hand_graded, A)}
    assert grades["s02"].cells["test-counts"].manual == 1.0
    assert grades["s04"].cells["test-auc"].extra_credit == 0.5
    graded = store.copy("graded", tmp_path / "graded").course
    before = {g.student_id: g for g in read_grades(graded, A)}
    assert before["s02"].cells["test-counts"].manual is None  # the step made the difference


def test_penalties_count_started_days_late_and_spare_the_extended_student(store, tmp_path):
    """Canvas's late mark is one started day; s29 submitted now, 3 days late."""
    from autograder.grading.gradebook import read_grades

    course = store.copy("hand_graded", tmp_path).course
    grades = {g.student_id: g for g in read_grades(course, A)}
    for who, days in (("s03", 1), ("s07", 1), ("s29", 3)):
        expected = min(PER_DAY * 10 * days, grades[who].raw_score)
        assert grades[who].penalty > 0
        assert grades[who].penalty == pytest.approx(expected)
        assert grades[who].score == pytest.approx(grades[who].raw_score - grades[who].penalty)
    on_time = [s for s in grades if s not in ("s03", "s07", "s29")]
    assert all(grades[s].penalty == 0 for s in on_time)  # s30 has an extension
