"""An extension never gives a student an earlier due date than the class's.

Found by following the README as a new instructor: ``extend a1_metrics --student alee --until
2026-12-10T23:59+01:00`` (the due date was 2026-12-08), then ``release a1_metrics --due
2026-12-13T23:59+01:00`` moved everyone's due date past the extension; alee, who submitted on
2026-12-11, was then 1 day late (penalty 1 of 10) while the class was on time until the 13th.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autograder.grading import deadlines

A = "a1_metrics"
FIRST_DUE = datetime(2026, 12, 8, 22, 59, tzinfo=UTC)
EXTENDED = datetime(2026, 12, 10, 22, 59, tzinfo=UTC)
MOVED_DUE = datetime(2026, 12, 13, 22, 59, tzinfo=UTC)
LATER_EXTENSION = datetime(2026, 12, 15, 22, 59, tzinfo=UTC)


def _course(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    deadlines.set_policy(course, A, due=FIRST_DUE, late_penalty_per_day=0.1)
    deadlines.set_extension(course, A, "alee", EXTENDED)
    deadlines.set_policy(course, A, due=MOVED_DUE)  # the class's due date moves past it
    deadlines.set_extension(course, A, "cara", LATER_EXTENSION)
    return course


def _penalty(course, student, when):
    return deadlines.late_penalty(deadlines.load_policy(course), A, student, when, 8.0, 10.0)


def test_an_extension_overtaken_by_the_due_date_counts_as_the_due_date(tmp_path):
    course = _course(tmp_path)
    between = EXTENDED + timedelta(hours=12)  # after alee's extension, before the class's date
    assert _penalty(course, "bob", between) == deadlines.Penalty(0, 0.0)  # the class: on time
    assert _penalty(course, "alee", between) == deadlines.Penalty(0, 0.0)  # was: 1 day, 1.0
    late = MOVED_DUE + timedelta(hours=1)
    assert (
        _penalty(course, "alee", late) == _penalty(course, "bob", late) == deadlines.Penalty(1, 1.0)
    )


def test_an_extension_past_the_due_date_still_moves_it(tmp_path):
    course = _course(tmp_path)
    policy = deadlines.load_policy(course).get(A)
    assert policy.due_for("cara") == LATER_EXTENSION
    assert policy.due_for("alee") == policy.due_for("bob") == MOVED_DUE
    after_class = MOVED_DUE + timedelta(days=1)
    assert _penalty(course, "cara", after_class) == deadlines.Penalty(0, 0.0)
    assert _penalty(course, "bob", after_class) == deadlines.Penalty(1, 1.0)


def test_a_late_mark_without_a_time_counts_from_the_later_date(tmp_path):
    policy = deadlines.load_policy(_course(tmp_path)).get(A)
    counted = deadlines.submission_time(policy, "alee", None, late_mark=True)
    assert counted == MOVED_DUE + timedelta(seconds=1)


def test_the_listing_says_which_date_counts(tmp_path):
    import subprocess
    import sys

    course = _course(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "extensions", A, "--course", str(course)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    lines = {line.split(":")[0].strip(): line for line in done.stdout.splitlines()[1:]}
    assert "no longer after the due date, which counts: due 2026-12-13T22:59" in lines["alee"]
    assert "due 2026-12-15T22:59:00+00:00 (instead of 2026-12-13T22:59" in lines["cara"]
