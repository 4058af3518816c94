"""``python -m autograder``: one registry of commands over the typed ``main`` functions.

Examples::

    python -m autograder release a1_metrics
    python -m autograder grade a1_metrics --submissions submitted/ --jobs 2 --csv grades.csv
    python -m autograder feedback a1_metrics
    python -m autograder report a1_metrics
    python -m autograder check autograder/course/release/a1_metrics/a1_metrics.ipynb

:data:`COMMANDS` is the registry: one :class:`~autograder.command.Command` per subcommand
(the grading commands here, the term's from :data:`autograder.term.term_cli.COMMANDS`), in the
order ``--help`` lists them. :func:`main` builds the parser from it and runs the chosen
record; every line goes through :func:`autograder.names.say`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import command as opt
from autograder.command import USAGE_ERROR, Command
from autograder.names import say

__all__ = ["COMMANDS", "main"]


# -- release -------------------------------------------------------------------------------------


def _release_main():
    from autograder.term import release

    return release.main


def _release_options(p: argparse.ArgumentParser, d: dict) -> None:
    from autograder.term.term_cli import deadline_options

    opt.assignment(p)
    opt.course(p, d)
    opt.db(p, d)
    p.add_argument(
        "--force",
        action="store_true",
        help="release a changed assignment even though submissions were graded (they become "
        "stale and the next grade regrades them)",
    )
    deadline_options(p)


def _release_run(args, main) -> int:
    from autograder.term.term_cli import after_release

    try:
        folder = main(
            assignment=args.assignment, course=args.course, db_url=args.db_url, force=args.force
        )
    except (ValueError, RuntimeError) as exc:
        say("error: {}", exc, file=sys.stderr)
        return USAGE_ERROR
    say("released {}: {}", args.assignment, folder)
    return after_release(args)  # --due, --late-penalty-per-day


# -- grade ---------------------------------------------------------------------------------------


def _grade_main():
    from autograder.grading import grade

    return grade.main


#: ``GradingOptions`` field -> its help (each one an option, default: the record's)
_LIMIT_HELP = {
    "cell_timeout": "seconds per cell or check",
    "notebook_timeout": "seconds per notebook",
    "memory_mb": "memory per submission (MB)",
    "cpu_s": "CPU seconds per submission",
    "processes": "processes and threads per submission",
    "grader_margin": "seconds a worker may take beyond the notebook's limit",
}
_LIMIT_FLAG = {"notebook_timeout": "--timeout"}


def _grade_options(p: argparse.ArgumentParser, d: dict) -> None:
    """``grade``'s options; every default is ``grade.main``'s or ``GradingOptions``'."""
    opt.assignment(p)
    opt.course(p, d)
    p.add_argument(
        "--submissions",
        type=Path,
        default=d["submissions"],
        help="folder of STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb (default: COURSE/submitted)",
    )
    p.add_argument(
        "--student",
        dest="students",
        action="append",
        default=[],
        metavar="ID",
        help="regrade this student (repeatable); the others are left as they are",
    )
    p.add_argument("--force", action="store_true", help="regrade every student, changed or not")
    p.add_argument(
        "--jobs", type=int, default=d["jobs"], help="students graded at once (default: cores)"
    )
    p.add_argument("--csv", dest="csv_path", type=Path, default=d["csv_path"])
    p.add_argument(
        "--scheduler",
        default=d["scheduler"],
        metavar="tcp://HOST:PORT",
        help="grade on this Dask cluster (default: $AUTOGRADER_SCHEDULER, else local processes)",
    )
    opt.db(p, d)
    limits = d["options"]
    for name, text in _LIMIT_HELP.items():
        flag = _LIMIT_FLAG.get(name, "--" + name.replace("_", "-"))
        p.add_argument(
            flag,
            dest=name,
            type=int,
            default=getattr(limits, name),
            help=f"{text} (default: %(default)s)",
        )


def _grade_run(args, main) -> int:
    from dataclasses import fields

    from autograder.grading.options import GradingOptions
    from autograder.grading.records import Status

    try:
        options = GradingOptions(**{f.name: getattr(args, f.name) for f in fields(GradingOptions)})
        grades = main(
            assignment=args.assignment,
            course=args.course,
            submissions=args.submissions,
            students=tuple(args.students),
            force=args.force,
            jobs=args.jobs,
            csv_path=args.csv_path,
            db_url=args.db_url,
            options=options,
            scheduler=args.scheduler,
        )
    except ValueError as exc:
        say("error: {}", exc, file=sys.stderr)
        return USAGE_ERROR
    failed = [g for g in grades if g.status is not Status.GRADED]
    say("graded {} of {} students; failed: {}", len(grades) - len(failed), len(grades),
        len(failed))  # fmt: skip
    for g in failed:
        say("  {}: {}", g.student_id, g.reason)
    return 0


