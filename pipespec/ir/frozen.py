"""Immutable values for the IR: ``FrozenMap``, ``Record`` and the freeze/thaw pair."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any


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


class Record(Mapping[str, Any]):
    """A frozen dataclass that also reads as the mapping of its set fields.

    Subclasses are ``@dataclass(frozen=True)``; a field that is ``None`` is absent from the
    mapping, and so is one the compiler derives (``metadata={"derived": True}``): the
    mapping is what the spec wrote. Code that only lists or dumps fields (``thaw``,
    ``explain``) needs no type.
    """

    __slots__ = ()

    def _names(self) -> tuple[str, ...]:
        return tuple(
            f.name
            for f in fields(self)  # type: ignore[arg-type]
            if not f.metadata.get("derived")
        )

    def __getitem__(self, key: str) -> Any:
        value = getattr(self, key) if key in self._names() else None
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._names() if getattr(self, name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def freeze(value: Any) -> Any:
    if isinstance(value, (FrozenMap, Record)):
        return value
    if isinstance(value, Mapping):
        return FrozenMap(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain JSON-like data again (dicts and lists), for emitters.

    Any mapping thaws, so the typed kind details (records that read as the mapping of
    their set fields) dump as the fields the spec wrote.
    """
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value
