#!/usr/bin/env bash
# The SSL epoch-time row: one training epoch of the default SSL network
# (bundled digits, every training image, batch 128, MLP encoder of width 64,
# d = 16, linear projector and predictor, SimSiam, cosine loss, SGD with
# momentum and weight decay), repcollapse against PyTorch (CPU, float64,
# autograd + torch.optim.SGD) on 1 and 2 threads, from one run.
#
# Rust: `simulate ssl --set dump=...` times one epoch of steps (best of
# three; one seed's step is single-threaded, so its 2-thread time is its
# 1-thread time: a second thread serves a second seed). PyTorch:
# benches/peers/ssl_torch.py replays the dump (the 20-step loss check) and
# times an epoch of the same number of steps and batch shape with
# torch.set_num_threads(1) and (2), best of three.
#
#   PY=/path/to/python-with-torch benches/peers/ssl_epoch.sh [--set key=value ...]
#
# PyTorch is not a dependency of the repository: install it in a throwaway
# venv (docs/ssl.md, "Cross-check against PyTorch"). Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PY:-python3}
mkdir -p target/peers
cargo build --release -q
dump=target/peers/ssl_epoch_dump.json
load() { cut -d' ' -f1-3 /proc/loadavg; }
l_rust=$(load)
target/release/repcollapse simulate ssl --set variant=simsiam --set seeds=1 --set epochs=1 --set dump="$PWD/$dump" "$@" --json > /dev/null
l_torch=$(load)
row=$("$py" benches/peers/ssl_torch.py "$dump" | tail -1)
"$py" - "$row" "$l_rust" "$l_torch" <<'PY' | tee target/peers/ssl_epoch.md
import json, subprocess, sys
r = json.loads(sys.argv[1])
machine = subprocess.run("lscpu | sed -n 's/^Model name: *//p'", shell=True, capture_output=True, text=True).stdout.strip()
ours, t1, t2 = r["rust_epoch_seconds"], r["torch_epoch_seconds_1_threads"], r["torch_epoch_seconds_2_threads"]
print(f"machine: {machine}; load (1/5/15 min) {sys.argv[2]} (Rust), {sys.argv[3]} (torch); wall time per epoch, best of 3")
print(f"loss trajectory agrees: {r['agrees']} (max relative difference {r['max_rel_loss_diff']:.1e} over {r['steps']} steps)")
print(f"repcollapse {ours * 1e3:.1f} ms | torch 1 thread {t1 * 1e3:.1f} ms (ratio {ours / t1:.3f}) | torch 2 threads {t2 * 1e3:.1f} ms (ratio {ours / t2:.3f})")
PY
