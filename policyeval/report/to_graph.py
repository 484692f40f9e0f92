"""Credential reachability as a graph: workload → credential source → role → policies.

Reachable host credentials (instance profile, node role, ECS Anywhere role) are drawn in
red and bold so nobody can miss them; unreachable sources are dashed. Labels are escaped:
workload and role names come from input files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from policyeval.model.topology import Role
from policyeval.resolver.credentials import HOST_SOURCES, CredentialSource, Workload, WorkloadKind


@dataclass(slots=True)
class _Graph:
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (label, class)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # from, to, label, style
    _ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def node(self, kind: str, key: str, label: str, cls: str) -> str:
        found = self._ids.get((kind, key))
        if found is None:
            found = f"{kind}{len(self._ids)}"
            self._ids[(kind, key)] = found
            self.nodes[found] = (label, cls)
        elif cls == "hot":
            self.nodes[found] = (self.nodes[found][0], cls)
        return found


def _style(cred: CredentialSource, kind: WorkloadKind) -> str:
    """`hot` a host credential reachable from a task, container or pod; `open` a reachable
    own credential (an agent's or node's host role is its own); `maybe` unknown; `closed`
    not reachable."""
    if cred.reachable is False:
        return "closed"
    if cred.source in HOST_SOURCES and kind not in (WorkloadKind.AGENT, WorkloadKind.NODE):
        return "hot"
    if cred.reachable == "unknown":
        return "maybe"
    return "open"


def _reach_word(cred: CredentialSource) -> str:
    if cred.reachable is True:
        return "reachable"
    if cred.reachable is False:
        return "not reachable"
    return "unknown: treated as reachable"


def _policies_of(role: Role) -> Iterable[tuple[str, str]]:
    for policy in role.inline:
        yield policy.name, "inline"
    for attachment in role.managed:
        yield attachment.ref, "managed"
    if role.boundary is not None:
        yield role.boundary.ref, "boundary"


def _build(workloads: Iterable[Workload]) -> _Graph:
    graph = _Graph()
    for workload in workloads:
        w = graph.node(
            "w",
            workload.id,
            f"{workload.kind.value} {workload.id} ({workload.platform.value})",
            "workload",
        )
        for index, cred in enumerate(workload.credentials):
            style = _style(cred, workload.kind)
            via = f" via {cred.via}" if cred.via else ""
            s = graph.node("s", f"{workload.id}#{index}", f"{cred.source.value}{via}", style)
            graph.edges.append((w, s, _reach_word(cred), style))
            role_label = cred.role or "unknown role"
            r = graph.node(
                "r", role_label, f"role {role_label}", "hot" if style == "hot" else "role"
            )
            graph.edges.append((s, r, "", style))
            if cred.resolved is None:
                continue
            for name, how in _policies_of(cred.resolved):
                p = graph.node("p", name, f"{how} policy {name}", "policy")
                edge = (r, p, how, "policy")
                if edge not in graph.edges:
                    graph.edges.append(edge)
    return graph


# -- Mermaid ---------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    replaced = text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
    return replaced.replace(">", "#gt;").replace("|", "#124;").replace("\n", " ")


_MERMAID_ARROWS = {"hot": "==>", "open": "-->", "maybe": "-->", "closed": "-.->", "policy": "-->"}
_MERMAID_CLASSES = {
    "hot": "fill:#fdd,stroke:#d00,stroke-width:4px,color:#900,font-weight:bold",
    "maybe": "fill:#ffe,stroke:#c80,stroke-width:2px",
    "closed": "fill:#eee,stroke:#999,stroke-dasharray:4 3,color:#777",
    "open": "fill:#efe,stroke:#393",
    "workload": "fill:#eef,stroke:#336",
    "role": "fill:#fff,stroke:#333",
    "policy": "fill:#fff,stroke:#888",
}


def render_graph_mermaid(workloads: Iterable[Workload]) -> str:
    """A Mermaid flowchart of every workload's credential sources, roles and policies."""
    graph = _build(workloads)
    lines = ["flowchart LR"]
    for node_id, (label, _cls) in graph.nodes.items():
        lines.append(f'  {node_id}["{_mermaid_text(label)}"]')
    hot_links: list[int] = []
    for index, (src, dst, label, style) in enumerate(graph.edges):
        arrow = _MERMAID_ARROWS[style]
        text = f"|{_mermaid_text(label)}|" if label else ""
        lines.append(f"  {src} {arrow}{text} {dst}")
        if style == "hot":
            hot_links.append(index)
    for cls, css in _MERMAID_CLASSES.items():
        lines.append(f"  classDef {cls} {css}")
    by_class: dict[str, list[str]] = {}
    for node_id, (_label, cls) in graph.nodes.items():
        by_class.setdefault(cls, []).append(node_id)
    for cls, ids in by_class.items():
        lines.append(f"  class {','.join(ids)} {cls}")
    if hot_links:
        lines.append(f"  linkStyle {','.join(map(str, hot_links))} stroke:#d00,stroke-width:4px")
    return "\n".join(lines) + "\n"


# -- DOT -------------------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


_DOT_NODES = {
    "hot": (
        'color="#dd0000", fontcolor="#990000", penwidth=3, style="filled,bold", fillcolor="#ffdddd"'
    ),
    "maybe": 'color="#cc8800", style=filled, fillcolor="#ffffee"',
    "closed": 'color="#999999", fontcolor="#777777", style=dashed',
    "open": 'color="#339933", style=filled, fillcolor="#eeffee"',
    "workload": 'shape=box, style="rounded,filled", fillcolor="#eeeeff"',
    "role": "shape=ellipse",
    "policy": "shape=note",
}
_DOT_EDGES = {
    "hot": 'color="#dd0000", penwidth=3, style=bold',
    "maybe": 'color="#cc8800"',
    "closed": 'color="#999999", style=dashed',
    "open": 'color="#339933"',
    "policy": 'color="#888888"',
}


def render_graph_dot(workloads: Iterable[Workload]) -> str:
    """The same graph in Graphviz DOT."""
    graph = _build(workloads)
    lines = ["digraph credentials {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node_id, (label, cls) in graph.nodes.items():
        lines.append(f'  {node_id} [label="{_dot_text(label)}", {_DOT_NODES[cls]}];')
    for src, dst, label, style in graph.edges:
        text = f'label="{_dot_text(label)}", ' if label else ""
        lines.append(f"  {src} -> {dst} [{text}{_DOT_EDGES[style]}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
