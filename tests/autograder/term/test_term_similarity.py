"""``similarity``: a copy with renamed variables, reordered functions and comments is found,
also when it sits in ordinary cells after untouched answer cells; independently written correct
solutions, and untouched templates, are not flagged."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from autograder.grading import authoring, cells
from autograder.term import similarity

A = "a1_metrics"

COPY = {
    "counts": """def confusion_counts(truth, guess):
    # count the four cells
    a = np.asarray(truth).astype(bool)
    b = np.asarray(guess).astype(bool)
    neg_neg = int(np.sum(~a & ~b))
    neg_pos = int(np.sum(~a & b))
    pos_neg = int(np.sum(a & ~b))
    pos_pos = int(np.sum(a & b))
    return neg_neg, neg_pos, pos_neg, pos_pos
""",
    "scores": '''def mcc(t, p):
    """Matthews."""
    a, b, c, d = confusion_counts(t, p)
    denominator = float(d + b) * (d + c) * (a + b) * (a + c)
    return (d * a - b * c) / np.sqrt(denominator) if denominator else 0.0


def f1(t, p):
    a, b, c, d = confusion_counts(t, p)
    return safe_div(2 * d, 2 * d + b + c)


def safe_div(x, y):
    return x / y if y else 0.0


def recall(t, p):
    a, b, c, d = confusion_counts(t, p)
    return safe_div(d, d + c)


def precision(t, p):
    a, b, c, d = confusion_counts(t, p)
    return safe_div(d, d + b)


def specificity(t, p):
    a, b, c, d = confusion_counts(t, p)
    return safe_div(a, a + b)
''',
    "roc": """def auc_trapezoid(xs, ys):
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    return float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2))


def roc_points(labels, s):
    labels = np.asarray(labels).astype(bool)
    s = np.asarray(s, dtype=float)
    cuts = np.r_[np.inf, np.unique(s)[::-1]]
    pos, neg = labels.sum(), (~labels).sum()
    hit = np.array([np.sum(labels & (s >= c)) / pos for c in cuts])
    false_alarm = np.array([np.sum(~labels & (s >= c)) / neg for c in cuts])
    return false_alarm, hit, cuts
""",
}

HONEST_LOOPS = {
    "counts": """def confusion_counts(y_true, y_pred):
    tn = fp = fn = tp = 0
    for actual, predicted in zip(y_true, y_pred):
        if actual and predicted:
            tp += 1
        elif actual:
            fn += 1
        elif predicted:
            fp += 1
        else:
            tn += 1
    return tn, fp, fn, tp
""",
    "scores": """import math


def precision(y_true, y_pred):
    _, fp, _, tp = confusion_counts(y_true, y_pred)
    if tp + fp == 0:
        return 0.0
    return tp / (tp + fp)


def recall(y_true, y_pred):
    counts = confusion_counts(y_true, y_pred)
    positives = counts[3] + counts[2]
    return counts[3] / positives if positives > 0 else 0.0


def specificity(y_true, y_pred):
    counts = confusion_counts(y_true, y_pred)
    negatives = counts[0] + counts[1]
    return counts[0] / negatives if negatives > 0 else 0.0


def f1(y_true, y_pred):
    p = precision(y_true, y_pred)
    r = recall(y_true, y_pred)
    if p + r == 0:
        return 0.0
    return 2 * p * r / (p + r)


def mcc(y_true, y_pred):
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    numerator = tp * tn - fp * fn
    product = 1.0
    for term in (tp + fp, tp + fn, tn + fp, tn + fn):
        product *= term
    if product == 0:
        return 0.0
    return numerator / math.sqrt(product)
""",
    "roc": """def roc_points(y_true, scores):
    pairs = sorted(zip(scores, y_true), reverse=True)
    total_pos = sum(1 for _, label in pairs if label)
    total_neg = len(pairs) - total_pos
    fpr, tpr, thresholds = [0.0], [0.0], [float("inf")]
    tp = fp = 0
    index = 0
    while index < len(pairs):
        threshold = pairs[index][0]
        while index < len(pairs) and pairs[index][0] == threshold:
            if pairs[index][1]:
                tp += 1
            else:
                fp += 1
            index += 1
        fpr.append(fp / total_neg)
        tpr.append(tp / total_pos)
        thresholds.append(threshold)
    return np.array(fpr), np.array(tpr), np.array(thresholds)


def auc_trapezoid(x, y):
    area = 0.0
    for i in range(1, len(x)):
        width = x[i] - x[i - 1]
        area += width * (y[i] + y[i - 1]) / 2.0
    return float(area)
""",
}

HONEST_BINCOUNT = {
    "counts": """def confusion_counts(y_true, y_pred):
    truth = np.asarray(y_true, dtype=int).ravel()
    guess = np.asarray(y_pred, dtype=int).ravel()
    cells = np.bincount(2 * truth + guess, minlength=4)
    return tuple(int(c) for c in cells)
""",
    "scores": """def _counts(y_true, y_pred):
    return dict(zip(("tn", "fp", "fn", "tp"), confusion_counts(y_true, y_pred)))


def _safe(top, bottom):
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.divide(top, bottom)
    return float(value) if np.isfinite(value) else 0.0


def precision(y_true, y_pred):
    c = _counts(y_true, y_pred)
    return _safe(c["tp"], c["tp"] + c["fp"])


def recall(y_true, y_pred):
    c = _counts(y_true, y_pred)
    return _safe(c["tp"], c["tp"] + c["fn"])


def specificity(y_true, y_pred):
    c = _counts(y_true, y_pred)
    return _safe(c["tn"], c["tn"] + c["fp"])


