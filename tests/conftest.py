"""Shared test settings: quiet, single-threaded frameworks (the machines are shared and small),
the order files start in, and each test's layer markers.

Markers (registered in ``pyproject.toml``), given here by where a test lives and what its
module does, not by hand in each file:

- a layer, by folder (``LAYERS``): ``assignments``, ``grading``, ``sandbox``, ``term``,
  ``handgrade``, ``book``;
- ``browser``: the module drives Chromium (it uses Playwright);
- ``slow``: by hand, on framework training and long property runs;
- ``unit``: everything else in ``tests/coursekit`` and ``tests/autograder``, less the modules
  of ``NOT_UNIT`` (each drives the command line, a server or a graded batch): the tests that
  run in the test's own process in well under a second or two. ``make test-fast`` runs these.

``make test`` runs every marker.
"""

import inspect
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("OMP_NUM_THREADS", "1")

#: The longest test files, started first: with ``--dist loadfile`` each worker takes the next
#: file in collection order, so a long file collected last runs alone at the end while the
#: other core idles (the claim-robustness check alone is several minutes of lesson runs).
#: (pytest-xdist reorders files by their number of tests unless told not to: see
#: ``pytest_configure``.)
#: The term's first stage builds the stored states the other stages copy (see
#: ``tests/autograder/term/scenario/story.py``): started early, the others find them built.
LONGEST_FIRST = (
    "tests/book/test_claim_robustness.py",
    "tests/book/test_book.py",
    "tests/autograder/term/scenario/test_4_hand_grading.py",
)

#: Each folder's layer (the longest matching prefix wins): ``pytest -m term`` runs the term
#: tools' tests, ``-m "not book"`` leaves the book out.
LAYERS = {
    "tests/autograder/assignments/": "assignments",
    "tests/autograder/grading/": "grading",
    "tests/autograder/sandbox/": "sandbox",
    "tests/autograder/term/": "term",
    "tests/autograder/handgrade/": "handgrade",
    "tests/book/": "book",
}

#: Where unit tests live (before ``NOT_UNIT`` and the markers that rule a test out).
UNIT_ROOTS = ("tests/coursekit/", "tests/autograder/")

#: Layers whose every test is more than a unit test.
NOT_UNIT_LAYERS = frozenset({"sandbox", "book", "browser", "slow"})

#: Modules, in folders of unit tests, whose tests mostly run more than the test's process:
#: the command line, a server, a course graded in sandboxes. Not in ``make test-fast``.
NOT_UNIT = {
    "test_attacks.py": "hostile submissions graded in sandboxes",
    "test_attacks_bounds.py": "hostile submissions graded in sandboxes",
    "test_attacks_checks.py": "hostile submissions graded in sandboxes",
    "test_attacks_isolation.py": "hostile submissions graded in sandboxes",
    "test_attacks_records.py": "hostile submissions graded in sandboxes",
    "test_attacks_terminal.py": "the command line, with hostile names",
    "test_authoring_release_check.py": "the command line on a release",
    "test_cluster.py": "a Dask cluster",
    "test_feedback_book_url.py": "the command line",
    "test_grade.py": "graded batches",
    "test_grade_a2_a3.py": "graded batches",
    "test_grade_mlp.py": "graded batches",
    "test_gradebook_truth.py": "graded batches",
    "test_handgrade.py": "the hand-grading server and command line",
    "test_handgrade_postgres.py": "a PostgreSQL server",
    "test_handgrade_roles.py": "the hand-grading server",
    "test_postgres_gradebook.py": "a PostgreSQL server",
    "test_repair.py": "graded batches",
    "test_sandbox.py": "sandboxes",
    "test_sandbox_forked.py": "sandboxes",
    "test_term_derived.py": "the command line on a graded course",
    "test_term_exchange.py": "nbgrader's command line",
    "test_term_nonsubmitters.py": "the command line on a graded course",
    "test_term_similarity.py": "the command line",
    "scenario": "the term, stage by stage, through the command line",
}


def layer_markers(path: str, module) -> set[str]:
    """The markers a test at ``path`` (relative, ``/``-separated) in ``module`` gets."""
    prefixes = [prefix for prefix in LAYERS if path.startswith(prefix)]
    found = {LAYERS[max(prefixes, key=len)]} if prefixes else set()
    if module is not None and "sync_playwright" in inspect.getsource(module):
        found.add("browser")
    return found


def is_unit(path: str, markers: set[str]) -> bool:
    """Whether a test at ``path`` carrying ``markers`` is a unit test."""
    in_root = path.startswith(UNIT_ROOTS) or path.count("/") == 1  # or the suite's own tests
    return (
        in_root
        and not markers & NOT_UNIT_LAYERS
        and not any(part in NOT_UNIT for part in path.split("/"))
    )


def longest_first(items) -> None:
    """Sort ``items`` in place: ``LONGEST_FIRST``'s files first, in that order; every other
    file keeps its place (the sort is stable)."""

    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


def pytest_configure(config):
    """Keep the collection order under ``--dist loadfile``: pytest-xdist 3 hands out files
    sorted by how many tests each holds (``--loadscope-reorder``, its default), which put the
    six claim-robustness tests after every file with more tests than that."""
    if getattr(config.option, "dist", "no") == "loadfile":
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    longest_first(items)
    by_module = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path not in by_module:
            by_module[path] = layer_markers(path, getattr(item, "module", None))
        for name in sorted(by_module[path]):
            item.add_marker(getattr(pytest.mark, name))
        if is_unit(path, {m.name for m in item.iter_markers()}):
            item.add_marker(pytest.mark.unit)
