"""One vocabulary of outcomes, one home per setting, one gradebook writer: held by the source.

The registry tests check a property of every kind at once; the walks read the package's own
source (``ast``) so that a decision taken from text, an environment switch read outside
:mod:`autograder.settings` or a gradebook change outside
:mod:`autograder.grading.gradebook_writer` cannot come back unnoticed.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import autograder
from autograder import settings
from autograder.grading.records import (
    CheckOutcome,
    Fault,
    GradedRecord,
    GradeResult,
    Kind,
    Status,
    StepReport,
)

PACKAGE = Path(autograder.__file__).resolve().parent


def _sources() -> list[tuple[str, ast.Module]]:
    """(path relative to the package, parsed tree) of every module of ``autograder``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        found.append((rel, ast.parse(path.read_text(encoding="utf-8"), rel)))
    return found


# -- the vocabulary ---------------------------------------------------------------------------


def test_every_kind_has_its_own_words_and_whose_fault_it_is():
    words = [k.words for k in Kind]
    assert all(w and w == w.strip() and ":" not in w for w in words)
    assert len(set(words)) == len(words)  # a reason's words name one kind
    assert {k for k in Kind if k.fault is Fault.GRADER} == {Kind.GRADER_ERROR}
    assert {k for k in Kind if k.fault is Fault.NONE} == {Kind.PASSED, Kind.PENDING}
    for kind in Kind:
        assert Kind(kind.value) is kind
        # a check that cost points is shown in the graded notebook under an error name
        assert bool(kind.ename) == kind.costs_points, kind


def test_the_kinds_of_a_whole_submission_are_never_a_checks():
    rows = [k for k in Kind if not k.of_check]
    assert rows and all(k.fault is Fault.STUDENT for k in rows)
    for kind in rows:
        with pytest.raises(ValueError, match="kind of a whole submission"):
            CheckOutcome("test-a", 0.0, 1.0, kind)
    with pytest.raises(ValueError, match="outcome kind must be one of"):
        CheckOutcome("test-a", 0.0, 1.0, "grader error")  # words are not a kind


def test_a_failed_result_carries_its_kind_and_says_it_in_its_words():
    result = GradeResult.failed("s1", Kind.MISSING_NOTEBOOK, "expected a1.ipynb, found x.py")
    assert result.reason == "missing notebook: expected a1.ipynb, found x.py"
    assert result.status is Status.FAILED and result.fault is Fault.STUDENT
    again = GradeResult.from_dict(json.loads(result.to_json()))
    assert again == result and again.kind is Kind.MISSING_NOTEBOOK
    assert GradeResult.failed("s1", Kind.GRADER_ERROR, "x " * 400).reason.startswith(
        "grader error: x x"
    )
    assert len(GradeResult.failed("s1", Kind.GRADER_ERROR, "x " * 400).reason) == 300
    with pytest.raises(ValueError, match="failed result has no kind"):
        GradeResult("s1", Status.FAILED, "grader error: but no kind")
    with pytest.raises(ValueError, match="graded result has kind"):
        GradeResult("s1", Status.GRADED, kind=Kind.CRASH)


def test_the_grader_is_to_blame_by_kind_never_by_the_reasons_words():
    posing = GradeResult("s", Status.FAILED, "grader error: regrade me", kind=Kind.INVALID_NOTEBOOK)
    assert not posing.grader_fault
    real = GradeResult.failed("s", Kind.GRADER_ERROR, "SandboxUnavailable: no unshare")
    assert real.grader_fault
    broken = CheckOutcome("test-b", 0.0, 2.0, Kind.GRADER_ERROR, "the check itself failed")
    assert GradeResult("s", Status.GRADED, outcomes=(broken,)).grader_fault


