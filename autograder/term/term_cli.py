"""The term's commands on ``python -m autograder``: roster, collect, extend, export, ...

One :class:`~autograder.command.Command` record each, in :data:`COMMANDS` (the registry,
:data:`autograder.cli.COMMANDS`, lists them after the grading commands); option defaults are
the typed ``main``'s keyword defaults, the shared options are :mod:`autograder.command`'s.
:func:`deadline_options` adds ``release``'s ``--due`` and ``--late-penalty-per-day``, which
:func:`after_release` keeps. Every line is said through :func:`autograder.names.say`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import command as opt
from autograder.command import USAGE_ERROR, Command
from autograder.names import counted, say

__all__ = ["COMMANDS", "after_release", "deadline_options"]


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


def _refused(run):
    """``run`` with a refused input (``ValueError``) said as ``error: ...``, exit status 2."""

    def guarded(args: argparse.Namespace, main) -> int:
        try:
            return run(args, main)
        except ValueError as exc:
            say("error: {}", exc, file=sys.stderr)
            return USAGE_ERROR

    return guarded


# -- release's deadline options ----------------------------------------------------------------


def deadline_options(parser: argparse.ArgumentParser) -> None:
    """``release``'s ``--due`` and ``--late-penalty-per-day`` (kept by :func:`after_release`)."""
    from autograder.grading import deadlines

    parser.add_argument(
        "--due",
        type=_due,
        default=None,
        help="due date, ISO-8601 with a zone (2026-12-01T23:59+01:00); kept in "
        f"COURSE/{deadlines.POLICY_FILE} and the gradebook",
    )
    parser.add_argument(
        "--late-penalty-per-day",
        type=_fraction,
        default=None,
        metavar="FRACTION",
        help="points taken off per started day late, as a fraction of the assignment's "
        "points (0: none; 1: late means zero); capped at the points earned",
    )


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
        return USAGE_ERROR
    when = policy.due.isoformat() if policy.due else "no due date"
    say("due {}; late penalty {:g} of the points per started day", when,
        policy.late_penalty_per_day)  # fmt: skip
    return 0


# -- roster --------------------------------------------------------------------------------------


def _roster_main():
    from autograder.term import roster

    return roster.main


def _roster_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.course(p, d)
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="ROSTER.csv")
    p.add_argument(
        "--id-column",
        default=d["id_column"],
        help="the column holding the course's student ids (default: SIS Login ID on Canvas, "
        "ID number on Moodle)",
    )


@_refused
def _roster_run(args, main) -> int:
    from autograder.term.roster import ROSTER_FILE

    r = main(course=args.course, source=args.source, id_column=args.id_column)
    say("roster: {} ({}, id column {!r}) -> {}", counted(len(r.students), "student"), r.kind,
        r.id_column, Path(args.course) / ROSTER_FILE)  # fmt: skip
    for problem in r.problems:
        say("  {}", problem)
    return 0


# -- collect -------------------------------------------------------------------------------------


def _collect_main():
    from autograder.term import collect

    return collect.main


def _collect_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="PATH")
    opt.roster_options(p, d)
    p.add_argument(
        "--participants",
        type=Path,
        default=d["participants"],
        metavar="WORKSHEET.csv",
        help="Moodle's grading worksheet: tells same-named Moodle participants apart by email "
        "or ID number, and gives their upload times (with --timezone)",
    )
    p.add_argument(
        "--timezone",
        default=d["timezone"],
        metavar="ZONE",
        help="the time zone of the Moodle account that downloaded the worksheet, e.g. "
        "Europe/Berlin: its 'Last modified (submission)' times are read in it",
    )


@_refused
def _collect_run(args, main) -> int:
    from autograder.term.collect import Action

    result = main(
        assignment=args.assignment,
        source=args.source,
        course=args.course,
        roster=args.roster,
        id_column=args.id_column,
        participants=args.participants,
        timezone=args.timezone,
    )
    kinds = sorted({c.kind for c in result.collected})
    actions = [(a, sum(c.action is a for c in result.collected)) for a in Action]
    say("collected {} of {} ({}) from {}: {}", counted(len(result.collected), "submission"),
        result.assignment, ", ".join(kinds) or "none", counted(result.files_seen, "file"),
        ", ".join(f"{n} {a.value}" for a, n in actions))  # fmt: skip
    for c in result.collected:  # ids, notes, file and folder names came from outside
        if c.note:
            say("  {}: {} ({})", c.student_id, c.note, c.source)
    if result.skipped:
        say("not collected ({}):", len(result.skipped))
        for s in result.skipped:
            say("  {}: {}", s.source, s.reason)
    if not result.ok:
        say("error: no file matched a student", file=sys.stderr)
        return 1
    return 0


# -- extend, extensions --------------------------------------------------------------------------


def _extend_main():
    from autograder.term import extensions

    return extensions.grant


def _extend_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    p.add_argument("--student", required=True, help="a student on the roster")
    p.add_argument(
        "--until",
        type=_time("--until"),
        required=True,
        help="ISO-8601 with a zone, after the due date",
    )
    opt.roster_options(p, d)


