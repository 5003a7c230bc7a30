"""What the graph checks learn: the edges and, per step, the facts lowering needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pipespec.diagnostics import Span
from pipespec.fill.scripts import Script
from pipespec.spec import conditions
from pipespec.spec.references import InputSource, Placeholder, Segment

EdgeKind = Literal["data", "foreach", "condition", "after"]  # the IR's DepKind
EDGE_KINDS: tuple[EdgeKind, ...] = ("data", "foreach", "condition", "after")


@dataclass(frozen=True)
class Edge:
    upstream: str
    downstream: str
    why: EdgeKind
    span: Span
    output: str | None = None  # the upstream output read (None for `after:`)


@dataclass
class StepFacts:
    """What the checks learned about one step, for lowering to the IR."""

    inputs: dict[str, InputSource] = field(default_factory=dict)
    input_types: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    condition: conditions.Expr | None = None
    command: tuple[tuple[Segment, ...], ...] = ()
    script: Script | None = None  # read once, here: lowering and every backend share it
    args: tuple[tuple[Segment, ...], ...] = ()
    env: tuple[tuple[str, tuple[Segment, ...]], ...] = ()
    foreach: InputSource | tuple[Any, ...] | None = None
    kind: str = ""  # the step kind (which outputs the target writes itself)

    @property
    def runs_something(self) -> bool:
        return bool(self.command) or self.script is not None

    @property
    def named_outputs(self) -> set[str]:
        """The outputs the step's command, args or env name as ``${outputs.X}``."""
        values = (*self.command, *self.args, *(value for _, value in self.env))
        return {
            str(seg.name)
            for value in values
            for seg in value
            if isinstance(seg, Placeholder) and seg.root == "outputs"
        }
