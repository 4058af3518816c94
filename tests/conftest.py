"""Shared test settings: quiet, single-threaded frameworks (the machines are shared and small)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("OMP_NUM_THREADS", "1")

#: The longest test files, started first: with ``--dist loadfile`` each worker takes the next
#: file in collection order, so a long file collected last runs alone at the end while the
#: other core idles (the claim-robustness check alone is several minutes of lesson runs).
LONGEST_FIRST = ("tests/book/test_claim_robustness.py", "tests/book/test_book.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: every other file keeps its order
