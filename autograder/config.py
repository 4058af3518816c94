"""Where things are: the assignment sources, the default course folder, the gradebook URL."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Assignment sources, jupytext py:percent files with nbgrader cell metadata.
ASSIGNMENTS = REPO / "notebooks" / "assignments"
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


def ensure_tools_on_path() -> None:
    """nbgrader runs the ``alembic`` executable of its environment: put that ``bin`` first."""
    import os
    import sys

    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path
