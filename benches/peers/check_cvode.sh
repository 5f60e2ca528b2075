#!/usr/bin/env bash
# CI check of the CVODE peer's set-up (scripts/test): builds
# benches/peers/cvode_peer.c against the system's SUNDIALS and checks that it
# reproduces the reference solution of every stiff problem of the
# work-precision diagrams at rtol 1e-7. No timing. .ci/run installs
# libsundials-dev; elsewhere the check says so and stops if it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
cvode=$(benches/peers/build_cvode.sh)
python3 benches/peers/work_precision.py --check "$cvode"
