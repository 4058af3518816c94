"""Hand grading through nbgrader's real formgrader page in Chromium: a4's Q1 gets points and a
comment, which reach the gradebook, ``export`` and ``feedback``; the rubric is on the page."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading import authoring
from autograder.term import export, formgrade

A = "a4_mlp"
CHROMIUM = Path("/usr/bin/chromium")
COURSE_OWNER = 4242  #: an unprivileged account (the server never runs as root)
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """a4 released and one submission graded (its four questions pending)."""
    from autograder.term import release

    course = tmp_path_factory.mktemp("formgrade") / "course"
    release.main(assignment=A, course=course)
    released = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    answers = authoring.solutions(authoring.read_source(A))
    answers["q1"] = "Decay makes the steps smaller as training goes on: $x^2$ shrinks faster."
    folder = course / "submitted" / "jdoe" / A
    folder.mkdir(parents=True)
    nbformat.write(authoring.submission(released, answers), folder / f"{A}.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", A, "--course", str(course), "--jobs", "1"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0 and "graded 1 of 1" in done.stdout, done.stdout + done.stderr
    if os.geteuid() == 0:  # the course belongs to the instructor's account: the server's
        os.chown(course, COURSE_OWNER, COURSE_OWNER)
    return course


def test_q1_graded_in_formgrader_reaches_gradebook_export_and_feedback(course, tmp_path):
    from playwright.sync_api import sync_playwright

    server = formgrade.start(course=course)
    base = server.url.split("/formgrader?")[0]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(server.url)  # the token becomes a cookie
            page.goto(f"{base}/formgrader/gradebook/{A}/{A}")
            page.wait_for_selector("a.name-hidden")
            page.click("a.name-hidden")
            page.wait_for_selector("#q1")
            assert "A full answer contains" in page.inner_text("body")  # the rubric
            assert "Decay makes the steps smaller" in page.inner_text("body")
            page.wait_for_load_state("load")  # formgrader's scripts (and MathJax) loaded
            for field, value, api in (("#q1", "1.5", "/formgrader/api/grade/"),
                                      ("#q1-comment", "Says what decay does, not why it is needed.",
                                       "/formgrader/api/comment/")):  # fmt: skip
                # the page saves each field through nbgrader's API: wait for that answer
                with page.expect_response(lambda r, api=api: api in r.url
                                          and r.request.method == "PUT",
                                          timeout=60_000) as saved:  # fmt: skip
                    page.fill(field, value)
                    page.press(field, "Tab")
                assert saved.value.ok, saved.value.status
            browser.close()
    finally:
        server.stop()
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, default_db_url

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:
        grade = gb.find_grade("q1", A, A, "jdoe")
        comment = gb.find_comment("q1", A, A, "jdoe")
        assert grade.manual_score == 1.5 and not grade.needs_manual_grade
        assert comment.manual_comment == "Says what decay does, not why it is needed."
        auto = sum(g.auto_score or 0 for g in gb.find_submission(A, "jdoe").notebooks[0].grades)
    out = export.main(assignment=A, format="csv", out=tmp_path / "grades.csv", course=course)
    with out.path.open() as handle:
        row = next(csv.DictReader(handle))
    assert float(row["q1"]) == 1.5 and float(row["manual"]) == 1.5
    assert float(row["score"]) == pytest.approx(auto + 1.5)
    from autograder.term import feedback

    pages = feedback.main(assignment=A, course=course)
    text = Path(pages[0]).read_text()
    assert "Says what decay does, not why it is needed." in text


def test_formgrade_prints_its_address_and_config(course):
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "formgrade", "--course", str(course)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
    finally:
        process.terminate()  # SIGTERM, as `kill` or a service manager sends
        process.wait(timeout=30)
    assert line.startswith("formgrader on") and "/formgrader?token=" in line
    # the server it started (in a session of its own) stopped with it
    port = line.split("http://127.0.0.1:")[1].split("/")[0]
    left = subprocess.run(["pgrep", "-f", "--", f"--port={port} "], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the formgrader server outlived its command"
    config = (course / "nbgrader_config.py").read_text()
    assert f"c.CourseDirectory.root = {str(course)!r}" in config
    assert "autograder.grading.deadlines.LatePenalty" in config


def test_formgrade_never_serves_as_root(course, tmp_path, monkeypatch):
    """As root: the server drops to the course owner's account (a root-owned course is
    refused); otherwise it runs as the caller; never with Jupyter's --allow-root."""
    seen = []

    class Stop(Exception):
        pass

    def fake_popen(command, **kwargs):
        seen.append(command)
        raise Stop

    monkeypatch.setattr(formgrade.subprocess, "Popen", fake_popen)
    for uid in (0, 1000):
        monkeypatch.setattr(os, "geteuid", lambda uid=uid: uid)
        with pytest.raises(Stop):
            formgrade.start(course=course, port=12345)
    as_root, as_user = seen
    launch = as_root.index("autograder.term.formgrade_launch")
    assert as_root[0].endswith("unshare")
    assert json.loads(as_root[launch + 1])["uid"] == os.stat(course).st_uid != 0

    def server(command):  # the token is new each start
        return [part for part in command if not part.startswith("--IdentityProvider.token=")]

    assert server(as_root[as_root.index("--", launch) + 1 :]) == server(as_user)  # dropped
    assert all("allow-root" not in part for part in as_root + as_user)
    root_owned = tmp_path / "root-owned"
    (root_owned / "source").mkdir(parents=True)
    if os.stat(root_owned).st_uid == 0:
        monkeypatch.setattr(os, "geteuid", lambda: 0)
        with pytest.raises(ValueError, match="will not run its web server as root"):
            formgrade.start(course=root_owned, port=12345)
        assert len(seen) == 2  # refused before anything started
    with pytest.raises(ValueError, match="--port must be 0"):
        formgrade.start(course=course, port=70000)
    with pytest.raises(ValueError, match="not a course folder"):
        formgrade.start(course=course / "nowhere")


