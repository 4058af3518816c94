"""Claim: on 1,000,000 samples, coursekit's roc_curve, roc_auc_score and confusion_matrix take
no longer than scikit-learn's (goal: ratio coursekit / sklearn <= 1.0).

Both are timed in this one run on the same seeded data (best of REPEATS, time.perf_counter),
after checking that they give the same result. Scores come twice: distinct float64 values,
and rounded to 3 decimals (many ties). A missed goal is printed, not raised: the machines are
shared and noisy. Usage: ``.venv/bin/python benchmarks/bench_metrics.py``.
"""

import time

import numpy as np

N, REPEATS, SEED, GOAL = 1_000_000, 5, 0, 1.0


def _best_of(fn, *args) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def _same(a, b) -> bool:
    a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
    return all(np.allclose(x, y, rtol=1e-12, atol=0) for x, y in zip(a, b, strict=True))


def main() -> None:
    from sklearn import metrics as skm

    from coursekit import metrics as ckm

    rng = np.random.default_rng(SEED)
    y_true = rng.integers(0, 2, N)  # (N,) labels in {0, 1}
    y_score = rng.random(N) + 0.5 * y_true  # (N,) distinct scores, positives higher
    y_tied = np.round(y_score, 3)  # (N,) about 1,500 distinct values
    y_pred = (y_score > 0.75).astype(int)  # (N,) hard predictions
    cases = [
        ("roc_curve, distinct scores", ckm.roc_curve, skm.roc_curve, (y_true, y_score)),
        ("roc_curve, tied scores", ckm.roc_curve, skm.roc_curve, (y_true, y_tied)),
        ("roc_auc_score, distinct", ckm.roc_auc_score, skm.roc_auc_score, (y_true, y_score)),
        ("roc_auc_score, tied", ckm.roc_auc_score, skm.roc_auc_score, (y_true, y_tied)),
        ("confusion_matrix", ckm.confusion_matrix, skm.confusion_matrix, (y_true, y_pred)),
    ]
    print(f"coursekit.metrics vs sklearn.metrics: {N:,} samples, seed {SEED}, best of {REPEATS}")
    print(f"{'function':<28}{'coursekit s':>12}{'sklearn s':>11}{'ratio':>8}  goal <= {GOAL}")
    for name, ours, theirs, args in cases:
        if not _same(ours(*args), theirs(*args)):
            print(f"{name:<28}  results differ from sklearn: not timed")
            continue
        ck_s, sk_s = _best_of(ours, *args), _best_of(theirs, *args)
        ratio = ck_s / sk_s
        verdict = "met" if ratio <= GOAL else "MISSED"
        print(f"{name:<28}{ck_s:>12.4f}{sk_s:>11.4f}{ratio:>8.2f}  {verdict}")


if __name__ == "__main__":
    main()
