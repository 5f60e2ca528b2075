#!/usr/bin/env bash
# Work-precision diagrams of the stiff problems, repcollapse against CVODE,
# in one run on this machine: builds benches/peers/cvode_peer.c against the
# system's SUNDIALS (apt-get install libsundials-dev) and the
# `work_precision` bench, then runs benches/peers/work_precision.py with the
# project's Python venv (target/python-venv, matplotlib added if missing).
# Figures go to docs/figures/work-precision-*.svg, every row to
# target/peers/work_precision.json, the ratio table (markdown) to stdout and
# target/peers/work_precision.md. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
cvode=$(benches/peers/build_cvode.sh)
bench=$(cargo bench --no-run -q --bench work_precision --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "work_precision" and m.get("executable"):
        print(m["executable"])')
venv=${REPCOLLAPSE_VENV:-target/python-venv}
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import matplotlib' 2>/dev/null || "$venv/bin/pip" install -q matplotlib
"$venv/bin/python" benches/peers/work_precision.py "$bench" "$cvode" | tee target/peers/work_precision.md
