#!/usr/bin/env python3
"""Stiff problems side by side: repcollapse's DOP853, Radau IIA and auto
(`cargo bench --bench stiff`) against scipy's solve_ivp Radau, BDF and LSODA
on the same model files, same tolerances, both timed in-process (median over
the repeats), in one run on one machine.

    python3 benches/peers/scipy_stiff.py [--repeats 5]

scipy receives the exact Jacobian, differentiated symbolically with sympy
from the same model-file expressions (repcollapse uses its own exact
Jacobian), so neither side pays for finite differences. Only the end point is
requested from both. The Model T head ODEs have no model file, so their rows
are repcollapse only. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed
from this process's environment (they break numpy's OpenBLAS here); the
BLAS in use is printed (threadpoolctl).
"""
import argparse
import json
import os
import subprocess
import sys
import time
import tomllib

for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(var, None)

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sympy  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (label in the Rust bench's output, model file, t_max, rtol, atol): the same
# problems and tolerances as benches/stiff.rs.
PROBLEMS = [
    ("robertson, t = 40", "robertson.toml", 40.0, 1e-8, 1e-14),
    ("robertson, t = 4e10", "robertson.toml", 4e10, 1e-8, 1e-14),
    ("van der pol mu = 1000, t = 3300", "van-der-pol.toml", 3300.0, 1e-8, 1e-8),
]


def compiled_model(path):
    """Right-hand side and exact Jacobian of a model file, as numpy functions
    (sympy parses the same expressions; `^` is power in both grammars)."""
    with open(path, "rb") as f:
        spec = tomllib.load(f)
    names = list(spec["state"].keys())
    syms = sympy.symbols(names)
    subs = {sympy.Symbol(k): float(v) for k, v in spec["parameters"].items()}
    exprs = [sympy.sympify(spec["equations"][n].replace("^", "**")).subs(subs) for n in names]
    jac = sympy.Matrix(exprs).jacobian(syms)
    f_num = sympy.lambdify(syms, exprs, "numpy")
    j_num = sympy.lambdify(syms, jac, "numpy")
    y0 = np.array([float(spec["state"][n]) for n in names])
    return (lambda t, y: f_num(*y)), (lambda t, y: np.asarray(j_num(*y), dtype=float)), y0


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: d.get(k) for k in ("internal_api", "num_threads", "architecture", "version")} for d in threadpool_info()]
    except ImportError:
        return "threadpoolctl not installed"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    rust = subprocess.run(["cargo", "bench", "-q", "--bench", "stiff", "--", str(a.repeats)],
                          cwd=ROOT, check=True, capture_output=True, text=True)
    ours = json.loads(rust.stdout.strip().splitlines()[-1])
    rows = []
    for label, file, t_max, rtol, atol in PROBLEMS:
        f, jac, y0 = compiled_model(os.path.join(ROOT, "examples", "models", file))
        peer = {}
        for method in ("Radau", "BDF", "LSODA"):
            times, sol = [], None
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                sol = solve_ivp(f, (0.0, t_max), y0, method=method, rtol=rtol, atol=atol, jac=jac, t_eval=[t_max])
                times.append(time.perf_counter() - t0)
            peer[method] = {"seconds": float(np.median(times)), "success": bool(sol.success), "nfev": int(sol.nfev),
                            "njev": int(sol.njev), "end": sol.y[:, -1].tolist()}
        rows.append({"problem": label, "repcollapse": ours[label], "scipy": peer})
    for label, row in ours.items():
        if label.startswith("model T"):
            rows.append({"problem": label, "repcollapse": row, "scipy": None})
    # One table: every method of each side, the ratio to repcollapse's auto.
    print(f"{'problem':34} {'method':16} {'seconds':>11} {'vs rc auto':>10}  end / error")
    for r in rows:
        auto = r["repcollapse"]["auto"].get("seconds")
        entries = [(f"rc {m}", r["repcollapse"][m]) for m in ("dop853", "radau5", "auto")]
        entries += [(f"scipy {m}", v) for m, v in (r["scipy"] or {}).items()]
        for name, v in entries:
            if "seconds" in v:
                ratio = f"{v['seconds'] / auto:10.2f}" if auto else ""
                end = ", ".join(f"{x:.10g}" for x in v["end"][:3])
                print(f"{r['problem']:34} {name:16} {v['seconds']:11.3e} {ratio}  [{end}]")
            else:
                print(f"{r['problem']:34} {name:16} {'fails':>11} {'':10}  {v['error'][:110]}")
    print(json.dumps({"scipy_version": scipy.__version__, "numpy_version": np.__version__, "blas": blas_info(),
                      "repeats": a.repeats, "load": open("/proc/loadavg").read().split()[:3], "rows": rows}))


if __name__ == "__main__":
    sys.exit(main())
