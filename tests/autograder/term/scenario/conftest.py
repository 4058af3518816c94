"""The term's stored states (``story.Store``), one store per test run.

Under ``pytest -n`` every worker's base temporary folder sits in the run's own folder
(``.../pytest-N/popen-gwK``): the store lives beside them, so the workers share it and each
step runs once per run. Without workers it lives in the session's folder. Never wider: a
store shared between runs would let one run's half-built state leak into another's."""

from __future__ import annotations

import os

import pytest

from tests.autograder.term.scenario.story import Store


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Store:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return Store(root=shared / "term-states")
