"""The DAG as text: Mermaid (for Markdown), Graphviz DOT, or JSON (for tools)."""

from __future__ import annotations

import json
from typing import Any

from pipespec.compiler.driver import Analysis


def _kind(analysis: Analysis, sid: str) -> str:
    assert analysis.loaded is not None
    step = analysis.loaded.data["steps"][sid]
    return str(step.get("kind", "?"))


def render(analysis: Analysis, fmt: str) -> str:
    assert analysis.graph is not None
    pg = analysis.graph
    order = pg.order
    edges = [(u, v, pg.graph.edges[u, v]["why"]) for u, v in pg.graph.edges]
    rank = {sid: i for i, sid in enumerate(order)}
    edges.sort(key=lambda e: (rank[e[0]], rank[e[1]]))
    if fmt == "json":
        doc: dict[str, Any] = {
            "nodes": [{"id": sid, "kind": _kind(analysis, sid)} for sid in order],
            "edges": [{"from": u, "to": v, "why": why} for u, v, why in edges],
        }
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "dot":
        lines = ["digraph pipeline {", "  rankdir=LR;"]
        for sid in order:
            label = json.dumps(sid + "\n(" + _kind(analysis, sid) + ")")
            lines.append(f"  {json.dumps(sid)} [label={label}];")
        for u, v, why in edges:
            style = (
                " [style=dashed]"
                if why == "after"
                else (' [label="when"]' if why == "condition" else "")
            )
            lines.append(f"  {json.dumps(u)} -> {json.dumps(v)}{style};")
        lines.append("}")
        return "\n".join(lines) + "\n"
    # Mermaid node ids are positional: step ids such as `end` are Mermaid keywords.
    ids = {sid: f"s{i}" for i, sid in enumerate(order)}
    lines = ["flowchart TD"]
    for sid in order:
        label = f"{sid}<br/>{_kind(analysis, sid)}".replace('"', "#quot;")
        lines.append(f'  {ids[sid]}["{label}"]')
    for u, v, why in edges:
        arrow = {"after": "-.->", "condition": "-->|when|", "foreach": "-->|foreach|"}.get(
            why, "-->"
        )
        lines.append(f"  {ids[u]} {arrow} {ids[v]}")
    return "\n".join(lines) + "\n"
