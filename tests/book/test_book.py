"""The book: configuration that keeps it offline and strict, and a real build."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"


def _config():
    return yaml.safe_load((BOOK / "_config.yml").read_text())


def _toc_files():
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = [toc["root"]]
    for chapter in toc.get("chapters", []):
        files.append(chapter["file"])
    return files


def test_lessons_are_executed_with_a_cache_and_errors_fail_the_build():
    execute = _config()["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["allow_errors"] is False


def test_mathjax_is_served_locally():
    sphinx = _config()["sphinx"]["config"]
    assert not sphinx["mathjax_path"].startswith(("http:", "https:", "//"))
    assert "_assets" in sphinx["html_static_path"]
    assert not (BOOK / "_static").exists(), "Jupyter Book would load every .js under it"


def test_every_toc_entry_exists_and_lessons_come_from_notebooks():
    assert (BOOK / "lessons").resolve() == (ROOT / "notebooks" / "lessons").resolve()
    for entry in _toc_files():
        assert (BOOK / f"{entry}.md").exists(), entry


def test_build_script_fails_on_warnings():
    script = (BOOK / "build.sh").read_text()
    assert "--warningiserror" in script and "set -euo pipefail" in script


@pytest.fixture(scope="module")
def built_book():
    result = subprocess.run(["bash", str(BOOK / "build.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Open: file://" in result.stdout
    return HTML


@pytest.mark.slow
def test_built_pages_reference_nothing_outside_the_book(built_book):
    external = re.compile(r"<(?:script|link|img)\b[^>]*(?:src|href)=\"(?:https?:)?//", re.I)
    pages = list(built_book.rglob("*.html"))
    assert pages
    for page in pages:
        assert not external.search(page.read_text()), page


@pytest.mark.slow
def test_built_book_has_mathjax_search_and_every_lesson(built_book):
    intro = (built_book / "intro.html").read_text()
    src = re.search(r'<script[^>]*src="([^"?]*mathjax[^"?]*)', intro).group(1)
    assert (built_book / src).exists()
    assert (built_book / "_static/mathjax/output/chtml/fonts/woff-v2").is_dir()
    assert (built_book / "searchindex.js").exists()
    for entry in _toc_files():
        assert (built_book / f"{entry}.html").exists(), entry


@pytest.mark.slow
def test_errata_page_shows_numbers_computed_at_build_time(built_book):
    from coursekit import errata

    text = (built_book / "lessons" / "errata.html").read_text()
    exact = next(r for r in errata.worked_example_errata() if r.quantity == "dL/dz1")
    assert f"{exact.lecture_convention[1, 1]:.5f}" in text  # -0.24223, computed, not typed
    assert "follows from the formulas as printed: False" in text
