"""Stage 3 of the term (``story``): one graded batch of the 28 collected submissions."""

from __future__ import annotations

from tests.autograder.term.scenario.story import A


def test_one_batch_grades_every_collected_student(store, tmp_path):
    from autograder.grading.gradebook import read_grades

    state = store.copy("graded", tmp_path)
    assert "graded 28 of 28 students" in state.outputs["grade"]
    grades = {g.student_id: g for g in read_grades(state.course, A)}
    assert sorted(grades) == sorted(f"s{i:02d}" for i in (*range(1, 27), 29, 30))
    assert all(g.status == "graded" for g in grades.values())
    # s24 left the ROC cell as the template
    assert grades["s24"].cells["test-roc"].score == 0.0 < grades["s01"].cells["test-roc"].score
