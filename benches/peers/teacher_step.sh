#!/usr/bin/env bash
# The teacher-step row (Model T online SGD, D = 1e4, d = 8, K = 3) from one
# run: the Rust production path (`simulate_online`) and the bare step loop
# (benches/teacher_production.rs), then the numpy loops
# (benches/peers/teacher_sgd.py: compare.sh's old loop with OpenBLAS
# threads, the same on one thread, and the best loop), with the load before
# each side. Raw JSON to target/peers/teacher_step.json, the row (markdown)
# on stdout. Needs numpy, scipy and threadpoolctl (target/python-venv is
# used when present). Not run in CI.
#
#   benches/peers/teacher_step.sh [REPEATS] [T_MAX]
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-5}; t_max=${2:-2}
py=python3; [[ -x target/python-venv/bin/python ]] && py=target/python-venv/bin/python
mkdir -p target/peers
load() { cut -d' ' -f1-3 /proc/loadavg; }
cargo bench --no-run -q --bench teacher_production 2>/dev/null
l_rust=$(load)
rust=$(cargo bench -q --bench teacher_production -- "$reps" "$t_max" 2>/dev/null)
l_py=$(load)
# numpy's default OpenBLAS kernel selection: the overrides are removed here only.
peer=$(cd benches/peers && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$OLDPWD/$py" teacher_sgd.py)
"$py" - "$rust" "$peer" "$l_rust" "$l_py" <<'PY' | tee target/peers/teacher_step.md
import json, subprocess, sys
rust = [json.loads(l) for l in sys.argv[1].splitlines() if l.startswith("{")]
peer = json.loads(sys.argv[2])
json.dump({"rust": rust, "numpy": peer, "load_rust": sys.argv[3], "load_numpy": sys.argv[4]},
          open("target/peers/teacher_step.json", "w"), indent=1)
machine = subprocess.run("lscpu | sed -n 's/^Model name: *//p'", shell=True, capture_output=True, text=True).stdout.strip()
print(f"machine: {machine}, load (1/5/15 min) {sys.argv[3]} (Rust), {sys.argv[4]} (numpy); CPU time per step, minimum over repeats")
print()
print("| Rust way | us/step (CPU min) | numpy loop | us/step (CPU min) | numpy / Rust |")
print("|---|---|---|---|---|")
for r in rust:
    for name, v in peer["variants"].items():
        print(f"| {r['way']} | {r['cpu_us_min']:.1f} | {name} | {v['cpu_us_min']:.1f} | {v['cpu_us_min'] / r['cpu_us_min']:.1f} |")
PY
