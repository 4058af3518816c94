"""The hand-grading server: nbgrader's formgrader, hardened, and nothing else on the server.

``formgrade.start`` runs a Jupyter server whose only extension is this module (no other
extension or config file is loaded: ``JUPYTER_NO_CONFIG``; terminals off). Loading it loads
nbgrader's formgrader and then closes four ways in:

1. **Deny by default** (:class:`Route`, :func:`decide`): every request is matched against an
   allow-list before any handler exists. Allowed: reading formgrader's pages, its own files
   and ``/formgrader/api`` (``GET``; no file of a submission's folder is served); saving a grade or a comment (``PUT``); flagging a submission
   (``POST``); logging in; ``/api/status``. Everything else answers 403: Jupyter's kernels,
   sessions, terminals, contents (read and write), files, nbconvert and every other
   extension's pages, and formgrader's own actions that run code or write the course
   (autograde, generate/release/collect, feedback, editing students or assignments).
2. **Points within the cell's bounds** (:class:`BoundedGradeHandler`): a manual score and
   extra credit must each be a finite number in ``[0, the cell's points]`` (or empty);
   anything else is refused (400) with the value named, so no grade can exceed twice its
   cell. (``autograde`` writes automatic scores; the gradebook holds nothing larger.)
3. **Student content sanitised** (:class:`SafeHTMLExporter`): markdown cells, and the
   ``text/html``, ``image/svg+xml`` and ``text/markdown`` outputs, through
   :func:`autograder.safe_html.sanitise`; output types other than text, HTML, markdown, SVG,
   PNG, JPEG and GIF dropped (``application/javascript``, widgets, ``text/latex``...); images
   only as valid base64; output metadata (sizes) dropped; a grade id that is not a plain
   name is replaced (it is written into ``id`` attributes unescaped by nbgrader's template).
4. **Only formgrader's own scripts run** (:class:`CSPTransform`): every response carries
   :func:`autograder.safe_html.server_csp` with a fresh nonce (pages holding one are
   ``no-store``: a cached copy would hold an old nonce). formgrader's templates are
   copied at start with that nonce's placeholder (random per server, unknown to any
   submission) on each of their inline ``<script>`` blocks, and the texts of their inline
   event handlers are allowed by hash; so an inline script, handler or ``javascript:`` URL
   that student content managed to place in a page does not run.

**Math, offline.** nbconvert's page loads MathJax 2 from a CDN, which the policy blocks. The
copied templates replace that macro (``mathjax.html.j2``) with MathJax 3 from the course
repository's own copy, the one the book serves (:func:`mathjax_folder`: ``book/_assets/mathjax``
after ``make book``, else ``book/node_modules/mathjax/es5`` after ``npm ci --prefix book``),
served by this server at ``autograder/mathjax/`` (GET only, files of that folder only) and
configured by a nonced inline script: ``$x^2$`` in a student's markdown renders, and no request
leaves the machine. Without that folder, math shows as its TeX and the log says how to get it.
"""

from __future__ import annotations

import enum
import math
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbgrader.server_extensions.formgrader.apihandlers import GradeHandler
from tornado import web

from autograder.safe_html import is_base64, sanitise, script_hash, server_csp

__all__ = ["BoundedGradeHandler", "Route", "SafeHTMLExporter", "decide"]

#: stands for the response's nonce in the copied templates; random per server process
PLACEHOLDER = secrets.token_hex(16)
KEPT_OUTPUTS = ("text/plain", "text/html", "text/markdown", "image/svg+xml", "image/png",
                "image/jpeg", "image/gif")  # fmt: skip
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
REPOSITORY = Path(__file__).resolve().parents[2]
MATHJAX_ROUTE = "autograder/mathjax/"  #: under the server's base URL
MATHJAX_ENTRY = "tex-mml-chtml.js"


class Route(enum.Enum):
    """What the server does with a request, decided from its method and path alone."""

    PASS = "pass"  #: to nbgrader's (or Jupyter's login/status) handler
    BOUNDED_GRADE = "bounded grade"  #: PUT of a grade: checked first (BoundedGradeHandler)
    REFUSE = "refuse"  #: 403


@dataclass(frozen=True)
class _Rule:
    methods: frozenset[str]
    path: re.Pattern
    route: Route


def _rule(methods: str, path: str, route: Route = Route.PASS) -> _Rule:
    return _Rule(frozenset(methods.split()), re.compile(path), route)


