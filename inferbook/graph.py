"""The knowledge graph: entries as nodes, typed references as edges, and the
checks that need more than one file (dangling and wrong-kind references,
self-links, prerequisite cycles, alias collisions, orphans, redirects)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from .diagnostics import Diagnostic
from .loader import LoadedEntry
from .refs import Reference, iter_references


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


def build_graph(entries: Mapping[str, LoadedEntry], edges: list[Edge]) -> nx.MultiDiGraph:
    """A MultiDiGraph with one node per entry (attribute `kind`) and keyed, typed edges."""
    graph = nx.MultiDiGraph()
    for eid, loaded in entries.items():
        graph.add_node(eid, kind=loaded.kind)
    for edge in edges:
        graph.add_edge(edge.source, edge.target, key=f"{edge.type}:{'.'.join(map(str, edge.path))}",
                       type=edge.type)
    return graph


def prerequisite_graph(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """Edges from each prerequisite to the entries that require it."""
    req = nx.DiGraph()
    req.add_nodes_from(n for n, k in graph.nodes(data="kind") if k in ("concepts", "metrics", "techniques"))
    for src, dst, etype in graph.edges(data="type"):
        if etype == "requires":
            req.add_edge(dst, src)
    return req


def check_cycles(graph: nx.MultiDiGraph, entries: Mapping[str, LoadedEntry]) -> list[Diagnostic]:
    """One error per group of entries whose prerequisites form a cycle."""
    diags = []
    req = prerequisite_graph(graph)
    for component in nx.strongly_connected_components(req):
        if len(component) < 2:
            continue
        members = sorted(component)
        cycle = nx.find_cycle(req.subgraph(members))  # edge u -> v: v requires u
        nodes = [u for u, _ in cycle]
        chain = " requires ".join(reversed([*nodes, nodes[0]]))
        first = entries[members[0]]
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


def check_orphans(graph: nx.MultiDiGraph, entries: Mapping[str, LoadedEntry]) -> list[Diagnostic]:
    """Warn about entries nothing links to and that link to nothing (chapters and
    citations do not count as links for articles; uncited sources are orphans)."""
    diags = []
    for eid, loaded in entries.items():
        if loaded.kind in ("chapters", "redirects"):
            continue
        incoming = any(d.get("type") != "redirects_to" for _, _, d in graph.in_edges(eid, data=True))
        if loaded.kind == "sources":
            linked = incoming
        else:
            linked = any(d.get("type") not in ("in_chapter", "cites")
                         for _, _, d in graph.out_edges(eid, data=True)) or incoming
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


def check_graph(entries: Mapping[str, LoadedEntry]) -> tuple[nx.MultiDiGraph, list[Diagnostic]]:
    """Build the graph and run every cross-entry check."""
    edges, diags = collect_edges(entries)
    graph = build_graph(entries, edges)
    graph.graph["edges"] = edges  # the resolved references in entry and field order
    diags += check_cycles(graph, entries)
    diags += check_aliases(entries)
    diags += check_orphans(graph, entries)
    diags += check_redirects(entries)
    return graph, diags
