"""PyTorch (CPU, float64) replay of an SSL dump written by

    repcollapse simulate ssl --set variant=<v> --set dump=PATH [--set ...]

The dump holds the initial weights, the augmented batches the Rust run used
and its loss at every step. This script builds the same network with
PyTorch's autograd (stop-gradient = ``detach``; BYOL's target under
``no_grad`` with its EMA), trains it on the same batches with the dump's
optimiser (``sgd``: ``torch.optim.SGD`` with momentum and weight decay;
``nesterov``: the same with ``nesterov=True``; ``adamw``:
``torch.optim.AdamW`` with betas, eps and weight decay), and checks that the loss
trajectory agrees to ``--rtol`` (default 1e-9, relative) and reports the
relative difference of the final weights. It then times one epoch of steps
(``epoch_steps`` batches of the dump's shape) with 1 and 2 torch threads,
next to the Rust epoch time recorded in the dump (one seed; Rust's step
is single-threaded, its ensembles run seeds in parallel).

Not run by CI. PyTorch install that worked on the project machine (no GPU):
``pip install --no-deps torch`` into a throwaway venv plus numpy, sympy,
networkx, jinja2, filelock, fsspec, typing_extensions; the PyPI wheel links
the CUDA libraries, so without them it needs stub libraries on
``LD_LIBRARY_PATH`` (see docs/ssl.md, "Cross-check against PyTorch").

Usage: python benches/peers/ssl_torch.py DUMP.json [DUMP.json ...] [--rtol 1e-9] [--no-timing]
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def mat(rows):
    t = torch.tensor(rows, dtype=torch.float64)
    return t.reshape(len(rows), -1) if len(rows) else torch.zeros(0, 0, dtype=torch.float64)


class Net:
    """Encoder (linear or one-hidden-layer MLP, NTK scaling) and projector."""

    def __init__(self, w, dump):
        self.kind = dump["encoder"]
        self.D = dump["input_dim"]
        self.m = dump["width"]
        self.w1 = mat(w["encoder.w1"]).requires_grad_()
        self.w2 = mat(w["encoder.w2"]).requires_grad_() if self.kind == "mlp" else None
        self.proj = mat(w["projector"]).requires_grad_() if dump["projector"] else None

    def params(self):
        return [p for p in (self.w1, self.w2, self.proj) if p is not None]

    def __call__(self, xi):
        if self.kind == "linear":
            x = xi @ self.w1.T / math.sqrt(self.D)
        else:
            x = torch.relu(xi @ self.w1.T / math.sqrt(self.D)) @ self.w2.T / math.sqrt(self.m)
        return x @ self.proj.T if self.proj is not None else x


def pair_loss(kind, p, t, eps):
    if kind == "cosine":
        return -(F.normalize(p, dim=1, eps=eps) * F.normalize(t, dim=1, eps=eps)).sum(dim=1)
    return 0.5 * ((p - t) ** 2).sum(dim=1)


def optimizer(dump, params):
    """The dump's update rule as a torch optimiser (dumps without the key are ``sgd``)."""
    rule = dump.get("optimizer", "sgd")
    if rule in ("sgd", "nesterov"):
        return torch.optim.SGD(params, lr=dump["lr"], momentum=dump["momentum"], weight_decay=dump["weight_decay"],
                               nesterov=rule == "nesterov")
    if rule == "adamw":
        return torch.optim.AdamW(params, lr=dump["lr"], betas=(dump["beta1"], dump["beta2"]), eps=dump["eps"],
                                 weight_decay=dump["weight_decay"], foreach=False)
    raise ValueError(f"unknown optimizer {rule!r}")


def replay(dump, steps=None, batches=None):
    """Trains from the dump's initial weights; returns the losses."""
    w = dump["initial_weights"]
    net = Net(w, dump)
    variant = dump["variant"]
    has_pred = variant in ("predictor-no-sg", "simsiam", "byol")
    wa = mat(w["predictor.w1"]).requires_grad_() if has_pred else None
    wb = mat(w["predictor.w2"]).requires_grad_() if has_pred and dump["predictor_mlp"] else None
    target = None
    if variant == "byol":
        target = Net(w, dump)
        for p in target.params():
            p.requires_grad_(False)
    params = net.params() + [p for p in (wa, wb) if p is not None]
    opt = optimizer(dump, params)
    tau, eps = dump["tau"], dump["norm_eps"]
    losses = []
    for xb in batches if batches is not None else dump["batches"]:
        xi = xb if torch.is_tensor(xb) else torch.tensor(xb, dtype=torch.float64)
        rows = xi.shape[0]
        b = rows // 2
        z = net(xi)
        if has_pred:
            p = torch.relu(z @ wa.T) @ wb.T if wb is not None else z @ wa.T
        else:
            p = z
        if variant == "byol":
            with torch.no_grad():
                t = target(xi)
        elif variant in ("sg-no-predictor", "simsiam"):
            t = z.detach()
        else:
            t = z
        t = torch.cat([t[b:], t[:b]])  # view 1 against view 2 and vice versa
        loss = pair_loss(dump["loss"], p, t, eps).sum() / rows
        opt.zero_grad()
        loss.backward()
        opt.step()
        if target is not None:
            with torch.no_grad():
                for tp, op in zip(target.params(), net.params()):
                    tp.mul_(tau).add_(op, alpha=1.0 - tau)
        losses.append(loss.item())
    final = {"encoder.w1": net.w1, "encoder.w2": net.w2, "projector": net.proj, "predictor.w1": wa, "predictor.w2": wb}
    return losses, final


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--no-timing", action="store_true")
    a = ap.parse_args()
    ok = True
    rows = []
    for path in a.dumps:
        with open(path) as f:
            dump = json.load(f)
        torch.set_num_threads(1)
        losses, final = replay(dump)
        ref = dump["losses"]
        rel = max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(losses, ref))
        wrel = 0.0
        for name, t in final.items():
            if t is None:
                continue
            r = mat(dump["final_weights"][name])
            wrel = max(wrel, float((t.detach() - r).norm() / max(float(r.norm()), 1e-300)))
        good = rel <= a.rtol and len(losses) == len(ref)
        ok &= good
        row = {"dump": path, "optimizer": dump.get("optimizer", "sgd"), "variant": dump["variant"], "loss": dump["loss"], "encoder": dump["encoder"],
               "predictor_mlp": dump["predictor_mlp"], "steps": len(ref), "max_rel_loss_diff": rel,
               "max_rel_final_weight_diff": wrel, "agrees": good, "rust_epoch_seconds": dump["epoch_seconds"]}
        if not a.no_timing:
            shape = (2 * dump["batch"], dump["input_dim"])
            g = torch.Generator().manual_seed(0)
            batches = [torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(dump["epoch_steps"])]
            for threads in (1, 2):
                torch.set_num_threads(threads)
                replay(dump, batches=batches[:2])  # warm-up
                best = float("inf")
                for _ in range(3):
                    t0 = time.perf_counter()
                    replay(dump, batches=batches)
                    best = min(best, time.perf_counter() - t0)
                row[f"torch_epoch_seconds_{threads}_threads"] = best
        rows.append(row)
        print(json.dumps(row))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
