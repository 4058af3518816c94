"""Hand grading without a browser: the score rule, the split, pseudonyms, the store's lock, the
session's writes to the gradebook and its audit, regrade requests, and the server's access
rules (token, anti-CSRF, Host, methods, bounds) asked over plain HTTP.

The class (a4, answers waiting for hand grading) is written directly, not autograded:
see ``tests/autograder/handgrade/handgrade_class.py``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.handgrade import scoring, server, split
from autograder.handgrade.pseudonyms import Pseudonyms
from autograder.handgrade.records import RubricItem, Why
from autograder.handgrade.session import Session, name_graders
from autograder.handgrade.store import Store
from tests.autograder.handgrade import handgrade_class as hc

A = hc.A
COURSE_OWNER = 4242  #: the instructor's account when the tests run as root


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """a4 released with 12 students: a group of 4 equal answers (case and spaces aside),
    3 empty ones (blank or untouched), 5 of their own."""
    course = hc.released(tmp_path_factory.mktemp("handgrade") / "course")
    same = ["Decay lowers the rate.", "  decay LOWERS   the rate. ", "Decay lowers the rate.",
            "DECAY lowers the\nrate."]  # fmt: skip
    answers = {f"s{i:02d}": {"q1": text} for i, text in enumerate(same)}
    answers |= {"s04": {"q1": ""}, "s05": {"q1": "   "}, "s06": {}}  # s06: the handout's cell
    answers |= {f"s{i:02d}": {"q1": f"Answer number {i}."} for i in range(7, 12)}
    hc.add_students(course, answers)
    return course


@pytest.fixture
def course(template, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(template, copy)
    return copy


# -- the score rule ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    deltas=st.lists(st.floats(-4, 4, allow_nan=False), max_size=6),
    most=st.sampled_from([1.0, 2.0, 4.0]),
)
def test_a_score_is_within_the_cells_bounds_and_none_only_without_items(deltas, most):
    items = {f"i{n}": RubricItem(f"i{n}", "q1", "x", d) for n, d in enumerate(deltas)}
    value = scoring.score(list(items), items, most)
    if not deltas:
        assert value is None
    else:
        assert 0.0 <= value <= most
        assert value == min(most, max(0.0, sum(deltas)))  # the docstring's formula


# -- split and pseudonyms ----------------------------------------------------------------------


def test_the_split_is_balanced_disjoint_and_the_same_on_every_call():
    students = [f"u{i:03d}" for i in range(101)]
    owners = split.split(b"k" * 32, "q1", students, ["ana", "ben", "cy"])
    assert owners == split.split(b"k" * 32, "q1", list(reversed(students)), ["ana", "ben", "cy"])
    counts = sorted(list(owners.values()).count(g) for g in ("ana", "ben", "cy"))
    assert counts == [33, 34, 34] and set(owners) == set(students)
    other = split.split(b"k" * 32, "q2", students, ["ana", "ben", "cy"])
    assert other != owners  # each question mixes the class differently
    with pytest.raises(ValueError, match="at least one grader"):
        split.split(b"k" * 32, "q1", students, [])


def test_pseudonyms_are_stable_hide_the_id_and_differ_per_assignment_and_key():
    students = ["jdoe", "asmith", "s00"]
    one = Pseudonyms(b"k" * 32, A, students)
    assert one.of == Pseudonyms(b"k" * 32, A, reversed(students)).of
    assert all(p.startswith("anon-") and s not in p for s, p in one.of.items())
    assert {one.student[p] for p in one.of.values()} == set(students)
    assert Pseudonyms(b"k" * 32, "a1_metrics", students).of != one.of
    assert Pseudonyms(b"j" * 32, A, students).of != one.of


# -- the store ---------------------------------------------------------------------------------


def _add_items(folder, count):
    store = Store(folder, A)
    for n in range(count):
        with store.change() as state:
            item = RubricItem(state.new_id("i"), "q1", f"item {os.getpid()} {n}", 1.0)
            state.items[item.id] = item


def test_two_processes_changing_the_store_lose_nothing(tmp_path):
    """Each change holds the lock from read to write: 2 x 15 items, 30 distinct ids."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_items, args=(tmp_path, 15)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    state = Store(tmp_path, A).read()
    assert len(state.items) == 30 and state.next_id == 31


