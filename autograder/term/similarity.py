"""``similarity``: pairs of submissions whose code is suspiciously alike.

``python -m autograder similarity A --course C [--threshold 0.5]`` compares every pair of
``C/submitted/STUDENT/A/A.ipynb`` with copydetect's winnowing over tokens (Schleimer, Wilkerson
and Aiken's MOSS algorithm, the one Gradescope and MOSS use) and writes
``C/reports/A/similarity.html``: the pairs at or above the threshold, each with its score and
the two codes side by side, the shared passages highlighted.

What is compared is normalised so that the usual disguises do not hide a copy:

1. everything the student wrote: every code cell of the submission, answer cells or not (a
   copy pasted into an ordinary cell after untouched answer cells is compared too), except
   the cells that are still exactly as released (given code, visible checks);
2. the released template (every released code cell: imports, signatures,
   ``raise NotImplementedError()``, the visible checks) is removed as boilerplate, so two
   untouched templates, or a given cell the student extended, do not match on the given text;
3. copydetect's tokenizer drops comments, docstrings and whitespace and replaces every variable
   name by ``V``, every function name by ``F`` (renaming does not help);
4. within a cell, top-level functions and classes are put in a canonical order (reordering does
   not help).

A pair's score is the larger of the two shares of code found in the other (a copy padded with
extra code is still found from the original's side). Scores are evidence for a person to read,
never a verdict: the report says so.
"""

from __future__ import annotations

import ast
import html
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.config import DEFAULT_COURSE
from autograder.safe_html import PAGE_CSP_META
from autograder.term.roster import check_student_id

__all__ = ["Pair", "Similarity", "main", "student_code", "template_cells"]

#: copydetect's defaults: k-grams of 25 tokens, a match of 30 tokens is always found.
NOISE_TOKENS, GUARANTEE_TOKENS = 25, 30


@dataclass(frozen=True)
class Pair:
    """Two submissions and how much of each is found in the other."""

    student_a: str
    student_b: str
    score: float  #: max(share_a, share_b), in [0, 1]
    share_a: float  #: share of a's normalised code found in b
    share_b: float
    tokens: int  #: normalised tokens in common


@dataclass(frozen=True)
class Similarity:
    """What ``similarity`` found."""

    assignment: str
    students: tuple[str, ...]
    pairs: tuple[Pair, ...]  #: every pair, highest score first
    threshold: float
    report: Path

    @property
    def flagged(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if p.score >= self.threshold)


def _canonical_order(code: str) -> str:
    """Top-level functions and classes sorted by their normalised text; other code first."""
    from copydetect.utils import filter_code

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines, rest, defs = code.splitlines(), [], []
    for node in tree.body:
        start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
        segment = "\n".join(lines[start - 1 : node.end_lineno])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defs.append((filter_code(segment, "x.py")[0], segment))
        else:
            rest.append(segment)
    return "\n\n".join(rest + [s for _, s in sorted(defs)]) + "\n"


def _code_cells(notebook: Path) -> list[str]:
    """The sources of ``notebook``'s code cells, in order (a malformed cell reads as empty)."""
    data = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = data.get("cells", []) if isinstance(data, dict) else []
    sources = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(map(str, source)) if isinstance(source, list) else str(source)
        sources.append(source)
    return sources


def template_cells(released: Path) -> list[str]:
    """The released notebook's code cells: what every student was given."""
    return _code_cells(released)


def student_code(notebook: Path, template: list[str]) -> str:
    """Everything the student wrote: every code cell not exactly as released, in canonical order.

    One block per cell, in the notebook's order; a cell equal (up to surrounding whitespace) to
    one of ``template`` is given code and left out.
    """
    given = {t.strip() for t in template}
    blocks = [_canonical_order(s) for s in _code_cells(notebook) if s.strip() not in given]
    return "\n\n".join(b for b in blocks if b.strip())


def _stable_kgrams(string: str, k: int):
    """copydetect's k-gram hashes, with a hash that is the same in every process.

    copydetect uses Python's ``hash``, salted per process (PYTHONHASHSEED): the winnowed
    fingerprints, hence the scores, would change a little from run to run.
    """
    import hashlib

    import numpy as np

    return np.array(
        [
            int.from_bytes(
                hashlib.blake2b(string[i : i + k].encode(), digest_size=8).digest(),
                "big",
                signed=True,
            )
            for i in range(len(string) - k + 1)
        ],
        dtype=np.int64,
    )


def _fingerprint(name: str, code: str, boilerplate):
    import io

    from copydetect import CodeFingerprint

    window = GUARANTEE_TOKENS - NOISE_TOKENS + 1
    return CodeFingerprint(
        f"{name}.py", NOISE_TOKENS, window, boilerplate=boilerplate, fp=io.StringIO(code)
    )


