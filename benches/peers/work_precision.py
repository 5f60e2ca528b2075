#!/usr/bin/env python3
"""Work-precision diagrams: repcollapse (`auto`, `radau5`, `dop853`, through
`cargo bench --bench work_precision`) against CVODE (SUNDIALS: BDF with the
dense direct solver and the analytic Jacobian, and on Lorenz also Adams with
fixed-point iteration; benches/peers/cvode_peer.c), diffsol (its BDF,
ESDIRK34 and TR-BDF2 with nalgebra's dense LU and the same Jacobian, and
Tsit45 on Lorenz; `cargo bench --bench diffsol_peer`), and on the non-stiff
side ode_solvers' Dop853 (`cargo bench --bench dop853_peer`) and scipy's
solve_ivp DOP853 (in this process), all timed in-process, in one run on one
machine. Problems: the four stiff problems of Hairer & Wanner, Lorenz to
t = 10 and the Model T head ODE to t = 2000 (benches/peers/teacher-head.toml).
Not run in CI.

    benches/peers/work_precision.sh        (builds all sides, then runs this)
    python3 benches/peers/work_precision.py --check CVODE_BINARY
    python3 benches/peers/work_precision.py [--quick] BENCH CVODE DIFFSOL ODE_SOLVERS

`--check` (run by scripts/test through benches/peers/check_cvode.sh) only
solves each problem with CVODE at rtol 1e-7 and fails unless every end state
reproduces the reference; it needs no matplotlib. repcollapse's side of the
same check is tests/engine/stiff.rs, diffsol's tests/engine/diffsol_peer.rs,
ode_solvers' tests/engine/dop853_peer.rs. `--quick` runs rtol 1e-4, 1e-6,
1e-8 with one timed repeat: it proves the pipeline end to end, its times
are not the figures'.

For each problem and each rtol in 1e-3, 1e-4, ..., 1e-10 (atol = rtol * s,
with the floor s of the problem's table below) every method solves to the
end point once untimed; that end state is checked against the reference
solution, and only then are the timed solves (median of >= 3) used. The
error of a run is the relative error at the end point, floored at s:

    err = max_i |y_i - ref_i| / (|ref_i| + s),

the norm the tolerances ask the solvers to control (a component far below
s is only held to the absolute error rtol * s). A run "reproduces the
reference to its tolerance" when err <= check_factor * rtol (100 on the
stiff problems, Lorenz's error growth e^(0.906 t) on Lorenz); rows that miss
are kept in the figures (marked) but left out of the ratio table.

Time is the median process CPU time of one solve (clock_gettime(
CLOCK_PROCESS_CPUTIME_ID) on both sides; the wall-clock medians are kept in
the JSON): on this machine, shared with other jobs, a long solve is
preempted more often than a short one, which would bias wall-clock ratios
in favour of the faster side.

Writes docs/figures/work-precision-<problem>.svg (error against time,
log-log, one line per method), target/peers/work_precision.json (every
row), and prints the ratio table (markdown, `table` below): at rtol 1e-4,
1e-6, 1e-8, repcollapse's best method's CPU time over the peer's CPU time at
the same achieved error, the peer's time read off its work-precision curve
(the lower envelope of its methods) by log-log interpolation.
"""
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RTOLS = [10.0 ** -k for k in range(3, 11)]
TABLE_RTOLS = [1e-4, 1e-6, 1e-8]
# Global errors of stiff problems exceed the local tolerance by the error
# propagation of the problem (VDPOL's jumps amplify phase errors); a run
# within 100 rtol of the reference has solved the problem asked.
CHECK_FACTOR = 100.0