def test_a_change_that_raises_writes_nothing(tmp_path):
    store = Store(tmp_path, A)
    with store.change() as state:
        state.graders = ["ana"]
    with pytest.raises(RuntimeError), store.change() as state:
        state.graders = ["mallory"]
        raise RuntimeError("interrupted")
    assert Store(tmp_path, A).read().graders == ["ana"]
    assert not list(store.folder.glob(".state.json.*"))  # no temporary file left behind


# -- the session: store -> gradebook -> audit --------------------------------------------------


def test_identical_and_empty_answers_are_grouped(course):
    session = Session(course, A)
    try:
        view = session.view("q1")
    finally:
        session.close()
    sizes = [(len(g["members"]), g["empty"]) for g in view["groups"]]
    assert sizes[:2] == [(4, False), (3, True)] and sizes[2:] == [(1, False)] * 5
    shown = " ".join(view["groups"][0]["html"].lower().split())  # one of the four, as written
    assert "decay lowers the rate." in shown


def test_applying_items_and_editing_points_rescore_every_answer_in_the_gradebook(course):
    session = Session(course, A)
    try:
        groups = session.view("q1")["groups"]
        session.add_item("q1", "full answer", 2)
        session.add_item("q1", "says what, not why", -1)
        session.add_item("q1", "no answer", 0)
        four = [m["id"] for m in groups[0]["members"]]
        empty = [m["id"] for m in groups[1]["members"]]
        alone = groups[2]["members"][0]["id"]
        session.apply("q1", "i1", four, True)
        session.apply("q1", "i3", empty, True)
        session.apply("q1", "i1", [alone], True)
        session.apply("q1", "i2", [alone], True)
        session.comment("q1", [alone], "Say why the steps must shrink.")
        who = {m: session.names.student[m] for m in [*four, *empty, alone]}
        assert {hc.grade_of(course, who[m])[0] for m in four} == {2.0}
        assert {hc.grade_of(course, who[m])[:2] for m in empty} == {(0.0, False)}
        assert hc.grade_of(course, who[alone]) == (1.0, False, "Say why the steps must shrink.")
        untouched = groups[3]["members"][0]["id"]
        assert hc.grade_of(course, session.names.student[untouched])[:2] == (None, True)

        session.edit_item("i1", points=1.5)  # every answer with i1 follows
        assert {hc.grade_of(course, who[m])[0] for m in four} == {1.5}
        assert hc.grade_of(course, who[alone])[0] == 0.5
        assert {hc.grade_of(course, who[m])[0] for m in empty} == {0.0}  # without i1: unchanged
        session.apply("q1", "i1", [alone], False)
        session.apply("q1", "i2", [alone], False)  # no item left: pending again
        assert hc.grade_of(course, who[alone])[:2] == (None, True)
    finally:
        session.close()
    audit = Store(course, A).audit()
    by_why = {w: [e for e in audit if e.why is w] for w in Why}
    assert len(by_why[Why.ITEM_APPLIED]) == 4 + 3 + 1 + 1
    assert [(e.old, e.new) for e in by_why[Why.ITEM_POINTS]] == [(2.0, 1.5)] * 4 + [(1.0, 0.5)]
    assert len(by_why[Why.COMMENT]) == 1 and by_why[Why.COMMENT][0].detail.startswith("Say why")
    assert [(e.old, e.new) for e in by_why[Why.ITEM_REMOVED]] == [(0.5, 0.0), (0.0, None)]
    assert all(e.who == "instructor" and e.when for e in audit)


