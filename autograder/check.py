"""``check``: run a notebook's visible checks, as a student does before submitting.

Executes the notebook in a fresh kernel, in its own folder, and reports every graded cell
(the checks) as passed or failed, with the error's first line. Hidden tests are not in a
student's notebook, so only visible checks run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CheckResult", "main"]


@dataclass
class CheckResult:
    """Per visible check: grade id, points, passed, and the error message if it failed."""

    checks: list[tuple[str, float, bool, str]]

    @property
    def passed(self) -> bool:
        return all(ok for _, _, ok, _ in self.checks)

    def report(self) -> str:
        lines = []
        for grade_id, points, ok, error in self.checks:
            status = "passed" if ok else f"FAILED: {error}"
            lines.append(f"{'✓' if ok else '✗'} {grade_id} ({points:g} points): {status}")
        n_ok = sum(ok for _, _, ok, _ in self.checks)
        lines.append(f"{n_ok} of {len(self.checks)} visible checks passed")
        return "\n".join(lines)


def main(*, notebook: Path, timeout: int = 120) -> CheckResult:
    """Execute ``notebook`` and return the outcome of each visible check."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(notebook).resolve()
    if not path.exists():
        raise FileNotFoundError(f"no notebook at {path}")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    checks = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        message = f"{errors[0]['ename']}: {errors[0]['evalue']}".strip() if errors else ""
        checks.append((meta["grade_id"], float(meta.get("points", 0)), not errors, message))
    return CheckResult(checks)


def here(notebook: str | Path | None = None) -> CheckResult:
    """The one-line check to put in a notebook: ``from autograder.check import here; here()``.

    Runs the visible checks of the notebook *as last saved* (save first) in a fresh kernel and
    prints what passed. Jupyter tells the kernel its notebook's path (``JPY_SESSION_NAME``);
    elsewhere pass the path.
    """
    import os

    path = notebook or os.environ.get("JPY_SESSION_NAME")
    if not path:
        raise ValueError("cannot tell which notebook this is: call here('your_notebook.ipynb')")
    result = main(notebook=Path(path))
    print(result.report())
    return result
