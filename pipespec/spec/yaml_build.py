"""Builds plain Python data and a source map from ruamel.yaml's event stream.

Doing the construction ourselves is what makes loading safe and precise: YAML 1.2
core-schema scalars only (``no`` stays a string), no tags beyond the core ones, duplicate
keys reported at both places, and every budget checked *before* the work it pays for:
nodes and text after alias expansion, and nesting depth (an alias can only deepen a
document as far as its anchor is tall). An alias costs one copy of its anchor's data
(counted in the node budget before it is made) and one source-map entry: positions
inside the copy are found through the anchor (``SourceMap.aliases``), never by walking
the map. The cyclic garbage collector is paused while building: the data is acyclic,
and its passes over a growing heap made loading several times slower.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipespec.diagnostics import Diagnostic, Span
from pipespec.limits import RAISE_SPEC_HINT, LoadLimits, format_size
from pipespec.spec.source_map import NodeInfo, NodePath, SourceMap
from pipespec.spec.yaml_scalars import ALLOWED_TAGS, CORE, resolve_plain, short_tag, type_word

# libyaml (the C parser) follows YAML 1.1 here: a plain scalar inside a flow collection
# may not contain ':' (`{image: busybox:1.36}`). YAML 1.2 allows it, and so does ruamel's
# pure-Python parser, which reads such a file instead.
_FLOW_COLON = "found unexpected ':'"


class Stop(Exception):
    """Aborts loading after a fatal diagnostic (the document cannot be built)."""


@dataclass(frozen=True)
class _Anchor:
    value: Any
    path: NodePath
    size: int  # nodes
    chars: int  # characters of its keys and scalars
    height: int  # nesting levels below it


@dataclass
class _Frame:
    """A container being built: its value, where it started, and (for mappings) the key."""

    value: dict[str, Any] | list[Any]
    path: NodePath
    start: Any
    anchor: str | None
    size: int = 1
    chars: int = 0
    height: int = 1
    pending_key: str | None = None
    pending_key_span: Span | None = None
    # The pending value is built (for its diagnostics) but not kept: a duplicate key's
    # second value, or the value of an alias used as a key. A flag, not a marker in the key:
    # any marker text is also a key a spec could write.
    pending_discard: bool = False
    key_spans: dict[str, Span] = field(default_factory=dict)


def _events(text: str, pure: bool) -> Iterator[Any]:
    from ruamel.yaml import YAML

    try:
        yaml = YAML(typ="safe", pure=pure)
    except Exception:  # pragma: no cover - no C extension on this interpreter
        yaml = YAML(typ="safe", pure=True)
    yield from yaml.parse(text)


def build(
    text: str, name: str, limits: LoadLimits
) -> tuple[dict[str, Any] | None, SourceMap, list[Diagnostic]]:
    """The document's data (None after a fatal fault), its source map and diagnostics."""
    builder = _Builder(name, limits)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            data = builder.build(text, pure=False)
        except _FlowColon:
            builder = _Builder(name, limits)
            data = builder.build(text, pure=True)
    except Stop:
        return None, builder.source_map, builder.diagnostics
    finally:
        if gc_was_enabled:
            gc.enable()
    return data, builder.source_map, builder.diagnostics


class _FlowColon(Exception):
    """The C parser refused a ':' in a flow scalar: read the file with the YAML 1.2 parser."""