@_refused
def _extend_run(args, main) -> int:
    given = main(
        course=args.course,
        assignment=args.assignment,
        student=args.student,
        until=args.until,
        roster=args.roster,
        id_column=args.id_column,
    )
    say("{}: {} due {} (everyone else: {})", given.student, given.assignment,
        given.until.isoformat(), given.due.isoformat())  # fmt: skip
    return 0


def _extensions_main():
    from autograder.term import extensions

    return extensions.main


def _extensions_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    p.add_argument("--remove", default=d["remove"], metavar="STUDENT",
                   help="take back this student's extension")  # fmt: skip


@_refused
def _extensions_run(args, main) -> int:
    left = main(assignment=args.assignment, course=args.course, remove=args.remove)
    if args.remove is not None:
        say("removed {}'s extension of {}", args.remove, args.assignment)
    count = f"{len(left)} extension{'' if len(left) == 1 else 's'}"
    say("{}: {}" + (":" if left else ""), args.assignment, count)
    for e in left:
        if e.until <= e.due:  # the due date moved past it: the later date counts
            say(
                "  {}: {} is no longer after the due date, which counts: due {}",
                *(e.student, e.until.isoformat(), e.due.isoformat()),
            )
        else:
            say("  {}: due {} (instead of {})", e.student, e.until.isoformat(), e.due.isoformat())
    return 0


# -- export --------------------------------------------------------------------------------------


def _export_main():
    from autograder.term import export

    return export.main


def _export_options(p: argparse.ArgumentParser, d: dict) -> None:
    from autograder.term.export import FORMATS

    opt.assignment(p)
    opt.course(p, d)
    p.add_argument("--format", choices=FORMATS, default=d["format"])
    p.add_argument("--out", type=Path, required=True)
    opt.roster_options(p, d)
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
    opt.db(p, d)


