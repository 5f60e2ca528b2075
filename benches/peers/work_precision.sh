#!/usr/bin/env bash
# Work-precision diagrams of the stiff problems, repcollapse against CVODE
# and diffsol, in one run on this machine: builds benches/peers/cvode_peer.c
# against the system's SUNDIALS (apt-get install libsundials-dev) and the
# `work_precision` and `diffsol_peer` benches, then runs benches/peers/work_precision.py with the
# project's Python venv (target/python-venv, matplotlib added if missing).
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
venv=${REPCOLLAPSE_VENV:-target/python-venv}
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import matplotlib' 2>/dev/null || "$venv/bin/pip" install -q matplotlib
"$venv/bin/python" benches/peers/work_precision.py "$bench" "$cvode" "$diffsol" | tee target/peers/work_precision.md
