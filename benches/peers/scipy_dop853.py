#!/usr/bin/env python3
"""Side-by-side timing of repcollapse's integrator and scipy's solve_ivp on
the 4-variable Model E simplex system, both measured in-process, in one run.

    python3 benches/peers/scipy_dop853.py [--repeats 50]

1. `repcollapse export embedding` writes the reduced model file;
2. `cargo bench --bench integrator_peer` times repcollapse on it (median of
   the repeats; DOP853, and for reference DOPRI5, Radau IIA and auto);
3. this script builds the same right-hand side from the same file and times
   scipy.integrate.solve_ivp(method="DOP853") with the same t_max, rtol,
   atol and 400-point output grid (t_eval, scipy's dense output).

Prints a JSON summary with the ratio scipy time / repcollapse time and both
end states (they must agree to the tolerance). OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed from the environment of this process
(they break numpy's OpenBLAS on this machine).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib

for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(var, None)

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rhs_from_model(path):
    """The model file's right-hand side as a Python function (same
    expressions: `^` -> `**`, parameters substituted as numbers)."""
    with open(path, "rb") as f:
        spec = tomllib.load(f)
    params = spec["parameters"]
    names = list(spec["state"].keys())
    env = {"sqrt": np.sqrt, "exp": np.exp, "abs": abs, "log": np.log}
    env.update({k: float(v) for k, v in params.items()})
    lines = ["def f(t, y):"]
    lines.append("    " + ", ".join(names) + (", = y" if len(names) == 1 else " = y"))
    lines.append("    return [" + ", ".join(re.sub(r"\^", "**", spec["equations"][n]) for n in names) + "]")
    exec("\n".join(lines), env)
    y0 = np.array([float(spec["state"][n]) for n in names])
    return env["f"], y0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--t-max", type=float, default=1000.0)
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--atol", type=float, default=1e-10)
    ap.add_argument("--points", type=int, default=400)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "model_e.toml")
        subprocess.run(["cargo", "run", "--release", "-q", "--", "export", "embedding", "--out", model], cwd=ROOT, check=True)
        rust = subprocess.run(
            ["cargo", "bench", "-q", "--bench", "integrator_peer", "--", model, str(a.t_max), str(a.rtol), str(a.atol),
             str(a.points), str(a.repeats)],
            cwd=ROOT, check=True, capture_output=True, text=True)
        ours = json.loads(rust.stdout.strip().splitlines()[-1])
        f, y0 = rhs_from_model(model)
    t_eval = np.linspace(0.0, a.t_max, a.points)
    times, sol = [], None
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        sol = solve_ivp(f, (0.0, a.t_max), y0, method="DOP853", rtol=a.rtol, atol=a.atol, t_eval=t_eval)
        times.append(time.perf_counter() - t0)
    scipy_time = float(np.median(times))
    end_diff = float(np.max(np.abs(sol.y[:, -1] - np.array(ours["dop853_grid"]["end"]))))
    print(json.dumps({
        "problem": f"Model E simplex system (4 states), t in [0, {a.t_max}], rtol {a.rtol}, atol {a.atol}, {a.points} output times",
        "scipy_version": scipy.__version__,
        "scipy_dop853": {"seconds": scipy_time, "nfev": int(sol.nfev), "steps_approx": int(sol.nfev // 12)},
        "repcollapse": ours,
        "ratio_scipy_over_repcollapse_dop853": scipy_time / ours["dop853_grid"]["seconds"],
        "max_abs_end_difference": end_diff,
        "repeats": a.repeats,
    }, indent=1))


if __name__ == "__main__":
    sys.exit(main())
