"""The term's commands on ``python -m autograder``: roster, collect, extend, export, ...

A thin layer over each module's typed ``main``; option defaults are ``main``'s keyword defaults.
:func:`add_parsers` adds the subcommands (and ``release``'s deadline options),
:func:`dispatch` runs one, :func:`after_release` keeps the due date and late policy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.names import say

__all__ = ["COMMANDS", "add_parsers", "after_release", "dispatch"]

COMMANDS: dict[str, str] = {}


def _time(name: str):
    """An argparse type: an aware datetime, or the error naming the option ``name``."""

    def parse(text: str):
        from autograder.grading.deadlines import parse_time

        try:
            return parse_time(text, name=name)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


_due = _time("--due")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1], got {text!r}")
    return value


def _defaults(function) -> dict:
    return function.__kwdefaults__ or {}


def add_parsers(sub, release: argparse.ArgumentParser | None = None) -> None:
    """Add the term's subcommands to ``sub`` and the deadline options to ``release``."""
    from autograder.grading import deadlines
    from autograder.term import collect, export, roster

    if release is not None:
        release.add_argument(
            "--due",
            type=_due,
            default=None,
            help="due date, ISO-8601 with a zone (2026-12-01T23:59+01:00); kept in "
            f"COURSE/{deadlines.POLICY_FILE} and the gradebook",
        )
        release.add_argument(
            "--late-penalty-per-day",
            type=_fraction,
            default=None,
            metavar="FRACTION",
            help="points taken off per started day late, as a fraction of the assignment's "
            "points (0: none; 1: late means zero); capped at the points earned",
        )
    d = _defaults(roster.main)
    p = sub.add_parser(
        "roster",
        help="import the class list (a Canvas or Moodle gradebook export)",
        epilog="example: python -m autograder roster --course autograder/course --from grades.csv",
    )
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="ROSTER.csv")
    p.add_argument(
        "--id-column",
        default=d["id_column"],
        help="the column holding the course's student ids (default: SIS Login ID on Canvas, "
        "ID number on Moodle)",
    )
    COMMANDS["roster"] = "roster"

    d = _defaults(collect.main)
    p = sub.add_parser(
        "collect",
        help="lay a Canvas/Moodle zip, a folder of STUDENT.ipynb or nbgrader's exchange "
        "inbound into COURSE/submitted",
        epilog="example: python -m autograder collect a1_metrics --course autograder/course "
        "--from submissions.zip --roster grades.csv",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="PATH")
    p.add_argument("--roster", type=Path, default=d["roster"], metavar="ROSTER.csv")
    p.add_argument("--id-column", default=d["id_column"])
    p.add_argument(
        "--participants",
        type=Path,
        default=d["participants"],
        metavar="WORKSHEET.csv",
        help="Moodle's grading worksheet: tells same-named Moodle participants apart by email "
        "or ID number",
    )
    COMMANDS["collect"] = "collect"

    from autograder.term import extensions

    d = _defaults(extensions.grant)
    p = sub.add_parser(
        "extend",
        help="give one student a later due date",
        epilog="example: python -m autograder extend a1_metrics --student jdoe "
        "--until 2026-12-08T23:59+01:00",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--student", required=True, help="a student on the roster")
    p.add_argument(
        "--until",
        type=_time("--until"),
        required=True,
        help="ISO-8601 with a zone, after the due date",
    )
    p.add_argument("--roster", type=Path, default=d["roster"], metavar="ROSTER.csv")
    p.add_argument("--id-column", default=d["id_column"])
    COMMANDS["extend"] = "extend"

    d = _defaults(extensions.main)
    p = sub.add_parser(
        "extensions",
        help="list an assignment's extensions, or remove one",
        epilog="example: python -m autograder extensions a1_metrics --remove jdoe",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--remove", default=d["remove"], metavar="STUDENT",
                   help="take back this student's extension")  # fmt: skip
    COMMANDS["extensions"] = "extensions"

    d = _defaults(export.main)
    p = sub.add_parser(
        "export",
        help="final grades as Canvas's or Moodle's grade import CSV, or a per-question CSV",
        epilog="example: python -m autograder export a1_metrics --format canvas --out canvas.csv",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--format", choices=export.FORMATS, default=d["format"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--roster", type=Path, default=d["roster"], metavar="ROSTER.csv")
    p.add_argument("--id-column", default=d["id_column"])
    p.add_argument(
        "--column",
        default=d["column"],
        help="the roster's column for the assignment (default: the one named like it)",
    )
    p.add_argument(
        "--new-column",
        action="store_true",
        default=d["new_column"],
        help="let the LMS import create the column (--column, else the assignment's name)",
    )
    p.add_argument(
        "--missing-as-zero",
        action="store_true",
        default=d["missing_as_zero"],
        help="a roster student with no submission gets 0 (default: empty)",
    )
    p.add_argument("--db", dest="db_url", default=d["db_url"])
    COMMANDS["export"] = "export"

    from autograder.term import similarity

    d = _defaults(similarity.main)
    p = sub.add_parser(
        "similarity",
        help="pairs of submissions whose answer code is suspiciously alike (HTML report)",
        epilog="example: python -m autograder similarity a1_metrics --course autograder/course",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument(
        "--threshold",
        type=float,
        default=d["threshold"],
        help="pairs at or above this score are reported (default: %(default)s)",
    )
    p.add_argument("--out", type=Path, default=d["out"], help="the HTML report (default: "
                   "COURSE/reports/ASSIGNMENT/similarity.html)")  # fmt: skip
    COMMANDS["similarity"] = "similarity"

    from autograder.term import delivery, handout

    d = _defaults(handout.main)
    p = sub.add_parser(
        "handout",
        help="the released assignment as a zip for the LMS, and to nbgrader's exchange",
        epilog="example: python -m autograder handout a1_metrics --exchange /srv/nbgrader/exchange",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument(
        "--exchange",
        type=Path,
        default=d["exchange"],
        metavar="ROOT",
        help="nbgrader's exchange root (JupyterHub); students fetch_assignment from it",
    )
    p.add_argument("--course-id", default=d["course_id"], help="nbgrader's course id there")
    p.add_argument("--zip", dest="zip_path", type=Path, default=d["zip_path"],
                   help="the zip (default: COURSE/handout/ASSIGNMENT.zip)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="replace the exchange's copy")
    COMMANDS["handout"] = "handout"

    d = _defaults(delivery.main)
    p = sub.add_parser(
        "deliver",
        help="feedback pages to students: nbgrader's exchange or a Canvas/Moodle bulk zip",
        epilog="example: python -m autograder deliver a1_metrics --zip canvas",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--exchange", type=Path, default=d["exchange"], metavar="ROOT")
    p.add_argument("--course-id", default=d["course_id"])
    p.add_argument("--zip", dest="lms", choices=("canvas", "moodle"), default=d["lms"])
    p.add_argument("--out", type=Path, default=d["out"], help="the zip's path")
    COMMANDS["deliver"] = "deliver"

    from autograder.term import formgrade

    d = _defaults(formgrade.main)
    p = sub.add_parser(
        "formgrade",
        help="nbgrader's formgrader on the course and its gradebook, for hand grading",
        epilog="example: python -m autograder formgrade --course autograder/course --port 8890",
    )
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--port", type=int, default=d["port"], help="default: any free port")
    p.add_argument("--ip", default=d["ip"], help="address to listen on (default: %(default)s)")
    p.add_argument("--db", dest="db_url", default=d["db_url"])
    COMMANDS["formgrade"] = "formgrade"

    from autograder.handgrade import regrade as regrade_request
    from autograder.handgrade import server as handgrade

    d = _defaults(handgrade.main)
    p = sub.add_parser(
        "handgrade",
        help="grade one question across every student with reusable rubric items (web page)",
        epilog="example: python -m autograder handgrade a4_mlp --graders ana,ben, then each "
        "TA: python -m autograder handgrade a4_mlp --grader ana",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--port", type=int, default=d["port"], help="default: any free port")
    p.add_argument("--ip", default=d["ip"], help="address to listen on (default: %(default)s)")
    p.add_argument("--db", dest="db_url", default=d["db_url"])
    p.add_argument("--grader", default=d["grader"], metavar="NAME",
                   help="grade as this TA: only their share of each question")  # fmt: skip
    p.add_argument(
        "--graders",
        type=lambda text: tuple(n.strip() for n in text.split(",") if n.strip()),
        default=d["graders"],
        metavar="NAME,NAME",
        help="the TAs who split every question, in order (kept with the course)",
    )
    p.add_argument("--reveal-names", action="store_true", default=d["reveal_names"],
                   help="show student ids (default: stable pseudonyms)")  # fmt: skip
    COMMANDS["handgrade"] = "handgrade"

    d = _defaults(regrade_request.main)
    p = sub.add_parser(
        "regrade-request",
        help="open a student's regrade request; the hand-grading page lists it",
        epilog="example: python -m autograder regrade-request a4_mlp --student jdoe --question "
        "q1 --why 'I named the cosine schedule'",
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=d["course"])
    p.add_argument("--student", required=True)
    p.add_argument("--question", required=True, help="a hand-graded question, e.g. q1")
    p.add_argument("--why", required=True, help="the student's reason")
    p.add_argument("--db", dest="db_url", default=d["db_url"])
    COMMANDS["regrade-request"] = "regrade-request"


def after_release(args) -> int:
    """Keep ``release``'s ``--due`` / ``--late-penalty-per-day`` (course file + gradebook)."""
    from autograder.grading import deadlines

    due, fraction = getattr(args, "due", None), getattr(args, "late_penalty_per_day", None)
    if due is None and fraction is None:
        return 0
    try:
        policy = deadlines.set_policy(
            args.course, args.assignment, due=due, late_penalty_per_day=fraction
        )
        deadlines.set_gradebook_due(args.course, args.assignment, getattr(args, "db_url", None))
    except ValueError as exc:
        say("error: {}", exc, file=sys.stderr)
        return 2
    when = policy.due.isoformat() if policy.due else "no due date"
    print(f"due {when}; late penalty {policy.late_penalty_per_day:g} of the points per started day")
    return 0


def _print_collection(result) -> int:
    from autograder.term.collect import Action

    kinds = sorted({c.kind for c in result.collected})
    actions = [(a, sum(c.action is a for c in result.collected)) for a in Action]
    print(
        f"collected {len(result.collected)} submissions of {result.assignment} "
        f"({', '.join(kinds) or 'none'}) from {result.files_seen} files: "
        + ", ".join(f"{n} {a.value}" for a, n in actions)
    )
    for c in result.collected:  # ids, notes, file and folder names came from outside
        if c.note:
            say("  {}: {} ({})", c.student_id, c.note, c.source)
    if result.skipped:
        say("not collected ({}):", len(result.skipped))
        for s in result.skipped:
            say("  {}: {}", s.source, s.reason)
    if not result.ok:
        print("error: no file matched a student", file=sys.stderr)
        return 1
    return 0


def dispatch(args) -> int:
    """Run the term command ``args.command``; the exit status."""
    from autograder.term import collect, export, roster

    try:
        if args.command == "roster":
            r = roster.main(course=args.course, source=args.source, id_column=args.id_column)
            print(
                f"roster: {len(r.students)} students ({r.kind}, id column {r.id_column!r}) "
                f"-> {Path(args.course) / roster.ROSTER_FILE}"
            )
            for problem in r.problems:
                say("  {}", problem)
            return 0
        if args.command == "collect":
            result = collect.main(
                assignment=args.assignment,
                source=args.source,
                course=args.course,
                roster=args.roster,
                id_column=args.id_column,
                participants=args.participants,
            )
            return _print_collection(result)
        if args.command == "extend":
            from autograder.term import extensions

            given = extensions.grant(
                course=args.course,
                assignment=args.assignment,
                student=args.student,
                until=args.until,
                roster=args.roster,
                id_column=args.id_column,
            )
            print(f"{given.student}: {given.assignment} due {given.until.isoformat()} "
                  f"(everyone else: {given.due.isoformat()})")  # fmt: skip
            return 0
        if args.command == "extensions":
            from autograder.term import extensions

            left = extensions.main(
                assignment=args.assignment, course=args.course, remove=args.remove
            )
            if args.remove is not None:
                print(f"removed {args.remove}'s extension of {args.assignment}")
            count = f"{len(left)} extension{'' if len(left) == 1 else 's'}"
            print(f"{args.assignment}: {count}" + (":" if left else ""))
            for e in left:
                print(f"  {e.student}: due {e.until.isoformat()} (instead of {e.due.isoformat()})")
            return 0
        if args.command == "export":
            done = export.main(
                assignment=args.assignment,
                format=args.format,
                out=args.out,
                course=args.course,
                roster=args.roster,
                id_column=args.id_column,
                column=args.column,
                missing_as_zero=args.missing_as_zero,
                db_url=args.db_url,
                new_column=args.new_column,
            )
            print(f"wrote {done.rows} rows ({done.format}) to {done.path}")
            for note in done.notes:
                say("  {}", note)
            return 0
        if args.command == "similarity":
            from autograder.term import similarity

            found = similarity.main(
                assignment=args.assignment,
                course=args.course,
                threshold=args.threshold,
                out=args.out,
            )
            print(
                f"{len(found.students)} submissions, {len(found.pairs)} pairs; "
                f"{len(found.flagged)} at or above {found.threshold:g}: {found.report}"
            )
            for pair in found.flagged:
                say("  {} ~ {}: {:.2f}", pair.student_a, pair.student_b, pair.score)
            return 0
        if args.command == "formgrade":
            from autograder.term import formgrade

            return formgrade.main(
                course=args.course, port=args.port, ip=args.ip, db_url=args.db_url
            )
        if args.command == "handgrade":
            from autograder.handgrade import server

            return server.main(
                assignment=args.assignment, course=args.course, port=args.port, ip=args.ip,
                db_url=args.db_url, grader=args.grader, graders=args.graders,
                reveal_names=args.reveal_names,
            )  # fmt: skip
        if args.command == "regrade-request":
            from autograder.handgrade import regrade

            opened = regrade.main(
                assignment=args.assignment, student=args.student, question=args.question,
                why=args.why, course=args.course, db_url=args.db_url,
            )  # fmt: skip
            say("opened regrade request {} of {}'s {} ({}): the grading page lists it",
                opened.id, opened.student, opened.question, args.assignment)  # fmt: skip
            return 0
        if args.command == "handout":
            from autograder.term import handout

            done = handout.main(
                assignment=args.assignment,
                course=args.course,
                exchange=args.exchange,
                course_id=args.course_id,
                zip_path=args.zip_path,
                force=args.force,
            )
            print(f"{len(done.files)} files ({', '.join(done.files)}) -> {done.zip_path}")
            if done.exchange:
                print(f"exchange: {done.exchange}; students: nbgrader fetch_assignment "
                      f"{args.assignment} --course {args.course_id}")  # fmt: skip
            return 0
        if args.command == "deliver":
            from autograder.term import delivery

            sent = delivery.main(
                assignment=args.assignment,
                course=args.course,
                exchange=args.exchange,
                course_id=args.course_id,
                lms=args.lms,
                out=args.out,
            )
            print(f"delivered {len(sent.delivered)} feedback pages -> {sent.target}")
            for student, why in sent.not_delivered:
                say("  not delivered: {}: {}", student, why)
            return 0 if sent.delivered or not sent.not_delivered else 1
    except ValueError as exc:
        say("error: {}", exc, file=sys.stderr)
        return 2
    raise ValueError(f"not a term command: {args.command!r}")
