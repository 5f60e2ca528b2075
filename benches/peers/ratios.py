"""Builds the performance table of one `benches/peers/compare.sh` run from
the files it wrote: criterion's estimates (only those written during this
run), the peers' JSON, the boundary and study timings and the load averages.

    python3 benches/peers/ratios.py target/peers target/criterion

Prints markdown: a header (machine, commit, loads) and one row per workload
with the Rust time, the peer time, the ratio, the target, the load during the
measurement and the command that reproduces the row.
"""
import glob
import json
import os
import re
import sys

N, D = 100_000, 32


def criterion_medians(root, since):
    """Median seconds of every criterion benchmark written after `since`."""
    out = {}
    for bench in glob.glob(os.path.join(root, "**", "new", "benchmark.json"), recursive=True):
        if os.path.getmtime(bench) < since:
            continue
        with open(bench) as f:
            full_id = json.load(f)["full_id"]
        with open(os.path.join(os.path.dirname(bench), "estimates.json")) as f:
            out[full_id] = json.load(f)["median"]["point_estimate"] * 1e-9
    return out


def fmt(sec):
    if sec is None:
        return "(not measured)"
    if sec >= 1.0:
        return f"{sec:.1f} s"
    if sec >= 1e-3:
        return f"{sec * 1e3:.3f} ms"
    if sec >= 1e-6:
        return f"{sec * 1e6:.2f} µs"
    return f"{sec * 1e9:.2f} ns"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else ""


