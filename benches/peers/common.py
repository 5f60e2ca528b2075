"""Shared helpers of the numpy/scipy peers: timing and the BLAS report."""
import json
import os
import time


def blas_report():
    """Which BLAS/OpenMP kernels numpy would run (threadpoolctl), so a row of
    the performance table says what it timed against."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed (pip install threadpoolctl)"}]
    keep = ("user_api", "internal_api", "version", "num_threads", "architecture", "filepath")
    return [{k: v for k, v in info.items() if k in keep} for info in threadpool_info()]


def time_per_call(fn, min_seconds=2.0, min_calls=5):
    """Median wall time of one call over repeated batches (seconds)."""
    fn()  # warm-up
    batches = []
    calls, total = 0, 0.0
    while total < min_seconds or calls < min_calls:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        batches.append(dt)
        total += dt
        calls += 1
    batches.sort()
    return batches[len(batches) // 2]


def report(workload, seconds, extra=None):
    out = {"workload": workload, "seconds": seconds, "blas": blas_report(),
           "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}}
    out.update(extra or {})
    print(json.dumps(out))