@_refused
def _export_run(args, main) -> int:
    done = main(
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
    say("wrote {} rows ({}) to {}", done.rows, done.format, done.path)
    for note in done.notes:
        say("  {}", note)
    return 0


# -- similarity ----------------------------------------------------------------------------------


def _similarity_main():
    from autograder.term import similarity

    return similarity.main


def _similarity_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    p.add_argument(
        "--threshold",
        type=float,
        default=d["threshold"],
        help="pairs at or above this score are reported (default: %(default)s)",
    )
    p.add_argument("--out", type=Path, default=d["out"], help="the HTML report (default: "
                   "COURSE/reports/ASSIGNMENT/similarity.html)")  # fmt: skip


@_refused
def _similarity_run(args, main) -> int:
    found = main(
        assignment=args.assignment, course=args.course, threshold=args.threshold, out=args.out
    )
    say("{} submissions, {} pairs; {} at or above {:g}: {}", len(found.students),
        len(found.pairs), len(found.flagged), found.threshold, found.report)  # fmt: skip
    for pair in found.flagged:
        say("  {} ~ {}: {:.2f}", pair.student_a, pair.student_b, pair.score)
    return 0


# -- handout, deliver ----------------------------------------------------------------------------


def _handout_main():
    from autograder.term import handout

    return handout.main


def _handout_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    opt.exchange_options(p, d)
    p.add_argument("--zip", dest="zip_path", type=Path, default=d["zip_path"],
                   help="the zip (default: COURSE/handout/ASSIGNMENT.zip)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="replace the exchange's copy")


@_refused
def _handout_run(args, main) -> int:
    done = main(
        assignment=args.assignment,
        course=args.course,
        exchange=args.exchange,
        course_id=args.course_id,
        zip_path=args.zip_path,
        force=args.force,
    )
    say("{} files ({}) -> {}", len(done.files), ", ".join(done.files), done.zip_path)
    if done.exchange:
        say("exchange: {}; students: nbgrader fetch_assignment {} --course {}", done.exchange,
            args.assignment, args.course_id)  # fmt: skip
    return 0


def _deliver_main():
    from autograder.term import delivery

    return delivery.main


def _deliver_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    opt.exchange_options(p, d)
    p.add_argument("--zip", dest="lms", choices=("canvas", "moodle"), default=d["lms"])
    p.add_argument("--out", type=Path, default=d["out"], help="the zip's path")
    p.add_argument(
        "--book-url",
        dest="book",
        default=d["book"],
        help="where the lesson links point (the pages are written again now, as `feedback`'s)",
    )


@_refused
def _deliver_run(args, main) -> int:
    sent = main(
        assignment=args.assignment,
        course=args.course,
        exchange=args.exchange,
        course_id=args.course_id,
        lms=args.lms,
        out=args.out,
        book=args.book,
    )
    say("delivered {} -> {}", counted(len(sent.delivered), "feedback page"), sent.target)
    for student, why in sent.not_delivered:
        say("  not delivered: {}: {}", student, why)
    return 0 if sent.delivered or not sent.not_delivered else 1


# -- formgrade, handgrade, regrade-request -------------------------------------------------------


def _formgrade_main():
    from autograder.term import formgrade

    return formgrade.main


def _formgrade_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.course(p, d)
    opt.server_options(p, d)


@_refused
def _formgrade_run(args, main) -> int:
    return main(course=args.course, port=args.port, ip=args.ip, db_url=args.db_url)


def _handgrade_main():
    from autograder.handgrade import server

    return server.main


def _graders(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _handgrade_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    opt.server_options(p, d)
    p.add_argument("--grader", default=d["grader"], metavar="NAME",
                   help="serve only this TA's address: their share of each question, no "
                   "instructor action (without it: the instructor's and every TA's "
                   "address)")  # fmt: skip
    p.add_argument(
        "--graders",
        type=_graders,
        default=d["graders"],
        metavar="NAME,NAME",
        help="the TAs who split every question, in order (kept with the course)",
    )
    p.add_argument("--reveal-names", action="store_true", default=d["reveal_names"],
                   help="show student ids on the instructor's page (default: stable "
                   "pseudonyms; a TA's page never shows ids)")  # fmt: skip


@_refused
def _handgrade_run(args, main) -> int:
    return main(
        assignment=args.assignment, course=args.course, port=args.port, ip=args.ip,
        db_url=args.db_url, grader=args.grader, graders=args.graders,
        reveal_names=args.reveal_names,
    )  # fmt: skip


def _regrade_main():
    from autograder.handgrade import regrade

    return regrade.main


def _regrade_options(p: argparse.ArgumentParser, d: dict) -> None:
    opt.assignment(p)
    opt.course(p, d)
    p.add_argument("--student", required=True)
    p.add_argument("--question", required=True, help="a hand-graded question, e.g. q1")
    p.add_argument("--why", required=True, help="the student's reason")
    opt.db(p, d)


@_refused
def _regrade_run(args, main) -> int:
    opened = main(
        assignment=args.assignment, student=args.student, question=args.question,
        why=args.why, course=args.course, db_url=args.db_url,
    )  # fmt: skip
    say("opened regrade request {} of {}'s {} ({}): the grading page lists it",
        opened.id, opened.student, opened.question, args.assignment)  # fmt: skip
    return 0


#: the term's commands, in the order ``--help`` lists them
COMMANDS: tuple[Command, ...] = (
    Command(
        "roster",
        "import the class list (a Canvas or Moodle gradebook export)",
        "python -m autograder roster --course autograder/course --from grades.csv",
        _roster_main,
        _roster_options,
        _roster_run,
    ),
    Command(
        "collect",
        "lay a Canvas/Moodle zip, a folder of STUDENT.ipynb or nbgrader's exchange inbound "
        "into COURSE/submitted",
        "python -m autograder collect a1_metrics --course autograder/course "
        "--from submissions.zip --roster grades.csv",
        _collect_main,
        _collect_options,
        _collect_run,
    ),
    Command(
        "extend",
        "give one student a later due date",
        "python -m autograder extend a1_metrics --student jdoe --until 2026-12-08T23:59+01:00",
        _extend_main,
        _extend_options,
        _extend_run,
    ),
    Command(
        "extensions",
        "list an assignment's extensions, or remove one",
        "python -m autograder extensions a1_metrics --remove jdoe",
        _extensions_main,
        _extensions_options,
        _extensions_run,
    ),
    Command(
        "export",
        "final grades as Canvas's or Moodle's grade import CSV, or a per-question CSV",
        "python -m autograder export a1_metrics --format canvas --out canvas.csv",
        _export_main,
        _export_options,
        _export_run,
    ),
    Command(
        "similarity",
        "pairs of submissions whose answer code is suspiciously alike (HTML report)",
        "python -m autograder similarity a1_metrics --course autograder/course",
        _similarity_main,
        _similarity_options,
        _similarity_run,
    ),
    Command(
        "handout",
        "the released assignment as a zip for the LMS, and to nbgrader's exchange",
        "python -m autograder handout a1_metrics --exchange /srv/nbgrader/exchange",
        _handout_main,
        _handout_options,
        _handout_run,
    ),
    Command(
        "deliver",
        "feedback pages to students: nbgrader's exchange or a Canvas/Moodle bulk zip",
        "python -m autograder deliver a1_metrics --zip canvas",
        _deliver_main,
        _deliver_options,
        _deliver_run,
    ),
    Command(
        "formgrade",
        "nbgrader's formgrader on the course and its gradebook, for hand grading",
        "python -m autograder formgrade --course autograder/course --port 8890",
        _formgrade_main,
        _formgrade_options,
        _formgrade_run,
    ),
    Command(
        "handgrade",
        "grade one question across every student with reusable rubric items (web page: an "
        "address for the instructor and one for each TA)",
        "python -m autograder handgrade a4_mlp --graders ana,ben",
        _handgrade_main,
        _handgrade_options,
        _handgrade_run,
    ),
    Command(
        "regrade-request",
        "open a student's regrade request; the hand-grading page lists it",
        "python -m autograder regrade-request a4_mlp --student jdoe --question q1 "
        "--why 'I named the cosine schedule'",
        _regrade_main,
        _regrade_options,
        _regrade_run,
    ),
)
