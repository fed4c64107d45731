"""The knowledge graph: entries as nodes, typed references as edges, and the
checks that need more than one file (dangling and wrong-kind references,
self-links, prerequisite cycles, alias collisions, orphans, redirects).

Plain Python, so that the core install needs no graph library: the edges are a list,
and the three graph algorithms the checks and the reading order need (strongly connected
groups, one cycle, an ordered topological sort) are here. `KnowledgeBase.graph` offers
the same edges as a networkx graph when the `graph` extra is installed."""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostic
from .loader import LoadedEntry
from .refs import Reference, iter_references
from .schema.base import ARTICLE_KINDS


@dataclass(frozen=True, slots=True)
class Edge:
    """A typed link from one entry to another."""

    source: str
    target: str
    type: str
    path: tuple[str | int, ...]


def collect_edges(entries: Mapping[str, LoadedEntry]) -> tuple[list[Edge], list[Diagnostic]]:
    """Resolve every reference; return valid edges and the problems found."""
    edges: list[Edge] = []
    diags: list[Diagnostic] = []
    ids = list(entries)
    for eid, loaded in entries.items():
        for ref in iter_references(loaded.entry):
            problem = _check_reference(eid, ref, entries, ids)
            if problem is None:
                edges.append(Edge(eid, ref.target, ref.edge, ref.path))
                continue
            code, message, hint = problem
            mark = loaded.doc.locate(ref.path)
            diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, code, message, hint=hint))
    return edges, diags


def _check_reference(eid: str, ref: Reference, entries: Mapping[str, LoadedEntry],
                     ids: list[str]) -> tuple[str, str, str | None] | None:
    field = ".".join(str(p) for p in ref.path)
    if ref.target == eid:
        return "IB203", f"{field}: entry links to itself", "remove the self-reference"
    target = entries.get(ref.target)
    if target is None:
        close = difflib.get_close_matches(ref.target, ids, n=1, cutoff=0.75)
        if close:
            hint = f"did you mean '{close[0]}'?"
        elif len(ref.kinds) == 1:
            hint = f"create kb/{ref.kinds[0]}/{ref.target}.yaml or fix the id"
        else:
            hint = "fix the id, or create the entry it names"
        return "IB201", f"{field}: unknown id '{ref.target}'", hint
    if target.kind == "redirects" and "redirects" not in ref.kinds:
        retired = target.entry
        new = ", ".join(retired.targets)  # type: ignore[attr-defined]
        hint = f"link to '{new}' instead" if retired.kind == "moved" else f"link to one of: {new}"  # type: ignore[attr-defined]
        return "IB202", f"{field}: '{ref.target}' is a retired id ({retired.kind} to {new})", hint  # type: ignore[attr-defined]
    if target.kind not in ref.kinds:
        expected = " or ".join(ref.kinds)
        return "IB202", f"{field}: '{ref.target}' is a {target.kind} entry, expected {expected}", None
    return None


def prerequisite_successors(kinds: Mapping[str, str], edges: Iterable[Edge | tuple[str, str, str]]
                            ) -> dict[str, list[str]]:
    """For each article (concept, metric, technique), the articles that require it, in
    edge order: the reading graph, with every arrow from what to read first to what needs it."""
    after: dict[str, list[str]] = {eid: [] for eid, kind in kinds.items() if kind in ARTICLE_KINDS}
    for edge in edges:
        src, dst, etype = (edge.source, edge.target, edge.type) if isinstance(edge, Edge) else edge
        if etype == "requires" and src in after and dst in after and src not in after[dst]:
            after[dst].append(src)
    return after


