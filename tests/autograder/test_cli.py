"""The one command registry of ``python -m autograder`` (:data:`autograder.cli.COMMANDS`).

The parser is built from the registry alone; each option's default is the typed ``main``'s
keyword default; the options many commands share are spelled once; every terminal line of the
command layer goes through :func:`autograder.names.say`.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
from pathlib import Path

from autograder import cli
from autograder.command import Command, keyword_defaults

ROOT = Path(__file__).resolve().parents[2]

#: the command line's interface (README), in the order ``--help`` lists it
INTERFACE = [
    "release", "grade", "feedback", "report", "check", "roster", "collect", "extend",
    "extensions", "export", "similarity", "handout", "deliver", "formgrade", "handgrade",
    "regrade-request",
]  # fmt: skip


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_the_parser_is_built_from_the_registry_alone():
    assert all(isinstance(c, Command) for c in cli.COMMANDS)
    names = [c.name for c in cli.COMMANDS]
    assert names == INTERFACE
    assert list(_subparsers(cli._parser())) == names
    for command, sub in zip(cli.COMMANDS, _subparsers(cli._parser()).values(), strict=True):
        assert sub.epilog == f"example: {command.example}"
        assert command.example.startswith("python -m autograder " + command.name)


def test_every_default_is_the_typed_mains():
    """Each option named like a keyword of the command's ``main`` defaults to that keyword's
    default (grade's limits to ``GradingOptions``'): the command line shows what runs."""
    compared = 0
    subs = _subparsers(cli._parser())
    for command in cli.COMMANDS:
        defaults = keyword_defaults(command.main())
        limits = defaults.get("options")
        for action in subs[command.name]._actions:
            key = {"book_url": "book"}.get(action.dest, action.dest)
            if key in defaults and key != "students":  # --student appends to a list
                assert action.default == defaults[key], (command.name, action.dest)
                compared += 1
            elif limits is not None and hasattr(limits, action.dest):
                assert action.default == getattr(limits, action.dest), action.dest
                compared += 1
    assert compared >= 60  # every command's options, not a few


def test_the_shared_options_are_one_spelling():
    """``--db``, ``--course``, ``--roster``/``--id-column``, ``--port``/``--ip`` and
    ``--exchange``/``--course-id`` read the same wherever a command takes them."""
    seen: dict[str, set] = {}
    for sub in _subparsers(cli._parser()).values():
        for action in sub._actions:
            for flag in action.option_strings:
                if flag in ("--db", "--course", "--roster", "--port", "--ip", "--exchange",
                            "--course-id"):  # fmt: skip
                    spelled = (action.dest, action.metavar, action.help, action.type)
                    seen.setdefault(flag, set()).add(spelled)
    assert {flag: len(spellings) for flag, spellings in seen.items()} == dict.fromkeys(seen, 1)
    assert {"--db", "--course", "--roster", "--port", "--exchange"} <= set(seen)


def _prints(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]


#: code that prints for a student, never for the grader: it runs inside the sandbox or ships with
#: a release, and imports nothing of the grader (``names`` included); and the printer itself
_NOT_THE_GRADERS = ("autograder/sandbox/inside/", "autograder/assignments/", "autograder/names.py")


def _printing_modules(root: Path) -> dict[str, list[int]]:
    found = {}
    for path in sorted((root / "autograder").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if not relative.startswith(_NOT_THE_GRADERS) and (lines := _prints(path)):
            found[relative] = lines
    return found


def test_every_terminal_line_of_the_grader_goes_through_say():
    """One printer (``names.say``: the grader's template, every outside value neutralised)."""
    assert _printing_modules(ROOT) == {}


def test_the_print_finder_finds_a_print(tmp_path):
    (tmp_path / "autograder" / "term").mkdir(parents=True)
    (tmp_path / "autograder" / "sandbox" / "inside").mkdir(parents=True)
    (tmp_path / "autograder" / "term" / "m.py").write_text(
        "def f(x):\n    say('{}', x)\n    print(x)\n"
    )
    (tmp_path / "autograder" / "sandbox" / "inside" / "h.py").write_text("print('student')\n")
    assert _printing_modules(tmp_path) == {"autograder/term/m.py": [3]}


def test_a_command_runs_its_main_and_says_the_outcome(tmp_path, capsys):
    from autograder.grading import deadlines

    due = dt.datetime(2026, 12, 1, 23, 59, tzinfo=dt.UTC)
    deadlines.set_policy(tmp_path, "a1_metrics", due=due, late_penalty_per_day=0.1)
    deadlines.set_extension(tmp_path, "a1_metrics", "jdoe", due + dt.timedelta(days=2))
    assert cli.main(["extensions", "a1_metrics", "--course", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "a1_metrics: 1 extension:",
        "  jdoe: due 2026-12-03T23:59:00+00:00 (instead of 2026-12-01T23:59:00+00:00)",
    ]


def test_a_hostile_value_reaches_the_terminal_neutralised(tmp_path, capsys):
    """A refused file name with terminal escapes is named with each control character
    replaced (the module's message carries it raw: ``say`` neutralises it), exit status 2."""
    hostile = tmp_path / "class\x1b[2Jlist.csv"
    status = cli.main(["roster", "--course", str(tmp_path), "--from", str(hostile)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ")
    assert "class?[2Jlist.csv" in err
    assert not any(ord(ch) < 32 for ch in err.rstrip("\n"))


def test_only_the_chosen_command_loads_its_main():
    """``python -m autograder --help`` imports no command's ``main``; a command imports its own
    (read in a fresh interpreter: what this one imported says nothing)."""
    import subprocess
    import sys

    probe = (
        "import sys; from autograder import cli; cli._parser(only=sys.argv[1]); "
        "print(*(m in sys.modules for m in ('autograder.grading.grade', 'autograder.term.release')))"
    )
    seen = {}
    for only in ("", "grade"):
        out = subprocess.run(
            [sys.executable, "-c", probe, only], capture_output=True, text=True, cwd=ROOT
        )
        assert out.returncode == 0, out.stderr
        seen[only] = out.stdout.split()
    assert seen == {"": ["False", "False"], "grade": ["True", "False"]}


def test_a_command_parses_the_same_alone_as_among_all():
    argv = ["export", "a1", "--format", "moodle", "--out", "x.csv", "--missing-as-zero"]
    assert vars(cli._parser(only="export").parse_args(argv)) == vars(cli._parser().parse_args(argv))


def test_a_count_agrees_with_its_noun(tmp_path, capsys):
    """A stranger read "collected 1 submissions": one is singular, in the words of collect,
    roster and deliver alike."""
    from autograder.names import counted

    assert [counted(n, "submission") for n in (0, 1, 2)] == [
        "0 submissions", "1 submission", "2 submissions"
    ]  # fmt: skip
    (tmp_path / "src").mkdir()
    empty = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    (tmp_path / "src" / "jdoe.ipynb").write_text(empty)
    course, src = str(tmp_path / "c"), str(tmp_path / "src")
    assert cli.main(["collect", "a1_metrics", "--course", course, "--from", src]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("collected 1 submission of a1_metrics (flat) from 1 file: 1 new")
