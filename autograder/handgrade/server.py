"""``handgrade``: the question-by-question grading page and its JSON API, and nothing else.

``python -m autograder handgrade A --course C`` serves, on 127.0.0.1 (``--ip`` to change), one
page, two static files and a JSON API over a :class:`~autograder.handgrade.session.Session`.
There is no other route: no file is read or written but the store and the gradebook, no code
runs, no template is rendered from student text.

**Access.** The server prints one address per person: the instructor's and one for each grader
named with ``--graders`` (started with ``--grader NAME``, only that grader's). Each holds a token
of its own, new each start: opening it sets an ``HttpOnly``, ``SameSite=Strict`` cookie; every
other request without a known token gets 403. A token opens one session with one role
(:mod:`~autograder.handgrade.roles`): a TA's sees and grades only their share, never names, and
is refused (403) every instructor action. A request whose
``Host`` is not the server's own address is refused (DNS rebinding). Every ``POST`` must also
carry the page's anti-CSRF value in ``X-CSRF-Token``, a JSON body (``Content-Type:
application/json``, at most 64 KiB) and, when the browser sends one, the server's own
``Origin``; a cross-site page can do none of that.

**Student content.** Answers are sanitised HTML (:mod:`~autograder.handgrade.answers`), put in
the page by its script as ``innerHTML``; everything else is set as text. Every response carries
:data:`CSP`: scripts only from the server's own file, no inline script or handler, no request
anywhere else, no plugin, frame or form.

**Never root.** Started by root, the server serves as the account that owns the course folder
(the rule ``formgrade`` follows; refused when root owns it): it hands the store folder and the SQLite
gradebook to that account, derives the pseudonym key from the course's secret (the server keeps
only the key), reads and renders the answers (text only: nothing in them runs), then drops
root before it opens a socket.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from autograder.config import DEFAULT_COURSE
from autograder.handgrade.roles import Action

__all__ = ["CSP", "Action", "Handgrade", "main", "start"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "object-src 'none'"
)
STATIC = Path(__file__).resolve().parent / "static"
FILES = {"/handgrade.js": "text/javascript", "/handgrade.css": "text/css"}
COOKIE = "handgrade_token"
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Access:
    """What one token opens: a session (the instructor's or a TA's) and its anti-CSRF value."""

    token: str
    csrf: str
    session: object  #: a :class:`~autograder.handgrade.session.Session`

    @classmethod
    def new(cls, session) -> Access:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), session)


class App:
    """The routes, over one session per token (the HTTP handler only parses and answers).

    Every route runs in the one thread that opened the session (:attr:`run`): nbgrader's
    gradebook is a thread-local SQLAlchemy session, and actions are serial anyway.
    """

    def __init__(self, accesses: list[Access], hosts: set[str], worker):
        self.accesses, self.hosts, self.worker = accesses, hosts, worker
        self.page = (STATIC / "handgrade.html").read_text(encoding="utf-8")

    def find(self, token: str) -> Access | None:
        """The access ``token`` opens (compared in constant time with each), or None."""
        found = None
        for access in self.accesses:
            if hmac.compare_digest(token.encode(), access.token.encode()):
                found = access
        return found

    def run(self, function, *args):
        return self.worker.submit(function, *args).result()

    def get(self, access: Access, path: str, query: dict) -> tuple[int, str, bytes]:
        s = access.session
        if path == "/":
            page = self.page.replace("{csrf}", access.csrf)
            return 200, "text/html; charset=utf-8", page.encode()
        if path in FILES:
            return 200, FILES[path], (STATIC / path.lstrip("/")).read_bytes()
        question = query.get("question", [next(iter(s.questions))])[0]
        if path == "/api/view":
            return self._json(s.view(question))
        if path == "/api/audit":
            s.question_info(question)
            mine = set(s.share(question, s.store.read()))
            entries = [e.to_dict() for e in s.store.audit()
                       if e.question == question and e.student in mine]  # fmt: skip
            for e in entries:
                e["student"] = e["student"] if s.reveal else s.names.of.get(e["student"], "?")
            return self._json(entries)
        return 404, "application/json", b'{"error": "not found"}'

    def post(self, access: Access, path: str, body: dict) -> tuple[int, str, bytes]:
        s = access.session
        try:
            action = Action(path.removeprefix("/api/"))
        except ValueError:
            return 404, "application/json", b'{"error": "not found"}'
        if action is Action.ITEM:
            done = s.add_item(body.get("question"), body.get("description"), body.get("points"))
        elif action is Action.EDIT:
            done = s.edit_item(
                body.get("item"), description=body.get("description"), points=body.get("points")
            )
        elif action is Action.APPLY:
            done = s.apply(body.get("question"), body.get("item"), body.get("answers"),
                           body.get("on"))  # fmt: skip
        elif action is Action.COMMENT:
            done = s.comment(body.get("question"), body.get("answers"), body.get("comment"))
        elif action is Action.CLEAR:
            done = s.clear(body.get("question"), body.get("answers"))
        elif action is Action.DELETE:
            done = s.delete_item(body.get("item"))
        elif action is Action.REVEAL:
            done = s.set_reveal(body.get("reveal"))
        elif action is Action.REASSIGN:
            done = s.reassign(body.get("question"), body.get("answers"), body.get("grader"))
        else:
            done = s.resolve(body.get("request"), body.get("note"))
        return self._json(done)

    @staticmethod
    def _json(value) -> tuple[int, str, bytes]:
        return 200, "application/json", json.dumps(value).encode()


def _handler(app: App):
    class Handler(BaseHTTPRequestHandler):
        server_version = "handgrade"
        sys_version = ""

        def log_message(self, *args):  # no access log on the terminal
            pass

        def _send(self, status: int, kind: str, body: bytes, headers: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str):
            self._send(status, "application/json", json.dumps({"error": message}).encode())

        def _allowed(self) -> Access | None:
            if self.headers.get("Host", "") not in app.hosts:
                self._error(403, "not this server's address")
                return None
            cookies = {}
            for part in self.headers.get("Cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                cookies[name] = value
            access = app.find(cookies.get(COOKIE, ""))
            if access is None:
                self._error(403, "open the address with the token that handgrade printed")
            return access

        def do_GET(self):
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/" and "token" in query:  # the printed address: token -> cookie
                access = app.find(query["token"][0])
                if self.headers.get("Host", "") in app.hosts and access is not None:
                    cookie = f"{COOKIE}={access.token}; HttpOnly; SameSite=Strict; Path=/"
                    return self._send(303, "text/plain", b"", {"Location": "/",
                                                                "Set-Cookie": cookie})  # fmt: skip
                return self._error(403, "wrong token")
            access = self._allowed()
            if access is None:
                return None
            try:
                return self._send(*app.run(app.get, access, url.path, query))
            except PermissionError as exc:
                return self._error(403, str(exc))
            except ValueError as exc:
                return self._error(400, str(exc))
            except Exception as exc:  # the server stays up; the terminal says what broke
                return self._broken(exc)

        def do_POST(self):
            access = self._allowed()
            if access is None:
                return None
            origin = self.headers.get("Origin")
            if origin is not None and origin not in {f"http://{h}" for h in app.hosts}:
                return self._error(403, "cross-origin request")
            given = self.headers.get("X-CSRF-Token", "").encode()
            if not hmac.compare_digest(given, access.csrf.encode()):
                return self._error(403, "missing or wrong X-CSRF-Token")
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
                return self._error(415, "send JSON (Content-Type: application/json)")
            try:
                length = int(self.headers.get("Content-Length", "-1"))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                return self._error(413, f"a request body is at most {MAX_BODY} bytes")
            try:
                body = json.loads(self.rfile.read(length))
                if not isinstance(body, dict):
                    raise ValueError("the request body must be a JSON object")
                return self._send(*app.run(app.post, access, urlsplit(self.path).path, body))
            except PermissionError as exc:  # a TA's token asking for an instructor's action
                return self._error(403, str(exc))
            except ValueError as exc:
                return self._error(400, str(exc))
            except Exception as exc:
                return self._broken(exc)

        def _broken(self, exc: Exception):
            from autograder.names import say

            say("handgrade: {} {} failed: {}: {}", self.command, self.path, type(exc).__name__,
                exc, file=sys.stderr)  # fmt: skip
            return self._error(500, "the server could not do this; its terminal says why")

        def _refuse(self):
            self._error(405, "only GET and POST")

        do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse

    return Handler


def _account(course: Path, db_url: str | None, store_folder: Path) -> tuple[int, int] | None:
    """Run by root: the (uid, gid) of the course folder's owner (refused if that is root), to
    which the store folder and the SQLite gradebook are handed; None when not root."""
    from autograder.term.formgrade import hand_gradebook, server_account

    account = server_account(course, "handgrade")
    if account is None:
        return None
    hand_gradebook(account, course, db_url)
    for folder in (store_folder.parent, store_folder):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chown(folder, account.uid, account.gid, follow_symlinks=False)
    for path in store_folder.iterdir():
        os.chown(path, account.uid, account.gid, follow_symlinks=False)
    return account.uid, account.gid


def _drop_root(account: tuple[int, int], store_folder: Path) -> None:
    uid, gid = account
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:  # pragma: no cover (setuid raises first)
        raise RuntimeError("could not drop root")
    if not os.access(store_folder, os.R_OK | os.W_OK | os.X_OK):
        raise ValueError(
            f"uid {uid}, the course folder's owner, cannot reach {store_folder}: a "
            "folder above the course is closed to it (chmod o+x each one)"
        )


def serve(
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    port: int = 0,
    ip: str = "127.0.0.1",
    db_url: str | None = None,
    grader: str | None = None,
    reveal_names: bool = False,
) -> tuple[ThreadingHTTPServer, dict[str, str]]:
    """A server ready to ``serve_forever`` and, per person, the address to open (token
    included): the instructor's and each grader's, or only ``grader``'s when one is given."""
    from autograder.handgrade.pseudonyms import pseudonym_key
    from autograder.handgrade.session import Session, hand_graded_questions
    from autograder.handgrade.store import Store

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"--port must be 0 (any free port) or 1-65535, got {port!r}")
    course = Path(course).resolve()
    hand_graded_questions(course, assignment)  # refuse before anything is made
    account = _account(course, db_url, Store(course, assignment).folder)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="handgrade")
    session = worker.submit(Session, course, assignment, db_url=db_url, grader=grader,
                            reveal=reveal_names, key=pseudonym_key(course)).result()  # fmt: skip
    if account is not None:
        worker.submit(session.warm_up).result()  # imports what actions need, while readable
        _drop_root(account, Store(course, assignment).folder)
    sessions = [session]
    if grader is None:  # the instructor's server: every grader's address too
        sessions += [session.as_grader(g) for g in session.store.read().graders]
    accesses = [Access.new(s) for s in sessions]
    app = App(accesses, set(), worker)
    httpd = ThreadingHTTPServer((ip, port), _handler(app))
    httpd.daemon_threads = True
    bound = httpd.server_address[1]
    host = f"[{ip}]" if ":" in ip else ip
    app.hosts = {f"{host}:{bound}"} | ({f"localhost:{bound}"} if ip == "127.0.0.1" else set())
    return httpd, {a.session.who: f"http://{host}:{bound}/?token={a.token}" for a in accesses}