def test_the_reason_line_is_built_from_kinds_and_the_gradebooks_pending_cells():
    outcomes = (
        CheckOutcome("t1", 2.0, 2.0, Kind.PASSED),
        CheckOutcome("t2", 0.0, 2.0, Kind.FAILED, "wrong"),
        CheckOutcome("t3", 0.0, 2.0, Kind.TIMEOUT, "this check ran longer than 60 s"),
        CheckOutcome("q1", 0.0, 4.0, Kind.PENDING),
        CheckOutcome("q2", 0.0, 4.0, Kind.PENDING),
    )
    result = GradeResult("s", Status.GRADED, "", outcomes, ("repaired: cell t1",))
    assert result.summary() == (
        "repaired: cell t1; timeout: t3 (this check ran longer than 60 s); "
        "manual grading pending: q1, q2"
    )  # the check's own verdict (failed) is the score, not a note
    # a person graded q1 since: the gradebook's state says which cells still wait
    assert result.summary(pending=["q2"]).endswith("manual grading pending: q2")
    assert "pending" not in result.summary(pending=[])


def test_the_steps_report_says_typed_that_the_sandbox_could_not_start():
    down = StepReport(unavailable="the sandbox did not start: no unshare")
    assert StepReport.from_json(down.to_json()) == down
    done = StepReport((CheckOutcome("t1", 1.0, 1.0, Kind.PASSED),), ("timeout: a cell (x)",))
    assert StepReport.from_json(done.to_json()) == done and done.unavailable is None


def test_records_written_before_kinds_and_the_late_mark_were_fields_still_read():
    old = {
        "result": {
            "student_id": "s",
            "status": "failed",
            "reason": "grader error: x",
            "outcomes": [],
            "notes": [],
            "fault": "grader",
        },
        "submission_digest": "d",
        "assignment_digest": "v",
        "graded_at": "2026-12-01T00:00:00+00:00",
        "max_score": 10.0,
        "extra": {"late_without_time": True},
    }
    record = GradedRecord.from_json(json.dumps(old))
    assert record.result.grader_fault and record.result.reason == "grader error: x"
    assert record.late_mark is True
    assert GradedRecord.from_json(record.to_json()) == record


# -- no decision taken from text ----------------------------------------------------------------

#: attributes that hold outcome text or typed outcome values
_TEXT_ATTRS = {"reason", "message", "status", "fault", "kind", "summary"}
_VALUES = {k.value for k in Kind} | {s.value for s in Status} | {f.value for f in Fault}
_WORDS = tuple(sorted({k.words for k in Kind} - {"failed", "passed", "crash", "timeout"}))


def _strings(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for e in node.elts for s in _strings(e)]
    return []


def _outcome_text(node) -> bool:
    """An expression that reads an outcome's text: ``x.reason``, ``r.summary()``, ..."""
    if isinstance(node, ast.Call):
        node = node.func
    return isinstance(node, ast.Attribute) and node.attr in _TEXT_ATTRS


def _decisions_on_text(tree) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            args = [s for a in node.args for s in _strings(a)]
            if method in ("startswith", "endswith", "removeprefix", "split", "partition"):
                if any(a == "; " or a.lower().startswith(_WORDS) for a in args):
                    found.append((node.lineno, f".{method}({args[0]!r})"))
                elif _outcome_text(node.func.value) and args:
                    found.append((node.lineno, f"{ast.unparse(node.func.value)}.{method}"))
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            texts = [s for side in sides for s in _strings(side)]
            if not texts or not any(isinstance(o, (ast.Eq, ast.NotEq, ast.In, ast.NotIn))
                                    for o in node.ops):  # fmt: skip
                continue
            read = [side for side in sides if _outcome_text(side)]
            # an outcome's value compared as text, or any text looked for in a reason
            if read and (
                any(t in _VALUES for t in texts)
                or any(ast.unparse(r).endswith(("reason", "message", "summary()")) for r in read)
            ):
                found.append((node.lineno, ast.unparse(node)))
            elif any(t.lower().startswith(_WORDS) for t in texts):
                found.append((node.lineno, ast.unparse(node)))
    return found


