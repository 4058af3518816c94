"""Who may do what in hand grading, and deleting what was decided.

- Does a TA's token, through the JSON API, get refused every instructor action (editing or
  deleting a rubric item, resolving a regrade, revealing names, reassigning answers), each
  attempt between honest actions that succeed, with nothing written by the refused ones?
- Does a TA's token see only their share, never a student's id (even on a server started with
  ``--reveal-names``), and only their share's audit?
- Does deleting an applied rubric item re-score every answer it was on, in the gradebook, with
  an audit entry each? Does deleting an answer's marks make it ungraded again?
- Does reassigning move an answer between shares, audited, for the instructor only?

The class (a4, answers waiting for hand grading) is written directly, not autograded:
see ``tests/autograder/handgrade/handgrade_class.py``.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest

from autograder.handgrade import regrade, server
from autograder.handgrade.records import Why
from autograder.handgrade.roles import ALLOWED, Action, Role
from autograder.handgrade.session import Session, name_graders
from autograder.handgrade.store import Store
from tests.autograder.handgrade import handgrade_class as hc

A = hc.A
COURSE_OWNER = 4242  #: the instructor's account when the tests run as root
STUDENTS = [f"s{i:02d}" for i in range(12)]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """a4 released with 12 students, each with an answer of their own to q1."""
    course = hc.released(tmp_path_factory.mktemp("handgrade-roles") / "course")
    hc.add_students(
        course, {s: {"q1": f"Decay shrinks steps ({n} words)."} for n, s in enumerate(STUDENTS)}
    )
    return course


@pytest.fixture
def course(template, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(template, copy)
    return copy


def audit_and_state(course):
    state = Store(course, A).read()
    return [e.to_dict() for e in Store(course, A).audit()], json.dumps(state.to_dict())


# -- deleting --------------------------------------------------------------------------------


def test_deleting_an_applied_item_rescores_every_answer_it_was_on(course):
    session = Session(course, A)
    try:
        names = session.names
        session.add_item("q1", "full answer", 2)
        session.add_item("q1", "says what, not why", -1)
        session.apply("q1", "i1", [names[s] for s in ("s00", "s01", "s02")], True)
        session.apply("q1", "i2", [names[s] for s in ("s00", "s03")], True)
        assert [hc.grade_of(course, s)[0] for s in ("s00", "s01", "s03")] == [1.0, 2.0, 0.0]
        delta = session.delete_item("i2")
        assert delta["deleted"] == "i2" and [i["id"] for i in delta["items"]] == ["i1"]
        assert hc.grade_of(course, "s00")[:2] == (2.0, False)  # i1 alone now
        assert hc.grade_of(course, "s03")[:2] == (None, True)  # no item left: ungraded again
        assert hc.grade_of(course, "s01")[0] == 2.0  # never had i2: untouched
        with pytest.raises(ValueError, match="no rubric item 'i2'"):
            session.apply("q1", "i2", [names["s01"]], True)
    finally:
        session.close()
    state = Store(course, A).read()
    assert "i2" not in state.items and all("i2" not in m.items for m in state.marks.values())
    deleted = [e for e in Store(course, A).audit() if e.why is Why.ITEM_DELETED]
    assert {(e.student, e.old, e.new) for e in deleted} == {("s00", 1.0, 2.0), ("s03", 0.0, None)}
    assert all("says what, not why (-1)" in e.detail for e in deleted)


def test_deleting_an_answers_marks_makes_it_ungraded_and_is_audited(course):
    session = Session(course, A)
    try:
        one, other = session.names["s05"], session.names["s06"]
        session.add_item("q1", "full answer", 2)
        session.apply("q1", "i1", [one, other], True)
        session.comment("q1", [one], "Well put.")
        assert hc.grade_of(course, "s05") == (2.0, False, "Well put.")
        session.clear("q1", [one])
    finally:
        session.close()
    assert hc.grade_of(course, "s05") == (None, True, None)
    assert hc.grade_of(course, "s06")[:2] == (2.0, False)  # the other answer keeps its mark
    assert ("q1", "s05") not in Store(course, A).read().marks
    [entry] = [e for e in Store(course, A).audit() if e.why is Why.CLEARED]
    assert (entry.student, entry.old, entry.new) == ("s05", 2.0, None)


# -- reassigning -----------------------------------------------------------------------------


def test_the_instructor_reassigns_an_answer_from_one_share_to_another(course):
    name_graders(course, A, ["ana", "ben"])
    boss = Session(course, A)
    try:
        ana, ben = boss.as_grader("ana"), boss.as_grader("ben")
        state = Store(course, A).read()
        moved = ana.share("q1", state)[0]
        pid = boss.names[moved]
        boss.add_item("q1", "full answer", 2)
        ben_before = set(ben.share("q1", state))
        with pytest.raises(ValueError, match="in your share"):
            ben.apply("q1", "i1", [pid], True)
        with pytest.raises(ValueError, match=r"no grader 'cy' \(the graders: ana, ben\)"):
            boss.reassign("q1", [pid], "cy")
        with pytest.raises(PermissionError, match="only the instructor may reassign"):
            ana.reassign("q1", [pid], "ben")
        boss.reassign("q1", [pid], "ben")
        state = Store(course, A).read()
        assert set(ben.share("q1", state)) == ben_before | {moved}
        assert moved not in ana.share("q1", state)
        with pytest.raises(ValueError, match="in your share"):
            ana.apply("q1", "i1", [pid], True)
        ben.apply("q1", "i1", [pid], True)
    finally:
        boss.close()
    assert hc.grade_of(course, moved)[0] == 2.0
    [entry] = [e for e in Store(course, A).audit() if e.why is Why.REASSIGNED]
    assert (entry.student, entry.who, entry.detail) == (moved, "instructor", "ana -> ben")
    assert Store(course, A).read().assigned == {("q1", moved): "ben"}


# -- the role table, and each instructor action attacked through a TA's token ----------------


def test_a_ta_may_only_act_inside_their_share():
    instructor_only = {a for a in Action if Role.TA not in ALLOWED[a]}
    assert instructor_only == set(ATTACKS)  # a new instructor action needs an attack below
    assert all(Role.INSTRUCTOR in roles for roles in ALLOWED.values())
    assert set(ALLOWED) == set(Action)


#: each instructor action as a TA's page would send it (a valid request: only the role is wrong)
ATTACKS = {
    Action.EDIT: lambda ctx: {"item": "i1", "points": 0.5},
    Action.DELETE: lambda ctx: {"item": "i2"},
    Action.RESOLVE: lambda ctx: {"request": ctx["request"], "note": "Full marks after all."},
    Action.REVEAL: lambda ctx: {"reveal": True},
    Action.REASSIGN: lambda ctx: {"question": "q1", "answers": [ctx["mine"]], "grader": "ben"},
}


def post(base, action, body, cookie, csrf):
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    req = urllib.request.Request(f"{base}/api/{action}", data=json.dumps(body).encode(),
                                 method="POST", headers=headers)  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get(url, cookie):
    req = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.loads(response.read())


def login(url) -> tuple[str, str]:
    """The cookie an address sets, and its page's anti-CSRF value."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=60)
    except urllib.error.HTTPError as error:
        assert error.code == 303
        cookie = error.headers["Set-Cookie"].split(";")[0]
    base = url.split("/?token=")[0]
    with urllib.request.urlopen(
        urllib.request.Request(base + "/", headers={"Cookie": cookie}), timeout=60
    ) as response:
        page = response.read().decode()
    return cookie, page.split('name="csrf" content="')[1].split('"')[0]


