"""The book's display glue (coursekit.display) and its download-link rewriting, without a build."""

import base64
import re
import sys
from pathlib import Path

import pytest

from coursekit import display, metrics
from coursekit.regularization import dropout

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import notebook_download  # noqa: E402


def test_source_cuts_docstrings_to_their_summary_so_no_raw_tex_is_printed():
    code = display.source(metrics.matthews_corrcoef).data
    assert ".. math::" not in code and "\\frac" not in code
    assert '"""Matthews correlation coefficient' in code
    assert "return (tp * tn - fp * fn) / denominator" in code  # the code itself is whole
    compile(code.replace("@validate_params", "#"), "<source>", "exec")  # still Python


def test_source_keeps_the_full_docstring_when_asked():
    assert ".. math::" in display.source(metrics.matthews_corrcoef, docstring="full").data


def test_source_refuses_an_unknown_docstring_mode():
    with pytest.raises(ValueError, match="docstring must be 'summary' or 'full', got 'none'"):
        display.source(metrics.matthews_corrcoef, docstring="none")


def test_docstring_math_finds_one_line_and_indented_blocks():
    assert display.docstring_math(metrics.matthews_corrcoef) == [
        r"\mathrm{MCC} = \frac{TP\,TN - FP\,FN}{\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}"
    ]
    (block,) = display.docstring_math(dropout)  # a block over three indented lines
    assert block.startswith(r"m_i \sim \mathrm{Bernoulli}(1 - p)")
    assert block.count("\n") == 2 and "random mask" not in block  # prose after it: not math


def test_docstring_math_names_an_object_without_formulas():
    with pytest.raises(ValueError, match="the docstring of book_style has no"):
        display.docstring_math(display.book_style)


def test_formulas_displays_typeset_math(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    display.formulas(metrics.matthews_corrcoef)
    assert [type(m).__name__ for m in shown] == ["Math"]
    assert shown[0]._repr_latex_().startswith("$\\displaystyle \\mathrm{MCC}")


PAGE = """<li><a href="../_sources/lessons/NAME.ipynb" target="_blank"
   class="btn btn-sm btn-download-source-button dropdown-item">.ipynb</a></li>"""


def test_download_links_carry_the_notebook_and_save_it_under_its_name(tmp_path):
    (tmp_path / "_sources" / "lessons").mkdir(parents=True)
    notebook = b'{"cells": [], "nbformat": 4}'
    (tmp_path / "_sources" / "lessons" / "NAME.ipynb").write_bytes(notebook)
    page = tmp_path / "lessons" / "NAME.html"
    html = notebook_download.add_download_attribute(PAGE, page)
    href = re.search(r'href="data:application/x-ipynb\+json;base64,([^"]+)"', html)
    assert href and base64.b64decode(href.group(1)) == notebook
    assert 'download="NAME.ipynb"' in html and 'target="_blank"' not in html
    assert notebook_download.add_download_attribute(html, page) == html  # idempotent


def test_a_download_link_to_a_missing_file_is_left_alone(tmp_path):
    page = tmp_path / "lessons" / "NAME.html"
    assert notebook_download.add_download_attribute(PAGE, page) == PAGE


def test_the_downloaded_notebook_is_the_readers_copy_without_claim_cells(tmp_path):
    import nbformat

    cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("claim('x is 1', x == 1)", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("print(x)"),
    ]
    source = tmp_path / "NAME.ipynb"
    source.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))
    notebook_download.strip_claims(source)
    kept = nbformat.reads(source.read_text(), as_version=4).cells
    assert [c.source for c in kept] == ["x = 1", "print(x)"]
    written = source.stat().st_mtime_ns
    notebook_download.strip_claims(source)  # nothing left to strip: not rewritten
    assert source.stat().st_mtime_ns == written
