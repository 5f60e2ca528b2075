#!/usr/bin/env python3
"""Reference solution of examples/models/lorenz.toml at the end times of the
work-precision diagrams, independent of every double-precision solver: a
Taylor-series integration in mpmath's arbitrary precision.

    python3 benches/peers/lorenz_reference.py [T_END ...]      (default 10)

Lorenz is quadratic, so the Taylor coefficients follow exactly from the
recurrences (Cauchy products for x z and x y):

    x_{k+1} = sigma (y_k - x_k) / (k+1)
    y_{k+1} = (rho x_k - (x z)_k - y_k) / (k+1)
    z_{k+1} = ((x y)_k - beta z_k) / (k+1)

The parameters and the initial state are the model file's doubles taken
exactly (beta = 2.6666666666666665, the double nearest 8/3, not 8/3), so the
reference is that of the file the solvers are given. Two integrations with
different precision, order and step (50 digits, order 30, h = 1/200; 60
digits, order 40, h = 1/128) must agree to 1e-25 relative, else the script
fails; the end state is printed with 20 digits. Pure Python (mpmath, which
ships with sympy and is on PyPI); about 1 s of CPU per unit of time.
"""
import sys

import mpmath
from mpmath import mp, mpf

# examples/models/lorenz.toml, as doubles (mpf of a float is exact).
SIGMA, RHO, BETA = 10.0, 28.0, 2.6666666666666665
X0 = (1.0, 1.0, 1.0)


def taylor_step(x, y, z, h, order, sigma, rho, beta):
    """One step of length h of the order-`order` Taylor polynomial."""
    xs, ys, zs = [x], [y], [z]
    for k in range(order):
        xz = mpmath.fsum(xs[i] * zs[k - i] for i in range(k + 1))
        xy = mpmath.fsum(xs[i] * ys[k - i] for i in range(k + 1))
        xs.append(sigma * (ys[k] - xs[k]) / (k + 1))
        ys.append((rho * xs[k] - xz - ys[k]) / (k + 1))
        zs.append((xy - beta * zs[k]) / (k + 1))
    # Horner in h.
    out = []
    for c in (xs, ys, zs):
        acc = c[-1]
        for a in reversed(c[:-1]):
            acc = acc * h + a
        out.append(acc)
    # The last term bounds the truncation error of the step.
    tail = max(abs(c[-1]) for c in (xs, ys, zs)) * h ** order
    return out, tail


def integrate(t_end, dps, order, steps_per_unit):
    mp.dps = dps
    sigma, rho, beta = mpf(SIGMA), mpf(RHO), mpf(BETA)
    x, y, z = (mpf(v) for v in X0)
    n = int(round(t_end * steps_per_unit))
    h = mpf(t_end) / n
    worst = mpf(0)
    for _ in range(n):
        (x, y, z), tail = taylor_step(x, y, z, h, order, sigma, rho, beta)
        worst = max(worst, tail)
    return (x, y, z), worst


def main():
    ends = [float(a) for a in sys.argv[1:]] or [10.0]
    failed = 0
    for t_end in ends:
        a, tail_a = integrate(t_end, 50, 30, 200)
        b, tail_b = integrate(t_end, 60, 40, 128)
        mp.dps = 60
        diff = max(abs(u - v) / abs(v) for u, v in zip(a, b))
        ok = diff < mpf("1e-25")
        failed += not ok
        print(f"t = {t_end:g}: x, y, z = " + ", ".join(mpmath.nstr(v, 20) for v in b))
        print(f"  two integrations agree to {mpmath.nstr(diff, 3)} relative ({'ok' if ok else 'FAILS'}); "
              f"largest last Taylor term {mpmath.nstr(tail_a, 3)} (50 digits, order 30), {mpmath.nstr(tail_b, 3)} (60 digits, order 40)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
