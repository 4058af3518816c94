"""Claim: the same MLP trains in coursekit's numpy loop, torch, Keras and scikit-learn, timed
in one run and printed as ratios to torch; and the numpy loop's GFLOP/s as a fraction of
what numpy reaches on one large matrix product.

Network 100 -> 64 -> 64 -> 10 (ReLU, softmax), SGD lr 0.01, batch 32, 5 epochs on 20,000 x 100
seeded synthetic data. Every library is pinned to ONE thread (set before numpy is imported):
the machines are shared and small, and one thread makes the comparison about the code, not
about who grabs more cores.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time  # noqa: E402

import numpy as np  # noqa: E402

N, D, K, EPOCHS, BATCH = 20_000, 100, 10, 5, 32


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    W = rng.normal(size=(D, K))
    y = (X @ W + rng.normal(size=(N, K))).argmax(axis=1)
    return X.astype(np.float32), y


def _spec():
    from coursekit.mlp import MLPSpec

    return MLPSpec(
        n_inputs=D,
        hidden=(64, 64),
        n_outputs=K,
        output="softmax",
        optimizer="sgd",
        lr=0.01,
        batch_size=BATCH,
        epochs=EPOCHS,
        shuffle=True,
    )


def _time_fit(framework, X, y):
    from coursekit import mlp

    spec = _spec()
    kwargs = {} if framework == "sklearn" else {"dtype": "float32"}
    model = mlp.build(framework, spec, **kwargs)
    Xf = X.astype(np.float64) if framework == "sklearn" else X
    start = time.perf_counter()
    history = mlp.fit(model, spec, Xf, y)
    return time.perf_counter() - start, history.loss[-1]


def _matmul_gflops(n=1024, repeats=3):
    a = np.random.default_rng(1).normal(size=(n, n)).astype(np.float32)
    a @ a  # warm up
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    import tensorflow as tf
    import torch

    torch.set_num_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    X, y = _data()
    times = {}
    for framework in ("torch", "numpy", "keras", "sklearn"):
        seconds, last_loss = _time_fit(framework, X, y)
        times[framework] = seconds
        print(
            f"  {framework:<8} {seconds:7.2f} s   final training loss {last_loss:.4f}", flush=True
        )
    print(f"\n{'implementation':<16}{'seconds':>10}{'ratio to torch':>16}")
    for framework, seconds in times.items():
        print(f"{framework:<16}{seconds:>10.2f}{seconds / times['torch']:>16.2f}")

    weights = D * 64 + 64 * 64 + 64 * K
    flops = 6 * N * weights * EPOCHS  # forward 2nw, backward 4nw per epoch
    loop = flops / times["numpy"] / 1e9
    peak = _matmul_gflops()
    print(f"\nnumpy loop: {loop:.2f} GFLOP/s; one 1024x1024 float32 matmul: {peak:.2f} GFLOP/s")
    print(f"numpy loop reaches {loop / peak:.1%} of the matmul rate (1 thread)")


if __name__ == "__main__":
    main()
