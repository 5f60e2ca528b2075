#!/usr/bin/env bash
# Side-by-side: runs the Rust criterion benchmarks and their numpy/scipy
# peers in one go on this machine and prints the ratios (peer / Rust).
# Not run in CI. Usage: benches/peers/compare.sh [--quick]
#   --quick: shorter criterion measurement (noisier).
# Needs python3 with numpy, scipy and threadpoolctl.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=benches/peers
mt=5; [[ "${1:-}" == "--quick" ]] && mt=2
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc: $(rustc --version)"
cargo bench --bench model_e -- "gd_step N=100000" --noplot --warm-up-time 1 --measurement-time "$mt" >/tmp/compare_model_e.txt 2>&1
cargo bench --bench teacher -- "teacher_sgd_step" --noplot --warm-up-time 1 --measurement-time "$mt" >/tmp/compare_teacher.txt 2>&1
# numpy: default OpenBLAS kernel selection (unset the overrides in this command only).
gd=$(cd "$here" && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 gd_step.py)
ts=$(cd "$here" && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 teacher_sgd.py)
echo "peer load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/ratios.py" target/criterion "$gd" "$ts"
