"""Reads criterion's estimates and the peers' JSON lines and prints the
performance table rows (Rust time, peer time, ratio)."""
import glob
import json
import os
import sys


def criterion_means(root):
    out = {}
    for bench in glob.glob(os.path.join(root, "**", "new", "benchmark.json"), recursive=True):
        with open(bench) as f:
            full_id = json.load(f)["full_id"]
        with open(os.path.join(os.path.dirname(bench), "estimates.json")) as f:
            est = json.load(f)
        out[full_id] = est["median"]["point_estimate"] * 1e-9
    return out


def fmt(sec):
    return f"{sec * 1e3:.3f} ms" if sec >= 1e-3 else f"{sec * 1e6:.1f} µs"


def main():
    rust = criterion_means(sys.argv[1])
    peers = [json.loads(line) for line in sys.argv[2:]]
    rows = [
        ("Model E GD step, N=1e5, d=32, K=10, 1 thread", "gd_step N=100000 d=32 K=10/gd_step, 1 thread(s)", peers[0]),
        ("Model E GD step, N=1e5, d=32, K=10, all cores", None, peers[0]),
        ("Model T sample + SGD step, D=1e4, d=8, K=3", "teacher_sgd_step/sample + SGD step, D = 10000, d = 8, K = 3", peers[1]),
    ]
    allc = [k for k in rust if k.startswith("gd_step N=100000") and "thread(s)" in k and not k.endswith(", 1 thread(s)")]
    copy = rust.get("gd_step N=100000 d=32 K=10/memcpy of x (copy bandwidth, 1 core)")
    half = rust.get("gd_step N=100000 d=32 K=10/copy half of x onto the other half (same working set, 1 core)")
    print("| workload | Rust | peer | peer / Rust |")
    print("|---|---|---|---|")
    for name, key, peer in rows:
        if key is None:
            key = allc[0] if allc else None
        if key not in rust:
            print(f"| {name} | (not measured) | {fmt(peer['seconds'])} | |")
            continue
        print(f"| {name} | {fmt(rust[key])} | {fmt(peer['seconds'])} | {peer['seconds'] / rust[key]:.2f} |")
    gd1 = rust.get("gd_step N=100000 d=32 K=10/gd_step, 1 thread(s)")
    if gd1 and copy:
        nbytes = peers[0]["bytes"]
        print(f"\nGD step 1 thread: {nbytes / gd1 / 1e9:.2f} GB/s; memcpy of x (51 MB moved): {2 * 100000 * 32 * 8 / copy / 1e9:.2f} GB/s"
              f" -> {nbytes / gd1 / (2 * 100000 * 32 * 8 / copy) * 100:.0f}% of copy bandwidth")
        if half:
            print(f"copy within the same 25.6 MB working set: {100000 * 32 * 8 / half / 1e9:.2f} GB/s"
                  f" -> step at {nbytes / gd1 / (100000 * 32 * 8 / half) * 100:.0f}% of it")
        for k in allc:
            print(f"{k}: {nbytes / rust[k] / 1e9:.2f} GB/s (speed-up over 1 thread {gd1 / rust[k]:.2f}x)")
    print(f"numpy GD step: {peers[0]['gb_per_s']:.2f} GB/s")
    for p in peers:
        print(f"peer {p['workload']}: BLAS {json.dumps(p['blas'])}; env {json.dumps(p['env'])}")


if __name__ == "__main__":
    main()
