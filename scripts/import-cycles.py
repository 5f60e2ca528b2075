#!/usr/bin/env python3
"""Import circles between the files of a Rust module tree (default src/engine).

Every name a file imports (`use crate::engine::...`, `use super::...`) is
resolved to the file that defines it (`pub fn|struct|enum|trait|type|const`),
test modules excluded; the strongly connected components of that file graph
larger than one file are the import circles. Usage:
    python3 scripts/import-cycles.py [src/engine]
Prints the number of files and edges and `import cycles: none` or the circles.
"""
import re, os, sys, itertools
root = sys.argv[1] if len(sys.argv) > 1 else "src/engine"
files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".rs")]
defs = {}
for f in files:
    for m in re.finditer(r"^\s*pub(?:\([^)]*\))?\s+(?:fn|struct|enum|trait|type|const|static)\s+([A-Za-z_][A-Za-z0-9_]*)", open(f).read(), re.M):
        defs.setdefault(m.group(1), set()).add(f)
def modfile(path):  # crate::engine::a::b -> file
    parts = path.split("::")
    for k in range(len(parts), 0, -1):
        cand = os.path.join(root, *parts[:k])
        if os.path.isfile(cand + ".rs"): return cand + ".rs"
        if os.path.isfile(os.path.join(cand, "mod.rs")) and k == len(parts): return os.path.join(cand, "mod.rs")
    return None
graph = {f: set() for f in files}
for f in files:
    src = open(f).read()
    src = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", src, flags=re.S)
    for m in re.finditer(r"use\s+(crate::engine|super|self)((?:::\w+)*)(?:::\{([^;]*)\}|::(\w+))?\s*;", src):
        names = []
        if m.group(3): names = [n.strip().split(" as ")[0].split("::")[-1] for n in m.group(3).replace("\n"," ").split(",") if n.strip()]
        elif m.group(4): names = [m.group(4)]
        elif m.group(2): names = [m.group(2).split("::")[-1]]
        for n in names:
            for d in defs.get(n, ()):
                if d != f: graph[f].add(d)
# cycles via Tarjan SCC
index = {}; low = {}; stack = []; on = set(); sccs = []; i = [0]
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
sys.setrecursionlimit(10000)
for v in graph:
    if v not in index: strong(v)
print("files:", len(files), "edges:", sum(len(s) for s in graph.values()))
print("import cycles:", sccs if sccs else "none")
