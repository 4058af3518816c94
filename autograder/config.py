"""Where things are: the assignment sources, the default course folder, the gradebook URL."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The assignments, one folder each (``NAME/notebook.py``: the jupytext py:percent source with
#: nbgrader cell metadata, beside its visible and hidden checks): :mod:`autograder.assignments`.
ASSIGNMENTS = REPO / "autograder" / "assignments"
#: Default course folder in nbgrader's layout (source/, release/, submitted/, autograded/, ...).
DEFAULT_COURSE = REPO / "autograder" / "course"


#: The course id in the gradebook (nbgrader's Gradebook uses this one when given none).
COURSE_ID = "default_course"


def default_db_url(course: Path) -> str:
    """The embedded default gradebook: SQLite in the course folder."""
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def nbgrader_config(course: Path, db_url: str | None = None):
    """A traitlets Config for nbgrader's API on ``course``."""
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(Path(course).resolve())
    config.CourseDirectory.db_url = db_url or default_db_url(course)
    # nbgrader's default course id is "", for which its Gradebook creates no course row: SQLite
    # ignores the missing foreign key, PostgreSQL refuses every assignment. Name the course.
    config.CourseDirectory.course_id = COURSE_ID
    return config


def check_gradebook(db_url: str, assignment: str | None = None) -> None:
    """Open the gradebook at ``db_url`` (creating its tables if new); it must hold ``assignment``.

    Raises ``ValueError`` naming the URL, its password hidden: not a URL, no driver, a server
    that cannot be reached, or an assignment never released into this gradebook.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        shown = make_url(db_url).render_as_string(hide_password=True)
    except SQLAlchemyError as exc:
        raise ValueError(f"--db must be a SQLAlchemy URL, got {db_url!r}") from exc
    try:
        with Gradebook(db_url, course_id=COURSE_ID) as gb:
            if assignment is not None:
                gb.find_assignment(assignment)
    except MissingEntry:
        raise ValueError(
            f"the gradebook {shown} has no assignment {assignment!r}: run "
            f"`python -m autograder release {assignment} --db URL` with this URL first"
        ) from None
    except (SQLAlchemyError, ImportError) as exc:  # unreachable server, no driver, bad dialect
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"cannot open the gradebook {shown}: {reason}") from exc


def ensure_tools_on_path() -> None:
    """nbgrader runs the ``alembic`` executable of its environment: put that ``bin`` first
    (for migrations), and read the head revision it stamps new gradebooks with in process."""
    import os
    import sys

    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path
    _alembic_head_in_process()


def alembic_head() -> str:
    """The head revision of nbgrader's gradebook migrations, read with alembic's own API.

    nbgrader stamps every new gradebook with it, and asks an ``alembic heads`` subprocess for
    it each time (``nbgrader.api.get_alembic_version``): a new Python importing nbgrader, about
    4 s of every new gradebook (each grading run makes one). This process has nbgrader
    imported already; the answer is the same.
    """
    import os

    import nbgrader
    from alembic.script import ScriptDirectory

    folder = os.path.join(os.path.dirname(nbgrader.__file__), "alembic")
    head = ScriptDirectory(folder).get_current_head()
    if not head:
        raise RuntimeError(f"nbgrader's migrations in {folder} have no head revision")
    return head


def _alembic_head_in_process() -> None:
    """Answer nbgrader's ``get_alembic_version`` with :func:`alembic_head`, once per process."""
    import functools

    import nbgrader.api

    if not getattr(nbgrader.api.get_alembic_version, "in_process", False):
        answer = functools.cache(alembic_head)
        answer.in_process = True
        nbgrader.api.get_alembic_version = answer
