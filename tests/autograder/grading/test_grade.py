"""End to end: release assignment 1, grade a batch of sample submissions, check the CSV."""

import csv
import subprocess
import sys

import nbformat
import pytest

from autograder.grading import authoring, grade
from autograder.grading.options import GradingOptions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(tmp_path_factory, released_course):
    root = tmp_path_factory.mktemp("grading")
    course, subs = root / "course", root / "submitted"
    folder = released_course("a1_metrics", course)
    released = nbformat.read(folder / "a1_metrics.ipynb", as_version=4)
    solution = authoring.solutions(
        nbformat.read(course / "source" / "a1_metrics" / "a1_metrics.ipynb", as_version=4)
    )

    def submit(student, code):
        nb = authoring.submission(released, code)
        target = subs / student / "a1_metrics"
        target.mkdir(parents=True)
        nbformat.write(nb, target / "a1_metrics.ipynb")

    submit("alice", solution)  # fully correct
    submit("bob", {})  # empty: the release untouched
    unsorted = dict(solution)  # ROC thresholds in increasing order, and a warning on stderr
    unsorted["roc"] = unsorted["roc"].replace("np.unique(scores)[::-1]", "np.unique(scores)")
    unsorted["scores"] += '\nimport sys\nprint("DeprecationWarning: harmless", file=sys.stderr)\n'
    submit("carol", unsorted)
    (subs / "dave" / "a1_metrics").mkdir(parents=True)
    (subs / "dave" / "a1_metrics" / "a1_metrics.ipynb").write_text("{not json")  # malformed
    (subs / "erin" / "a1_metrics").mkdir(parents=True)  # submitted nothing
    looping = dict(solution)
    looping["counts"] = "while True:\n    pass\n"  # an infinite loop
    submit("frank", looping)
    by_reference = dict(solution)
    by_reference["scores"] += (
        "\nfrom coursekit.metrics import matthews_corrcoef\n"
        "def mcc(y_true, y_pred):\n    return matthews_corrcoef(y_true, y_pred)\n"
    )
    submit("gina", by_reference)
    csv_path = root / "grades.csv"
    results = grade.main(
        assignment="a1_metrics",
        submissions=subs,
        course=course,
        jobs=2,
        csv_path=csv_path,
        options=GradingOptions(cell_timeout=5),
        progress=lambda *a: None,
    )
    rows = {r["student_id"]: r for r in csv.DictReader(csv_path.open())}
    return course, subs, csv_path, results, rows


def test_every_student_has_one_row_with_status_score_and_cells(batch):
    _, _, csv_path, _, rows = batch
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    header = next(csv.reader(csv_path.open()))
    assert header[:5] == ["student_id", "status", "reason", "score", "max_score"]
    assert header[5:10] == ["test-counts", "test-rates", "test-f1-mcc", "test-roc", "test-auc"]
    assert header[10:] == list(grade.CSV_EXTRA)
    assert all(float(r["max_score"]) == 10 for r in rows.values())


def test_expected_scores_and_statuses(batch):
    rows = batch[4]
    assert (rows["alice"]["status"], float(rows["alice"]["score"])) == ("graded", 10)
    assert (rows["bob"]["status"], float(rows["bob"]["score"])) == ("graded", 0)
    # carol loses exactly the ROC check; her stderr warning costs nothing
    assert float(rows["carol"]["score"]) == 8 and float(rows["carol"]["test-roc"]) == 0
    assert float(rows["carol"]["test-rates"]) == 2
    assert rows["dave"]["status"] == "failed" and rows["dave"]["reason"].startswith(
        "invalid notebook"
    )
    assert rows["erin"]["status"] == "failed" and rows["erin"]["reason"].startswith(
        "missing notebook"
    )
    assert (
        rows["frank"]["reason"].startswith("timeout") and float(rows["frank"]["test-counts"]) == 0
    )
    # gina's mcc calls the course's reference: that check scores 0, the others count
    assert float(rows["gina"]["test-f1-mcc"]) == 0 and float(rows["gina"]["score"]) == 8


def test_only_the_parent_wrote_the_gradebook_with_every_graded_student(batch):
    from nbgrader.api import Gradebook

    course = batch[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("a1_metrics", "alice").score == 10
        assert gb.find_submission("a1_metrics", "carol").score == 8
    assert (course / "autograded" / "alice" / "a1_metrics" / "a1_metrics.ipynb").exists()


def test_a_rerun_resumes_without_regrading_unless_forced(batch):
    course, subs, _, results, _ = batch
    regraded = []
    again = grade.main(
        assignment="a1_metrics",
        submissions=subs,
        course=course,
        progress=lambda n, total, r: regraded.append(r.student_id),
    )
    assert regraded == [] and [r.score for r in again] == [r.score for r in results]
    forced = grade.main(
        assignment="a1_metrics",
        submissions=subs,
        course=course,
        jobs=2,
        force=True,
        options=GradingOptions(cell_timeout=5),
        progress=lambda n, t, r: regraded.append(r.student_id),
    )
    assert sorted(regraded) == sorted(r.student_id for r in results)
    assert [r.score for r in forced] == [r.score for r in results]


def test_cli_grade_reports_failures_and_needs_a_release(batch, tmp_path):
    course, subs, _, _, _ = batch
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "a1_metrics",
            "--submissions",
            str(subs),
            "--course",
            str(course),
        ],
        capture_output=True,
        text=True,
    )
    assert (
        out.returncode == 0 and "failed: 2" in out.stdout and "dave: invalid notebook" in out.stdout
    )
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "a1_metrics",
            "--submissions",
            str(subs),
            "--course",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "is not released" in missing.stderr


