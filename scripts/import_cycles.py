"""Fail when the source modules import each other in a cycle.

import-linter's layers see packages; a cycle between two modules of one app (often
hidden by an import inside a function) goes unseen there. grimp, which import-linter
uses, records every import, at the top of a module or inside a function, so this
finds those too. Tests and migrations are left out: they import, nobody imports them.

    .venv/bin/python scripts/import_cycles.py        exit 1 listing each cycle found
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import grimp

PACKAGES = (
    "alphaforge",
    "core",
    "api",
    "market",
    "signals",
    "journal",
    "events",
    "webhooks",
    "monitoring",
)
LEFT_OUT = ("tests", "migrations")


def _kept(module: str) -> bool:
    return not any(part in LEFT_OUT for part in module.split("."))


def import_graph(packages: Iterable[str]) -> dict[str, set[str]]:
    """Each source module and the source modules it imports, anywhere in it."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    return {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if _kept(imported)
        }
        for module in sorted(graph.modules)
        if _kept(module)
    }


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.get(step, ())))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    return found


def _loop(graph: dict[str, set[str]], members: Sequence[str]) -> list[str]:
    """One closed path through a component: its first module back to itself."""
    inside, start = set(members), members[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for step in sorted(graph[node] & inside):
                if step == start:
                    return paths[node] + [start]
                if step not in paths:
                    paths[step] = paths[node] + [step]
                    following.append(step)
        frontier = following
    return [start]


def import_cycles(packages: Iterable[str] = PACKAGES) -> list[list[str]]:
    """Every import cycle between modules, as one closed path per cycle found."""
    graph = import_graph(packages)
    return [
        _loop(graph, members)
        for members in _components(graph)
        if len(members) > 1 or members[0] in graph[members[0]]
    ]


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    cycles = import_cycles()
    for cycle in cycles:
        print("import cycle: " + " -> ".join(cycle))
    if cycles:
        print(
            f"{len(cycles)} import cycle(s): move the shared piece down a layer "
            "(ARCHITECTURE.md), not into a function-level import"
        )
        return 1
    print("no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
