"""``report``: the score distribution and per-question difficulty of a graded assignment.

Writes ``course/reports/ASSIGNMENT/report.md`` (a table per check: mean score as a fraction of
its points, share of students with full marks) and ``scores.png`` (histogram of total scores,
bar chart of difficulty). Failed submissions are counted apart, never as zeros.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.config import DEFAULT_COURSE

__all__ = ["main"]


def main(*, assignment: str, course: Path = DEFAULT_COURSE) -> Path:
    """Write the report; return the folder holding ``report.md`` and ``scores.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from autograder.authoring import graded_cells

    course = Path(course).resolve()
    results = [
        json.loads(p.read_text())
        for p in sorted((course / "autograded").glob(f"*/{assignment}/.result.json"))
    ]
    if not results:
        raise ValueError(f"no graded submissions of {assignment!r} in {course}: run `grade` first")
    graded = [r for r in results if r["status"] == "graded"]
    failed = [r for r in results if r["status"] != "graded"]
    checks = graded_cells(course, assignment)
    lines = [
        f"# {assignment}: report",
        "",
        f"{len(graded)} graded, {len(failed)} failed (not counted below).",
        "",
    ]
    if graded:
        totals = np.array([r["score"] for r in graded])
        lines += [
            f"Total score: mean {totals.mean():.2f}, median {np.median(totals):.2f}, "
            f"min {totals.min():g}, max {totals.max():g} (of {graded[0]['max_score']:g}).",
            "",
        ]
    lines += [
        "| check | points | mean score | mean fraction | full marks |",
        "|---|---|---|---|---|",
    ]
    difficulty = []
    for check in checks:
        scores = (
            np.array([r["cells"].get(check["grade_id"], 0.0) for r in graded])
            if graded
            else np.zeros(0)
        )
        frac = float(scores.mean() / check["points"]) if len(scores) else float("nan")
        full = float(np.mean(scores >= check["points"])) if len(scores) else float("nan")
        difficulty.append(frac)
        lines.append(
            f"| {check['grade_id']} | {check['points']:g} | "
            f"{scores.mean() if len(scores) else float('nan'):.2f} | {frac:.0%} | {full:.0%} |"
        )
    if failed:
        lines += ["", "Failed submissions:", ""] + [
            f"- {r['student_id']}: {r['reason']}" for r in failed
        ]
    folder = course / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.hist([r["score"] for r in graded], bins=10, color="tab:blue")
    ax1.set(title="total scores", xlabel="points", ylabel="students")
    ax2.barh([c["grade_id"] for c in checks], difficulty, color="tab:orange")
    ax2.set(title="mean fraction of the points", xlim=(0, 1))
    fig.tight_layout()
    fig.savefig(folder / "scores.png", dpi=100, facecolor="white")
    plt.close(fig)
    return folder