def test_feedback_says_what_each_check_expects_and_hides_the_hidden_tests(batch):
    from autograder.term import feedback

    course = batch[0]
    pages = feedback.main(assignment="a1_metrics", course=course)
    assert {p.parent.parent.name for p in pages} == {
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "gina",
    }
    hidden_source = (course / "source" / "a1_metrics" / "a1_metrics.ipynb").read_text()
    assert "expect_roc" in hidden_source  # the secret we must not hand back
    for page in pages:
        text = page.read_text()
        for secret in ("expect_", "autograder.assignments", "BEGIN HIDDEN", "Traceback", 'File "'):
            assert secret not in text, (page, secret)
    carol = (course / "feedback" / "carol" / "a1_metrics" / "feedback.html").read_text()
    assert "8 of 10 points" in carol and "thresholds decreasing" in carol
    assert "01_evaluating_classifiers.html#the-roc-curve-step-by-step" in carol
    gina = (course / "feedback" / "gina" / "a1_metrics" / "feedback.html").read_text()
    assert "reference implementation" in gina
    dave = (course / "feedback" / "dave" / "a1_metrics" / "feedback.html").read_text()
    assert "not graded: invalid notebook" in dave


def test_report_has_the_distribution_and_per_question_difficulty(batch):
    from autograder.term import report

    folder = report.main(assignment="a1_metrics", course=batch[0])
    text = (folder / "report.md").read_text()
    assert "5 graded, 2 failed or stale" in text
    roc_row = next(line for line in text.splitlines() if line.startswith("| test-roc |"))
    assert roc_row.split("|")[6].strip() == "60%"  # alice, frank and gina of the 5 graded
    assert (folder / "scores.png").stat().st_size > 5_000


def test_a_hung_notebook_is_stopped_at_its_time_limit_and_leaves_no_process(batch, tmp_path):
    import shutil

    course, subs = batch[0], batch[1]
    only_frank = tmp_path / "subs"
    shutil.copytree(subs / "frank", only_frank / "frank")
    fresh = tmp_path / "course"
    shutil.copytree(course / "source", fresh / "source")
    shutil.copy(course / "gradebook.db", fresh / "gradebook.db")
    from autograder.sandbox import _children

    before = set(_children())  # e.g. this test process's own fork server, from other tests
    [result] = grade.main(
        assignment="a1_metrics",
        submissions=only_frank,
        course=fresh,
        jobs=1,
        options=GradingOptions(cell_timeout=120, notebook_timeout=8),
        progress=lambda *a: None,
    )
    # graded, with what ran out named; the hung cell and everything after it score 0
    assert result.status == "graded" and result.reason.startswith("timeout")
    assert "time limit (8 s)" in result.reason and result.score == 0
    # no worker, fork server, sandbox or student process is left among this process's
    # descendants (pgrep would also see other gradings running on the machine)
    assert [_cmdline(p) for p in _children() if p not in before and _cmdline(p)] == []


def _cmdline(pid: int) -> str:
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""  # already gone


def test_feedback_links_point_at_a_published_book_when_given(batch, monkeypatch):
    from autograder.term import feedback

    course = batch[0]
    feedback.main(assignment="a1_metrics", course=course, book="https://example.org/dl-book/")
    carol = (course / "feedback" / "carol" / "a1_metrics" / "feedback.html").read_text()
    link = "https://example.org/dl-book/lessons/01_evaluating_classifiers.html#the-roc-curve"
    assert link in carol and "file://" not in carol
    monkeypatch.setenv("AUTOGRADER_BOOK_URL", "file:///srv/book")
    feedback.main(assignment="a1_metrics", course=course)
    carol = (course / "feedback" / "carol" / "a1_metrics" / "feedback.html").read_text()
    assert "file:///srv/book/lessons/01_evaluating_classifiers.html" in carol


def test_a_bad_book_url_is_named_and_nothing_is_written(batch, tmp_path):
    course = batch[0]
    before = (course / "feedback" / "carol" / "a1_metrics" / "feedback.html").read_text()
    command = [sys.executable, "-m", "autograder", "feedback", "a1_metrics"]
    out = subprocess.run(
        [*command, "--course", str(course), "--book-url", "ftp://example.org/book"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "got 'ftp://example.org/book'" in out.stderr
    assert (course / "feedback" / "carol" / "a1_metrics" / "feedback.html").read_text() == before
