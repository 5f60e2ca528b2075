#!/usr/bin/env bash
# Work-precision diagrams, repcollapse against CVODE, diffsol, ode_solvers
# and scipy, in one run on this machine: builds benches/peers/cvode_peer.c
# against the system's SUNDIALS (apt-get install libsundials-dev) and the
# `work_precision`, `diffsol_peer` and `dop853_peer` benches, then runs
# benches/peers/work_precision.py with the project's Python venv
# (target/python-venv, matplotlib and scipy added if missing).
#
#   benches/peers/work_precision.sh              the figures and the table (quiet machine)
#   benches/peers/work_precision.sh --quick      rtol 1e-4, 1e-6, 1e-8, one repeat: checks
#                                                the pipeline; figures to target/peers/
#   ... [--quick] lorenz teacher-head            only these problems
#
# Figures go to docs/figures/work-precision-*.svg, every row to
# target/peers/work_precision.json, the ratio table (markdown) to stdout and
# target/peers/work_precision.md. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
cvode=$(benches/peers/build_cvode.sh)
bench_exe() { # path of the executable of bench $1
  cargo bench --no-run -q --bench "$1" --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1"
}
bench=$(bench_exe work_precision)
diffsol=$(bench_exe diffsol_peer)
ode_solvers=$(bench_exe dop853_peer)
venv=${REPCOLLAPSE_VENV:-target/python-venv}
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import matplotlib, scipy' 2>/dev/null || "$venv/bin/pip" install -q matplotlib scipy
quick=()
if [[ ${1:-} == --quick ]]; then quick=(--quick); shift; fi
"$venv/bin/python" benches/peers/work_precision.py "${quick[@]}" "$bench" "$cvode" "$diffsol" "$ode_solvers" "$@" \
  | tee target/peers/work_precision.md
