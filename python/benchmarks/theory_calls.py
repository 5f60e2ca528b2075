"""Cost of calling the library from Python: N calls of
``repcollapse.theory(model)`` against N calls of the same registry entry
point from Rust (benches/theory_calls.rs), measured side by side in one run.

    python python/benchmarks/theory_calls.py [N] [MODEL[=N]...]   (from the repository root)

Default: 1000 calls per model, except teacher-student (its theory integrates
the order-parameter ODE and takes about a second a call), which gets 5.

Rust and Python are timed alternately, three rounds each, and the best round
of each is compared (the machine is shared, so the minimum is the least
disturbed estimate). The ratio is Python time / Rust time per call.
"""
import subprocess
import sys
import time

import repcollapse as rc

N = int(sys.argv[1]) if len(sys.argv) > 1 and "=" not in sys.argv[1] and sys.argv[1].isdigit() else 1000
COUNTS = {m["name"]: N for m in rc.models()}
COUNTS["teacher-student"] = min(N, 5)
picked = [a for a in sys.argv[1:] if not a.isdigit()]
if picked:
    COUNTS = {a.split("=")[0]: int(a.split("=")[1]) if "=" in a else N for a in picked}
ROUNDS = 3


def rust_round(model, n):
    out = subprocess.run(["cargo", "bench", "-q", "--bench", "theory_calls", "--", str(n), model],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts[:2] == ["theory", model]:
            return float(parts[4]) / n
    raise RuntimeError(f"no timing for {model} in: {out}")


def python_round(model, n):
    for _ in range(max(1, n // 10)):  # warm-up, as on the Rust side
        rc.theory(model)
    t0 = time.perf_counter()
    for _ in range(n):
        rc.theory(model)
    return (time.perf_counter() - t0) / n


def main():
    print(f"theory(model) with default parameters, best of {ROUNDS} alternating rounds (Rust, Python)")
    print(f"{'model':<16} {'calls':>6} {'Rust us/call':>13} {'Python us/call':>15} {'ratio':>7}")
    for m, n in COUNTS.items():
        rust = py = float("inf")
        for _ in range(ROUNDS):
            rust = min(rust, rust_round(m, n))
            py = min(py, python_round(m, n))
        print(f"{m:<16} {n:6d} {1e6 * rust:13.1f} {1e6 * py:15.1f} {py / rust:7.3f}", flush=True)


if __name__ == "__main__":
    main()
