"""numpy/scipy peer of Model E's full-batch gradient-descent step
(src/models/embedding/simulation.rs::gd_step), N = 1e5, d = 32, K = 10:

    x_i <- x_i - dt eta_x (x_i - sum_c A_ic y_c)
    y_c <- y_c - (dt eta_y / n) (m_c y_c - sum_i A_ic x_i)

with the same label-weight design as benches/model_e.rs: 10000 samples per
class, the first 10% of each class frustrated with A_i = (1-rho) e_c + rho e_b,
b = (c + 1 + j mod (K-1)) mod K (balanced pairing), rho = 0.5. A is a scipy
CSR matrix, so both sums are sparse matrix products (vectorised, no Python
loop). Prints one JSON line: seconds per step and GB/s under the same byte
count as the Rust benchmark.
"""
import sys

import numpy as np
import scipy.sparse as sp

from common import report, time_per_call

K, PER, D, F, RHO = 10, 10_000, 32, 0.1, 0.5
DT, ETA_X, ETA_Y = 1e-3, 1.0, 1.0


def design():
    rows, cols, vals = [], [], []
    nf = round(F * PER)
    for c in range(K):
        for j in range(PER):
            i = c * PER + j
            if j < nf:
                b = (c + 1 + j % (K - 1)) % K
                rows += [i, i]; cols += [c, b]; vals += [1.0 - RHO, RHO]
            else:
                rows.append(i); cols.append(c); vals.append(1.0)
    return sp.csr_matrix((vals, (rows, cols)), shape=(K * PER, K))


def main():
    a = design()
    at = a.T.tocsr()
    mass = np.asarray(a.sum(axis=0)).ravel()
    n = a.shape[0] / K
    rng = np.random.default_rng(7)
    x = rng.standard_normal((a.shape[0], D))
    y = rng.standard_normal((K, D))
    cx, cy = DT * ETA_X, DT * ETA_Y / n

    def step():
        nonlocal x, y
        pull = at @ x          # K x d, old x
        target = a @ y         # N x d, old y
        x -= cx * (x - target)
        y = y - cy * (mass[:, None] * y - pull)

    sec = time_per_call(step)
    nbytes = 2 * x.size * 8 + (a.shape[0] + 1) * 8 + a.nnz * 16
    report("gd_step N=100000 d=32 K=10", sec, {"gb_per_s": nbytes / sec / 1e9, "bytes": nbytes})


if __name__ == "__main__":
    sys.exit(main())