def cyclic_groups(successors: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The strongly connected groups of two or more nodes (Tarjan's algorithm, iterative
    so that a long chain cannot exhaust the stack), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in successors:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            nexts = successors.get(node, ())
            if i < len(nexts):
                work.append((node, i + 1))
                child = nexts[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if work:  # node is finished: hand its low-link to the node that reached it
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def cycle_in(group: Sequence[str], successors: Mapping[str, Sequence[str]]) -> list[str]:
    """One cycle through the first node of a strongly connected group, as the nodes in order
    (breadth-first, so the shortest such cycle)."""
    members = set(group)
    start = group[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in successors.get(node, ()):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                if child in members and child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise ValueError("not a strongly connected group")  # cyclic_groups never yields one


def reading_order(successors: Mapping[str, Sequence[str]], key: Callable[[str], Any]) -> list[str]:
    """Every node after all of its predecessors; among the nodes that are free at each step,
    the smallest ``key`` first (Kahn's algorithm with a heap). Nodes on a cycle are left out."""
    waiting = dict.fromkeys(successors, 0)
    for nexts in successors.values():
        for child in nexts:
            waiting[child] += 1
    rank = {node: i for i, node in enumerate(successors)}
    free = [(key(node), rank[node], node) for node, count in waiting.items() if count == 0]
    heapq.heapify(free)
    order = []
    while free:
        node = heapq.heappop(free)[2]
        order.append(node)
        for child in successors[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(free, (key(child), rank[child], child))
    return order


def check_cycles(edges: list[Edge], entries: Mapping[str, LoadedEntry]) -> list[Diagnostic]:
    """One error per group of entries whose prerequisites form a cycle."""
    diags = []
    successors = prerequisite_successors({eid: le.kind for eid, le in entries.items()}, edges)
    for group in cyclic_groups(successors):
        nodes = cycle_in(group, successors)  # each node is required by the next
        chain = " requires ".join(reversed([*nodes, nodes[0]]))
        first = entries[group[0]]
        mark = first.doc.locate(("prerequisites",), prefer_key=True)
        diags.append(Diagnostic(first.display_path, mark.line, mark.col, "IB204",
                                f"prerequisite cycle: {chain}",
                                hint="a prerequisite must be readable first; make one of these 'related' instead"))
    return diags


def check_aliases(entries: Mapping[str, LoadedEntry]) -> list[Diagnostic]:
    """Ids, titles and aliases all resolve in lookups, so no alias or title may name
    two different entries (case-insensitively)."""
    diags = []
    owner: dict[str, str] = {eid.lower(): eid for eid, le in entries.items() if le.kind != "redirects"}
    for eid, loaded in entries.items():
        if loaded.kind == "redirects":  # a retired id's old title is not a live name
            continue
        names: list[tuple[tuple[str | int, ...], str, str]] = [(("title",), loaded.entry.title, "title")]
        names += [(("aliases", i), alias, "alias") for i, alias in enumerate(loaded.entry.aliases)]
        for path, name, what in names:
            key = name.lower()
            other = owner.get(key)
            if other is not None and other != eid:
                mark = loaded.doc.locate(path)
                diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, "IB205",
                                        f"{what} '{name}' is already used by '{other}'",
                                        hint="ids, titles and aliases must each point at exactly one entry"))
            else:
                owner[key] = eid
    return diags


def check_orphans(edges: list[Edge], entries: Mapping[str, LoadedEntry]) -> list[Diagnostic]:
    """Warn about entries nothing links to and that link to nothing (chapters and
    citations do not count as links for articles; uncited sources are orphans)."""
    incoming = {e.target for e in edges if e.type != "redirects_to"}
    outgoing = {e.source for e in edges if e.type not in ("in_chapter", "cites")}
    diags = []
    for eid, loaded in entries.items():
        if loaded.kind in ("chapters", "redirects"):
            continue
        linked = eid in incoming or (loaded.kind != "sources" and eid in outgoing)
        if not linked:
            what = "no entry cites this source" if loaded.kind == "sources" else "no links to or from other entries"
            diags.append(Diagnostic(loaded.display_path, 1, 1, "IB206", f"orphan: {what}", severity="warning",
                                    hint="link it from a related entry" if loaded.kind != "sources"
                                    else "cite it or remove it"))
    return diags


def check_redirects(entries: Mapping[str, LoadedEntry]) -> list[Diagnostic]:
    """A retired id (kb/redirects/) must not also be the alias or title of a live entry
    other than its targets, or lookups of it would be ambiguous. (Ids are unique
    across kinds already, IB103.)"""
    names: dict[str, str] = {}
    for eid, loaded in entries.items():
        if loaded.kind != "redirects":
            for name in (loaded.entry.title, *loaded.entry.aliases):
                names.setdefault(name.lower(), eid)
    diags = []
    for eid, loaded in entries.items():
        other = names.get(eid.lower()) if loaded.kind == "redirects" else None
        if other is not None and other not in loaded.entry.targets:  # type: ignore[attr-defined]
            mark = loaded.doc.locate(("id",))
            diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, "IB210",
                                    f"redirect '{eid}' collides with a title or alias of live entry '{other}'",
                                    hint="remove that alias, or keep the old entry instead of redirecting"))
    return diags


def check_graph(entries: Mapping[str, LoadedEntry]) -> tuple[list[Edge], list[Diagnostic]]:
    """Resolve the references and run every cross-entry check: the edges (in entry and
    field order) and the findings."""
    edges, diags = collect_edges(entries)
    diags += check_cycles(edges, entries)
    diags += check_aliases(entries)
    diags += check_orphans(edges, entries)
    diags += check_redirects(entries)
    return edges, diags