def test_launch_covers_exactly_the_folders_closed_to_the_server_account(tmp_path):
    """What formgrade_launch covers with a tmpfs (binding the needed folders back): the
    outermost parent the account cannot enter, nothing on an open path."""
    from autograder.term.formgrade_launch import blocked_parents

    inner = tmp_path / "closed" / "python"
    inner.mkdir(parents=True)
    (tmp_path / "closed").chmod(0o700)
    found = blocked_parents([str(inner), "/usr/bin"], COURSE_OWNER, COURSE_OWNER)
    (parent,) = found
    assert found[parent] == [str(inner.resolve())]
    assert Path(parent) in [tmp_path / "closed", *tmp_path.parents]
    assert not os.stat(parent).st_mode & 0o001  # others may not enter it


def test_math_in_a_submission_renders_offline_in_formgrader(course):
    """MathJax 3 from the repository's own copy: ``$x^2$`` becomes an ``mjx-container``, and
    every request the page makes stays on the formgrader's own address."""
    from playwright.sync_api import sync_playwright

    from autograder.term.formgrade_server import mathjax_folder

    assert mathjax_folder() is not None, "no MathJax in book/: `make test` installs it (npm ci)"
    server = formgrade.start(course=course)
    base = server.url.split("/formgrader?")[0]
    requests, refused = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
                    else None)  # fmt: skip
            page.goto(server.url)
            page.goto(f"{base}/formgrader/gradebook/{A}/{A}")
            page.wait_for_selector("a.name-hidden")
            page.click("a.name-hidden")
            page.wait_for_selector("#q1")
            page.wait_for_selector("mjx-container", timeout=60_000)
            rendered = page.eval_on_selector_all(
                "mjx-container", "els => els.map(e => e.textContent + e.innerHTML.length)"
            )
            tex_left = "$x^2$" in page.inner_text("#notebook")
            browser.close()
    finally:
        server.stop()
    assert rendered and not tex_left  # the TeX became MathJax's markup
    assert any("/autograder/mathjax/tex-mml-chtml.js" in url for url in requests)
    outside = [u for u in requests if not u.startswith((base + "/", "data:"))]
    assert outside == [] and refused == [], (outside[:5], refused[:5])


def test_formgrade_refuses_a_root_owned_course_by_name(tmp_path):
    """Run as root on a course root owns: exit status 2, the reason and the fix; no server."""
    if os.geteuid() != 0:
        pytest.skip("only root can be refused")
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    assert os.stat(course).st_uid == 0
    done = subprocess.run([sys.executable, "-m", "autograder", "formgrade", "--course",
                           str(course)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "formgrade will not serve as root" in done.stderr
    assert f"root owns {course}" in done.stderr and "chown INSTRUCTOR" in done.stderr
    assert done.stdout == "" and sorted(p.name for p in course.iterdir()) == ["source"]
