"""``report``: the score distribution and per-question difficulty of a graded assignment.

Writes ``course/reports/ASSIGNMENT/report.md`` (a table per check: mean score as a fraction of
its points over the students graded on it, share with full marks, how many still wait for a
person; then per question, :mod:`autograder.handgrade.analytics`: the most common failure
kinds of the automatic checks and the rubric items applied most often), ``scores.png``
(histogram of total scores, bar chart of difficulty) and ``questions.png`` (the points earned
per check and question). Every number
is the gradebook's (:func:`autograder.grading.gradebook.read_grades`); failed and stale submissions
are counted apart, never as zeros, and answers pending hand grading are kept apart too.
"""

from __future__ import annotations

import html
from pathlib import Path

from autograder.config import DEFAULT_COURSE
from autograder.grading.records import Status

__all__ = ["main"]


def _md(text: str) -> str:
    """Text safe inside a Markdown table or list (no HTML, no table breaks)."""
    from autograder.names import printable

    return html.escape(printable(text), quote=False).replace("|", "\\|")


def main(*, assignment: str, course: Path = DEFAULT_COURSE, db_url: str | None = None) -> Path:
    """Write the report; return the folder holding ``report.md`` and ``scores.png``.

    ``db_url``: the gradebook (default: the course's SQLite file, which must exist). Totals are
    after the late penalty, derived now under the current policy.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from autograder.grading.authoring import graded_cells
    from autograder.grading.gradebook import read_grades

    course = Path(course).resolve()
    grades = read_grades(course, assignment, db_url)
    if not grades:
        raise ValueError(f"no graded submissions of {assignment!r} in {course}: run `grade` first")
    graded = [g for g in grades if g.status is Status.GRADED]
    apart = [g for g in grades if g.status is not Status.GRADED]
    checks = graded_cells(course, assignment)
    max_score = sum(c["points"] for c in checks)
    lines = [
        f"# {_md(assignment)}: report",
        "",
        f"{len(graded)} graded, {len(apart)} failed or stale (not counted below).",
        "",
    ]
    if graded:
        totals = np.array([g.score for g in graded])
        waiting = sum(1 for g in graded if g.pending)
        lines += [
            f"Total score: mean {totals.mean():.2f}, median {np.median(totals):.2f}, "
            f"min {totals.min():g}, max {totals.max():g} (of {max_score:g})"
            + (f"; {waiting} with answers still to be graded by hand." if waiting else "."),
            "",
        ]
        late = sorted({g.days_late for g in graded if g.days_late})
        if late:
            from autograder.term.feedback import days

            counts = [(days(n), sum(g.days_late == n for g in graded)) for n in late]
            said = [f"{d} late: {k} student{'' if k == 1 else 's'}" for d, k in counts]
            lines += [f"Late, under the current due dates: {'; '.join(said)}.", ""]
    lines += [
        "| check | points | graded | pending | mean score | mean fraction | full marks |",
        "|---|---|---|---|---|---|---|",
    ]
    difficulty = []
    for check in checks:
        gid, points = check["grade_id"], check["points"]
        cells = [g.cells.get(gid) for g in graded]
        scores = np.array([c.score for c in cells if c is not None and not c.pending], float)
        pending = sum(1 for c in cells if c is not None and c.pending)
        frac = float(scores.mean() / points) if len(scores) else float("nan")
        full = float(np.mean(scores >= points)) if len(scores) else float("nan")
        mean = f"{scores.mean():.2f}" if len(scores) else "—"
        difficulty.append(0.0 if np.isnan(frac) else frac)
        shown = (f"{frac:.0%}", f"{full:.0%}") if len(scores) else ("—", "—")
        lines.append(
            f"| {_md(gid)} | {points:g} | {len(scores)} | {pending} | {mean} | "
            f"{shown[0]} | {shown[1]} |"
        )
    if apart:
        lines += ["", "Failed or stale submissions:", ""] + [
            f"- {_md(g.student_id)}: {_md(g.reason)}" for g in apart
        ]
    from autograder.handgrade import analytics  # per question: plots, failure kinds, rubric
    from autograder.handgrade.store import applied_items

    lines += analytics.section(graded, checks, applied_items(course, assignment), _md)
    folder = course / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    analytics.plot(graded, checks, folder / "questions.png")
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.hist([g.score for g in graded], bins=10, color="tab:blue")
    ax1.set(title="total scores", xlabel="points", ylabel="students")
    ax2.barh([c["grade_id"] for c in checks], difficulty, color="tab:orange")
    ax2.set(title="mean fraction of the points (graded answers)", xlim=(0, 1))
    fig.tight_layout()
    fig.savefig(folder / "scores.png", dpi=100, facecolor="white")
    plt.close(fig)
    return folder
