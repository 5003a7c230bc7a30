"""The DAG as text: Mermaid (for Markdown), Graphviz DOT, or JSON (for tools)."""

from __future__ import annotations

import json
from typing import Any

from pipespec.compiler.analysis import Analysis


def _kind(analysis: Analysis, sid: str) -> str:
    assert analysis.loaded is not None
    step = analysis.loaded.data["steps"][sid]
    return str(step.get("kind", "?"))


# Labels in a fixed order; "data" and "after" are drawn by the arrow itself.
_LABELS = {"foreach": "foreach", "condition": "when"}


def _reasons(analysis: Analysis) -> list[tuple[str, str, list[str]]]:
    """Each edge once, with every reason for it: one edge can carry data *and* a `when`."""
    assert analysis.graph is not None
    pg = analysis.graph
    rank = {sid: i for i, sid in enumerate(pg.order)}
    # The same kinds the IR's edges carry (computed once, in the graph).
    return sorted(
        ((u, v, list(kinds)) for (u, v), kinds in pg.edge_kinds().items()),
        key=lambda e: (rank[e[0]], rank[e[1]]),
    )


def _label(reasons: list[str]) -> str:
    return ", ".join(_LABELS[w] for w in reasons if w in _LABELS)


def render(analysis: Analysis, fmt: str) -> str:
    assert analysis.graph is not None
    order = analysis.graph.order
    edges = _reasons(analysis)
    if fmt == "json":
        doc: dict[str, Any] = {
            "nodes": [{"id": sid, "kind": _kind(analysis, sid)} for sid in order],
            # One entry per reason, so a data edge that is also a condition says both.
            "edges": [{"from": u, "to": v, "why": w} for u, v, whys in edges for w in whys],
        }
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "dot":
        lines = ["digraph pipeline {", "  rankdir=LR;"]
        for sid in order:
            label = json.dumps(sid + "\n(" + _kind(analysis, sid) + ")")
            lines.append(f"  {json.dumps(sid)} [label={label}];")
        for u, v, whys in edges:
            attrs = []
            if whys == ["after"]:
                attrs.append("style=dashed")
            if _label(whys):
                attrs.append(f"label={json.dumps(_label(whys))}")
            style = f" [{', '.join(attrs)}]" if attrs else ""
            lines.append(f"  {json.dumps(u)} -> {json.dumps(v)}{style};")
        lines.append("}")
        return "\n".join(lines) + "\n"
    # Mermaid node ids are positional: step ids such as `end` are Mermaid keywords.
    ids = {sid: f"s{i}" for i, sid in enumerate(order)}
    lines = ["flowchart TD"]
    for sid in order:
        label = f"{sid}<br/>{_kind(analysis, sid)}".replace('"', "#quot;")
        lines.append(f'  {ids[sid]}["{label}"]')
    for u, v, whys in edges:
        text = _label(whys)
        arrow = "-.->" if whys == ["after"] else (f"-->|{text}|" if text else "-->")
        lines.append(f"  {ids[u]} {arrow} {ids[v]}")
    return "\n".join(lines) + "\n"