# name: model file (examples/models/ unless a path), end time, floor s
# (atol = s * rtol), reference at the end time and where it comes from, and
# the peer runs: CVODE's methods, diffsol's methods, whether ode_solvers and
# scipy (DOP853, explicit) run.
STIFF_PEERS = {"cvode": ["bdf"], "diffsol": "bdf,esdirk34,tr_bdf2", "explicit_peers": False}
PROBLEMS = {
    "robertson": {
        "file": "robertson.toml",
        "t_end": 4e10,
        # y1 ~ 5e-8 at the end is measured relatively; y2 ~ 2e-13, in
        # quasi-steady state with y1, only absolutely.
        "floor": 1e-10,
        # No published value at 4e10 (the Test Set's ROBER ends at 1e11):
        # radau5 and auto at rtol 1e-13 (atol 1e-21) agree to 3e-14 relative
        # in y1 and y2, CVODE at rtol 1e-13 agrees to 2e-11; y3 = 1 - y1 - y2
        # (the conservation law, exact; the integrators' y3 drifts by 2e-13).
        "reference": [5.2083451767982e-08, 2.0833381779251e-13, None],
        "source": "radau5 at rtol 1e-13, cross-checked with CVODE (this repository, benches/peers/work_precision.py)",
        **STIFF_PEERS,
    },
    "van-der-pol-scaled": {
        "file": "van-der-pol-scaled.toml",
        "t_end": 2.0,
        "floor": 1e-6,
        "reference": [0.1706167732170483e1, -0.8928097010247975e0],
        "source": "Test Set for IVP Solvers (Mazzia, Iavernaro, Magherini), problem VDPOL",
        **STIFF_PEERS,
    },
    "hires": {
        "file": "hires.toml",
        "t_end": 321.8122,
        "floor": 1e-6,
        "reference": [0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2,
                      0.2386356198831331e-2, 0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2],
        "source": "Test Set for IVP Solvers (Mazzia, Iavernaro, Magherini), problem HIRES",
        **STIFF_PEERS,
    },
    "oregonator": {
        "file": "oregonator.toml",
        "t_end": 360.0,
        "floor": 1e-6,
        "reference": [0.1000814870318523e1, 0.1228178521549917e4, 0.1320554942846706e3],
        "source": "Test Set for IVP Solvers (Mazzia, Iavernaro, Magherini), problem OREGO",
        **STIFF_PEERS,
    },
    "lorenz": {
        "file": "lorenz.toml",
        # Not 100: errors grow like e^(0.906 t) (largest Lyapunov exponent
        # 0.906), 7e7 at t = 20 and e^91 at t = 100, where a run at rtol 1e-4
        # lands anywhere on the attractor. At t = 10 (growth 8.6e3) the runs
        # at rtol 1e-3 are still within ~0.1 of the reference and those at
        # 1e-10 (~7e-9) far above its error (docs/work-precision.md, "Lorenz").
        "t_end": 10.0,
        "floor": 1.0,  # |x|, |y| pass through 0: atol = rtol
        "check_factor": 8.6e3,
        "reference": [-4.90268754113464813, -3.7438729218029188727, 24.690858102790562894],
        "source": "Taylor series in mpmath at 50 and 60 digits (benches/peers/lorenz_reference.py; the two agree to 1e-48)",
        "cvode": ["adams", "bdf"],
        "diffsol": "tsit45,bdf",
        "explicit_peers": True,
    },
    "teacher-head": {
        "file": "benches/peers/teacher-head.toml",
        "t_end": 2000.0,
        "floor": 1e-6,
        # Not 100: the orbit turns about three times round the stable cycle
        # (period ~650), whose phase error only accumulates. Two independent
        # BDF codes (CVODE, diffsol) land at 150-900 rtol at every rtol from
        # 1e-5 to 1e-10 (so both solve this file; a wrong set-up is O(1) off),
        # while radau5 stays within a few rtol.
        "check_factor": 1e3,
        # radau5 at rtol 1e-14 (atol 1e-20); radau5 at 1e-13 agrees to 1.2e-11
        # and CVODE's BDF at rtol 1e-14 to 6.4e-11 in the norm below.
        "reference": [5.744384088871454, 4.453345270010046, 4.54902501391263, 1.2812285361671991, 2.445829228615692,
                      8.648638808901408, -0.003102251389793169, 0.00014044233169663756, -0.006026770911734662,
                      6.716594699610547, -0.0010114005793156302, 6.843473016167257, 1.9257623552383345,
                      3.6792986569727146, 1.9545641178144009, -0.012081345494149787, 0.3497877238419105,
                      1.2047115365396726, 0.06536687115486003, 0.16360053765679292, 0.8279092847273664,
                      0.005472993653647259, 0.2793617487057161, 0.0021098643317448876, 0.8175614350035569,
                      0.08391533466363199, -0.00010249766244057023, 0.00099703843026266, 0.9795549405690172],
        "source": "radau5 at rtol 1e-14, cross-checked with radau5 at 1e-13 (1.2e-11) and CVODE BDF at 1e-14 (6.4e-11)",
        # Stiff (dop853 stops on stiffness at t ~ 818): CVODE BDF with its
        # difference-quotient Jacobian (the C right-hand side is generated
        # from the model file by benches/peers/model_file.py); diffsol with
        # the model file's JIT right-hand side and symbolic Jacobian; the
        # explicit peers are run too, and stop on stiffness or the budget.
        "cvode": ["bdf"],
        "diffsol": "bdf,esdirk34,tr_bdf2",
        "explicit_peers": True,
    },
}
PROBLEMS["robertson"]["reference"][2] = 1.0 - PROBLEMS["robertson"]["reference"][0] - PROBLEMS["robertson"]["reference"][1]