def f1(y_true, y_pred):
    c = _counts(y_true, y_pred)
    return _safe(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"])


def mcc(y_true, y_pred):
    c = _counts(y_true, y_pred)
    spread = np.prod([c["tp"] + c["fp"], c["tp"] + c["fn"], c["tn"] + c["fp"], c["tn"] + c["fn"]], dtype=float)
    return _safe(c["tp"] * c["tn"] - c["fp"] * c["fn"], np.sqrt(spread))
""",
    "roc": """def roc_points(y_true, scores):
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    ranked = np.asarray(scores, dtype=float)[order]
    hits = np.asarray(y_true, dtype=bool)[order]
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    tp_cum = np.cumsum(hits)[last_of_tie]
    fp_cum = np.cumsum(~hits)[last_of_tie]
    tpr = np.r_[0.0, tp_cum / hits.sum()]
    fpr = np.r_[0.0, fp_cum / (~hits).sum()]
    return fpr, tpr, np.r_[np.inf, ranked[last_of_tie]]


def auc_trapezoid(x, y):
    return float(np.trapezoid(y, x))
""",
}


@pytest.fixture(scope="module")
def course(tmp_path_factory, released_course):
    course = tmp_path_factory.mktemp("similarity") / "course"
    released_course(A, course)
    return course


def submit(course, student, answers):
    released = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    folder = course / "submitted" / student / A
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(authoring.submission(released, answers), folder / f"{A}.ipynb")


def test_copy_is_flagged_and_honest_solutions_are_not(course):
    reference = authoring.solutions(authoring.read_source(A))
    for student, answers in {"ref": reference, "copier": COPY, "loops": HONEST_LOOPS,
                             "bincount": HONEST_BINCOUNT, "blank": {}, "blank2": {}}.items():  # fmt: skip
        submit(course, student, answers)
    result = similarity.main(assignment=A, course=course)
    assert len(result.pairs) == 15  # 6 choose 2
    flagged = {(p.student_a, p.student_b) for p in result.flagged}
    assert flagged == {("copier", "ref")}
    top = result.pairs[0]
    assert top.score > 0.9 and top.tokens > 300
    honest = [p for p in result.pairs if {p.student_a, p.student_b} & {"loops", "bincount"}]
    assert max(p.score for p in honest) < 0.2
    # the released template is boilerplate: two untouched notebooks share nothing
    blanks = next(p for p in result.pairs if (p.student_a, p.student_b) == ("blank", "blank2"))
    assert blanks.score == 0.0
    page = result.report.read_text()
    assert "copier and ref" in page and "<mark>" in page and "loops and" not in page


def submit_in_extra_cells(course, student, answers):
    """The released notebook with its answer cells untouched and, after each, a new ordinary
    code cell (no nbgrader metadata) holding ``answers``' code for it: what the notebook runs."""
    released = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    nb = authoring.submission(released, {})
    extended = []
    for cell in nb.cells:
        extended.append(cell)
        if cells.grade_id(cell) in answers:
            extended.append(nbformat.v4.new_code_cell(answers[cells.grade_id(cell)]))
    nb.cells = extended
    folder = course / "submitted" / student / A
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{A}.ipynb")


def test_a_copy_in_ordinary_cells_after_untouched_answer_cells_is_flagged(
    tmp_path, released_course
):
    """Attack (issue 20, class 8): the answer cells stay as released, the reference solution
    is pasted verbatim into new cells after them; between two honest students."""
    course = tmp_path / "course"
    released_course(A, course)
    reference = authoring.solutions(authoring.read_source(A))
    submit(course, "aloops", HONEST_LOOPS)
    submit(course, "ref", reference)
    submit_in_extra_cells(course, "evader", reference)
    submit(course, "zbincount", HONEST_BINCOUNT)
    submit(course, "blank", {})
    result = similarity.main(assignment=A, course=course)
    assert {(p.student_a, p.student_b) for p in result.flagged} == {("evader", "ref")}
    caught = next(p for p in result.pairs if (p.student_a, p.student_b) == ("evader", "ref"))
    assert caught.score > 0.9
    honest = [p for p in result.pairs if {p.student_a, p.student_b} & {"aloops", "zbincount"}]
    assert max(p.score for p in honest) < 0.2
    # the evader's answer cells are the template: as code, it is the untouched notebook's
    evader = similarity.student_code(
        course / "submitted" / "evader" / A / f"{A}.ipynb",
        similarity.template_cells(course / "release" / A / f"{A}.ipynb"),
    )
    assert "NotImplementedError" not in evader and "def confusion_counts" in evader
    assert next(p for p in result.pairs if "blank" in (p.student_a, p.student_b)).score == 0.0


def test_normalisation_removes_comments_and_orders_functions():
    one = "def b(x):\n    return x + 1  # plus\n\n\ndef a(y):\n    '''doc'''\n    return y * 2\n"
    two = "def a(q):\n    return q * 2\n\n\ndef b(z):\n    return z + 1\n"
    assert similarity._canonical_order(one).index("def a") < similarity._canonical_order(one).index(
        "def b"
    )
    assert similarity._canonical_order("def (:") == "def (:"  # not Python: left as it is
    assert similarity._canonical_order(two).startswith("def a")


def test_similarity_cli_refuses_bad_threshold_and_missing_release(tmp_path, course):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                              text=True)  # fmt: skip

    bad = run("similarity", A, "--course", str(course), "--threshold", "2")
    assert bad.returncode == 2 and "--threshold must be in [0, 1], got 2.0" in bad.stderr
    none = run("similarity", A, "--course", str(tmp_path / "empty"))
    assert none.returncode == 2 and "is not released" in none.stderr
    ok = run("similarity", A, "--course", str(course))
    assert ok.returncode == 0 and "copier" in ok.stdout and "similarity.html" in ok.stdout
