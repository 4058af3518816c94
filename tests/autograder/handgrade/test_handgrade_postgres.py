"""Hand grading on a PostgreSQL gradebook (``--db``): does every action reach the database, and
nothing fall back to (or create) the course's SQLite file?

The server is ``tests/autograder/grading/test_postgres_gradebook.py``'s throwaway PostgreSQL (skipped
where it cannot run); the class is a4 written directly into that database
(``tests/autograder/handgrade/handgrade_class.py``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.parse

import pytest

from autograder.handgrade import server
from autograder.handgrade.records import Why
from autograder.handgrade.session import Session
from autograder.handgrade.store import Store
from tests.autograder.grading.test_postgres_gradebook import postgres_url  # noqa: F401 (a fixture)
from tests.autograder.handgrade import handgrade_class as hc
from tests.autograder.handgrade.test_handgrade_roles import login, post

pytestmark = pytest.mark.slow  # a database server, and a grading server in a subprocess

A = hc.A
COURSE_OWNER = 4242


def scores(url: str) -> dict[str, float | None]:
    """student -> q1's manual score, read back from the database through nbgrader."""
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID

    with Gradebook(url, course_id=COURSE_ID) as gb:
        return {s.student.id: gb.find_grade("q1", A, A, s.student.id).manual_score
                for s in gb.find_assignment(A).submissions}  # fmt: skip


def test_hand_grading_a_postgresql_gradebook_through_the_session_server_and_cli(
    postgres_url,  # noqa: F811 (the fixture imported above)
    tmp_path_factory,
):
    socket_folder = urllib.parse.parse_qs(urllib.parse.urlsplit(postgres_url).query)["host"][0]
    os.chmod(socket_folder, 0o711)  # the server, dropped to the course's owner, reaches it
    course = hc.released(tmp_path_factory.mktemp("handgrade-pg") / "course", postgres_url)
    students = [f"p{i:02d}" for i in range(6)]
    hc.add_students(course, {s: {"q1": f"Decay, answer {n}."} for n, s in enumerate(students)},
                    postgres_url)  # fmt: skip
    assert not (course / "gradebook.db").exists()

    session = Session(course, A, db_url=postgres_url)
    try:
        names = session.names
        session.add_item("q1", "full", 2)
        session.add_item("q1", "what, not why", -1)
        session.apply("q1", "i1", [names[s] for s in students[:4]], True)
        session.apply("q1", "i2", [names[s] for s in students[:2]], True)
        session.edit_item("i1", points=1.5)
        assert [scores(postgres_url)[s] for s in students] == [0.5, 0.5, 1.5, 1.5, None, None]
        session.delete_item("i2")
        session.clear("q1", [names[students[3]]])
    finally:
        session.close()
    assert [scores(postgres_url)[s] for s in students] == [1.5, 1.5, 1.5, None, None, None]

    run = [sys.executable, "-m", "autograder", "regrade-request", A, "--course", str(course)]
    done = subprocess.run([*run, "--student", students[0], "--question", "q1", "--why", "Why?",
                           "--db", postgres_url], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]

    served = hc.served_copy(course, COURSE_OWNER)
    handle = server.start(A, course=served, db_url=postgres_url)
    try:
        boss = login(handle.url)
        body = {"question": "q1", "item": "i1", "answers": [names[students[4]]], "on": True}
        status, answer = post(handle.base, "apply", body, *boss)
        assert status == 200, answer
        [request] = Store(served, A).read().requests.values()
        status, answer = post(handle.base, "resolve", {"request": request.id, "note": "ok"}, *boss)
        assert status == 200 and answer["requests"][0]["status"] == "resolved"
    finally:
        handle.stop()
    assert scores(postgres_url)[students[4]] == 1.5
    audit = Store(served, A).audit()
    assert [e.why for e in audit].count(Why.ITEM_DELETED) == 2 and audit[-1].why is Why.REGRADE
    assert not (course / "gradebook.db").exists() and not (served / "gradebook.db").exists()
    shutil.rmtree(served.parent)