RULES = (
    _rule("GET HEAD", r"formgrader(/(?!api/|submissions/).*)?"),  # pages, formgrader's files
    _rule("GET HEAD", r"formgrader/submissions/[^/]+/?"),  # a submission's page, and
    _rule("GET HEAD", r"formgrader/submissions/[^/]+/(next|prev)(_incorrect)?/?"),  # its next
    _rule("GET HEAD", r"formgrader/submissions/components/.+"),  # formgrader's own files
    _rule("GET HEAD", r"formgrader/api/[^/]+(/[^/]+)*"),  # every GET there only reads
    _rule("PUT", r"formgrader/api/grade/[^/]+", Route.BOUNDED_GRADE),
    _rule("PUT", r"formgrader/api/comment/[^/]+"),
    _rule("POST", r"formgrader/api/submitted_notebook/[^/]+/flag"),
    _rule("GET HEAD POST", r"login"),
    _rule("GET HEAD", r"logout|api/status|static/.+|favicon\.ico"),
    _rule("GET HEAD", re.escape(MATHJAX_ROUTE) + r"[A-Za-z0-9_./-]+"),  # MathJax's own files
)


def decide(method: str, path: str, base_url: str = "/") -> Route:
    """The route of ``method path`` (``path`` as requested, with the server's base URL)."""
    if not path.startswith(base_url):
        return Route.REFUSE
    rest = path[len(base_url) :].lstrip("/")
    if "/../" in f"/{rest}/" or "\\" in rest:
        return Route.REFUSE
    for rule in RULES:
        if method in rule.methods and rule.path.fullmatch(rest):
            return rule.route
    return Route.REFUSE


class Refused(web.RequestHandler):
    """403 for everything the allow-list does not name."""

    def prepare(self):
        raise web.HTTPError(403, "not served by the hand-grading server")

    def check_xsrf_cookie(self):  # refused before any cookie matters
        return None


def _bounded(value, name: str, most: float):
    """``value`` (a number, or its text as formgrader's page sends it) within ``[0, most]``."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        number = float(value)
    except (ValueError, OverflowError):
        raise web.HTTPError(400, f"{name} must be a number, got {value!r:.40}") from None
    if not math.isfinite(number):
        raise web.HTTPError(400, f"{name} must be a finite number, got {value!r:.40}")
    value = number
    if not 0 <= value <= most:
        raise web.HTTPError(
            400, f"{name} must be in [0, {most:g}] (the cell's points), got {value!r}"
        )
    return value


class BoundedGradeHandler(GradeHandler):
    """nbgrader's grade API, refusing a manual score or extra credit outside the cell's bounds."""

    @web.authenticated
    def put(self, grade_id):
        from nbgrader.api import MissingEntry

        try:
            grade = self.gradebook.find_grade_by_id(grade_id)
        except MissingEntry:
            raise web.HTTPError(404) from None
        data = self.get_json_body()
        if not isinstance(data, dict):
            raise web.HTTPError(400, "a grade is a JSON object")
        most = float(grade.max_score)
        _bounded(data.get("manual_score"), "manual_score", most)
        _bounded(data.get("extra_credit"), "extra_credit", most)
        return super().put(grade_id)


class SanitiseOutputs(Preprocessor):
    """Outputs reduced to inert types and valid images; grade ids that are plain names."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and "grade_id" in meta:
            if not _PLAIN_ID.fullmatch(str(meta["grade_id"])):
                meta["grade_id"] = f"cell-{index}"
        for output in cell.get("outputs", []):
            if "metadata" in output:
                output["metadata"] = {}
            data = output.get("data")
            if not isinstance(data, dict):
                continue
            for mime in list(data):
                value = data[mime]
                if mime not in KEPT_OUTPUTS or (
                    mime in ("image/png", "image/jpeg", "image/gif") and not is_base64(value)
                ):
                    del data[mime]
                elif isinstance(value, list):
                    data[mime] = "".join(map(str, value))
        return cell, resources


class SafeHTMLExporter(HTMLExporter):
    """formgrader's exporter with every piece of student HTML sanitised (see the module)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.sanitize_html = True  # nbconvert's templates: outputs through ``clean_html``
        self.register_preprocessor(SanitiseOutputs(), enabled=True)

    @pass_context
    def markdown2html(self, context, source):
        return sanitise(HTMLExporter.markdown2html(self, context, source))

    def default_filters(self):
        for name, function in super().default_filters():
            yield name, (sanitise if name == "clean_html" else function)  # our allow-list


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)([^>]*)>", re.IGNORECASE)
_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*"([^"]*)\"""", re.IGNORECASE)


def nonced_templates(source: Path, target: Path) -> tuple[str, ...]:
    """Copy formgrader's templates to ``target``, each inline script carrying the placeholder.

    Returns the CSP hashes of the inline event handlers the templates hold.
    """
    shutil.copytree(source, target, dirs_exist_ok=True)
    hashes = set()
    for path in sorted(target.rglob("*")):
        if path.suffix not in (".tpl", ".j2") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        hashes.update(script_hash(h) for h in _HANDLER.findall(text))
        path.write_text(_INLINE_SCRIPT.sub(rf'<script nonce="{PLACEHOLDER}"\1>', text), "utf-8")
    return tuple(sorted(hashes))


