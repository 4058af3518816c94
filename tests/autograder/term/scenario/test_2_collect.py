"""Stage 2 of the term (``story``): the Canvas download (late, resubmitted, misnamed and
unknown files) and two JupyterHub submissions through nbgrader's fetch and submit, collected."""

from __future__ import annotations

from tests.autograder.term.scenario.story import CANVAS_STUDENTS, HUB_STUDENTS, A


def test_collect_takes_each_canvas_student_once_and_names_every_file_it_skips(store):
    out = store.state("collected").outputs["collect_canvas"]
    assert "collected 26 submissions" in out
    assert "stranger_9999_7777" in out and "9999 (stranger) is not on the roster" in out
    assert "notes.txt: not a notebook" in out
    assert f"s09: renamed {A}-Copy1.ipynb to {A}.ipynb" in out
    assert "s03: marked late by Canvas without a time: counted as 1 day late" in out
    assert "superseded by" in out


def test_collect_takes_jupyterhub_submissions_from_the_exchange(store, tmp_path):
    state = store.copy("collected", tmp_path)
    assert f"collected 2 submissions of {A} (exchange)" in state.outputs["collect_hub"]
    submitted = {
        p.parent.parent.name for p in (state.course / "submitted").glob(f"*/{A}/{A}.ipynb")
    }
    assert submitted == {f"s{i:02d}" for i in (*CANVAS_STUDENTS, *HUB_STUDENTS)}