STYLE = {
    "auto": ("repcollapse auto", "C0", "o"),
    "radau5": ("repcollapse radau5", "C1", "s"),
    "dop853": ("repcollapse dop853", "C2", "^"),
    "cvode_bdf": ("CVODE BDF (SUNDIALS)", "C3", "D"),
    "diffsol_bdf": ("diffsol BDF", "C4", "v"),
    "diffsol_esdirk34": ("diffsol ESDIRK34", "C5", "<"),
    "diffsol_tr_bdf2": ("diffsol TR-BDF2", "C6", ">"),
    "cvode_adams": ("CVODE Adams (SUNDIALS)", "C7", "P"),
    "diffsol_tsit45": ("diffsol Tsit45", "C8", "X"),
    "ode_solvers_dop853": ("ode_solvers Dop853", "C9", "*"),
    "scipy_dop853": ("scipy DOP853", "k", "h"),
}
OURS = ("auto", "radau5", "dop853")
# The peers of the ratio table, each a work-precision curve: the lower
# envelope of its methods' runs that reproduce the reference.
PEERS = {"CVODE": ("cvode_bdf", "cvode_adams"), "diffsol": ("diffsol_bdf", "diffsol_esdirk34", "diffsol_tr_bdf2", "diffsol_tsit45"),
         "ode_solvers": ("ode_solvers_dop853",), "scipy": ("scipy_dop853",)}


def check_factor(pb):
    return pb.get("check_factor", CHECK_FACTOR)


def model_path(pb):
    return os.path.join(ROOT, pb["file"]) if "/" in pb["file"] else os.path.join(ROOT, "examples", "models", pb["file"])


def end_error(end, ref, floor):
    return max(abs(y - r) / (abs(r) + floor) for y, r in zip(end, ref))