# -- feedback, report ----------------------------------------------------------------------------


def _feedback_main():
    from autograder.term import feedback

    return feedback.main


def _feedback_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    p.add_argument(
        "--book-url",
        default=d["book"],
        help="the published book lesson links point to: an http(s):// or file:// URL, or the "
        "folder of a built book (default: $AUTOGRADER_BOOK_URL, else html.baseurl of "
        "book/_config.yml, else the locally built book/_build/html, with a warning)",
    )
    opt.db(p, d)


def _feedback_run(args, main) -> int:
    try:
        pages = main(
            assignment=args.assignment, course=args.course, book=args.book_url, db_url=args.db_url
        )
    except ValueError as exc:
        say("error: {}", exc, file=sys.stderr)
        return USAGE_ERROR
    say("wrote {} feedback pages under {}", len(pages), Path(args.course) / "feedback")
    return 0


def _report_main():
    from autograder.term import report

    return report.main


def _report_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    opt.db(p, d)


def _report_run(args, main) -> int:
    try:
        folder = main(assignment=args.assignment, course=args.course, db_url=args.db_url)
    except ValueError as exc:
        say("error: {}", exc, file=sys.stderr)
        return USAGE_ERROR
    say("wrote {}, {} and {}", folder / "report.md", folder / "scores.png",
        folder / "questions.png")  # fmt: skip
    return 0


# -- check ---------------------------------------------------------------------------------------


def _check_main():
    from autograder.grading import check

    return check.main


def _check_options(p: argparse.ArgumentParser, d: dict) -> None:
    p.add_argument("notebook", type=Path)
    p.add_argument("--timeout", type=int, default=d["timeout"], help="seconds per cell")


def _check_run(args, main) -> int:
    try:
        result = main(notebook=args.notebook, timeout=args.timeout)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        say("error: {}", exc, file=sys.stderr)
        return USAGE_ERROR
    for line in result.report().split("\n"):
        say("{}", line)
    return 0 if result.passed else 1


def _grading_commands() -> tuple[Command, ...]:
    return (
        Command(
            "release",
            "text source -> nbgrader source notebook -> student release",
            "python -m autograder release a1_metrics --course autograder/course",
            _release_main,
            _release_options,
            _release_run,
        ),
        Command(
            "grade",
            "autograde a batch of submissions in parallel; write the gradebook and a CSV",
            "python -m autograder grade a1_metrics --course autograder/course --jobs 2 "
            "--csv grades.csv",
            _grade_main,
            _grade_options,
            _grade_run,
        ),
        Command(
            "feedback",
            "per-student HTML feedback that never shows hidden tests or expected values",
            "python -m autograder feedback a1_metrics --book-url https://course.example.org/book/",
            _feedback_main,
            _feedback_options,
            _feedback_run,
        ),
        Command(
            "report",
            "score distribution and per-question difficulty (table + plot)",
            "python -m autograder report a1_metrics",
            _report_main,
            _report_options,
            _report_run,
        ),
        Command(
            "check",
            "run a notebook's visible checks and say what passed",
            "python -m autograder check a1_metrics.ipynb",
            _check_main,
            _check_options,
            _check_run,
        ),
    )


def _registry() -> tuple[Command, ...]:
    from autograder.term.term_cli import COMMANDS as TERM

    return (*_grading_commands(), *TERM)


#: every command of ``python -m autograder``, in the order ``--help`` lists them
COMMANDS: tuple[Command, ...] = _registry()


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given ``only``, every command is listed (name, help) but
    only that one gets its options, so no other command's ``main`` is imported."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, grade and check the course's nbgrader assignments.",
        epilog="example: python -m autograder release a1_metrics",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_to(sub, with_options=only is None or command.name == only)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # the command is the first word (the top level has no option but --help)
    args = _parser(only=argv[0] if argv else "").parse_args(argv)
    command = next(c for c in COMMANDS if c.name == args.command)
    return command.run(args, command.main())
