"""Do the lessons' claims hold on every machine, not only where the book was written?

``book/check_claims.py`` runs each lesson's code (no page build) in record mode under other
PyTorch kernel paths, thread counts and seeds, and names every claim that fails. The lessons
must pass it; a planted knife-edge claim (the one that used to break lesson 4 on AVX2
machines) must be named, next to a claim with margin that must not be.
"""

import sys
from pathlib import Path

import pytest

from tests.book.pages import MYST_HEADER

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book"))

import check_claims  # noqa: E402
from check_claims import Condition, KernelPath  # noqa: E402

KNIFE_EDGE = (
    MYST_HEADER
    + """
# A lesson with a claim on the edge of stability

```{code-cell} ipython3
import torch

from coursekit import lr_experiments
from coursekit.claims import claim

torch.set_num_threads(1)
scaled = lr_experiments.learning_rate_experiment(
    lrs=(0.01, 1.0), data="digits", epochs=20, standardize=True, seed=0
)
```

```{code-cell} ipython3
:tags: [remove-cell]

claim(
    "standardized, lr = 1 trains well and ends below lr = 0.01",
    scaled[1.0].verdict == "good"
    and bool(scaled[1.0].history.loss[-1] < scaled[0.01].history.loss[-1]),
    lr1=scaled[1.0].history.loss[-1],
)
claim("standardized, lr = 0.01 is good", scaled[0.01].verdict == "good")
```
"""
)

STOPS = (
    MYST_HEADER
    + """
```{code-cell} ipython3
from coursekit.claims import claim

claim("one is one", 1 == 1)
```

```{code-cell} ipython3
raise RuntimeError("the lesson breaks here")
```

```{code-cell} ipython3
:tags: [remove-cell]

claim("two is two", 2 == 2)
```
"""
)


def test_seed_shifts_move_the_training_seeds_and_keep_the_datas():
    code = (
        "split = data.load('moons', seed=3)\nseed_everything(0)\ntorch.manual_seed(0)\n"
        "X, y = make_classification(n_samples=9,\n    random_state=0)\n"
        "TSNE(2, random_state=0)\nnp.random.default_rng(7)\ndef f(x, seed=0): pass\n"
        "spec = MLPSpec(n_inputs=len(data.load('digits', seed=0).X_train[0]), seed=1)"
    )
    shifted = check_claims.shift_seeds(code, 2)
    assert shifted == (
        "split = data.load('moons', seed=3)\nseed_everything(2)\ntorch.manual_seed(2)\n"
        "X, y = make_classification(n_samples=9,\n    random_state=0)\n"
        "TSNE(2, random_state=2)\nnp.random.default_rng(7)\ndef f(x, seed=2): pass\n"
        "spec = MLPSpec(n_inputs=len(data.load('digits', seed=0).X_train[0]), seed=3)"
    )
    assert check_claims.shift_seeds(code, 0) == code


def test_the_covering_conditions_hold_every_kernel_path_thread_count_and_seed():
    covering = check_claims.COVERING
    assert {c.path for c in covering} == set(KernelPath)
    assert {c.threads for c in covering} == {1, 2}
    assert {c.seed_shift for c in covering} == {0, 1, 2, 3, 4}
    # what a build on another machine computes: each kernel path, one thread, the lesson's seeds
    assert {Condition(p, 1, 0) for p in KernelPath if p is not KernelPath.NATIVE} <= set(covering)


@pytest.mark.slow
def test_a_planted_knife_edge_claim_is_named_and_a_claim_with_margin_is_not(tmp_path):
    (tmp_path / "knife.md").write_text(KNIFE_EDGE)
    # the measurements: on the AVX2 path the run ends at 1.008, and seeds 1, 3 and 4
    # blow up on every path; either condition alone names the claim
    conditions = [Condition(KernelPath.AVX2, 1, 0), Condition(KernelPath.NATIVE, 1, 1)]
    outcomes = check_claims.check(["knife"], conditions, lessons=tmp_path, cache=None)
    found, stopped = check_claims.flips(outcomes)
    assert stopped == []
    assert {f.text for f in found} == {"standardized, lr = 1 trains well and ends below lr = 0.01"}
    report = check_claims.report(outcomes, conditions)
    assert "FLIPS knife: 'standardized, lr = 1 trains well" in report
    assert "lr1=" in report  # with its numbers


@pytest.mark.slow
def test_a_lesson_that_stops_is_named_with_its_error(tmp_path):
    (tmp_path / "stops.md").write_text(STOPS)
    conditions = [Condition(KernelPath.NATIVE, 1, 0)]
    outcomes = check_claims.check(["stops"], conditions, lessons=tmp_path, cache=tmp_path / "cache")
    found, stopped = check_claims.flips(outcomes)
    assert stopped == [
        "stops stopped with native kernels, 1 thread(s), seeds +0: "
        "RuntimeError: the lesson breaks here"
    ]
    assert found == []  # the claim before the error holds; the one after was never run
    assert [c["text"] for c in outcomes[0].claims] == ["one is one"]
    assert "1 stopped" in check_claims.report(outcomes, conditions)
    assert not (tmp_path / "cache").exists()  # a stopped lesson is never cached


RUNS = (
    MYST_HEADER
    + """
```{code-cell} ipython3
from pathlib import Path

from coursekit.claims import claim

with open(LOG, "a") as log:
    log.write("ran\\n")
claim("one is one", 1 == 1)
```
"""
)


def test_an_unchanged_lesson_is_not_run_again_and_a_changed_one_is(tmp_path):
    log = tmp_path / "runs.log"
    (tmp_path / "runs.md").write_text(RUNS.replace("LOG", repr(str(log))))
    conditions = [Condition(KernelPath.NATIVE, 1, 0)]
    cache = tmp_path / "cache"
    first = check_claims.check(["runs"], conditions, lessons=tmp_path, cache=cache)
    again = check_claims.check(["runs"], conditions, lessons=tmp_path, cache=cache)
    assert log.read_text() == "ran\n"  # the second check read the cache
    assert [o.claims for o in again] == [o.claims for o in first] and first[0].claims
    (tmp_path / "runs.md").write_text(RUNS.replace("LOG", repr(str(log))) + "\n")
    check_claims.check(["runs"], conditions, lessons=tmp_path, cache=cache)
    assert log.read_text() == "ran\nran\n"  # the lesson changed: run again
    other = [Condition(KernelPath.DEFAULT, 1, 0)]
    check_claims.check(["runs"], other, lessons=tmp_path, cache=cache)
    assert log.read_text() == "ran\nran\nran\n"  # another condition: run


@pytest.mark.slow
def test_every_claim_of_every_lesson_holds_under_other_kernels_threads_and_seeds():
    """The lessons' claims, recomputed under check_claims.COVERING (seven runs of the lessons)."""
    lessons = check_claims.lessons_with_claims()
    conditions = list(check_claims.COVERING)
    outcomes = check_claims.check(lessons, conditions, jobs=2)  # fills both cores at the end
    found, stopped = check_claims.flips(outcomes)
    report = check_claims.report(outcomes, conditions)
    assert not found and not stopped, report
    assert {o.lesson for o in outcomes} == set(lessons)
    assert all(o.claims for o in outcomes)  # every lesson's claims were recorded