def test_the_score_never_leaves_the_cells_bounds_and_bad_points_are_refused(course):
    session = Session(course, A)
    try:
        one = session.view("q1")["groups"][2]["members"][0]["id"]
        session.add_item("q1", "full", 2)
        session.add_item("q1", "bonus", 2)
        session.add_item("q1", "wrong", -2)
        session.apply("q1", "i1", [one], True)
        session.apply("q1", "i2", [one], True)
        assert hc.grade_of(course, session.names.student[one])[0] == 2.0  # not 4
        session.apply("q1", "i1", [one], False)
        session.apply("q1", "i2", [one], False)
        session.apply("q1", "i3", [one], True)
        assert hc.grade_of(course, session.names.student[one])[0] == 0.0  # not -2
        with pytest.raises(ValueError, match=r"points must be in \[-2, 2\].*got 3"):
            session.add_item("q1", "too much", 3)
        with pytest.raises(ValueError, match="points must be a number, got nan"):
            session.edit_item("i1", points=float("nan"))
        with pytest.raises(ValueError, match="'q9' is not a hand-graded question"):
            session.add_item("q9", "x", 1)
        with pytest.raises(ValueError, match="no answer 's07' in your share"):
            session.apply("q1", "i1", ["s07"], True)  # ids are not pseudonyms
        with pytest.raises(ValueError, match="rubric item i1 belongs to q1"):
            session.apply("q2", "i1", [one], True)
    finally:
        session.close()


def test_a_failed_gradebook_commit_leaves_the_store_and_audit_unchanged(course, monkeypatch):
    session = Session(course, A)
    try:
        one = session.view("q1")["groups"][2]["members"][0]["id"]
        session.add_item("q1", "full", 2)

        def broken():
            raise RuntimeError("database is locked")

        monkeypatch.setattr(session.gb.db, "commit", broken)
        with pytest.raises(RuntimeError, match="locked"):
            session.apply("q1", "i1", [one], True)
    finally:
        monkeypatch.undo()
        session.close()
    assert not Store(course, A).read().marks and not Store(course, A).audit()


def test_each_grader_sees_only_their_share(course):
    name_graders(course, A, ["ana", "ben"])
    shares = {}
    for grader in ("ana", "ben"):
        session = Session(course, A, grader=grader)
        try:
            members = [m for g in session.view("q1")["groups"] for m in g["members"]]
            shares[grader] = {m["id"] for m in members}
            other = "ben" if grader == "ana" else "ana"
            theirs = [p for s, p in session.names.of.items()
                      if session.owners("q1", session.store.read())[s] == other]  # fmt: skip
            session.add_item("q1", f"item of {grader}", 1)
            with pytest.raises(ValueError, match="in your share"):
                session.apply("q1", "i1", theirs[:1], True)
        finally:
            session.close()
    assert not shares["ana"] & shares["ben"]
    assert len(shares["ana"] | shares["ben"]) == 12 and len(shares["ana"]) == 6
    with pytest.raises(ValueError, match="'cy' is not one of a4_mlp's graders \\(ana, ben\\)"):
        Session(course, A, grader="cy")


# -- regrade requests --------------------------------------------------------------------------


