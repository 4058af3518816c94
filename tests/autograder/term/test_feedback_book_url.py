"""Where feedback's lesson links point: the local book, or the published one (``--book-url``).

Feedback runs on a hand-made course (one check, one graded student) rather than a grading run:
it reads the source notebook, the gradebook and the grader's record, made here by hand.
"""

import subprocess
import sys

import nbformat
import pytest

from autograder import cli
from autograder.term import feedback

LESSON = "01_evaluating_classifiers#the-roc-curve"


@pytest.fixture
def course(tmp_path):
    """A course where carol failed the one check, which points at a lesson section."""
    course = tmp_path / "course"
    cell = nbformat.v4.new_code_cell("assert True")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "roc", "points": 2, "solution": False}
    cell.metadata["autograder"] = {"expects": "thresholds in decreasing order", "lesson": LESSON}
    (course / "source" / "a1").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), course / "source" / "a1" / "a1.ipynb")
    from nbgrader.apps import NbGraderAPI

    from autograder.config import default_db_url, ensure_tools_on_path, nbgrader_config
    from autograder.grading import gradebook, state
    from autograder.grading.records import CheckOutcome, GradedRecord, GradeResult

    ensure_tools_on_path()
    NbGraderAPI(config=nbgrader_config(course)).generate_assignment("a1", force=True, create=True)
    outcome = CheckOutcome("roc", 0.0, 2.0, "failed", "the thresholds are not decreasing")
    result = GradeResult("carol", "graded", outcomes=(outcome,))
    with gradebook.Book(course, "a1", default_db_url(course)) as book:
        book.write(result)
    version = state.assignment_digest(course, "a1")
    state.save_record(course, "a1", GradedRecord(result, "-", version, "2026-12-01T00:00:00"))
    return course


def _page(course):
    return (course / "feedback" / "carol" / "a1" / "feedback.html").read_text()


@pytest.mark.parametrize(
    "url, base",
    [
        ("https://example.org/dl-book", "https://example.org/dl-book/"),
        ("https://example.org/dl-book/", "https://example.org/dl-book/"),
        ("http://localhost:8000", "http://localhost:8000/"),
        ("file:///srv/book/", "file:///srv/book/"),
        ("HTTPS://Example.org/b", "HTTPS://Example.org/b/"),
    ],
)
def test_a_book_url_becomes_the_base_every_lesson_path_is_appended_to(url, base):
    assert feedback.book_base(url) == base


def test_a_folder_becomes_its_file_url(tmp_path):
    assert feedback.book_base(tmp_path) == tmp_path.resolve().as_uri() + "/"


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://example.org/book",
        "javascript://alert(1)",
        "https://",
        "https:///book",
        "file://",
        "https://example.org/book?page=1",
        "https://example.org/book#top",
        "example.org/book",  # no scheme, and no such folder
        "",
    ],
)
def test_anything_else_is_refused_with_the_value_named(bad):
    with pytest.raises(ValueError) as error:
        feedback.book_base(bad)
    assert str(error.value).endswith(f"got {bad!r}")


def test_lesson_links_point_at_the_given_book_and_keep_the_section(course):
    feedback.main(assignment="a1", course=course, book="https://example.org/dl-book")
    page = _page(course)
    link = "https://example.org/dl-book/lessons/01_evaluating_classifiers.html#the-roc-curve"
    assert f'<a href="{link}">' in page and "file://" not in page


def test_by_default_lesson_links_point_at_the_locally_built_book(course, monkeypatch):
    monkeypatch.delenv("AUTOGRADER_BOOK_URL", raising=False)
    feedback.main(assignment="a1", course=course)
    local = (feedback.BOOK / "lessons" / "01_evaluating_classifiers.html").as_uri()
    assert f'<a href="{local}#the-roc-curve">' in _page(course)


def test_the_environment_variable_sets_the_default_and_the_option_wins(course, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_BOOK_URL", "https://env.example.org/book/")
    feedback.main(assignment="a1", course=course)
    assert "https://env.example.org/book/lessons/01_evaluating" in _page(course)
    feedback.main(assignment="a1", course=course, book="https://option.example.org/")
    assert "https://option.example.org/lessons/01_evaluating" in _page(course)


def test_a_bad_url_in_the_environment_is_named_before_anything_is_written(course, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_BOOK_URL", "www.example.org/book")
    with pytest.raises(ValueError, match="got 'www.example.org/book'"):
        feedback.main(assignment="a1", course=course)
    assert not (course / "feedback").exists()


def test_the_command_line_passes_book_url_through():
    args = cli._parser().parse_args(["feedback", "a1", "--book-url", "https://example.org/b/"])
    assert (args.command, args.assignment, args.book_url) == (
        "feedback",
        "a1",
        "https://example.org/b/",
    )
    assert cli._parser().parse_args(["feedback", "a1"]).book_url is None


def test_the_command_line_refuses_a_bad_url_by_name_with_exit_status_2(course):
    command = [sys.executable, "-m", "autograder", "feedback", "a1", "--course", str(course)]
    out = subprocess.run([*command, "--book-url", "ftp://x/b"], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: ") and "got 'ftp://x/b'" in out.stderr
    assert not (course / "feedback").exists()
    out = subprocess.run(
        [*command, "--book-url", "https://x.org/b"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "https://x.org/b/lessons/01_evaluating_classifiers.html#the-roc-curve" in _page(course)