def main():
    res, crit_root = sys.argv[1], sys.argv[2]
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(res, "meta.txt")) if "=" in line)
    rust = criterion_medians(crit_root, os.path.getmtime(os.path.join(res, "start.stamp")))
    load = lambda key: meta.get(key, "?").split()[0] if key in meta else "?"
    peer_gd = json.load(open(os.path.join(res, "peer_gd.json")))
    peer_t = json.load(open(os.path.join(res, "peer_teacher.json")))
    bnd = json.load(open(os.path.join(res, "boundary.json")))
    ode = json.load(open(os.path.join(res, "ode.json")))
    studies = json.load(open(os.path.join(res, "studies.json")))
    per_study = []
    log = os.path.join(res, "studies.log")
    if os.path.exists(log):
        per_study = re.findall(r"study (\S+) done in ([0-9.]+) s", open(log).read())

    g = "gd_step N=100000 d=32 K=10/"
    gd1 = rust.get(g + "gd_step, 1 thread(s)")
    allc = sorted((k for k in rust if k.startswith(g + "gd_step, ") and not k.endswith(", 1 thread(s)")), key=len)
    gdn = rust.get(allc[-1]) if allc else None
    cores = re.search(r"(\d+) thread", allc[-1]).group(1) if allc else "?"
    copy = rust.get(g + "memcpy of x (copy bandwidth, 1 core)")
    nbytes = peer_gd["bytes"]
    copy_gbs = 2 * N * D * 8 / copy / 1e9 if copy else None
    gd_gbs = nbytes / gd1 / 1e9 if gd1 else None
    t_step = rust.get("teacher_sgd_step/sample + SGD step, D = 10000, d = 8, K = 3")
    t_sample = rust.get("teacher_sgd_step/sample only, D = 10000")
    lz = {k.split("/", 1)[1]: v for k, v in rust.items() if k.startswith("lorenz/")}
    l96 = {k.split("/", 1)[1]: v for k, v in rust.items() if k.startswith("lorenz96-50/")}
    cusp_curve = rust.get("boundary/cusp fold curve")
    r_ode = ode["repcollapse"]["dop853_grid"]["seconds"]
    s_ode = ode["scipy_dop853"]["seconds"]

    cmd = "`benches/peers/compare.sh`"
    rows = [
        ("Model E full-batch GD step, N = 1e5, d = 32, K = 10, 1 thread", fmt(gd1) + (f" ({gd_gbs:.2f} GB/s)" if gd_gbs else ""),
         f"{fmt(peer_gd['seconds'])} (numpy + scipy.sparse, {peer_gd['gb_per_s']:.2f} GB/s)", ratio(peer_gd["seconds"], gd1),
         "≥ 70% of copy bandwidth", load("load_gd"), cmd + " (criterion: `cargo bench --bench model_e -- 'gd_step N=100000'`; peer `benches/peers/gd_step.py`)"),
        ("same step vs this machine's copy bandwidth (memcpy of x, 51.2 MB moved, same run)",
         f"{gd_gbs:.2f} GB/s" if gd_gbs else "", f"memcpy {copy_gbs:.2f} GB/s ({fmt(copy)})" if copy_gbs else "",
         f"{gd_gbs / copy_gbs * 100:.0f}% of copy" if gd_gbs and copy_gbs else "", "≥ 70%", load("load_gd"), "same"),
        (f"Model E GD step, {cores} threads (rayon, bit-identical to 1 thread)", fmt(gdn) + (f" ({nbytes / gdn / 1e9:.2f} GB/s)" if gdn else ""),
         f"1 thread: {fmt(gd1)}", f"speed-up {gd1 / gdn:.2f}x" if gd1 and gdn else "", "scales with cores", load("load_gd"), "same"),
        ("Model T sample + SGD step, D = 1e4, d = 8, K = 3", fmt(t_step) + (f" (sampling alone {fmt(t_sample)})" if t_sample else ""),
         f"{fmt(peer_t['seconds'])} (best numpy loop: PCG64 ziggurat, dgemv + dger on C-ordered W, 1 BLAS thread, CPU-time minimum)", ratio(peer_t["seconds"], t_step), "≤ 30 µs",
         load("load_teacher"), cmd + " (criterion: `cargo bench --bench teacher -- teacher_sgd_step`; peer `benches/peers/teacher_sgd.py`)"),
        ("Lorenz RHS: model file (Cranelift JIT) vs hand-written Rust", fmt(lz.get("rhs symbolic")),
         f"hand-written {fmt(lz.get('rhs native'))}; tape interpreter {fmt(lz.get('rhs interpreter'))}",
         f"JIT / native {lz['rhs symbolic'] / lz['rhs native']:.2f}" if "rhs symbolic" in lz and "rhs native" in lz else "", "≤ 1.5",
         load("load_rhs"), cmd + " (criterion: `cargo bench --bench engine -- '^lorenz'`)"),
        ("Lorenz RHS through `&dyn VectorField` (as the integrators call it): model file vs hand-written", fmt(lz.get("rhs symbolic dyn")),
         f"hand-written {fmt(lz.get('rhs native dyn'))}; floor: empty call through a fn pointer {fmt(lz.get('empty fn pointer'))}",
         f"JIT / native {lz['rhs symbolic dyn'] / lz['rhs native dyn']:.2f}" if "rhs symbolic dyn" in lz and "rhs native dyn" in lz else "", "≤ 1.5",
         load("load_rhs"), "same"),
        ("Lorenz-96, 50 states, RHS: model file (JIT) vs hand-written Rust", fmt(l96.get("rhs symbolic")),
         f"hand-written {fmt(l96.get('rhs native'))}; interpreter {fmt(l96.get('rhs interpreter'))}",
         f"JIT / native {l96['rhs symbolic'] / l96['rhs native']:.2f}" if "rhs symbolic" in l96 and "rhs native" in l96 else "", "≤ 2",
         load("load_rhs"), "same"),
        ("`analyze boundary` on the cusp (h in [-1, 1], r in [0.05, 2]; whole CLI run incl. figures)", f"{fmt(bnd['continuation_s'])} (continuation alone, default)",
         f"{fmt(bnd['grid_check_s'])} with `--grid-check` (24 x 24 brute-force grid)", f"grid / default {bnd['grid_check_s'] / bnd['continuation_s']:.1f}",
         "continuation alone by default", load("load_boundary"),
         "`repcollapse analyze examples/models/cusp.toml boundary --param h --from -1 --to 1 --param2 r --from2 0.05 --to2 2 [--grid-check]`, median of runs"
         + (f"; the fold-curve trace alone (criterion `boundary/cusp fold curve`): {fmt(cusp_curve)}" if cusp_curve else "")),
        ("ODE solve: Model E simplex system (4 states), t in [0, 1000], rtol 1e-8, atol 1e-10, 400 output times, DOP853",
         fmt(r_ode), f"{fmt(s_ode)} (scipy {ode.get('scipy_version', '?')} `solve_ivp(method='DOP853')`)", ratio(s_ode, r_ode), "",
         load("load_ode"), f"`python3 benches/peers/scipy_dop853.py --repeats {ode.get('repeats', '?')}` (end states differ by {ode['max_abs_end_difference']:.1e})"),
        (f"`cargo run --release`: all {meta.get('studies_count', '?')} studies in analysis/", f"{studies['wall_s']:.1f} s wall ({studies['user_s']:.1f} s CPU)",
         "", "", "< 60 s on 2 cores", load("load_studies"), "`time target/release/repcollapse run analysis --out DIR` (what `cargo run --release` runs)"),
    ]
    print(f"Machine: {meta.get('machine')}; {meta.get('rustc')}; {meta.get('python')}; commit {meta.get('commit')}; {meta.get('date')}.")
    print(f"Load average (1/5/15 min) at start {meta.get('load_start')}, at the end {meta.get('load_end')}. "
          "The load column is the 1-minute load average when that measurement started.\n")
    print("| workload | Rust | peer / reference | ratio (peer / Rust) | target | load | command |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    if per_study:
        print("Per-study wall times (studies run concurrently, so they overlap): " + ", ".join(f"{n} {float(s):.1f} s" for n, s in per_study))
    for name, p in (("gd_step.py", peer_gd), ("teacher_sgd.py", peer_t)):
        blas = "; ".join(f"{b.get('internal_api')} {b.get('version')} kernel {b.get('architecture')}, {b.get('num_threads')} threads" for b in p["blas"])
        print(f"\nBLAS under the peer {name} (threadpoolctl): {blas}. Environment: {json.dumps(p['env'])}")
    raw = {"meta": meta, "criterion": rust, "peer_gd": peer_gd, "peer_teacher": peer_t, "boundary": bnd, "ode": ode, "studies": studies,
           "per_study": per_study}
    with open(os.path.join(res, "raw.json"), "w") as f:
        json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