def test_regrade_request_is_refused_by_name_and_resolved_with_its_scores(course):
    run = [sys.executable, "-m", "autograder", "regrade-request", A, "--course", str(course)]
    bad = {
        "--question q9": "'q9' is not a hand-graded question of a4_mlp (those are: q1, q2",
        "--question test-accuracy": "'test-accuracy' is not a hand-graded question",
        "--student nobody": "'nobody' has no graded submission",
        "--student ../x": "is not a valid student id",
        "--why ''": "--why must not be empty",
    }
    for change, message in bad.items():
        args = {"--student": "s07", "--question": "q1", "--why": "I said why."}
        flag, _, value = change.partition(" ")
        args[flag] = value.strip("'")
        done = subprocess.run([*run, *(x for kv in args.items() for x in kv)],
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 2 and message in done.stderr, (change, done.stderr)
    session = Session(course, A)
    one = session.names["s07"]
    session.add_item("q1", "says what, not why", 1)
    session.add_item("q1", "full answer", 2)
    session.apply("q1", "i1", [one], True)
    why = "I explained why the steps shrink."
    done = subprocess.run([*run, "--student", "s07", "--question", "q1", "--why", why],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and "opened regrade request" in done.stdout, done.stderr
    again = subprocess.run([*run, "--student", "s07", "--question", "q1", "--why", "again"],
                           capture_output=True, text=True)  # fmt: skip
    assert again.returncode == 2 and "has an open regrade request of q1" in again.stderr
    try:
        [request] = session.view("q1")["requests"]
        assert request["answer"] == one and request["student"] is None
        assert request["status"] == "open" and request["score_then"] == 1.0
        session.apply("q1", "i1", [one], False)
        session.apply("q1", "i2", [one], True)
        session.resolve(request["id"], "You did: full marks.")
        with pytest.raises(ValueError, match="resolved already"):
            session.resolve(request["id"], "twice")
    finally:
        session.close()
    stored = Store(course, A).read().requests[request["id"]]
    assert (stored.status, stored.resolved_by, stored.score_after) == ("resolved", "instructor", 2)
    [entry] = [e for e in Store(course, A).audit() if e.why is Why.REGRADE]
    assert (entry.student, entry.old, entry.new) == ("s07", 1.0, 2.0)
    assert "You did: full marks." in entry.detail


# -- the server's access rules, over HTTP ------------------------------------------------------


@pytest.fixture
def served(template):
    course = hc.served_copy(template, COURSE_OWNER)
    handle = None
    try:
        handle = server.start(A, course=course)
        handle.course = course
        yield handle
    finally:
        if handle is not None:
            handle.stop()
        shutil.rmtree(course.parent)


def request(url, *, method="GET", body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def login(handle) -> tuple[str, str]:
    """The cookie the printed address sets, and the page's anti-CSRF value."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(handle.url, timeout=30)
    except urllib.error.HTTPError as error:
        assert error.code == 303
        cookie = error.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    cookie = cookie.split(";")[0]
    _, _, page = request(handle.base + "/", headers={"Cookie": cookie})
    csrf = page.decode().split('name="csrf" content="')[1].split('"')[0]
    return cookie, csrf


def test_the_server_answers_only_with_its_token_csrf_and_own_host(served):
    base, course = served.base, served.course
    assert request(base + "/api/view")[0] == 403  # no cookie
    assert request(base + "/?token=wrong")[0] == 403
    cookie, csrf = login(served)
    status, headers, body = request(base + "/api/view?question=q1", headers={"Cookie": cookie})
    assert status == 200 and "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"].split("style-src")[0]
    view = json.loads(body)
    assert len([m for g in view["groups"] for m in g["members"]]) == 12
    good = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    item = {"question": "q1", "description": "full answer", "points": 2}
    refused = {
        "no CSRF value": ({**good, "X-CSRF-Token": ""}, 403),
        "another site": ({**good, "Origin": "http://evil.example"}, 403),
        "rebinding": ({**good, "Host": "evil.example:80"}, 403),
        "a form post": ({**good, "Content-Type": "application/x-www-form-urlencoded"}, 415),
    }
    for why, (headers, code) in refused.items():
        assert request(base + "/api/item", method="POST", body=item, headers=headers)[0] == code, (
            why
        )
    for method in ("PUT", "DELETE"):
        assert request(base + "/api/item", method=method, headers=good)[0] == 405
    for path in ("/api/kernels", "/../state.json", "/static/../server.py", "/api/files"):
        assert request(base + path, headers={"Cookie": cookie})[0] == 404, path
    assert not Store(course, A).read().items  # none of the refused requests wrote anything
    status, _, body = request(base + "/api/item", method="POST", body=item, headers=good)
    assert status == 200 and json.loads(body)["items"][0]["points"] == 2
    too_much = {**item, "points": 1e9}
    status, _, body = request(base + "/api/item", method="POST", body=too_much, headers=good)
    assert status == 400 and "got 1000000000" in json.loads(body)["error"]


def test_the_server_never_runs_as_root(served):
    if os.geteuid() != 0:
        pytest.skip("run as root to see the server drop it")
    uid = os.stat(f"/proc/{served.process.pid}").st_uid
    status = open(f"/proc/{served.process.pid}/status").read()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert uid == COURSE_OWNER and set(uids) == {str(COURSE_OWNER)}


def test_handgrade_refuses_to_serve_root_owned_course_as_root(course):
    if os.geteuid() != 0:
        pytest.skip("only root can be refused")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "handgrade", A, "--course", str(course)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "will not serve as root" in done.stderr


def test_naming_graders_on_a_root_owned_course_is_refused_before_anything_is_written(course):
    """A stranger's ``handgrade A --graders x,y`` was refused as root but had written
    ``handgrade/A/state.json`` first: the refusal now comes before the graders are named."""
    if os.geteuid() != 0:
        pytest.skip("only root can be refused")
    before = sorted((p, p.stat().st_mtime_ns) for p in course.rglob("*"))
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "handgrade", A, "--course", str(course),
         "--graders", "x,y"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "will not serve as root" in done.stderr
    assert sorted((p, p.stat().st_mtime_ns) for p in course.rglob("*")) == before
    assert not (course / "handgrade" / A / "state.json").exists()


# -- what feedback and report show -------------------------------------------------------------


def test_feedback_shows_the_rubric_items_and_report_the_per_question_analytics(course):
    from autograder.term import feedback, report

    session = Session(course, A)
    try:
        groups = session.view("q1")["groups"]
        session.add_item("q1", "Full answer <script>x</script>", 2)
        session.add_item("q1", "No answer", 0)
        session.apply("q1", "i1", [m["id"] for m in groups[0]["members"]], True)
        session.apply("q1", "i2", [m["id"] for m in groups[1]["members"]], True)
        session.comment("q1", [groups[0]["members"][0]["id"]], "Well put.")
        graded = session.names.student[groups[0]["members"][0]["id"]]
        untouched = session.names.student[groups[2]["members"][0]["id"]]
    finally:
        session.close()
    pages = feedback.main(assignment=A, course=course, book="https://example.org/book/")
    text = {p.parent.parent.name: p.read_text() for p in pages}
    assert "<em>rubric:</em> Full answer &lt;script&gt;x&lt;/script&gt; (+2)" in text[graded]
    assert "Well put." in text[graded] and "<script>x" not in text[graded]
    assert "rubric:" not in text[untouched] and "to be graded by hand" in text[untouched]
    folder = report.main(assignment=A, course=course)
    md = (folder / "report.md").read_text()
    assert "| failed | 6 | test-accuracy 6 |" in md  # s01, s03, ... s11 (handgrade_class)
    assert "| q1 | Full answer &lt;script&gt;x&lt;/script&gt; | +2 | 4 |" in md
    assert "| q1 | No answer | +0 | 3 |" in md
    assert md.index("Full answer") < md.index("No answer")  # most applied first
    assert (folder / "questions.png").stat().st_size > 5000


def test_a_score_set_elsewhere_is_shown_and_is_the_old_value_of_the_next_change(course):
    """The gradebook is the truth: formgrader's value shows on the page and in the audit."""
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, default_db_url

    session = Session(course, A)
    try:
        one = session.names["s07"]
        session.add_item("q1", "full", 2)
        with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:  # as formgrader does
            grade = gb.find_grade("q1", A, A, "s07")
            grade.manual_score, grade.needs_manual_grade = 0.5, False
            gb.db.commit()
        [member] = [m for g in session.view("q1")["groups"] for m in g["members"] if m["id"] == one]
        assert (member["score"], member["gradebook"]) == (None, 0.5)
        session.apply("q1", "i1", [one], True)
    finally:
        session.close()
    [entry] = Store(course, A).audit()
    assert (entry.student, entry.old, entry.new) == ("s07", 0.5, 2.0)


def test_an_answer_changed_after_grading_is_flagged(course):
    """A resubmission regraded automatically keeps its hand score; the page says the answer
    is no longer the one graded."""
    session = Session(course, A)
    try:
        session.add_item("q1", "full", 2)
        session.apply("q1", "i1", [session.names["s07"], session.names["s08"]], True)
    finally:
        session.close()
    hc.add_students(course, {"s07": {"q1": "A new answer, written after the grade."}})
    session = Session(course, A)
    try:
        members = {m["id"]: m for g in session.view("q1")["groups"] for m in g["members"]}
    finally:
        session.close()
    changed, same = members[session.names["s07"]], members[session.names["s08"]]
    assert (changed["changed"], changed["score"], changed["gradebook"]) == (True, 2.0, 2.0)
    assert same["changed"] is False
