"""References (``ingest.raw``, ``params.min_auc``) and ``${...}`` placeholders.

Both grammars are tiny and exact; they are parsed here once, so the graph checks and every
backend agree on what a string means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEGMENT = r"[a-z][a-z0-9_-]*"
_IDENT = r"[a-z_][a-z0-9_]*"
_STEP_OUTPUT = re.compile(rf"^({_SEGMENT})\.({_IDENT})$")
_PARAM = re.compile(rf"^params\.({_IDENT})$")
_URI = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")


@dataclass(frozen=True)
class ArtifactRef:
    step: str
    output: str

    def __str__(self) -> str:
        return f"{self.step}.{self.output}"


@dataclass(frozen=True)
class ParamRef:
    name: str

    def __str__(self) -> str:
        return f"params.{self.name}"


@dataclass(frozen=True)
class LiteralUri:
    uri: str

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class OneOf:
    """An input taken from whichever of these outputs was produced: they are on exclusive
    branches, so exactly one exists when the reading step runs (KFP dsl.OneOf)."""

    sources: tuple[ArtifactRef, ...]

    def __str__(self) -> str:
        return "one_of(" + ", ".join(str(s) for s in self.sources) + ")"


InputSource = ArtifactRef | ParamRef | LiteralUri | OneOf


class BadReference(ValueError):
    """A string that is not a valid input reference; ``hint`` says what is."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def parse_input(value: str) -> InputSource:
    """``<step>.<output>``, ``params.<name>``, or a literal URI / absolute path."""
    if value.startswith("params."):
        m = _PARAM.match(value)
        if not m:
            raise BadReference(f"{value!r} is not a valid param reference", "write params.NAME")
        return ParamRef(m.group(1))
    if _URI.match(value) or (value.startswith("/") and not any(c.isspace() for c in value)):
        return LiteralUri(value)
    m = _STEP_OUTPUT.match(value)
    if m:
        return ArtifactRef(m.group(1), m.group(2))
    hint = "write <step>.<output>, params.<name>, or a URI such as s3://bucket/key"
    raise BadReference(f"{value!r} is not a reference", hint)


# --- placeholders -----------------------------------------------------------------------

# `hyperparameters` is one trial's value of a tune step's search dimension (a tune step only).
PLACEHOLDER_ROOTS = ("inputs", "outputs", "params", "hyperparameters")
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_NAME = re.compile(rf"^{_IDENT}$")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Placeholder:
    """``${inputs.data}`` and friends; ``root`` is inputs/outputs/params/hyperparameters/item."""

    root: str
    name: str | None
    offset: int
    length: int

    def __str__(self) -> str:
        return "${" + self.root + (f".{self.name}" if self.name else "") + "}"


Segment = Text | Placeholder


@dataclass(frozen=True)
class PlaceholderIssue:
    offset: int
    length: int
    message: str
    hint: str | None


def split_placeholders(value: str) -> tuple[list[Segment], list[PlaceholderIssue]]:
    """Split a command or env string into literal text and pipespec placeholders.

    ``$${`` is a literal ``${``. A ``${...}`` whose root is not pipespec's (a shell variable
    such as ``${HOME}``) passes through as text, unless it is a near miss of a pipespec root
    (``${input.data}``), which is reported instead of being passed on silently.
    """
    import difflib

    segments: list[Segment] = []
    issues: list[PlaceholderIssue] = []
    buffer: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(value):
        buffer.append(value[pos : m.start()])
        pos = m.end()
        if m.group(0) == "$${":
            buffer.append("${")
            continue
        body = m.group(1)
        root, _, name = body.partition(".")
        if body == "item" or (root == "item" and _NAME.match(name)):
            # ${item} is the whole fan-out item; ${item.KEY} one value of a mapping item.
            _flush(buffer, segments)
            segments.append(Placeholder("item", name or None, m.start(), len(m.group(0))))
            continue
        if root in PLACEHOLDER_ROOTS and _NAME.match(name):
            _flush(buffer, segments)
            segments.append(Placeholder(root, name, m.start(), len(m.group(0))))
            continue
        if root in PLACEHOLDER_ROOTS:
            issues.append(
                PlaceholderIssue(
                    m.start(),
                    len(m.group(0)),
                    f"placeholder ${{{body}}} needs a name: ${{{root}.NAME}}",
                    None,
                )
            )
            buffer.append(m.group(0))
            continue
        close = difflib.get_close_matches(root, [*PLACEHOLDER_ROOTS, "item"], n=1, cutoff=0.7)
        if close and (name or close[0] == "item") and root.lower() == root:
            fixed = close[0] + (f".{name}" if name else "")
            issues.append(
                PlaceholderIssue(
                    m.start(),
                    len(m.group(0)),
                    f"unknown placeholder ${{{body}}}",
                    f"did you mean ${{{fixed}}}? (write $${{ for a literal ${{)",
                )
            )
        buffer.append(m.group(0))
    buffer.append(value[pos:])
    _flush(buffer, segments)
    return segments, issues


def _flush(buffer: list[str], segments: list[Segment]) -> None:
    text = "".join(buffer)
    buffer.clear()
    if text:
        segments.append(Text(text))