def run_rows(cmd):
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def scipy_rows(pb, rtols, max_repeats, budget):
    """scipy.integrate.solve_ivp(method="DOP853") on the model file's
    right-hand side (benches/peers/model_file.py), end point only, timed in
    this process as the other sides are (median process CPU time). A solve
    past `budget` CPU seconds stops (the right-hand side raises) and tighter
    tolerances are not tried."""
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    import time

    from scipy.integrate import solve_ivp

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from model_file import python_rhs

    f, y0 = python_rhs(model_path(pb))

    class Budget(Exception):
        pass

    def solve(rtol, atol, deadline):
        def g(t, y):
            if time.process_time() > deadline:
                raise Budget()
            return f(t, y)

        sol = solve_ivp(g, (0.0, pb["t_end"]), y0, method="DOP853", rtol=rtol, atol=atol, t_eval=[pb["t_end"]])
        if sol.status != 0:
            raise RuntimeError(sol.message)
        return [float(v) for v in sol.y[:, -1]], int(sol.nfev)

    rows = []
    for rtol in rtols:
        atol = rtol * pb["floor"]
        row = {"method": "scipy_dop853", "rtol": rtol, "atol": atol}
        try:
            end, nfev = solve(rtol, atol, time.process_time() + budget)
        except Budget:
            row["error"] = f"budget of {budget} s CPU exceeded"
            rows.append(row)
            break
        except RuntimeError as e:
            row["error"] = str(e)
            rows.append(row)
            break
        secs, cpu = [], []
        while len(secs) < max(3, max_repeats) and (len(secs) < 3 or sum(secs) < 0.5):
            c0, t0 = time.process_time(), time.perf_counter()
            solve(rtol, atol, math.inf)
            secs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        row.update({"seconds": sorted(secs)[len(secs) // 2], "cpu_seconds": sorted(cpu)[len(cpu) // 2],
                    "repeats": len(secs), "rhs": nfev, "end": end})
        rows.append(row)
    return rows


def loglog_interp(x, xs, ys):
    """Time at error x on a work-precision curve (points (error, time)),
    interpolated in log-log between the bracketing points, with a flag: ""
    inside the curve; when x is looser than every point, the cheapest point
    (more accurate than asked) bounds the curve's time at x from above,
    flag "<="; when x is tighter than every point, the most expensive point
    bounds it from below, flag ">=". None for an empty curve."""
    pts = sorted(zip(xs, ys))
    if not pts:
        return None
    if x >= pts[-1][0]:
        return min(y for _, y in pts), "<="
    if x < pts[0][0]:
        return max(y for _, y in pts), ">="
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            if x1 == x0:
                return min(y0, y1), ""
            w = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return math.exp(math.log(y0) + w * (math.log(y1) - math.log(y0))), ""
    return None


def check(cvode):
    """CVODE's set-up: each problem at rtol 1e-7 reproduces its reference,
    with every CVODE method the diagrams use on it. (At rtol 1e-6 CVODE's
    BDF misses the Oregonator's reference by 235 rtol, a property of the
    method shown in the diagram, not of the set-up; at 1e-7 every problem is
    within its check factor.)"""
    failed = 0
    for name, pb in PROBLEMS.items():
        rtol = 1e-7
        for method in pb["cvode"]:
            (row,) = run_rows([cvode, name, repr(rtol), repr(rtol * pb["floor"]), "3", method])
            err = end_error(row["end"], pb["reference"], pb["floor"]) if "end" in row else math.inf
            limit = check_factor(pb) * rtol
            ok = err <= limit
            failed += not ok
            print(f"{name}: CVODE {method} rtol {rtol:g}: error {err:.2e} ({'ok' if ok else 'FAILS'}, limit {limit:g})"
                  + ("" if "end" in row else f": {row.get('error')}"))
    return 1 if failed else 0


def main():
    if sys.argv[1] == "--check":
        return check(sys.argv[2])
    quick = sys.argv[1] == "--quick"
    args = sys.argv[2:] if quick else sys.argv[1:]
    bench, cvode, diffsol, ode_solvers = args[:4]
    only = args[4:]  # problem names (default: all)
    rtols = TABLE_RTOLS if quick else RTOLS
    max_repeats = 1 if quick else 50
    budget = 10 if quick else 30
    results = {}
    for name, pb in PROBLEMS.items():
        if only and name not in only:
            continue
        print(f"[work_precision] {name}", file=sys.stderr)
        model = model_path(pb)
        t_end, floor = repr(pb["t_end"]), repr(pb["floor"])
        rows = run_rows([bench, model, t_end, floor, str(max_repeats), str(budget)] + [repr(r) for r in rtols])
        for method in pb["cvode"]:
            for rtol in rtols:
                rows += run_rows([cvode, name, repr(rtol), repr(rtol * pb["floor"]), str(max_repeats), method])
        problem = name if "/" not in pb["file"] else f"{model}@{t_end}"
        rows += run_rows([diffsol, problem, pb["diffsol"], floor, str(max_repeats), str(budget)] + [repr(r) for r in rtols])
        if pb["explicit_peers"]:
            rows += run_rows([ode_solvers, model, t_end, floor, str(max_repeats)] + [repr(r) for r in rtols])
            rows += scipy_rows(pb, rtols, max_repeats, budget)
        for r in rows:
            if "end" in r:
                r["err"] = end_error(r["end"], pb["reference"], pb["floor"])
                r["reproduces"] = r["err"] <= check_factor(pb) * r["rtol"]
        results[name] = {"t_end": pb["t_end"], "floor": pb["floor"], "reference": pb["reference"],
                         "source": pb["source"], "check_factor": check_factor(pb), "rows": rows}
        plot(name, pb, rows, quick)
    meta = {
        "machine": subprocess.run("lscpu | sed -n 's/^Model name: *//p'", shell=True, capture_output=True,
                                  text=True).stdout.strip(),
        "cores": os.cpu_count(),
        "load": open("/proc/loadavg").read().split()[:3],
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "quick": quick,
    }
    os.makedirs(os.path.join(ROOT, "target", "peers"), exist_ok=True)
    with open(os.path.join(ROOT, "target", "peers", "work_precision.json"), "w") as f:
        json.dump({"meta": meta, "problems": results}, f, indent=1)
    print(table(results, meta))


def plot(name, pb, rows, quick):
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for method, (label, color, marker) in STYLE.items():
        ok = [r for r in rows if r["method"] == method and "seconds" in r]
        failed = [r for r in rows if r["method"] == method and "error" in r]
        if not ok:
            if failed:
                ax.plot([], [], color=color, marker=marker, ls="none", label=f"{label}: fails ({failed[0]['error'][:40]})")
            continue
        ok.sort(key=lambda r: -r["rtol"])
        stop = f" (fails from rtol {failed[0]['rtol']:.0e})" if failed else ""
        ax.plot([r["err"] for r in ok], [r["cpu_seconds"] for r in ok], color=color, marker=marker, label=label + stop)
        bad = [r for r in ok if not r["reproduces"]]
        if bad:
            ax.plot([r["err"] for r in bad], [r["cpu_seconds"] for r in bad], color=color, marker="x", ms=11, ls="none")
    if any(not r["reproduces"] for r in rows if "err" in r):
        ax.plot([], [], color="k", marker="x", ms=11, ls="none",
                label=f"misses the reference by > {check_factor(pb):g} rtol")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("error at the end point (max relative, floored at %g)" % pb["floor"])
    ax.set_ylabel("CPU time per solve (s, median)")
    span = "rtol 1e-4, 1e-6, 1e-8 (--quick)" if quick else "rtol 1e-3 ... 1e-10"
    ax.set_title(f"{name}, t = {pb['t_end']:g}: {span}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    folder = os.path.join(ROOT, "target", "peers") if quick else os.path.join(ROOT, "docs", "figures")
    fig.savefig(os.path.join(folder, f"work-precision-{name}.svg"), metadata={"Date": None})
    plt.close(fig)


def table(results, meta):
    """For each problem, rtol of TABLE_RTOLS and peer: repcollapse's runs at
    that rtol (auto, radau5, dop853; those that stopped are out), each
    compared with the peer's curve at the error it achieved: the peer's
    time there, read off the lower envelope of the peer's methods (every
    completed run, at the error it achieved, as in the figures; runs beyond
    the check factor are marked there) by log-log interpolation. The row
    shows repcollapse's best method (the smallest ratio), its error and CPU
    time, the peer's interpolated time and the ratio repcollapse / peer
    (< 1: repcollapse is faster at equal error). `<=`/`>=` mark errors
    outside the peer's curve, where the peer's nearest end point bounds its
    time (see loglog_interp); the ratio is then bounded the other way."""
    lines = [
        f"machine: {meta['machine']} ({meta['cores']} cores), load {' '.join(meta['load'])}, commit {meta['commit']}"
        + (" (--quick: one repeat, not for quoting)" if meta.get("quick") else ""),
        "",
        "| problem | rtol | repcollapse best (method: error, CPU s) | peer | peer CPU s at that error (method) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    flip = {"<=": ">=", ">=": "<=", "": ""}
    for name, res in results.items():
        rows = res["rows"]
        for rtol in TABLE_RTOLS:
            ours = [r for r in rows if r["method"] in OURS and r["rtol"] == rtol and "err" in r]
            for peer, methods in PEERS.items():
                curves = {m: [r for r in rows if r["method"] == m and "err" in r] for m in methods}
                curves = {m: c for m, c in curves.items() if c}
                tried = [r for r in rows if r["method"] in methods]
                if not tried:
                    continue
                if not curves:
                    why = "; ".join(sorted({r.get("error", "misses the reference")[:60] for r in tried}))
                    lines.append(f"| {name} | {rtol:.0e} | | {peer} | no run completes ({why}) | |")
                    continue
                if not ours:
                    lines.append(f"| {name} | {rtol:.0e} | no repcollapse run completes | {peer} | | |")
                    continue
                best = None
                for o in ours:
                    # The peer's envelope at o's error: the fastest method there.
                    at = [(m, loglog_interp(o["err"], [r["err"] for r in c], [r["cpu_seconds"] for r in c]))
                          for m, c in curves.items()]
                    m, (t, flag) = min(((m, v) for m, v in at if v is not None), key=lambda x: x[1][0])
                    ratio = o["cpu_seconds"] / t
                    if best is None or ratio < best[0]:
                        best = (ratio, o, m, t, flag)
                ratio, o, m, t, flag = best
                miss = "" if o["reproduces"] else f" (> {res['check_factor']:g} rtol)"
                lines.append(f"| {name} | {rtol:.0e} | {o['method']}: {o['err']:.1e}{miss}, {o['cpu_seconds']:.2e} | {peer} | "
                             f"{flag}{t:.2e} ({m}) | {flip[flag]}{ratio:.3g} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
