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
    grade = sub.add_parser(
        "grade",
        help="autograde a batch of submissions in parallel; write the gradebook and a CSV",
        epilog="example: python -m autograder grade a1_metrics --submissions submitted/ --jobs 2 --csv grades.csv",
    )
    grade.add_argument("assignment")
    grade.add_argument(
        "--submissions", type=Path, required=True, help="folder of STUDENT/ASSIGNMENT/*.ipynb"
    )
    grade.add_argument("--course", type=Path, default=DEFAULT_COURSE)
    grade.add_argument(
        "--jobs", type=int, default=None, help="students graded at once (default: cores)"
    )
    grade.add_argument("--csv", dest="csv_path", type=Path, default=None)
    grade.add_argument("--force", action="store_true", help="regrade students already graded")
    grade.add_argument("--db", dest="db_url", default=None, help="SQLAlchemy URL of the gradebook")
    grade.add_argument("--cell-timeout", type=int, default=60, help="seconds per cell or check")
    grade.add_argument(
        "--timeout", dest="notebook_timeout", type=int, default=600, help="seconds per notebook"
    )
    grade.add_argument(
        "--memory-mb", type=int, default=4096, help="address space per submission (MB)"
    )
    grade.add_argument("--cpu-s", type=int, default=600, help="CPU seconds per submission")
    grade.add_argument(
        "--processes", type=int, default=512, help="processes and threads per submission"
    )
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
        "folder of a built book (default: $AUTOGRADER_BOOK_URL, else the locally built "
        "book/_build/html)",
    )
    report = sub.add_parser(
        "report",
        help="score distribution and per-question difficulty (table + plot)",
        epilog="example: python -m autograder report a1_metrics",
    )
    report.add_argument("assignment")
    report.add_argument("--course", type=Path, default=DEFAULT_COURSE)
    check = sub.add_parser(
        "check",
        help="run a notebook's visible checks and say what passed",
        epilog="example: python -m autograder check a1_metrics.ipynb",
    )
    check.add_argument("notebook", type=Path)
    check.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "release":
        from autograder import release

        try:
            folder = release.main(
                assignment=args.assignment, course=args.course, db_url=args.db_url
            )
        except (ValueError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"released {args.assignment}: {folder}")
        return 0
    if args.command == "grade":
        from autograder import grade

        options = {k: v for k, v in vars(args).items() if k != "command"}
        try:
            results = grade.main(**options)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        failed = [r for r in results if r.status == "failed"]
        print(
            f"graded {len(results) - len(failed)} of {len(results)} students; failed: {len(failed)}"
        )
        for r in failed:
            print(f"  {r.student_id}: {r.reason}")
        return 0
    if args.command in ("feedback", "report"):
        from autograder import feedback, report

        try:
            if args.command == "feedback":
                pages = feedback.main(
                    assignment=args.assignment, course=args.course, book=args.book_url
                )
                print(f"wrote {len(pages)} feedback pages under {Path(args.course) / 'feedback'}")
            else:
                folder = report.main(assignment=args.assignment, course=args.course)
                print(f"wrote {folder / 'report.md'} and {folder / 'scores.png'}")
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    from autograder import check

    try:
        result = check.main(notebook=args.notebook, timeout=args.timeout)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.report())
    return 0 if result.passed else 1
