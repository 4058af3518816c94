"""The suite's own markers and order (``tests/conftest.py``): does each test get the layer of
its folder, is ``make test-fast``'s ``unit`` exactly the in-process tests, and do the longest
files start first?"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import conftest

TESTS = Path(__file__).parent
ROOT = TESTS.parent


@pytest.mark.parametrize(
    ("path", "layer", "unit"),
    [
        ("tests/coursekit/test_xor.py", set(), True),
        ("tests/autograder/assignments/test_known_wrong.py", {"assignments"}, True),
        ("tests/autograder/grading/test_outcomes.py", {"grading"}, True),
        ("tests/autograder/term/test_term_intake.py", {"term"}, True),
        ("tests/autograder/term/scenario/test_3_grade.py", {"term"}, False),
        ("tests/autograder/sandbox/test_sandbox.py", {"sandbox"}, False),
        ("tests/autograder/grading/test_attacks.py", {"grading"}, False),
        ("tests/book/test_book_config.py", {"book"}, False),
        ("tests/test_layers.py", set(), True),
    ],
)
def test_a_test_gets_its_folders_layer_and_is_a_unit_test_only_in_process(path, layer, unit):
    assert conftest.layer_markers(path, None) == layer
    assert conftest.is_unit(path, layer) is unit
    assert conftest.is_unit(path, layer | {"slow"}) is False  # slow is never in the fast loop


def test_a_module_that_drives_chromium_is_a_browser_test_wherever_it_lives(tmp_path):
    source = tmp_path / "test_page.py"
    source.write_text("def test_page():\n    from playwright.sync_api import sync_playwright\n")
    path = "tests/autograder/term/test_page.py"
    markers = conftest.layer_markers(path, _load(source))
    assert markers == {"term", "browser"}
    assert not conftest.is_unit(path, markers)
    plain = tmp_path / "test_plain.py"
    plain.write_text("def test_plain():\n    pass\n")
    assert conftest.layer_markers(path, _load(plain)) == {"term"}


def _load(path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_name_the_tables_give_is_a_module_or_folder_of_the_suite():
    """A renamed or moved file would silently drop out of (or into) the fast loop."""
    names = {p.name for p in TESTS.rglob("*") if p.name != "__pycache__"}
    assert set(conftest.NOT_UNIT) - names == set()
    assert [p for p in conftest.LONGEST_FIRST if not (ROOT / p).is_file()] == []
    assert [p for p in conftest.LAYERS if not (ROOT / p).is_dir()] == []


def test_the_longest_files_start_first_and_the_rest_keep_their_order():
    order = ["tests/a/test_1.py::t", *(f"{p}::t" for p in reversed(conftest.LONGEST_FIRST)),
             "tests/a/test_2.py::t"]  # fmt: skip
    items = [SimpleNamespace(nodeid=n) for n in order]
    conftest.longest_first(items)
    assert [i.nodeid for i in items] == [
        *(f"{p}::t" for p in conftest.LONGEST_FIRST),
        "tests/a/test_1.py::t",
        "tests/a/test_2.py::t",
    ]


def test_loadfile_hands_out_files_in_collection_order():
    """pytest-xdist's default reorders files by test count, which would undo LONGEST_FIRST."""
    options = SimpleNamespace(dist="loadfile", loadscopereorder=True)
    conftest.pytest_configure(SimpleNamespace(option=options))
    assert options.loadscopereorder is False
    other = SimpleNamespace(dist="load", loadscopereorder=True)
    conftest.pytest_configure(SimpleNamespace(option=other))
    assert other.loadscopereorder is True  # only loadfile's order is ours to keep
