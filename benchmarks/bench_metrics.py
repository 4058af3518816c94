"""Claim: roc_curve, roc_auc_score and confusion_matrix on 1,000,000 samples take no longer
than scikit-learn's (goal: ratio <= 1.0), measured in the same run, best of 5.
"""

import time

import numpy as np

N, REPEATS = 1_000_000, 5


def _best(fn, *args):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    from sklearn import metrics as skm

    from coursekit import metrics as ckm

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, N)
    y_score = np.round(rng.random(N), 4)  # ties included
    y_pred = rng.integers(0, 2, N)
    cases = [
        ("roc_curve", ckm.roc_curve, skm.roc_curve, (y_true, y_score)),
        ("roc_auc_score", ckm.roc_auc_score, skm.roc_auc_score, (y_true, y_score)),
        ("confusion_matrix", ckm.confusion_matrix, skm.confusion_matrix, (y_true, y_pred)),
    ]
    print(f"{N:,} samples, best of {REPEATS}")
    print(f"{'function':<20}{'coursekit s':>13}{'sklearn s':>12}{'ratio':>8}  goal <= 1.0")
    for name, ours, theirs, args in cases:
        a, b = _best(ours, *args), _best(theirs, *args)
        verdict = "met" if a <= b else "MISSED"
        print(f"{name:<20}{a:>13.4f}{b:>12.4f}{a / b:>8.2f}  {verdict}")


if __name__ == "__main__":
    main()
