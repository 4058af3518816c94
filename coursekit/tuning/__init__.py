r"""Hyperparameter search: grid, random, halving, Hyperband, keras-tuner (chapters 6 and 9).

Six modules, one concept each; every public name is importable from ``coursekit.tuning``:

- :mod:`~coursekit.tuning.distributions`: what a hyperparameter may take (:class:`Choice`,
  :class:`IntRange`, :class:`Uniform`, :class:`LogUniform`);
- :mod:`~coursekit.tuning.trials`: the one trial loop every search runs
  (:func:`run_trials`, :func:`draw_configs`) and its records :class:`Trial` and
  :class:`SearchResult`;
- :mod:`~coursekit.tuning.search`: :func:`grid_search`, :func:`random_search`,
  :func:`grid_size`;
- :mod:`~coursekit.tuning.halving`: :func:`successive_halving` (early-stopping-based search:
  many configurations on a small budget, the best few on a large one), its rungs
  :func:`run_rungs`, :class:`HalvingResult`;
- :mod:`~coursekit.tuning.hyperband`: :func:`hyperband_search` (successive halving in every bracket
  from "many, briefly" to "few, fully"), :func:`hyperband_schedule`, :class:`Bracket`,
  :class:`HyperbandResult`;
- :mod:`~coursekit.tuning.keras_search`: keras-tuner over the search space of the slides on
  hyperparameter optimization (:func:`slides_hypermodel`, :func:`run_keras_tuner`), returning
  the same :class:`SearchResult`.

A search space is a dict ``{name: values}``; the values are a list (choices) or a
distribution. Grid search needs finite values (lists, ``Choice``, ``IntRange``).

>>> space = {"lr": LogUniform(1e-4, 1e-1), "layers": IntRange(2, 6), "opt": ["adam", "sgd"]}
>>> r = random_search(space, lambda p: abs(p["lr"] - 1e-2) * p["layers"], n_trials=5, seed=0)
>>> len(r.trials), r.best.params["opt"] in ("adam", "sgd")
(5, True)

Lessons: chapter 6, "Hyperparameter tuning"; chapter 9, "Training deep networks". numpy only at import time; keras and keras-tuner
are imported inside the hypermodel's ``build`` and :func:`run_keras_tuner`.
"""

from coursekit.tuning.distributions import Choice, IntRange, LogUniform, Uniform
from coursekit.tuning.halving import HalvingResult, run_rungs, successive_halving
from coursekit.tuning.hyperband import (
    Bracket,
    HyperbandResult,
    hyperband_schedule,
    hyperband_search,
)
from coursekit.tuning.keras_search import SLIDES_SPACE, run_keras_tuner, slides_hypermodel
from coursekit.tuning.search import grid_search, grid_size, random_search
from coursekit.tuning.trials import SearchResult, Trial, draw_configs, run_trials

__all__ = [
    "SLIDES_SPACE",
    "Bracket",
    "Choice",
    "HalvingResult",
    "HyperbandResult",
    "IntRange",
    "LogUniform",
    "SearchResult",
    "Trial",
    "Uniform",
    "draw_configs",
    "grid_search",
    "grid_size",
    "hyperband_schedule",
    "hyperband_search",
    "random_search",
    "run_keras_tuner",
    "run_rungs",
    "run_trials",
    "slides_hypermodel",
    "successive_halving",
]
