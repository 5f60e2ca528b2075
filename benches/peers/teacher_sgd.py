"""numpy peer of Model T's online SGD step (src/models/teacher/online/simulation.rs),
D = 1e4, d = 8, K = 3, mixture teacher with the defaults a = 1.5, sigma = 0,
label noise 0.1, eta_x = eta_y = 0.5: per step draw xi ~ N(0, I_D) (numpy's
PCG64 + ziggurat), the class and the label noise, then

    x = W xi / sqrt(D),  e = x - y_l,
    W <- W - (eta_x / sqrt(D)) e xi^T,   y_l <- y_l + (eta_y K / D) e.

A per-step Python loop over vectorised calls, in three variants timed in one
run (benches/peers/teacher_step.sh prints them beside the Rust side):

- `f_order_threads`: W Fortran-ordered (d x D), W @ xi (dgemv) and dger on W
  in place, OpenBLAS with its default thread count (one per core). The loop
  compare.sh used to time: dger then walks the 8-row matrix row by row with
  stride, and OpenBLAS splits an update of 80 us across threads that spin
  and wait on a shared 2-core machine, 200-600 us of CPU per step.
- `f_order_1thread`: the same loop with OpenBLAS held to one thread
  (threadpoolctl), the loop of the independent harness.
- `best`: one thread, W C-ordered (d rows of D contiguous entries), so that
  W @ xi is a dgemv over contiguous rows and the update is dger on W^T
  (D x d Fortran), i.e. eight contiguous axpys: the fastest numpy loop found.

Time per step is the minimum over batches of process CPU time
(time.process_time, all threads; the fair measure on a shared machine and
for a threaded BLAS) and the median wall time. Prints one JSON line: the
`best` variant's seconds (process CPU minimum) as `seconds`, every variant
under `variants`.
"""
import sys
import time

import numpy as np
from scipy.linalg import blas
from threadpoolctl import threadpool_limits

from common import report

DD, DIM, K = 10_000, 8, 3
A, SIGMA, NOISE, ETA_X, ETA_Y = 1.5, 0.0, 0.1, 0.5, 0.5
STEPS = 200


def make_steps(order):
    rng = np.random.default_rng(2)
    w0 = 0.5 * rng.standard_normal((DIM, DD))
    w = np.asfortranarray(w0) if order == "F" else np.ascontiguousarray(w0)
    y = 0.5 * rng.standard_normal((K, DIM))
    sq = np.sqrt(DD)
    cw, cy = ETA_X / sq, ETA_Y * K / DD

    def steps():
        nonlocal w
        for _ in range(STEPS):
            xi = rng.standard_normal(DD)
            c = int(rng.integers(K))
            xi[:K] *= SIGMA
            xi[c] += A
            l = c
            if NOISE > 0 and rng.random() < NOISE:
                l = (c + 1 + int(rng.integers(K - 1))) % K
            x = (w @ xi) / sq
            e = x - y[l]
            if order == "F":
                w = blas.dger(-cw, e, xi, a=w, overwrite_a=1)
            else:
                # W^T is D x d Fortran-ordered: dger updates it in place.
                blas.dger(-cw, xi, e, a=w.T, overwrite_a=1)
            y[l] += cy * e

    return steps


def time_steps(fn, min_seconds=2.0, min_batches=5):
    fn()  # warm-up
    cpu, wall = [], []
    while sum(wall) < min_seconds or len(wall) < min_batches:
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    wall.sort()
    return {"cpu_us_min": 1e6 * min(cpu) / STEPS, "wall_us_median": 1e6 * wall[len(wall) // 2] / STEPS,
            "batches": len(wall)}


def main():
    variants = {"f_order_threads": time_steps(make_steps("F"))}
    with threadpool_limits(1):
        variants["f_order_1thread"] = time_steps(make_steps("F"))
        variants["best"] = time_steps(make_steps("C"))
    report("teacher sample + SGD step D=10000 d=8 K=3 (best numpy loop: 1 BLAS thread, C-ordered W)",
           1e-6 * variants["best"]["cpu_us_min"], {"variants": variants})


if __name__ == "__main__":
    sys.exit(main())
