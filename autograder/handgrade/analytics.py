"""Per-question analytics for ``report``: how each question and check went, and why.

For the students graded (failed and stale submissions apart, answers pending hand grading
left out):

- :func:`plot`: one histogram per graded cell (automatic check or hand-graded question) of
  the points earned, :math:`s_c \\in [0, m_c]`, in ``questions.png``;
- :func:`failure_kinds`: the kinds of the automatic checks' outcomes that cost points
  (failed, an error in the student's code, timeout, memory, ...), most common first, each with
  the checks where it happened (the typed :class:`~autograder.grading.records.Kind`, never text);
- :func:`top_items`: the rubric items applied most often in hand grading
  (:mod:`autograder.handgrade`), with their points.

:func:`section` is the Markdown ``report`` appends.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

__all__ = ["failure_kinds", "plot", "section", "top_items"]


def failure_kinds(graded, checks: list[dict]) -> list[tuple[str, int, Counter]]:
    """(kind's words, how many outcomes, check -> count), most common first."""
    from autograder.grading.records import Kind

    automatic = {c["grade_id"] for c in checks if not c["manual"]}
    found: dict[Kind, Counter] = {}
    for grade in graded:
        for gid, cell in grade.cells.items():
            outcome = cell.outcome
            if gid in automatic and outcome is not None and cell.manual is None:
                kind = Kind(outcome.kind)
                if kind not in (Kind.PASSED, Kind.PENDING):
                    found.setdefault(kind, Counter())[gid] += 1
    table = [(k.words, sum(c.values()), c) for k, c in found.items()]
    return sorted(table, key=lambda row: (-row[1], row[0]))


def top_items(applied: dict, most: int = 10) -> list[tuple[str, str, float, int]]:
    """(question, description, points, times applied) of the ``most`` most applied items."""
    counts: Counter = Counter()
    items = {}
    for by_question in applied.values():
        for question, applied_items in by_question.items():
            for item in applied_items:
                counts[item.id] += 1
                items[item.id] = (question, item)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], items[kv[0]][0], kv[0]))
    return [(items[i][0], items[i][1].description, items[i][1].points, n)
            for i, n in ordered[:most]]  # fmt: skip


def plot(graded, checks: list[dict], path: Path) -> Path:
    """``path``: one histogram of the points earned per graded cell."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, max(1, len(checks)))
    rows = math.ceil(len(checks) / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.4 * rows), squeeze=False)
    for ax, check in zip(axes.flat, checks, strict=False):
        gid, points = check["grade_id"], check["points"]
        cells = [g.cells.get(gid) for g in graded]
        scores = [c.score for c in cells if c is not None and not c.pending]
        bins = [x / 4 - 0.125 for x in range(int(points * 4) + 2)]  # quarter points
        ax.hist(scores, bins=bins, color="tab:green" if check["manual"] else "tab:blue")
        waiting = sum(1 for c in cells if c is not None and c.pending)
        ax.set_title(f"{gid} ({'by hand' if check['manual'] else 'check'})"
                     + (f", {waiting} pending" if waiting else ""), fontsize=9)  # fmt: skip
        ax.set_xlim(-0.25, points + 0.25)
        ax.set_xlabel("points", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(checks) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80, facecolor="white")
    plt.close(fig)
    return path


def section(graded, checks: list[dict], applied: dict, md) -> list[str]:
    """The report's per-question Markdown (``md`` makes outside text safe in a table)."""
    lines = ["", "## Per question", "",
             "![points earned per question and check](questions.png)", "",
             "Most common failure kinds of the automatic checks:", ""]  # fmt: skip
    kinds = failure_kinds(graded, checks)
    if kinds:
        lines += ["| kind | answers | where |", "|---|---|---|"]
        for words, count, where in kinds:
            said = ", ".join(f"{md(gid)} {n}" for gid, n in where.most_common())
            lines.append(f"| {md(words)} | {count} | {said} |")
    else:
        lines.append("none: every automatic check passed.")
    lines += ["", "Rubric items applied most often in hand grading:", ""]
    top = top_items(applied)
    if top:
        lines += ["| question | item | points | applied |", "|---|---|---|---|"]
        lines += [f"| {md(q)} | {md(d)} | {p:+g} | {n} |" for q, d, p, n in top]
    else:
        lines.append("none yet (`python -m autograder handgrade` applies them).")
    return lines
