"""``python -m autograder``: a thin command line over the typed ``main`` functions.

Examples::

    python -m autograder release a1_metrics
    python -m autograder grade a1_metrics --submissions submitted/ --jobs 2 --csv grades.csv
    python -m autograder feedback a1_metrics
    python -m autograder report a1_metrics
    python -m autograder check autograder/course/release/a1_metrics/a1_metrics.ipynb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.config import DEFAULT_COURSE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, grade and check the course's nbgrader assignments.",
        epilog="example: python -m autograder release a1_metrics",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    release = sub.add_parser(
        "release",
        help="text source -> nbgrader source notebook -> student release",
        epilog="example: python -m autograder release a1_metrics --course autograder/course",
    )
    release.add_argument("assignment")
    release.add_argument("--course", type=Path, default=DEFAULT_COURSE)
    release.add_argument(
        "--db", dest="db_url", default=None, help="SQLAlchemy URL of the gradebook"
    )
    release.add_argument(
        "--force",
        action="store_true",
        help="release a changed assignment even though submissions were graded (they become "
        "stale and the next grade regrades them)",
    )
    grade = sub.add_parser(
        "grade",
        help="autograde a batch of submissions in parallel; write the gradebook and a CSV",
        epilog="example: python -m autograder grade a1_metrics --course autograder/course "
        "--jobs 2 --csv grades.csv",
    )
    _grade_options(grade)
    feedback = sub.add_parser(
        "feedback",
        help="per-student HTML feedback that never shows hidden tests or expected values",
        epilog="example: python -m autograder feedback a1_metrics "
        "--book-url https://course.example.org/book/",
    )
    feedback.add_argument("assignment")
    feedback.add_argument("--course", type=Path, default=DEFAULT_COURSE)
    feedback.add_argument(
        "--book-url",
        default=None,
        help="the published book lesson links point to: an http(s):// or file:// URL, or the "
        "folder of a built book (default: $AUTOGRADER_BOOK_URL, else html.baseurl of "
        "book/_config.yml, else the locally built book/_build/html, with a warning)",
    )
    _db_option(feedback)
    report = sub.add_parser(
        "report",
        help="score distribution and per-question difficulty (table + plot)",
        epilog="example: python -m autograder report a1_metrics",
    )
    report.add_argument("assignment")
    report.add_argument("--course", type=Path, default=DEFAULT_COURSE)
    _db_option(report)
    check = sub.add_parser(
        "check",
        help="run a notebook's visible checks and say what passed",
        epilog="example: python -m autograder check a1_metrics.ipynb",
    )
    check.add_argument("notebook", type=Path)
    check.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    from autograder.term import term_cli  # roster, collect, export, ...

    term_cli.add_parsers(sub, release)
    return parser


def _db_option(parser: argparse.ArgumentParser) -> None:
    """``--db``, as every command that opens the gradebook takes it."""
    parser.add_argument(
        "--db",
        dest="db_url",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL of the gradebook (default: COURSE/gradebook.db, which must exist)",
    )


def _grade_options(parser: argparse.ArgumentParser) -> None:
    """``grade``'s options; every default is ``grade.main``'s or ``GradingOptions``'."""
    from autograder.grading.grade import main as grade_main
    from autograder.grading.options import GradingOptions

    default = grade_main.__kwdefaults__
    limits = GradingOptions()
    parser.add_argument("assignment")
    parser.add_argument("--course", type=Path, default=default["course"])
    parser.add_argument(
        "--submissions",
        type=Path,
        default=None,
        help="folder of STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb (default: COURSE/submitted)",
    )
    parser.add_argument(
        "--student",
        dest="students",
        action="append",
        default=[],
        metavar="ID",
        help="regrade this student (repeatable); the others are left as they are",
    )
    parser.add_argument(
        "--force", action="store_true", help="regrade every student, changed or not"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="students graded at once (default: cores)"
    )
    parser.add_argument("--csv", dest="csv_path", type=Path, default=None)
    parser.add_argument(
        "--scheduler",
        default=default["scheduler"],
        metavar="tcp://HOST:PORT",
        help="grade on this Dask cluster (default: $AUTOGRADER_SCHEDULER, else local processes)",
    )
    parser.add_argument("--db", dest="db_url", default=None, help="SQLAlchemy URL of the gradebook")
    help_text = {
        "cell_timeout": "seconds per cell or check",
        "notebook_timeout": "seconds per notebook",
        "memory_mb": "memory per submission (MB)",
        "cpu_s": "CPU seconds per submission",
        "processes": "processes and threads per submission",
        "grader_margin": "seconds a worker may take beyond the notebook's limit",
    }
    flags = {"notebook_timeout": "--timeout"}
    for name, text in help_text.items():
        flag = flags.get(name, "--" + name.replace("_", "-"))
        parser.add_argument(
            flag,
            dest=name,
            type=int,
            default=getattr(limits, name),
            help=f"{text} (default: %(default)s)",
        )


def _grade(args) -> int:
    from dataclasses import fields

    from autograder import names
    from autograder.grading import grade
    from autograder.grading.options import GradingOptions

    try:
        options = GradingOptions(**{f.name: getattr(args, f.name) for f in fields(GradingOptions)})
        grades = grade.main(
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
        names.say("error: {}", exc, file=sys.stderr)
        return 2
    failed = [g for g in grades if g.status != "graded"]
    names.say("graded {} of {} students; failed: {}", len(grades) - len(failed), len(grades),
              len(failed))  # fmt: skip
    for g in failed:
        names.say("  {}: {}", g.student_id, g.reason)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from autograder.names import say
    from autograder.term import term_cli

    if args.command in term_cli.COMMANDS:
        return term_cli.dispatch(args)
    if args.command == "release":
        from autograder.term import release

        try:
            folder = release.main(
                assignment=args.assignment,
                course=args.course,
                db_url=args.db_url,
                force=args.force,
            )
        except (ValueError, RuntimeError) as exc:
            say("error: {}", exc, file=sys.stderr)
            return 2
        say("released {}: {}", args.assignment, folder)
        return term_cli.after_release(args)  # --due, --late-penalty-per-day
    if args.command == "grade":
        return _grade(args)
    if args.command in ("feedback", "report"):
        from autograder.term import feedback, report

        try:
            if args.command == "feedback":
                pages = feedback.main(
                    assignment=args.assignment,
                    course=args.course,
                    book=args.book_url,
                    db_url=args.db_url,
                )
                say("wrote {} feedback pages under {}", len(pages), Path(args.course) / "feedback")
            else:
                folder = report.main(
                    assignment=args.assignment, course=args.course, db_url=args.db_url
                )
                say("wrote {}, {} and {}", folder / "report.md", folder / "scores.png",
                    folder / "questions.png")  # fmt: skip
        except ValueError as exc:
            say("error: {}", exc, file=sys.stderr)
            return 2
        return 0
    from autograder.grading import check

    try:
        result = check.main(notebook=args.notebook, timeout=args.timeout)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        say("error: {}", exc, file=sys.stderr)
        return 2
    print(result.report())
    return 0 if result.passed else 1
