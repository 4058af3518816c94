"""``check``: run a notebook's visible checks, as a student does before submitting.

The same code students receive with every release (``coursecheck.py``, from
:mod:`autograder.visible.coursecheck`): the notebook, as last saved, runs in a fresh kernel in
its own folder, and every check cell is reported as passed or failed with what is wrong and
the lesson section to revisit. The kernel finds ``coursecheck`` even where it does not sit
beside the notebook. A student's notebook holds no hidden test, so only visible checks run
(on an instructor's source notebook the hidden ones run too).
"""

from __future__ import annotations

from pathlib import Path

from autograder.visible.coursecheck import Outcome, Report, run_notebook

__all__ = ["CheckResult", "Outcome", "here", "main"]

#: One notebook's visible checks: ``checks`` (grade id, points, passed, message), ``report()``.
CheckResult = Report


def main(*, notebook: Path, timeout: int = 120) -> CheckResult:
    """Execute ``notebook`` and return the outcome of each visible check."""
    return run_notebook(notebook, timeout=timeout)


def here(notebook: str | Path | None = None) -> CheckResult | None:
    """Run the visible checks of the notebook *as last saved* (save first) and print them.

    Jupyter and JupyterLab tell the kernel its notebook's path (``JPY_SESSION_NAME``); where
    they do not (Colab, VS Code, a console), pass the path: ``here("a1_metrics.ipynb")``.
    """
    import os

    if os.environ.get("COURSECHECK_RUNNING"):  # this cell, inside the run it started
        return None
    path = notebook or os.environ.get("JPY_SESSION_NAME")
    if not path:
        raise ValueError("cannot tell which notebook this is: call here('your_notebook.ipynb')")
    result = main(notebook=Path(path))
    print(result.report())
    return result
