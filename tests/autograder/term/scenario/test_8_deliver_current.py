"""``deliver`` sends pages written from the gradebook and the policy as they are when it runs.

Found by a stranger following the README: after a late change, ``deliver --zip canvas`` sent
a page written before it ("4 of 10 points") while the Canvas export said 0. Here the pages
are written, then the late penalty is raised; the pages delivered (zip and exchange) must say
the score the gradebook gives now, not the one the stale pages said.
"""

from __future__ import annotations

import re
import zipfile

from autograder.grading import deadlines
from autograder.grading.gradebook import read_grades
from tests.autograder.term.scenario.story import COURSE_ID, A, cli

_SUMMARY = re.compile(r"<strong>([^<]*)</strong>")


def _summary(page: str) -> str:
    return _SUMMARY.search(page).group(1)


def test_a_late_change_after_feedback_reaches_the_pages_delivered(store, tmp_path):
    state = store.copy("hand_graded", tmp_path)
    base, course = state.base, state.course
    cli("feedback", A, "--course", str(course))
    pages = {s: course / "feedback" / s / A / "feedback.html" for s in ("s03", "s29")}
    stale = {s: _summary(page.read_text()) for s, page in pages.items()}
    before = {g.student_id: g.score for g in read_grades(course, A)}
    deadlines.set_policy(course, A, late_penalty_per_day=0.5)  # what release's option keeps
    deadlines.set_gradebook_due(course, A)
    now = {g.student_id: g for g in read_grades(course, A)}
    for s in ("s03", "s29"):  # the change moved both late students' scores
        assert now[s].score != before[s], s
        assert stale[s].startswith(f"{before[s]:g} of 10 points"), stale[s]

    out = cli("deliver", A, "--course", str(course), "--zip", "canvas", "--out",
              str(base / "fb.zip")).stdout  # fmt: skip
    assert "delivered 26 feedback pages" in out
    with zipfile.ZipFile(base / "fb.zip") as zf:
        sent = zf.read(f"student03given_late_1003_5003_{A}_feedback.html").decode()
    assert _summary(sent).startswith(f"{now['s03'].score:g} of 10 points"), _summary(sent)
    assert "late penalty of" in _summary(sent)

    cli("deliver", A, "--course", str(course), "--exchange", str(base / "exchange"),
        "--course-id", COURSE_ID)  # fmt: skip
    released = (course / "feedback" / "s29" / A / f"{A}.html").read_text()
    assert _summary(released).startswith(f"{now['s29'].score:g} of 10 points")
