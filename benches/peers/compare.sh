#!/usr/bin/env bash
# One run that measures every row of the performance table in docs/benchmarks.md, Rust
# and its peer side by side on this machine, and prints the table (markdown)
# on stdout; the same table and the raw numbers are written to
# target/peers/table.md and target/peers/raw.json. Not run in CI.
#
#   benches/peers/compare.sh [--quick] > table.txt
#
#   --quick: shorter criterion measurements and fewer peer repeats (noisier).
#
# Rows: Model E GD step (1 thread and all cores) against numpy/scipy.sparse
# and against this machine's copy bandwidth measured in the same run; Model T
# sample + SGD step against numpy; the Lorenz and 50-state Lorenz-96 model-file
# right-hand sides (Cranelift JIT) against hand-written Rust; `analyze
# boundary` on the cusp (continuation alone, and with the old grid check);
# the Model E simplex ODE solve against scipy's solve_ivp DOP853; and
# `cargo run --release` (every study in analysis/) wall time.
# Needs python3 with numpy, scipy and threadpoolctl. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=benches/peers
res=target/peers
mkdir -p "$res"
# Criterion estimates older than this stamp are not from this run.
touch "$res/start.stamp"
mt=5; reps=30; bnd=20
if [[ "${1:-}" == "--quick" ]]; then mt=2; reps=10; bnd=5; fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
say() { echo "[compare $(date +%H:%M:%S), load $(load)] $*" >&2; }
# numpy's default OpenBLAS kernel selection: the overrides are removed in the
# peers' commands only.
py() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$@"; }

{
  echo "machine=$(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores, L2 $(lscpu | sed -n 's/^L2 cache: *//p'), L3 $(lscpu | sed -n 's/^L3 cache: *//p'))"
  echo "rustc=$(rustc --version)"
  echo "python=$(python3 --version 2>&1)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty')"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "load_start=$(load)"
} >"$res/meta.txt"

say "building (release binary and benches; not timed)"
cargo build --release -q
cargo bench --no-run -q --bench model_e --bench teacher --bench engine --bench integrator_peer >/dev/null 2>&1

crit() { cargo bench -q --bench "$1" -- "$2" --noplot --warm-up-time 1 --measurement-time "$mt" >"$res/criterion_$1.txt" 2>&1; }
say "Rust: Model E GD step and copy bandwidth"
echo "load_gd=$(load)" >>"$res/meta.txt"
crit model_e "gd_step N=100000"
say "Rust: Model T SGD step"
echo "load_teacher=$(load)" >>"$res/meta.txt"
crit teacher "teacher_sgd_step"
say "Rust: model-file right-hand sides (JIT vs hand-written)"
echo "load_rhs=$(load)" >>"$res/meta.txt"
crit engine "^lorenz"
say "Rust: boundary trace"
crit engine "boundary/cusp"

say "numpy peers"
echo "load_numpy=$(load)" >>"$res/meta.txt"
(cd "$here" && py gd_step.py) >"$res/peer_gd.json"
(cd "$here" && py teacher_sgd.py) >"$res/peer_teacher.json"

say "analyze boundary on the cusp, $bnd runs each"
echo "load_boundary=$(load)" >>"$res/meta.txt"
cusp=(target/release/repcollapse analyze examples/models/cusp.toml boundary --param h --from -1 --to 1 --param2 r --from2 0.05 --to2 2 --json)
time_cmd() { # median wall seconds of $1 runs of the rest
  local n=$1; shift
  python3 - "$n" "$@" <<'EOF'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
ts = []
for _ in range(n):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ts.append(time.perf_counter() - t0)
ts.sort()
print(ts[len(ts) // 2])
EOF
}
bdir=$(mktemp -d)
b_plain=$(time_cmd "$bnd" "${cusp[@]}" --out "$bdir/plain")
b_grid=$(time_cmd "$bnd" "${cusp[@]}" --grid-check --out "$bdir/grid")
rm -rf "$bdir"
echo "{\"continuation_s\": $b_plain, \"grid_check_s\": $b_grid}" >"$res/boundary.json"

say "ODE solve against scipy solve_ivp DOP853 ($reps repeats)"
echo "load_ode=$(load)" >>"$res/meta.txt"
py "$here/scipy_dop853.py" --repeats "$reps" >"$res/ode.json"

say "all studies (target/release/repcollapse run analysis, = cargo run --release into a scratch folder)"
echo "load_studies=$(load)" >>"$res/meta.txt"
sdir=$(mktemp -d)
/usr/bin/time -f '{"wall_s": %e, "user_s": %U, "sys_s": %S}' -o "$res/studies.json" \
  target/release/repcollapse run analysis --out "$sdir" 2>"$res/studies.log" >/dev/null
echo "studies_count=$(ls -d "$sdir"/*/ | wc -l)" >>"$res/meta.txt"
rm -rf "$sdir"
echo "load_end=$(load)" >>"$res/meta.txt"

python3 "$here/ratios.py" "$res" target/criterion | tee "$res/table.md"
say "table written to $res/table.md"
