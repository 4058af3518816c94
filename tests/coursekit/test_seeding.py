"""seed_everything: reproducible numbers, no framework imports of its own."""

import random
import subprocess
import sys

import numpy as np
import pytest

from coursekit import seed_everything


def test_same_seed_same_numbers_across_libraries():
    seed_everything(5)
    first = (random.random(), np.random.rand())  # noqa: NPY002
    seed_everything(5)
    assert (random.random(), np.random.rand()) == first  # noqa: NPY002
    assert seed_everything(5).random() == seed_everything(5).random()


def test_seeds_torch_when_already_imported():
    import torch

    seed_everything(11)
    a = torch.rand(3)
    seed_everything(11)
    assert torch.equal(a, torch.rand(3))


def test_deterministic_kernels_are_switched_on_in_imported_frameworks():
    import torch

    seed_everything(1)
    assert torch.are_deterministic_algorithms_enabled()


def test_import_coursekit_and_seeding_load_no_framework():
    code = (
        "import sys, coursekit\n"
        "from coursekit import xor, gradcheck, regularization\n"
        "coursekit.seed_everything(0)\n"
        "bad = [m for m in ('tensorflow', 'torch', 'keras', 'sklearn', 'scipy') "
        "if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "3", True])
def test_bad_seed_is_named(seed):
    with pytest.raises((ValueError, TypeError), match="seed must be"):
        seed_everything(seed)
