"""One command of ``python -m autograder``: a typed record, and the options commands share.

Every command is one :class:`Command`: its name, its one-line help, a real example, the typed
``main`` it calls (imported when the command line is built, not when ``autograder`` is), the
builder of its options and ``run``, which calls that ``main`` with the parsed options and says
the outcome (every line through :func:`autograder.names.say`). The registry is
:data:`autograder.cli.COMMANDS`; :func:`autograder.cli.main` builds one parser from it.

An option's default is the keyword default of the typed ``main`` (:func:`keyword_defaults`),
handed to the builder as ``d``: the command line shows what the function does, and a default
changed in the function changes on the command line too. The options many commands spell the
same way are built once here (:func:`course`, :func:`db`, :func:`roster_options`,
:func:`server_options`, :func:`exchange_options`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Command",
    "assignment",
    "course",
    "db",
    "exchange_options",
    "keyword_defaults",
    "roster_options",
    "server_options",
]

#: the exit status of a command whose input was refused (argparse's own for a bad option)
USAGE_ERROR = 2


@dataclass(frozen=True)
class Command:
    """One subcommand of ``python -m autograder``."""

    name: str
    help: str
    example: str  #: a real call, shown under ``--help`` as ``example: ...``
    main: Callable[[], Callable[..., Any]]  #: imports and returns the typed main it calls
    options: Callable[[argparse.ArgumentParser, dict[str, Any]], None]  #: (parser, defaults)
    run: Callable[[argparse.Namespace, Callable[..., Any]], int]  #: (args, main) -> exit status

    def add_to(self, sub, *, with_options: bool = True) -> argparse.ArgumentParser:
        """Add this command's parser to ``sub`` (argparse's subparsers) and return it; without
        its options (and without importing its ``main``) when it is not the one that runs."""
        parser = sub.add_parser(self.name, help=self.help, epilog=f"example: {self.example}")
        if with_options:
            self.options(parser, keyword_defaults(self.main()))
        return parser


def keyword_defaults(function: Callable[..., Any]) -> dict[str, Any]:
    """The keyword-only defaults of ``function`` (``{}`` when it has none)."""
    return dict(function.__kwdefaults__ or {})


# -- the options many commands share ---------------------------------------------------------


def assignment(parser: argparse.ArgumentParser) -> None:
    """The positional ``assignment`` (its name, e.g. ``a1_metrics``)."""
    parser.add_argument("assignment")


def course(parser: argparse.ArgumentParser, d: dict[str, Any]) -> None:
    """``--course``, the course folder, with ``main``'s default."""
    parser.add_argument("--course", type=Path, default=d["course"])


def db(parser: argparse.ArgumentParser, d: dict[str, Any]) -> None:
    """``--db``, as every command that opens the gradebook takes it."""
    parser.add_argument(
        "--db",
        dest="db_url",
        default=d.get("db_url"),
        metavar="URL",
        help="SQLAlchemy URL of the gradebook (default: COURSE/gradebook.db, which must exist)",
    )


def roster_options(parser: argparse.ArgumentParser, d: dict[str, Any]) -> None:
    """``--roster`` and ``--id-column``: the class list that names the students."""
    parser.add_argument("--roster", type=Path, default=d["roster"], metavar="ROSTER.csv")
    parser.add_argument("--id-column", default=d["id_column"])


def server_options(parser: argparse.ArgumentParser, d: dict[str, Any]) -> None:
    """``--port``, ``--ip`` and ``--db`` of a grading web server."""
    parser.add_argument("--port", type=int, default=d["port"], help="default: any free port")
    parser.add_argument("--ip", default=d["ip"], help="address to listen on (default: %(default)s)")
    db(parser, d)


def exchange_options(parser: argparse.ArgumentParser, d: dict[str, Any]) -> None:
    """``--exchange`` and ``--course-id``: nbgrader's exchange (JupyterHub)."""
    parser.add_argument(
        "--exchange",
        type=Path,
        default=d["exchange"],
        metavar="ROOT",
        help="nbgrader's exchange root (JupyterHub); students fetch_assignment from it",
    )
    parser.add_argument("--course-id", default=d["course_id"], help="nbgrader's course id there")
