"""Safe YAML loading with a source map.

The spec is read with a byte cap (whatever the file is: a pipe or ``/dev/zero`` stops at
the cap too), decoded as UTF-8 and built into plain Python data by
:mod:`pipespec.spec.yaml_build` from ruamel.yaml's event stream: YAML 1.2 core-schema
scalars only, aliases expanded under node and text budgets, nesting bounded, and the line
and column of every node kept in a ``SourceMap``. The limits come from
:mod:`pipespec.limits` (defaults, ``--max-spec-bytes``, ``PIPESPEC_MAX_SPEC_BYTES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipespec import limits as run_limits
from pipespec.diagnostics import Diagnostic, Span
from pipespec.limits import MAX_DEPTH, RAISE_SPEC_HINT, LoadLimits, format_size
from pipespec.spec.source_map import NodeInfo, NodePath, SourceMap

# Re-exported: the rest of pipespec reads spec positions and limits from here.
__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "LoadLimits",
    "LoadedSpec",
    "NodeInfo",
    "NodePath",
    "SourceMap",
    "SourceText",
    "load_spec_bytes",
    "load_spec_source",
    "load_spec_text",
    "read_spec_file",
    "read_spec_source",
]

MAX_BYTES = run_limits.DEFAULT_MAX_SPEC_BYTES
MAX_NODES = LoadLimits().max_nodes


@dataclass
class LoadedSpec:
    file: str
    text: str
    data: dict[str, Any]
    source_map: SourceMap


@dataclass
class SourceText:
    """What reading a spec gave: the document if it loaded, and the text if it decoded
    (so a syntax error still gets a code frame)."""

    loaded: LoadedSpec | None
    diagnostics: list[Diagnostic]
    text: str | None = None


def default_limits() -> LoadLimits:
    """The load limits in force for this run (CLI option, else environment, else default)."""
    return run_limits.current().load


def read_spec_file(
    path: Path, display_name: str | None = None, limits: LoadLimits | None = None
) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    read = read_spec_source(path, display_name, limits)
    return read.loaded, read.diagnostics


def read_spec_source(
    path: Path, display_name: str | None = None, limits: LoadLimits | None = None
) -> SourceText:
    name = display_name if display_name is not None else str(path)
    limits = limits if limits is not None else default_limits()
    try:
        size = path.stat().st_size
        if path.is_file() and size > limits.max_bytes:
            return SourceText(None, [_size_diagnostic(name, f"{size} bytes", limits)])
        # st_size means nothing for a pipe or a device: read one byte past the cap, never
        # more, and let the length decide.
        with path.open("rb") as f:
            raw = f.read(limits.max_bytes + 1)
    except OSError as exc:
        return SourceText(
            None,
            [Diagnostic("PS100", f"cannot read the spec: {exc.strerror or exc}", Span(name, 1, 1))],
        )
    return load_spec_source(raw, name, limits)


def _size_diagnostic(name: str, size: str, limits: LoadLimits) -> Diagnostic:
    return Diagnostic(
        "PS103",
        f"the file is {size}; the limit is {format_size(limits.max_bytes)}",
        Span(name, 1, 1),
        hint=f"split the pipeline into smaller specs, or {RAISE_SPEC_HINT}",
    )


def load_spec_bytes(
    raw: bytes, name: str, limits: LoadLimits | None = None
) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    read = load_spec_source(raw, name, limits)
    return read.loaded, read.diagnostics


def load_spec_source(raw: bytes, name: str, limits: LoadLimits | None = None) -> SourceText:
    limits = limits if limits is not None else default_limits()
    if len(raw) > limits.max_bytes:
        # A capped read stops one byte past the limit: the true size is unknown.
        exact = len(raw) > limits.max_bytes + 1
        size = f"{len(raw)} bytes" if exact else f"more than {limits.max_bytes} bytes"
        return SourceText(None, [_size_diagnostic(name, size, limits)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        return SourceText(
            None,
            [
                Diagnostic(
                    "PS101",
                    f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
                    Span(name, line, col),
                    hint="save the file as UTF-8",
                )
            ],
        )
    text = text.removeprefix("\ufeff")
    loaded, diagnostics = load_spec_text(text, name, limits)
    return SourceText(loaded, diagnostics, text)


def load_spec_text(
    text: str, name: str, limits: LoadLimits | None = None
) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    from pipespec.spec.yaml_build import build

    limits = limits if limits is not None else default_limits()
    data, source_map, diagnostics = build(text, name, limits)
    if data is None:
        return None, diagnostics
    # Recoverable faults (a duplicate key, a non-string key) keep the document, so later
    # passes can report more problems in the same run.
    return LoadedSpec(name, text, data, source_map), diagnostics