def _hand_spelled_prefixes(tree) -> list[tuple[int, str]]:
    """Text that starts with a kind's words and a colon: the words are the kind's to say."""
    prefixes = tuple(f"{k.words}:" for k in Kind) + tuple(f"{k.words} while" for k in Kind)
    found = set()
    for node in ast.walk(tree):
        first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
        for text in _strings(first):
            if text.lower().startswith(prefixes):
                found.add((node.lineno, text[:40]))
    return sorted(found)


def test_no_decision_is_taken_from_outcome_text_anywhere_in_the_package():
    """No ``reason.startswith("grader error")``, no split of a summary on ``"; "``, no
    ``kind == "pending"``: outcomes are compared as :class:`Kind` and :class:`Status`."""
    found = [(rel, hit) for rel, tree in _sources() for hit in _decisions_on_text(tree)]
    assert found == []


def test_no_reason_spells_a_kinds_words_by_hand():
    """``"grader error: ..."`` is written by :meth:`Kind.says`, in one place."""
    found = [
        (rel, hit)
        for rel, tree in _sources()
        if rel != "grading/records.py"
        for hit in _hand_spelled_prefixes(tree)
    ]
    assert found == []


def test_the_text_walk_finds_what_it_forbids():
    """The walks flag each pattern they exist for (so a silent walk means a clean package)."""
    bad = ast.parse(
        "if result.reason.startswith('grader error'): pass\n"
        "parts = summary.split('; ')\n"
        "if o.kind == 'pending': pass\n"
        "if g.status != 'graded': pass\n"
        "if 'manual grading pending' in text: pass\n"
    )
    assert [line for line, _ in _decisions_on_text(bad)] == [1, 2, 3, 4, 5]
    spelled = ast.parse("why = f'grader error: {exc}'\nother = 'timeout: the cell'\n")
    assert [line for line, _ in _hand_spelled_prefixes(spelled)] == [1, 2]
    fine = ast.parse("if roster.kind == 'canvas': pass\nif o.kind is Kind.PENDING: pass\n")
    assert _decisions_on_text(fine) == []


# -- one home per setting -------------------------------------------------------------------------


def _environment_reads(tree) -> list[tuple[int, str]]:
    """Reads of an ``AUTOGRADER_*`` variable: ``environ.get/pop/setdefault``, ``getenv``,
    ``environ[...]`` and ``... in environ``."""
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
            called = ast.unparse(node.func)
            if called.endswith(("environ.get", "environ.pop", "environ.setdefault", "getenv")):
                names = [s for a in node.args[:1] for s in _strings(a)]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
            names = _strings(node.slice)
        elif isinstance(node, ast.Compare) and any(
            ast.unparse(c).endswith("environ") for c in node.comparators
        ):
            names = _strings(node.left)
        found += [(node.lineno, n) for n in names if n.startswith("AUTOGRADER_")]
    return found


def test_every_autograder_switch_is_read_in_the_settings_module_only():
    found = [
        (rel, hit)
        for rel, tree in _sources()
        if rel != "settings.py"
        for hit in _environment_reads(tree)
    ]
    assert found == []
    own = dict(_sources())["settings.py"]
    assert {n for _, n in _environment_reads(own)} == {
        "AUTOGRADER_SANDBOX",
        "AUTOGRADER_CGROUPS",
        "AUTOGRADER_ZYGOTE",
        "AUTOGRADER_SCHEDULER",
        "AUTOGRADER_BOOK_URL",
    }


def test_the_environment_walk_finds_each_way_of_reading_a_variable():
    bad = ast.parse(
        "a = os.environ.get('AUTOGRADER_X')\nb = os.getenv('AUTOGRADER_Y')\n"
        "c = os.environ['AUTOGRADER_Z']\nd = 'AUTOGRADER_W' in os.environ\n"
    )
    assert [line for line, _ in _environment_reads(bad)] == [1, 2, 3, 4]


