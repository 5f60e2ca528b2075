"""numpy peer of Model T's online SGD step (src/models/teacher/simulation.rs),
D = 1e4, d = 8, K = 3, mixture teacher with the defaults a = 1.5, sigma = 0,
label noise 0.1, eta_x = eta_y = 0.5: per step draw xi ~ N(0, I_D) (numpy's
PCG64 + ziggurat), the class and the label noise, then

    x = W xi / sqrt(D),  e = x - y_l,
    W <- W - (eta_x / sqrt(D)) e xi^T,   y_l <- y_l + (eta_y K / D) e.

A per-step Python loop over vectorised calls: W @ xi (BLAS dgemv) and an
in-place rank-1 update (BLAS dger on a Fortran-ordered W, no temporary). Prints one
JSON line with seconds per step (sample + step).
"""
import sys

import numpy as np
from scipy.linalg import blas

from common import report, time_per_call

DD, DIM, K = 10_000, 8, 3
A, SIGMA, NOISE, ETA_X, ETA_Y = 1.5, 0.0, 0.1, 0.5, 0.5
STEPS = 200


def main():
    rng = np.random.default_rng(2)
    w = np.asfortranarray(0.5 * rng.standard_normal((DIM, DD)))
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
            w = blas.dger(-cw, e, xi, a=w, overwrite_a=1)
            y[l] += cy * e

    sec = time_per_call(steps) / STEPS
    report("teacher sample + SGD step D=10000 d=8 K=3", sec)


if __name__ == "__main__":
    sys.exit(main())
