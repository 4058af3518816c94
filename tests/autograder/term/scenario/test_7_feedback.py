"""Stage 7 of the term (``story``): feedback delivered through the exchange to the two
JupyterHub students (fetched with nbgrader's own fetch_feedback) and as a Canvas zip."""

from __future__ import annotations

import zipfile

from tests.autograder.term.scenario.story import COURSE_ID, A, cli, hub_options, nbgrader


def test_feedback_reaches_hub_students_through_the_exchange_and_the_rest_as_a_canvas_zip(
    store, tmp_path
):
    state = store.copy("hand_graded", tmp_path)
    base, c = state.base, str(state.course)
    cli("feedback", A, "--course", c)
    out = cli(
        "deliver", A, "--course", c, "--exchange", str(base / "exchange"), "--course-id", COURSE_ID
    ).stdout
    assert "delivered 2 feedback pages" in out
    assert out.count("not submitted through the exchange") == 26
    home = base / "home29"
    nbgrader("fetch_feedback", A, *hub_options(base, home), "--student=s29", cwd=home)
    fetched = list((home / A / "feedback").glob(f"*/{A}.html"))
    assert len(fetched) == 1 and "late" in fetched[0].read_text().lower()
    out = cli("deliver", A, "--course", c, "--zip", "canvas", "--out", str(base / "fb.zip")).stdout
    assert "delivered 26 feedback pages" in out
    with zipfile.ZipFile(base / "fb.zip") as zf:
        assert f"student03given_late_1003_5003_{A}_feedback.html" in zf.namelist()
        assert f"student05given_1005_6005_{A}_feedback.html" in zf.namelist()