class _Builder:
    def __init__(self, name: str, limits: LoadLimits) -> None:
        self.name = name
        self.limits = limits
        self.diagnostics: list[Diagnostic] = []
        self.source_map = SourceMap(name)
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: set[str] = set()
        self.total_nodes = 0
        self.total_chars = 0

    def _span(self, start: Any, end: Any | None = None) -> Span:
        if end is None:
            return Span(self.name, start.line + 1, start.column + 1)
        return Span(self.name, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def _fatal(self, code: str, message: str, span: Span, hint: str | None = None) -> Stop:
        self.diagnostics.append(Diagnostic(code, message, span, hint))
        return Stop()

    def build(self, text: str, *, pure: bool) -> Any:
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        try:
            return self._consume(_events(text, pure))
        except MarkedYAMLError as exc:
            problem = exc.problem or exc.context or "invalid YAML"
            if not pure and _FLOW_COLON in problem:
                raise _FlowColon() from None
            raise self._syntax_error(exc, text) from None
        except YAMLError as exc:
            # ReaderError: a character YAML forbids (control characters and the like).
            position = getattr(exc, "position", 0)
            before = text[:position]
            line = before.count("\n") + 1
            col = position - (before.rfind("\n") + 1) + 1
            reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
            char = getattr(exc, "character", None)
            if isinstance(char, str):
                char = ord(char)
            what = f" (character U+{char:04X})" if isinstance(char, int) else ""
            raise self._fatal("PS104", f"{reason}{what}", Span(self.name, line, col)) from None
        except RecursionError:  # pragma: no cover - depth is bounded before this
            raise self._fatal(
                "PS107", "the document nests too deeply", Span(self.name, 1, 1)
            ) from None

    def _syntax_error(self, exc: Any, text: str) -> Stop:
        mark = exc.problem_mark or exc.context_mark
        span = self._span(mark) if mark is not None else Span(self.name, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if "incompatible YAML document" in problem:
            return self._fatal(
                "PS108",
                "unsupported YAML version directive",
                span,
                hint="pipespec reads YAML 1.2; remove the %YAML line",
            )
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        hint = None
        if "tab" in problem or _char_at(text, span) == "\t":
            if "tab" not in problem:
                problem = problem.replace("found character", "found a tab character")
            hint = "YAML indents with spaces only: replace the tab with spaces"
        elif "':'" in problem or _char_at(text, span) == ":":
            # In a flow collection, ': ' always separates a key from its value.
            hint = "quote the value that contains ':' (for example 'b: c')"
        return self._fatal("PS104", f"{problem}{context}", span, hint)

    def _consume(self, events: Iterator[Any]) -> Any:
        from ruamel.yaml import events as ev

        stack: list[_Frame] = []
        root: Any = None
        documents = 0
        have_root = False

        def attach(value: Any, span: Span, frame: _Frame | None, style: str | None) -> None:
            nonlocal root, have_root
            if frame is not None:
                anchor, measure = frame.anchor, (frame.size, frame.chars, frame.height)
            else:  # a scalar: the current event
                anchor, measure = event.anchor, (1, len(event.value), 0)
            if anchor is not None:
                self._define_anchor(stack, anchor, value, measure)
            self._add_value(stack, value, span, style, measure)
            if not stack:
                root, have_root = value, True

        for event in events:
            if isinstance(event, ev.DocumentStartEvent):
                documents += 1
                self._document_start(event, documents)
            elif isinstance(event, (ev.MappingStartEvent, ev.SequenceStartEvent)):
                self._open(stack, event, isinstance(event, ev.MappingStartEvent))
            elif isinstance(event, (ev.MappingEndEvent, ev.SequenceEndEvent)):
                frame = stack.pop()
                attach(frame.value, self._span(frame.start, event.end_mark), frame, None)
            elif isinstance(event, ev.ScalarEvent):
                span = self._span(event.start_mark, event.end_mark)
                value = self._scalar(event, span)
                style = event.style if event.style is not None else ""
                self._count(1, len(event.value), event.start_mark)
                if stack and isinstance(stack[-1].value, dict) and stack[-1].pending_key is None:
                    self._take_key(stack[-1], value, span, event)
                    continue
                attach(value, span, None, style)
            elif isinstance(event, ev.AliasEvent):
                self._alias(stack, event.anchor, self._span(event.start_mark, event.end_mark))
        return self._root(root if have_root else None)

    def _document_start(self, event: Any, documents: int) -> None:
        if documents > 1:
            raise self._fatal(
                "PS111",
                "a spec is one YAML document; found a second one",
                self._span(event.start_mark),
                hint="move the other pipeline into its own file",
            )
        version = getattr(event, "version", None)
        if version is not None and tuple(version) != (1, 2):
            raise self._fatal(
                "PS108",
                f"YAML {'.'.join(map(str, version))} is not supported",
                self._span(event.start_mark),
                hint="pipespec reads YAML 1.2; remove the %YAML line",
            )

    def _open(self, stack: list[_Frame], event: Any, mapping: bool) -> None:
        self._check_tag(event, "map" if mapping else "seq")
        if len(stack) >= self.limits.max_depth:
            raise self._fatal(
                "PS107",
                f"nesting deeper than {self.limits.max_depth} levels",
                self._span(event.start_mark),
                hint="a pipeline spec never needs this depth; flatten the structure",
            )
        if stack and isinstance(stack[-1].value, dict) and stack[-1].pending_key is None:
            raise self._fatal(
                "PS113",
                "a mapping key must be a plain string, not a list or mapping",
                self._span(event.start_mark),
                hint="write the key as a string",
            )
        path = (*stack[-1].path, self._child_key(stack[-1])) if stack else ()
        container: dict[str, Any] | list[Any] = {} if mapping else []
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        stack.append(_Frame(container, path, event.start_mark, event.anchor))
        self._count(1, 0, event.start_mark)

    def _root(self, root: Any) -> Any:
        if root is None:
            raise self._fatal(
                "PS102",
                "the file holds no YAML document",
                Span(self.name, 1, 1),
                hint="run `pipespec init` to write a starter spec",
            )
        if not isinstance(root, dict):
            kind = "a list" if isinstance(root, list) else f"a {type(root).__name__} scalar"
            raise self._fatal(
                "PS110",
                f"the top level must be a mapping, not {kind}",
                self.source_map.span(()),
                hint="a spec starts with `pipespec: 1` and `name:`",
            )
        return root

    def _count(self, nodes: int, chars: int, mark: Any, alias: str | None = None) -> None:
        self.total_nodes += nodes
        self.total_chars += chars
        if self.total_nodes > self.limits.max_nodes:
            raise self._fatal(
                "PS106",
                f"the document expands to more than {self.limits.max_nodes} nodes",
                self._span(mark),
                hint="aliases (*name) multiply what they point at; use fewer nested aliases"
                if alias
                else f"split the pipeline, or {RAISE_SPEC_HINT}",
            )
        if self.total_chars > self.limits.max_expanded_chars:
            limit = format_size(self.limits.max_expanded_chars)
            raise self._fatal(
                "PS114",
                f"alias *{alias} makes the document's text larger than {limit}"
                if alias
                else f"the document's text is larger than {limit}",
                self._span(mark),
                hint="each alias repeats all the text of its anchor; repeat less, or "
                + RAISE_SPEC_HINT,
            )

    @staticmethod
    def _child_key(frame: _Frame) -> str | int:
        if isinstance(frame.value, list):
            return len(frame.value)
        assert frame.pending_key is not None
        return frame.pending_key

    def _take_key(self, frame: _Frame, key: Any, span: Span, event: Any) -> None:
        frame.chars += len(event.value)
        if event.tag is None and event.value == "<<" and (event.style or "") == "":
            self.diagnostics.append(
                Diagnostic(
                    "PS112",
                    "merge keys (<<) are not supported",
                    span,
                    hint="repeat the keys, or put shared values under `defaults:`",
                )
            )
        if not isinstance(key, str):
            self.diagnostics.append(
                Diagnostic(
                    "PS113",
                    f"mapping keys must be strings; {event.value!r} reads as {type_word(key)}",
                    span,
                    hint=f"quote it: '{event.value}'",
                )
            )
            key = str(event.value)
        first = frame.key_spans.get(key)
        if first is not None:
            self.diagnostics.append(
                Diagnostic(
                    "PS105",
                    f"duplicate key '{key}' (first defined at line {first.line}, col {first.col})",
                    span,
                    hint="remove one of them; YAML keeps only one value per key",
                    related=((first, f"'{key}' first defined here"),),
                )
            )
            # Build under a path of its own so the first value and its positions survive.
            frame.pending_discard = True
            key = f"\x00dup{len(frame.key_spans)}:{key}"
        frame.key_spans[key] = span
        frame.pending_key = key
        frame.pending_key_span = span

    def _set_info(self, path: NodePath, info: NodeInfo) -> None:
        self.source_map.nodes[path] = info

    def _add_value(
        self,
        stack: list[_Frame],
        value: Any,
        span: Span,
        style: str | None,
        measure: tuple[int, int, int],
    ) -> None:
        if not stack:
            self._set_info((), NodeInfo(span, None, style))
            return
        frame = stack[-1]
        size, chars, height = measure
        frame.size += size
        frame.chars += chars
        frame.height = max(frame.height, height + 1)
        if isinstance(frame.value, list):
            path = (*frame.path, len(frame.value))
            frame.value.append(value)
            self._set_info(path, NodeInfo(span, None, style))
            return
        key = frame.pending_key
        assert key is not None
        path = (*frame.path, key)
        if not frame.pending_discard:
            frame.value[key] = value
            self._set_info(path, NodeInfo(span, frame.pending_key_span, style))
        frame.pending_key = None
        frame.pending_key_span = None
        frame.pending_discard = False

    def _define_anchor(
        self,
        stack: list[_Frame],
        anchor: str,
        value: Any,
        measure: tuple[int, int, int],
    ) -> None:
        path = (*stack[-1].path, self._child_key(stack[-1])) if stack else ()
        size, chars, height = measure
        self.anchors[anchor] = _Anchor(value, path, size, chars, height)
        self.open_anchors.discard(anchor)

    def _alias(self, stack: list[_Frame], name: str, span: Span) -> None:
        if name in self.open_anchors:
            raise self._fatal(
                "PS106", f"alias *{name} refers to itself", span, hint="remove the recursion"
            )
        anchor = self.anchors.get(name)
        if anchor is None:  # pragma: no cover - the parser rejects these first
            raise self._fatal("PS104", f"unknown alias *{name}", span)
        # Every budget is checked before the copy is made, so the work done is bounded.
        self._count(anchor.size, anchor.chars, _MarkAt(span), alias=name)
        if len(stack) + anchor.height > self.limits.max_depth:
            raise self._fatal(
                "PS107",
                f"alias *{name} nests the document deeper than {self.limits.max_depth} levels",
                span,
                hint="a pipeline spec never needs this depth; flatten the structure",
            )
        if stack and isinstance(stack[-1].value, dict) and stack[-1].pending_key is None:
            self.diagnostics.append(
                Diagnostic("PS113", "an alias cannot be a mapping key", span, hint="write the key")
            )
            stack[-1].pending_key = f"\x00dup-alias{span.line}:{span.col}"
            stack[-1].pending_discard = True
            return
        target = (*stack[-1].path, self._child_key(stack[-1])) if stack else ()
        # Positions inside the copy point at the anchored original; the copy itself at the alias.
        self.source_map.aliases[target] = anchor.path
        self._add_value(
            stack,
            _copy(anchor.value),
            span,
            None,
            (anchor.size, anchor.chars, anchor.height),
        )

    def _check_tag(self, event: Any, kind: str) -> None:
        tag = event.tag
        if tag in (None, "!", f"{CORE}{kind}"):
            return
        raise self._fatal(
            "PS109",
            f"tag {short_tag(tag)} is not allowed here",
            self._span(event.start_mark),
            hint="specs use plain YAML 1.2 values only; remove the tag",
        )

    def _scalar(self, event: Any, span: Span) -> Any:
        tag = event.tag
        if tag not in ALLOWED_TAGS or tag in (f"{CORE}map", f"{CORE}seq"):
            raise self._fatal(
                "PS109",
                f"tag {short_tag(tag)} is not allowed here",
                span,
                hint="specs use plain YAML 1.2 values only; remove the tag",
            )
        value: str = event.value
        plain = (event.style or "") == "" and bool(event.implicit[0])
        if (tag is None and not plain) or tag in ("!", f"{CORE}str"):
            return value
        resolved = resolve_plain(value)
        if tag is None:
            return resolved
        wanted = tag[len(CORE) :]
        if wanted == "float" and type(resolved) is int:
            return float(resolved)
        if type_word(resolved, yaml_name=True) != wanted:
            raise self._fatal(
                "PS109",
                f"{value!r} is not a valid !!{wanted}",
                span,
                hint="remove the tag",
            )
        return resolved


def _copy(value: Any) -> Any:
    """A fresh copy of loaded data (dicts, lists, immutable scalars): deepcopy without memo."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _char_at(text: str, span: Span) -> str:
    lines = text.split("\n", span.line)
    if len(lines) < span.line:
        return ""
    line = lines[span.line - 1]
    return line[span.col - 1] if 0 < span.col <= len(line) else ""


@dataclass(frozen=True)
class _MarkAt:
    """Stands in for a parser mark when only a span is known."""

    span: Span

    @property
    def line(self) -> int:
        return self.span.line - 1

    @property
    def column(self) -> int:
        return self.span.col - 1