def _side_by_side(pair: Pair, codes: dict[str, str], slices) -> str:
    from copydetect.utils import highlight_overlap

    cells = []
    for student, cut in ((pair.student_a, slices[0]), (pair.student_b, slices[1])):
        code = codes[student]
        shown = html.escape(code)
        if getattr(cut, "shape", (0,))[0] and len(cut[0]):
            shown, _ = highlight_overlap(code, cut, "<mark>", "</mark>", escape_html=True)
        cells.append(f"<td><h3>{html.escape(student)}</h3><pre>{shown}</pre></td>")
    return "<tr>" + "".join(cells) + "</tr>"


def _write_report(path: Path, result: Similarity, codes, slices) -> None:
    rows = "".join(
        f"<tr><td>{html.escape(p.student_a)}</td><td>{html.escape(p.student_b)}</td>"
        f"<td>{p.score:.2f}</td><td>{p.share_a:.2f}</td><td>{p.share_b:.2f}</td>"
        f"<td>{p.tokens}</td></tr>"
        for p in result.flagged
    )
    details = "".join(
        f"<h2>{html.escape(p.student_a)} and {html.escape(p.student_b)}: {p.score:.2f}</h2>"
        f"<table class='code'>{_side_by_side(p, codes, slices[(p.student_a, p.student_b)])}</table>"
        for p in result.flagged
    )
    top = max((p.score for p in result.pairs), default=0.0)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8">{PAGE_CSP_META}
<title>Similarity: {html.escape(result.assignment)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}} pre{{font-size:12px}}
mark{{background:#ffd54f}} table.code td{{width:50%}}</style></head><body>
<h1>Similar submissions of {html.escape(result.assignment)}</h1>
<p>{len(result.students)} submissions, {len(result.pairs)} pairs compared; {len(result.flagged)}
at or above {result.threshold:.2f} (the highest score of all pairs: {top:.2f}). The score is the
share of one submission's code (every code cell it changed or added; comments, names, order
and the released template normalised away) found in the other. It is evidence for a person to read, not a verdict.</p>
<table><tr><th>student</th><th>student</th><th>score</th><th>share of first</th>
<th>share of second</th><th>tokens</th></tr>{rows}</table>
{details}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


def main(
    *,
    assignment: str,
    course: Path = DEFAULT_COURSE,
    threshold: float = 0.5,
    out: Path | None = None,
) -> Similarity:
    """Compare every pair of ``assignment``'s submissions; write the HTML report.

    Raises ``ValueError`` naming the bad input: a threshold outside [0, 1], an assignment not
    released, no submissions.
    """
    import copydetect.utils
    from copydetect import compare_files

    copydetect.utils.hashed_kgrams = _stable_kgrams  # same scores in every run
    check_student_id(assignment, where="assignment")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1
    ):
        raise ValueError(f"--threshold must be in [0, 1], got {threshold!r}")
    course = Path(course).resolve()
    released = course / "release" / assignment / f"{assignment}.ipynb"
    if not released.exists():
        raise ValueError(f"{assignment!r} is not released in {course} (no {released})")
    folder = course / "submitted"
    notebooks = sorted(folder.glob(f"*/{assignment}/{assignment}.ipynb"))
    if not notebooks:
        raise ValueError(f"no submissions of {assignment} under {folder}: run collect first")
    given = template_cells(released)
    template = _fingerprint("template", "\n\n".join(map(_canonical_order, given)), None)
    codes, prints = {}, {}
    for notebook in notebooks:
        student = notebook.parent.parent.name
        try:
            codes[student] = student_code(notebook, given)
        except (ValueError, UnicodeDecodeError):
            codes[student] = ""  # not a notebook: grade reports it
        prints[student] = _fingerprint(student, codes[student], list(template.hashes))
    pairs, slices = [], {}
    for a, b in itertools.combinations(sorted(prints), 2):
        tokens, (share_a, share_b), cut = compare_files(prints[a], prints[b])
        share_a, share_b = float(share_a), float(share_b)
        pairs.append(Pair(a, b, max(share_a, share_b), share_a, share_b, int(tokens)))
        slices[(a, b)] = cut
    pairs.sort(key=lambda p: (-p.score, p.student_a, p.student_b))
    report = Path(out) if out else course / "reports" / assignment / "similarity.html"
    result = Similarity(assignment, tuple(sorted(prints)), tuple(pairs), float(threshold), report)
    _write_report(report, result, codes, slices)
    return result
