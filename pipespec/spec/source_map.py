"""Where every node of a loaded spec came from: its span, its key's span, its style."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipespec.diagnostics import Span

NodePath = tuple[str | int, ...]


@dataclass(frozen=True)
class NodeInfo:
    """Where a node is: its value's span, its key's span (for mapping values), its style."""

    span: Span
    key_span: Span | None = None
    style: str | None = None  # scalar style: "" plain, "'" or '"' quoted, "|" or ">" block


@dataclass
class SourceMap:
    """Positions of the nodes written in the file, and where each alias copy came from.

    A node inside an alias's copy has no entry of its own: it is found through
    ``aliases`` (the copy's path -> the anchored node's path), so expanding an alias costs
    one entry however big its anchor is, and positions inside the copy point at the
    anchored original.
    """

    file: str
    nodes: dict[NodePath, NodeInfo] = field(default_factory=dict)
    aliases: dict[NodePath, NodePath] = field(default_factory=dict)

    def info(self, path: NodePath) -> NodeInfo | None:
        return self._lookup(tuple(path))

    def _lookup(self, path: NodePath) -> NodeInfo | None:
        info = self.nodes.get(path)
        if info is not None or not self.aliases:
            return info
        # The innermost alias copy holding the path; its anchor may hold aliases in turn,
        # but only ones written before it, so the chain ends.
        for i in range(len(path) - 1, 0, -1):
            anchor = self.aliases.get(path[:i])
            if anchor is not None:
                return self._lookup(anchor + path[i:])
        return None

    def span(self, path: NodePath) -> Span:
        """The span of the node at ``path``, or of its nearest ancestor that exists."""
        p = tuple(path)
        while p:
            info = self._lookup(p)
            if info is not None:
                return info.span
            p = p[:-1]
        info = self.nodes.get(())
        return info.span if info else Span(self.file, 1, 1)

    def key_span(self, path: NodePath) -> Span:
        """The span of the key that names ``path`` (falls back to the value's span)."""
        info = self._lookup(tuple(path))
        if info is not None and info.key_span is not None:
            return info.key_span
        return self.span(path)
