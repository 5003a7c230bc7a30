"""The target-neutral IR: what every backend sees, and nothing else.

Frozen all the way down (tuples, not lists; ``FrozenMap`` for mappings), so a backend
cannot change what another one renders. Steps are topologically ordered, ties broken by
authoring order, so every backend emits steps in the same stable order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pipespec.diagnostics import Span
from pipespec.fill.scripts import Script
from pipespec.ir.features import Feature

# What backends may use of the rest of the package comes through here: the condition AST
# and the placeholder segments the IR carries, and the language features.
from pipespec.spec.conditions import (
    BoolOp,
    Compare,
    Expr,
    Literal,
    Not,
    Ref,
    condition_refs,
)
from pipespec.spec.references import (
    ArtifactRef,
    InputSource,
    LiteralUri,
    ParamRef,
    Placeholder,
    Segment,
    Text,
)

__all__ = [
    "ArtifactRef",
    "BoolOp",
    "Compare",
    "Expr",
    "Feature",
    "InputSource",
    "Literal",
    "LiteralUri",
    "Not",
    "ParamRef",
    "Placeholder",
    "Ref",
    "Script",
    "Segment",
    "Text",
    "condition_refs",
]


class FrozenMap(Mapping[str, Any]):
    """An immutable, hashable mapping that keeps its (authoring) key order."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: dict[str, Any] = {k: freeze(v) for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"

    def thaw(self) -> dict[str, Any]:
        return {k: thaw(v) for k, v in self._items.items()}


def freeze(value: Any) -> Any:
    if isinstance(value, FrozenMap):
        return value
    if isinstance(value, Mapping):
        return FrozenMap(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain JSON-like data again (dicts and lists), for emitters."""
    if isinstance(value, FrozenMap):
        return value.thaw()
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    description: str | None
    enum: tuple[Any, ...] | None = None  # allowed values, enforced when a run is triggered
    pattern: str | None = None  # a regular expression a string value must contain


@dataclass(frozen=True)
class SecretRef:
    """A named secret and how each platform finds it (no value, ever)."""

    name: str
    platforms: FrozenMap  # {"airflow": {"conn_id": ...}, "kubernetes": {...}, ...}


@dataclass(frozen=True)
class SecretUse:
    env: str
    secret: str


@dataclass(frozen=True)
class Input:
    name: str
    source: InputSource
    type: str  # dataset/model/metrics/artifact or a parameter type

    @property
    def upstream(self) -> str | None:
        return self.source.step if isinstance(self.source, ArtifactRef) else None


@dataclass(frozen=True)
class Output:
    name: str
    type: str


@dataclass(frozen=True)
class Resources:
    cpu: float | None
    memory_bytes: int | None
    gpu: int
    accelerator: str | None


@dataclass(frozen=True)
class Foreach:
    """Fan-out: over literal ``items``, a list ``param``, or a list output ``ref``."""

    items: tuple[Any, ...] | None = None
    param: str | None = None
    ref: ArtifactRef | None = None


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    description: str | None
    image: str | None
    command: tuple[tuple[Segment, ...], ...]  # argv; each argument split into text/placeholders
    script: Script | None  # a Python file run with `args` (instead of `command`)
    args: tuple[tuple[Segment, ...], ...]
    env: tuple[tuple[str, tuple[Segment, ...]], ...]
    secrets: tuple[SecretUse, ...]
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    upstream: tuple[str, ...]  # every direct dependency, in pipeline order
    after: tuple[str, ...]  # dependencies written in `after:`
    condition: Expr | None
    condition_text: str | None
    foreach: Foreach | None
    resources: Resources
    retries: int
    retry_delay_s: int | None
    timeout_s: int | None
    details: FrozenMap  # kind-specific fields: framework, endpoint, search_space, ...
    target_images: FrozenMap  # target -> image from the catalog, when no image was written
    target_overrides: FrozenMap  # per-target step settings, e.g. {"sagemaker": {...}}
    provenance: FrozenMap  # field -> "user" | "default" | "kind" | "catalog:..." | "llm:..."
    span: Span

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)

    @property
    def param_refs(self) -> tuple[str, ...]:
        return tuple(i.source.name for i in self.inputs if isinstance(i.source, ParamRef))


@dataclass(frozen=True)
class Pipeline:
    name: str
    description: str | None
    schedule: str | None
    params: tuple[Param, ...]
    secrets: tuple[SecretRef, ...]
    steps: tuple[Step, ...]  # topological order, ties broken by authoring order
    targets: FrozenMap  # target name -> its settings, as written
    # The spec's path relative to the output root (POSIX), the same from any working directory.
    source_file: str
    source_digest: str  # sha256 of the spec text

    def step(self, step_id: str) -> Step:
        return self._by_id[step_id]

    @cached_property
    def _by_id(self) -> dict[str, Step]:
        return {s.id: s for s in self.steps}

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        return tuple((u, s.id) for s in self.steps for u in s.upstream)