def test_a_tas_token_is_refused_every_instructor_action_between_honest_ones(template):
    course = hc.served_copy(template, COURSE_OWNER)
    name_graders(course, A, ["ana", "ben"])
    handle = server.start(A, course=course, reveal_names=True)
    try:
        assert set(handle.urls) == {"instructor", "ana", "ben"}
        assert len(set(handle.urls.values())) == 3  # a token each
        base = handle.base
        boss = login(handle.urls["instructor"])
        ana = login(handle.urls["ana"])
        # what ana's token sees: her share, pseudonyms only (the server reveals names to the
        # instructor), the role and what it allows
        view = get(f"{base}/api/view?question=q1", ana[0])
        mine = [m["id"] for g in view["groups"] for m in g["members"]]
        assert view["role"] == "ta" and view["grader"] == "ana" and len(mine) == 6
        assert set(view["allowed"]) == {"item", "apply", "comment", "clear"}
        assert all(m["name"] is None for g in view["groups"] for m in g["members"])
        assert not any(s in json.dumps(view) for s in STUDENTS)
        everyone = get(f"{base}/api/view?question=q1", boss[0])
        assert {m["name"] for g in everyone["groups"] for m in g["members"]} == set(STUDENTS)
        theirs = [m["id"] for g in everyone["groups"] for m in g["members"] if m["id"] not in mine]

        # honest: the instructor's rubric, ana grading her share
        assert post(base, "item", {"question": "q1", "description": "full", "points": 2},
                    *boss)[0] == 200  # fmt: skip
        assert post(base, "item", {"question": "q1", "description": "what, not why",
                                   "points": -1}, *ana)[0] == 200  # fmt: skip
        assert post(base, "apply", {"question": "q1", "item": "i1", "answers": mine[:2],
                                    "on": True}, *ana)[0] == 200  # fmt: skip
        assert post(base, "apply", {"question": "q1", "item": "i2", "answers": mine[:1],
                                    "on": True}, *ana)[0] == 200  # fmt: skip
        request = regrade.main(assignment=A, course=course, question="q1",
                               student=everyone["groups"][0]["members"][0]["name"],
                               why="Please look again.")  # fmt: skip
        ctx = {"request": request.id, "mine": mine[0]}
        for action, body in ATTACKS.items():
            before = audit_and_state(course)
            status, answer = post(base, action.value, body(ctx), *ana)
            assert status == 403, (action, status, answer)
            assert f"only the instructor may {action.words}" in answer["error"]
            assert audit_and_state(course) == before, action  # nothing written
            # ana's token with the instructor's anti-CSRF value: still ana (the value is hers)
            assert post(base, action.value, body(ctx), ana[0], boss[1])[0] == 403
            # honest, right after: ana grades her share; the instructor may do the action
            assert (
                post(
                    base,
                    "comment",
                    {"question": "q1", "answers": mine[1:2], "comment": f"after {action}"},
                    *ana,
                )[0]
                == 200
            )
            status, answer = post(base, action.value, body(ctx), *boss)
            assert status == 200, (action, answer)
        # outside her share, ana is refused even the actions she may take
        status, answer = post(base, "apply", {"question": "q1", "item": "i1",
                                              "answers": theirs[:1], "on": True}, *ana)  # fmt: skip
        assert status == 400 and "in your share" in answer["error"]
        assert post(base, "clear", {"question": "q1", "answers": theirs[:1]}, *ana)[0] == 400
        # reveal never reaches ana's token; the audit she reads is her share's, pseudonymous
        view = get(f"{base}/api/view?question=q1", ana[0])
        assert not any(s in json.dumps(view) for s in STUDENTS)
        audit = get(f"{base}/api/audit?question=q1", ana[0])
        now_mine = {m["id"] for g in view["groups"] for m in g["members"]}
        assert audit and {e["student"] for e in audit} <= now_mine
    finally:
        handle.stop()
        shutil.rmtree(course.parent)