def test_settings_defaults_and_values_are_typed():
    assert settings.Settings.from_environ({}) == settings.Settings()
    chosen = settings.Settings.from_environ(
        {
            "AUTOGRADER_SANDBOX": "rlimits",
            "AUTOGRADER_CGROUPS": "off",
            "AUTOGRADER_ZYGOTE": "0",
            "AUTOGRADER_SCHEDULER": "tcp://127.0.0.1:8786",
            "AUTOGRADER_BOOK_URL": "",
        }
    )
    assert chosen.sandbox is settings.SandboxChoice.RLIMITS
    assert chosen.cgroups is settings.CgroupsChoice.OFF and chosen.zygote is False
    assert chosen.scheduler == "tcp://127.0.0.1:8786" and chosen.book_url is None


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("AUTOGRADER_SANDBOX", "docker", "AUTOGRADER_SANDBOX must be auto, namespaces or rlimits"),
        ("AUTOGRADER_CGROUPS", "on", "AUTOGRADER_CGROUPS must be auto or off"),
        ("AUTOGRADER_ZYGOTE", "yes", "AUTOGRADER_ZYGOTE must be 0 or 1"),
    ],
)
def test_a_bad_switch_is_refused_naming_the_variable_and_the_value(name, value, said):
    with pytest.raises(ValueError, match=f"{said}, got '{value}'"):
        settings.Settings.from_environ({name: value})


def test_a_run_limit_is_written_once():
    """The sandbox's share of a grading run's options has the sandbox's own defaults."""
    from autograder.grading.options import GradingOptions
    from autograder.sandbox.base import Limits

    ran, box = GradingOptions(), Limits()
    assert (ran.memory_mb, ran.cpu_s, ran.processes) == (box.memory_mb, box.cpu_s, box.processes)
    source = (PACKAGE / "grading" / "options.py").read_text()
    assert str(box.memory_mb) not in source and str(box.processes) not in source


# -- one gradebook writer -------------------------------------------------------------------------

#: nbgrader's gradebook columns the project writes
_FIELDS = {
    "auto_score",
    "manual_score",
    "extra_credit",
    "needs_manual_grade",
    "late_submission_penalty",
    "duedate",
    "manual_comment",
    "auto_comment",
}


def _gradebook_mutations(tree) -> list[tuple[int, str]]:
    from nbgrader.api import Gradebook

    mutators = {m for m in dir(Gradebook) if m.startswith(("add_", "update_", "remove_"))}
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t for t in node.targets for t in ast.walk(t)]
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        found += [
            (node.lineno, f".{t.attr} =")
            for t in targets
            if isinstance(t, ast.Attribute) and t.attr in _FIELDS
        ]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = ast.unparse(node.func.value)
            if node.func.attr == "values":  # a bulk UPDATE: ``.values(manual_score=...)``
                found += [(node.lineno, f"{k.arg}=") for k in node.keywords if k.arg in _FIELDS]
            if node.func.attr in mutators or (
                node.func.attr == "commit" and owner.endswith(("db", "db()"))
            ):
                found.append((node.lineno, f"{owner}.{node.func.attr}()"))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute)
            and t.attr == "timestamp"
            and "submission" in ast.unparse(t)
            for t in node.targets
        ):
            found.append((node.lineno, f"{ast.unparse(node.targets[0])} ="))
    return found


def test_every_gradebook_change_goes_through_the_one_writer():
    found = [
        (rel, hit)
        for rel, tree in _sources()
        if rel != "grading/gradebook_writer.py"
        for hit in _gradebook_mutations(tree)
    ]
    assert found == []
    own = dict(_sources())["grading/gradebook_writer.py"]
    assert len(_gradebook_mutations(own)) >= 8  # the walk sees the writer's own changes


def test_the_writer_walk_finds_each_kind_of_change():
    bad = ast.parse(
        "grade.auto_score = 1\nnb.late_submission_penalty = 0\n"
        "gb.update_or_create_student('s')\nself.gb.db.commit()\nsubmission.timestamp = t\n"
        "a.manual_score, a.extra_credit = 1, 2\n"
        "db.execute(update(Grade.__table__).values(manual_score=bindparam('s')))\n"
    )
    assert sorted({line for line, _ in _gradebook_mutations(bad)}) == [1, 2, 3, 4, 5, 6, 7]
