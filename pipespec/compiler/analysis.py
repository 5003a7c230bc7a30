"""What the front end found in one spec file: the loaded spec, its graph, its IR and the
diagnostics (pipespec.api.analyze_file fills it in; the graph printer reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipespec import ir
from pipespec.diagnostics import Diagnostic, has_errors

if TYPE_CHECKING:
    from pipespec.compiler.graph import PipelineGraph
    from pipespec.spec.loader import LoadedSpec


@dataclass
class Analysis:
    file: str
    loaded: LoadedSpec | None = None
    graph: PipelineGraph | None = None
    pipeline: ir.Pipeline | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: str | None = None  # the decoded text, even when it is not valid YAML

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def text(self) -> str | None:
        # A syntax error has no loaded spec but still gets a code frame from the text.
        return self.loaded.text if self.loaded else self.source


def display_path(path: Path) -> str:
    """The path as users see it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
