"""Safe YAML loading with a source map.

The spec is read from ruamel.yaml's event stream (the C parser when available) and built
into plain Python data by hand. Doing the construction ourselves is what makes loading
safe and precise: YAML 1.2 core-schema scalars only (``no`` stays a string), no tags
beyond the core ones, duplicate keys reported at both places, aliases expanded under a
budget (a "billion laughs" document stops at the budget, not at the end of memory),
nesting bounded, and the line and column of every node kept in a ``SourceMap``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipespec.diagnostics import Diagnostic, Span

NodePath = tuple[str | int, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {
    None,
    "!",
    f"{_CORE}str",
    f"{_CORE}int",
    f"{_CORE}float",
    f"{_CORE}bool",
    f"{_CORE}null",
    f"{_CORE}map",
    f"{_CORE}seq",
}

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
# Longer integers than int() converts read as floats (inf), which validation reports (PS213).
_INT10 = re.compile(r"^[-+]?[0-9]{1,4300}$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


@dataclass(frozen=True)
class NodeInfo:
    """Where a node is: its value's span, its key's span (for mapping values), its style."""

    span: Span
    key_span: Span | None = None
    style: str | None = None  # scalar style: "" plain, "'" or '"' quoted, "|" or ">" block


@dataclass
class SourceMap:
    file: str
    nodes: dict[NodePath, NodeInfo] = field(default_factory=dict)

    def info(self, path: NodePath) -> NodeInfo | None:
        return self.nodes.get(tuple(path))

    def span(self, path: NodePath) -> Span:
        """The span of the node at ``path``, or of its nearest ancestor that exists."""
        p = tuple(path)
        while p:
            info = self.nodes.get(p)
            if info is not None:
                return info.span
            p = p[:-1]
        info = self.nodes.get(())
        return info.span if info else Span(self.file, 1, 1)

    def key_span(self, path: NodePath) -> Span:
        """The span of the key that names ``path`` (falls back to the value's span)."""
        info = self.nodes.get(tuple(path))
        if info is not None and info.key_span is not None:
            return info.key_span
        return self.span(path)


@dataclass
class LoadedSpec:
    file: str
    text: str
    data: dict[str, Any]
    source_map: SourceMap


@dataclass(frozen=True)
class LoadLimits:
    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_nodes: int = MAX_NODES


class _Stop(Exception):
    """Aborts loading after a fatal diagnostic (the document cannot be built)."""


def read_spec_file(
    path: Path, display_name: str | None = None, limits: LoadLimits = LoadLimits()
) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    name = display_name if display_name is not None else str(path)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            return None, [_size_diagnostic(name, size, limits)]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [
            Diagnostic("PS100", f"cannot read the spec: {exc.strerror or exc}", Span(name, 1, 1))
        ]
    return load_spec_bytes(raw, name, limits)


def _size_diagnostic(name: str, size: int, limits: LoadLimits) -> Diagnostic:
    return Diagnostic(
        "PS103",
        f"the file is {size} bytes; the limit is {limits.max_bytes} bytes",
        Span(name, 1, 1),
        hint="split the pipeline into smaller specs",
    )


def load_spec_bytes(
    raw: bytes, name: str, limits: LoadLimits = LoadLimits()
) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    if len(raw) > limits.max_bytes:
        return None, [_size_diagnostic(name, len(raw), limits)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        return None, [
            Diagnostic(
                "PS101",
                f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
                Span(name, line, col),
                hint="save the file as UTF-8",
            )
        ]
    return load_spec_text(text.removeprefix("\ufeff"), name, limits)


def load_spec_text(
    text: str, name: str, limits: LoadLimits = LoadLimits()
) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    builder = _Builder(name, limits)
    try:
        data = builder.build(text)
    except _Stop:
        return None, builder.diagnostics
    # Recoverable faults (a duplicate key, a non-string key) keep the document, so later
    # passes can report more problems in the same run.
    assert isinstance(data, dict)
    return LoadedSpec(name, text, data, builder.source_map), builder.diagnostics


def _events(text: str) -> Iterator[Any]:
    from ruamel.yaml import YAML

    try:
        yaml = YAML(typ="safe", pure=False)
    except Exception:  # pragma: no cover - no C extension on this interpreter
        yaml = YAML(typ="safe", pure=True)
    yield from yaml.parse(text)


@dataclass
class _Frame:
    """A container being built: its value, where it started, and (for mappings) the key."""

    value: dict[str, Any] | list[Any]
    path: NodePath
    start: Any
    anchor: str | None
    size: int = 1
    pending_key: str | None = None
    pending_key_span: Span | None = None
    key_spans: dict[str, Span] = field(default_factory=dict)


class _Builder:
    def __init__(self, name: str, limits: LoadLimits) -> None:
        self.name = name
        self.limits = limits
        self.diagnostics: list[Diagnostic] = []
        self.source_map = SourceMap(name)
        self.anchors: dict[str, tuple[Any, int, NodePath]] = {}
        self.open_anchors: set[str] = set()
        self.total_nodes = 0

    def _span(self, start: Any, end: Any | None = None) -> Span:
        if end is None:
            return Span(self.name, start.line + 1, start.column + 1)
        return Span(self.name, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def _fatal(self, code: str, message: str, span: Span, hint: str | None = None) -> _Stop:
        self.diagnostics.append(Diagnostic(code, message, span, hint))
        return _Stop()

    def build(self, text: str) -> Any:
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        try:
            return self._consume(_events(text))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            span = self._span(mark) if mark is not None else Span(self.name, 1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            if "incompatible YAML document" in problem:
                raise self._fatal(
                    "PS108",
                    "unsupported YAML version directive",
                    span,
                    hint="pipespec reads YAML 1.2; remove the %YAML line",
                ) from None
            context = f" ({exc.context})" if exc.context and exc.problem else ""
            raise self._fatal("PS104", f"{problem}{context}", span) from None
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

    def _consume(self, events: Iterator[Any]) -> Any:
        from ruamel.yaml import events as ev

        stack: list[_Frame] = []
        root: Any = None
        documents = 0
        have_root = False

        def attach(
            value: Any, span: Span, size: int, style: str | None, anchor: str | None
        ) -> None:
            nonlocal root, have_root
            if anchor is not None:
                path = (*stack[-1].path, self._child_key(stack[-1])) if stack else ()
                self.anchors[anchor] = (value, size, path)
                self.open_anchors.discard(anchor)
            self._add_value(stack, value, span, size, style)
            if not stack:
                root, have_root = value, True

        for event in events:
            if isinstance(event, ev.DocumentStartEvent):
                documents += 1
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
            elif isinstance(event, (ev.MappingStartEvent, ev.SequenceStartEvent)):
                self._check_tag(event, "map" if isinstance(event, ev.MappingStartEvent) else "seq")
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
                container: dict[str, Any] | list[Any] = (
                    {} if isinstance(event, ev.MappingStartEvent) else []
                )
                if event.anchor is not None:
                    self.open_anchors.add(event.anchor)
                stack.append(_Frame(container, path, event.start_mark, event.anchor))
                self._count(1, event.start_mark)
            elif isinstance(event, (ev.MappingEndEvent, ev.SequenceEndEvent)):
                frame = stack.pop()
                span = self._span(frame.start, event.end_mark)
                attach(frame.value, span, frame.size, None, frame.anchor)
            elif isinstance(event, ev.ScalarEvent):
                span = self._span(event.start_mark, event.end_mark)
                value = self._scalar(event, span)
                style = event.style if event.style is not None else ""
                self._count(1, event.start_mark)
                if stack and isinstance(stack[-1].value, dict) and stack[-1].pending_key is None:
                    self._take_key(stack[-1], value, span, event)
                    continue
                attach(value, span, 1, style, event.anchor)
            elif isinstance(event, ev.AliasEvent):
                span = self._span(event.start_mark, event.end_mark)
                self._alias(stack, event.anchor, span)
        if not have_root or root is None:
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

    def _count(self, n: int, mark: Any) -> None:
        self.total_nodes += n
        if self.total_nodes > self.limits.max_nodes:
            raise self._fatal(
                "PS106",
                f"the document expands to more than {self.limits.max_nodes} nodes",
                self._span(mark),
                hint="aliases (*name) multiply what they point at; use fewer nested aliases",
            )

    @staticmethod
    def _child_key(frame: _Frame) -> str | int:
        if isinstance(frame.value, list):
            return len(frame.value)
        assert frame.pending_key is not None
        return frame.pending_key

    def _take_key(self, frame: _Frame, key: Any, span: Span, event: Any) -> None:
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
                    f"mapping keys must be strings; {event.value!r} reads as {_type_word(key)}",
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
            # Build into a throwaway name so the first value and its positions survive.
            key = f"\x00dup{len(frame.key_spans)}:{key}"
        frame.key_spans[key] = span
        frame.pending_key = key
        frame.pending_key_span = span

    def _add_value(
        self, stack: list[_Frame], value: Any, span: Span, size: int, style: str | None
    ) -> None:
        if not stack:
            self.source_map.nodes[()] = NodeInfo(span, None, style)
            return
        frame = stack[-1]
        frame.size += size
        if isinstance(frame.value, list):
            path = (*frame.path, len(frame.value))
            frame.value.append(value)
            self.source_map.nodes[path] = NodeInfo(span, None, style)
            return
        key = frame.pending_key
        assert key is not None
        path = (*frame.path, key)
        if not key.startswith("\x00dup"):
            frame.value[key] = value
            self.source_map.nodes[path] = NodeInfo(span, frame.pending_key_span, style)
        frame.pending_key = None
        frame.pending_key_span = None

    def _alias(self, stack: list[_Frame], anchor: str, span: Span) -> None:
        if anchor in self.open_anchors:
            raise self._fatal(
                "PS106", f"alias *{anchor} refers to itself", span, hint="remove the recursion"
            )
        if anchor not in self.anchors:  # pragma: no cover - the parser rejects these first
            raise self._fatal("PS104", f"unknown alias *{anchor}", span)
        value, size, anchor_path = self.anchors[anchor]
        self._count(size, _MarkAt(span))
        if stack and isinstance(stack[-1].value, dict) and stack[-1].pending_key is None:
            self.diagnostics.append(
                Diagnostic("PS113", "an alias cannot be a mapping key", span, hint="write the key")
            )
            stack[-1].pending_key = f"\x00dup-alias{span.line}:{span.col}"
            return
        target = (*stack[-1].path, self._child_key(stack[-1])) if stack else ()
        # Positions inside the copy point at the anchored original; the copy itself at the alias.
        n = len(anchor_path)
        for path, info in list(self.source_map.nodes.items()):
            if len(path) > n and path[:n] == anchor_path:
                self.source_map.nodes[target + path[n:]] = info
        self._add_value(stack, copy.deepcopy(value), span, size, None)

    def _check_tag(self, event: Any, kind: str) -> None:
        tag = event.tag
        if tag in (None, "!", f"{_CORE}{kind}"):
            return
        raise self._fatal(
            "PS109",
            f"tag {_short_tag(tag)} is not allowed here",
            self._span(event.start_mark),
            hint="specs use plain YAML 1.2 values only; remove the tag",
        )

    def _scalar(self, event: Any, span: Span) -> Any:
        tag = event.tag
        if tag not in _ALLOWED_TAGS or tag in (f"{_CORE}map", f"{_CORE}seq"):
            raise self._fatal(
                "PS109",
                f"tag {_short_tag(tag)} is not allowed here",
                span,
                hint="specs use plain YAML 1.2 values only; remove the tag",
            )
        value: str = event.value
        plain = (event.style or "") == "" and bool(event.implicit[0])
        if (tag is None and not plain) or tag in ("!", f"{_CORE}str"):
            return value
        resolved = _resolve_plain(value)
        if tag is None:
            return resolved
        wanted = tag[len(_CORE) :]
        if wanted == "float" and type(resolved) is int:
            return float(resolved)
        if _type_word(resolved, yaml_name=True) != wanted:
            raise self._fatal(
                "PS109",
                f"{value!r} is not a valid !!{wanted}",
                span,
                hint="remove the tag",
            )
        return resolved


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


_MAYBE_NOT_STR = frozenset("0123456789+-.~nNtTfF")


def _resolve_plain(value: str) -> Any:
    if value and value[0] not in _MAYBE_NOT_STR:
        return value  # no core-schema null, bool, int or float starts otherwise
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT10.match(value):
        return int(value)
    if _INT8.match(value):
        return int(value[2:], 8)
    if _INT16.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.match(value):
        return math.nan
    return value


def _type_word(value: Any, *, yaml_name: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool" if yaml_name else "a boolean"
    if isinstance(value, int):
        return "int" if yaml_name else "an integer"
    if isinstance(value, float):
        return "float" if yaml_name else "a number"
    return "str" if yaml_name else "a string"


def _short_tag(tag: str | None) -> str:
    if tag and tag.startswith(_CORE):
        return "!!" + tag[len(_CORE) :]
    return str(tag)
