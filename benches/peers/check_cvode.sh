#!/usr/bin/env bash
# CI check of the CVODE peer's set-up (scripts/test): builds
# benches/peers/cvode_peer.c against the system's SUNDIALS and checks that it
# reproduces the reference solution of every problem of the work-precision
# diagrams at rtol 1e-7 (the four stiff ones, Lorenz with Adams and BDF, and
# the Model T head ODE from its generated C right-hand side), within each
# problem's check factor. No timing; about 2 s with the build. .ci/run installs
# libsundials-dev; elsewhere the check says so and stops if it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
cvode=$(benches/peers/build_cvode.sh)
python3 benches/peers/work_precision.py --check "$cvode"