def mathjax_folder(repository: Path = REPOSITORY) -> Path | None:
    """The MathJax 3 the book serves (its ``tex-mml-chtml.js`` and components), or None."""
    for folder in (repository / "book" / "_assets" / "mathjax",
                   repository / "book" / "node_modules" / "mathjax" / "es5"):  # fmt: skip
        if (folder / MATHJAX_ENTRY).is_file():
            return folder
    return None


#: nbconvert's ``mathjax`` macro, replaced: MathJax 3 from this server, configured as
#: nbconvert configures MathJax 2 (``$...$`` and ``\(...\)`` inline, ``$$`` and ``\[`` display)
MATHJAX_MACRO = """\
{%- macro mathjax(url=None) -%}
<script nonce="PLACEHOLDER">
window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
        displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process"}
};
</script>
<script nonce="PLACEHOLDER" src="SOURCE" async></script>
{%- endmacro %}
"""


def offline_mathjax(templates: Path, base_url: str, folder: Path | None) -> None:
    """Write the ``mathjax`` macro into the copied templates: MathJax 3 from ``base_url``'s
    :data:`MATHJAX_ROUTE` where ``folder`` exists, else nothing (math stays TeX)."""
    macro = "{%- macro mathjax(url=None) -%}{%- endmacro %}\n"
    if folder is not None:
        source = base_url.rstrip("/") + "/" + MATHJAX_ROUTE + MATHJAX_ENTRY
        macro = MATHJAX_MACRO.replace("PLACEHOLDER", PLACEHOLDER).replace("SOURCE", source)
    (templates / "formgrade" / "mathjax.html.j2").write_text(macro, encoding="utf-8")


class MathJaxFiles(web.StaticFileHandler):
    """MathJax's files, read-only, from :func:`mathjax_folder` (no listing, no other folder)."""

    def set_extra_headers(self, path):
        self.set_header("Cache-Control", "no-cache")


class CSPTransform(web.OutputTransform):
    """Every response: the policy with a fresh nonce, put in place of the placeholder."""

    handler_hashes: tuple[str, ...] = ()

    def __init__(self, request):
        self.nonce = secrets.token_hex(16)  # as long as PLACEHOLDER: Content-Length holds

    def _swap(self, chunk: bytes) -> bytes:
        return chunk.replace(PLACEHOLDER.encode(), self.nonce.encode())

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        headers["Content-Security-Policy"] = server_csp(self.nonce, self.handler_hashes)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        if PLACEHOLDER.encode() in chunk:  # a page with nonced scripts: never from a cache
            headers["Cache-Control"] = "no-store"  # (a cached copy holds an old nonce)
            headers.pop("Etag", None)
        return status_code, headers, self._swap(chunk)

    def transform_chunk(self, chunk, finishing):
        return self._swap(chunk)


def _load_jupyter_server_extension(serverapp) -> None:
    """Load nbgrader's formgrader behind the allow-list, the sanitiser and the policy."""
    from jinja2 import Environment, FileSystemLoader
    from nbgrader.server_extensions.formgrader import formgrader, handlers

    web_app = serverapp.web_app
    formgrader.load_jupyter_server_extension(serverapp)

    templates = Path(tempfile.mkdtemp(prefix="formgrader-templates-"))
    CSPTransform.handler_hashes = nonced_templates(Path(handlers.template_path), templates)
    mathjax = mathjax_folder()
    offline_mathjax(templates, serverapp.base_url, mathjax)
    if mathjax is None:
        serverapp.log.warning(
            "no MathJax in %s: math in submissions shows as TeX (run `make book`, or "
            "`npm ci --prefix book`, once)",
            REPOSITORY / "book",
        )
    settings = web_app.settings
    config = settings["nbgrader_formgrader"].config.copy()
    config.HTMLExporter.extra_template_basedirs = [str(templates)]  # the nonced copy
    settings["nbgrader_exporter"] = SafeHTMLExporter(config=config)
    settings["nbgrader_jinja2_env"] = Environment(loader=FileSystemLoader([str(templates)]))

    web_app.transforms.insert(0, CSPTransform)  # before compression: it sees the page
    base_url = serverapp.base_url
    find_handler = web_app.find_handler

    def route(request, **kwargs):
        verdict = decide(request.method, request.path, base_url)
        if verdict is Route.REFUSE:
            return web_app.get_handler_delegate(request, Refused)
        if verdict is Route.BOUNDED_GRADE:
            grade_id = request.path.rstrip("/").rsplit("/", 1)[1]
            return web_app.get_handler_delegate(request, BoundedGradeHandler, path_args=[grade_id])
        return find_handler(request, **kwargs)

    if mathjax is not None:
        pattern = serverapp.base_url.rstrip("/") + "/" + re.escape(MATHJAX_ROUTE) + "(.*)"
        web_app.add_handlers(".*$", [(pattern, MathJaxFiles, {"path": str(mathjax)})])
    web_app.find_handler = route
    serverapp.log.info("formgrader served behind autograder's allow-list and policy")


def _jupyter_server_extension_points():
    return [{"module": "autograder.term.formgrade_server"}]
