#!/usr/bin/env python3
"""Checks the library's layering from what the compiler produced and what the sources include.

Usage: tools/check_layers.py BUILD_DIR

Calls: for each object file of src/ (found under BUILD_DIR), `nm` lists the symbols it defines
and the ones it needs; file A calls file B when A needs a symbol B defines. Includes: every
#include "..." of src/. Both graphs must be free of cycles between files and between folders,
and no arrow may point to a higher layer (LAYERS below). Prints the folder graph; exits 1 with
the offending arrows otherwise.
"""
import os
import re
import subprocess
import sys

# Folder -> layer; arrows may only point to the same or a lower layer.
LAYERS = {
    ".": 0, "kvm": 0, "emu": 0,  # src/api.h: the public API with default visibility
    "obj": 1,
    "apic": 2, "synic": 2, "events": 2, "hvsock": 2, "cpuid": 2, "prop": 2, "quirk": 2,
    "top": 3,
}
LAYER_NAMES = {0: "base", 1: "objects", 2: "subsystems", 3: "top"}


def objects(build):
    found = {}
    for root, _, files in os.walk(build):
        if "winhvplatform_obj.dir" not in root:
            continue
        for f in files:
            if f.endswith(".c.o"):
                path = os.path.join(root, f)
                rel = path.split("winhvplatform_obj.dir" + os.sep, 1)[1]
                found[rel[: -len(".o")]] = path  # src/<folder>/<file>.c
    return found


def call_graph(objs):
    defined, needed = {}, {}
    for name, path in objs.items():
        out = subprocess.run(["nm", path], check=True, capture_output=True, text=True).stdout
        needed[name] = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                needed[name].add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = name
    return {a: {defined[s] for s in syms if s in defined and defined[s] != a} for a, syms in needed.items()}


def include_graph(src):
    graph = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            name = os.path.relpath(path, os.path.dirname(src))
            deps = set()
            with open(path, encoding="utf-8") as fh:
                for m in re.finditer(r'^#include "([^"]+)"', fh.read(), re.M):
                    target = os.path.join("src", m.group(1))
                    if os.path.exists(os.path.join(os.path.dirname(src), target)):
                        deps.add(target)
            graph[name] = deps - {name}
    return graph


def folder(name):
    parts = name.split(os.sep)
    return parts[1] if len(parts) > 2 else "."


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def folders_of(graph):
    fg = {}
    for a, deps in graph.items():
        fa = folder(a)
        fg.setdefault(fa, set())
        for b in deps:
            if folder(b) != fa:
                fg[fa].add(folder(b))
    return fg


def check(kind, graph):
    errors = []
    for comp in cycles(graph):
        errors.append(f"{kind} cycle between files: {' <-> '.join(comp)}")
    fg = folders_of(graph)
    for comp in cycles(fg):
        errors.append(f"{kind} cycle between folders: {' <-> '.join(comp)}")
    for a, deps in sorted(fg.items()):
        for b in sorted(deps):
            la, lb = LAYERS.get(a), LAYERS.get(b)
            if la is None or lb is None:
                errors.append(f"{kind}: folder src/{a if la is None else b} has no layer in tools/check_layers.py")
            elif lb > la:
                errors.append(f"{kind} upwards: src/{a} ({LAYER_NAMES[la]}) -> src/{b} ({LAYER_NAMES[lb]})")
    return errors, fg


def self_test():
    """The checker must be able to fail: a known cycle and an upward arrow are reported."""
    g = {"src/obj/a.c": {"src/apic/b.c"}, "src/apic/b.c": {"src/obj/a.c"}}
    errors, _ = check("self-test", g)
    assert any("cycle between files" in e for e in errors), errors
    assert any("upwards: src/obj" in e for e in errors), errors
    assert not check("self-test", {"src/top/a.c": {"src/obj/b.c"}, "src/obj/b.c": set()})[0]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    self_test()
    build = sys.argv[1]
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    objs = objects(build)
    if not objs:
        sys.exit(f"check_layers: no library objects under {build} (build it first)")
    errors, calls = check("call", call_graph(objs))
    inc_errors, _ = check("include", include_graph(src))
    errors += inc_errors
    print(f"check_layers: {len(objs)} objects; who calls whom, by folder:")
    for layer in sorted(LAYER_NAMES, reverse=True):
        for f in sorted(k for k, v in LAYERS.items() if v == layer and k in calls):
            print(f"  {LAYER_NAMES[layer]:>10}  {f:<7} -> {', '.join(sorted(calls[f])) or '-'}")
    for e in errors:
        print("  ERROR: " + e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
