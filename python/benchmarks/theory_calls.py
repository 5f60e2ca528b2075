"""Cost of calling the library from Python: N calls of
``repcollapse.theory(model)`` against N calls of the same registry entry
point from Rust (benches/theory_calls.rs), measured side by side in one run.

    python python/benchmarks/theory_calls.py [N]      (from the repository root)

Rust and Python are timed alternately, three rounds each, and the best round
of each is compared (the machine is shared, so the minimum is the least
disturbed estimate). The ratio is Python time / Rust time per call.
"""
import subprocess
import sys
import time

import repcollapse as rc

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ROUNDS = 3


def rust_round():
    out = subprocess.run(["cargo", "bench", "-q", "--bench", "theory_calls", "--", str(N)],
                         capture_output=True, text=True, check=True).stdout
    per = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "theory":
            per[parts[1]] = float(parts[5]) / N
    return per


def python_round(model):
    for _ in range(max(1, N // 10)):  # warm-up, as on the Rust side
        rc.theory(model)
    t0 = time.perf_counter()
    for _ in range(N):
        rc.theory(model)
    return (time.perf_counter() - t0) / N


def main():
    models = [m["name"] for m in rc.models()]
    best_rust = {m: float("inf") for m in models}
    best_py = {m: float("inf") for m in models}
    for _ in range(ROUNDS):
        for m, s in rust_round().items():
            best_rust[m] = min(best_rust[m], s)
        for m in models:
            best_py[m] = min(best_py[m], python_round(m))
    print(f"{N} calls of theory(model) with default parameters, best of {ROUNDS} alternating rounds")
    print(f"{'model':<16} {'Rust us/call':>13} {'Python us/call':>15} {'ratio':>7}")
    for m in models:
        print(f"{m:<16} {1e6 * best_rust[m]:13.1f} {1e6 * best_py[m]:15.1f} {best_py[m] / best_rust[m]:7.3f}")


if __name__ == "__main__":
    main()