def main(
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    port: int = 0,
    ip: str = "127.0.0.1",
    db_url: str | None = None,
    grader: str | None = None,
    graders: tuple[str, ...] | None = None,
    reveal_names: bool = False,
) -> int:
    """Serve the grading page until Ctrl-C (or SIGTERM); the exit status.

    ``graders``: name the graders who split every question (kept in the store), before serving.
    """
    from autograder.handgrade.session import name_graders
    from autograder.names import say
    from autograder.term.formgrade import server_account

    if graders is not None:
        server_account(Path(course).resolve(), "handgrade")  # a refusal writes nothing
        named = name_graders(course, assignment, graders)
        say("{} is split between {}", assignment, ", ".join(named) or "nobody (one grader)")
    httpd, urls = serve(assignment=assignment, course=course, port=port, ip=ip, db_url=db_url,
                        grader=grader, reveal_names=reveal_names)  # fmt: skip

    def stop_on_term(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop_on_term)
    try:
        for who, url in urls.items():
            say("handgrade {} as {}: open {}", assignment, who, url)
        if grader is None and len(urls) > 1:
            say("Give each grader their own address: it opens their share only.")
        say("Ctrl-C stops it.")
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        signal.signal(signal.SIGTERM, previous)
    return 0


@dataclass
class Handgrade:
    """A grading server started by :func:`start` (in a process of its own)."""

    url: str  #: the first address printed: the instructor's (or the one grader's)
    process: subprocess.Popen
    urls: dict[str, str] = field(default_factory=dict)  #: who -> address

    @property
    def base(self) -> str:
        return self.url.split("/?token=")[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    assignment: str,
    *,
    course: Path = DEFAULT_COURSE,
    grader: str | None = None,
    graders: tuple[str, ...] | None = None,
    reveal_names: bool = False,
    db_url: str | None = None,
    timeout: float = 120.0,
) -> Handgrade:
    """Run ``python -m autograder handgrade`` in a new process; return once it serves."""
    command = [sys.executable, "-m", "autograder", "handgrade", assignment,
               "--course", str(course)]  # fmt: skip
    command += ["--grader", grader] if grader else []
    command += ["--graders", ",".join(graders)] if graders is not None else []
    command += ["--reveal-names"] if reveal_names else []
    command += ["--db", db_url] if db_url else []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + timeout
    said, urls = [], {}
    while time.monotonic() < deadline and len(said) < 100:
        said.append(process.stdout.readline())
        if " open http" in said[-1]:
            who = said[-1].split(" as ", 1)[1].split(": open ", 1)[0]
            urls[who] = said[-1].rsplit(" open ", 1)[1].strip()
        if said[-1].startswith("Ctrl-C stops it.") and urls:
            return Handgrade(next(iter(urls.values())), process, urls)
        if not said[-1]:
            break
    process.kill()
    raise ValueError(f"handgrade did not start: {''.join(said)}{process.stderr.read()[-2000:]}")
