"""Runs the front-end stages on one spec file: load, validate, build and check, lower."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipespec import ir
from pipespec.compiler.graph import PipelineGraph
from pipespec.diagnostics import Diagnostic, Severity
from pipespec.spec.loader import LoadedSpec, LoadLimits, read_spec_source


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
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

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


def analyze_file(
    path: Path,
    limits: LoadLimits | None = None,
    *,
    fill: bool = False,
    locked: bool = False,
) -> Analysis:
    """Load, validate, check and lower one spec.

    ``fill=True`` completes underspecified steps from the lock file (and, unless
    ``locked``, from the deterministic catalog) before the graph is built; it never calls
    an LLM or the network. ``limits`` default to the run's (pipespec.limits.current()).
    """
    name = display_path(path)
    read = read_spec_source(path, name, limits)
    loaded = read.loaded
    analysis = Analysis(name, loaded, diagnostics=list(read.diagnostics), source=read.text)
    if loaded is None:
        return analysis
    # Validation imports pydantic and the models: only once the file has loaded.
    from pipespec.compiler.graph import build_graph
    from pipespec.compiler.lower import lower
    from pipespec.compiler.shell import shell_splice_warnings
    from pipespec.spec.validate import validate_spec

    vspec, vdiags = validate_spec(loaded)
    analysis.diagnostics.extend(vdiags)
    if not vspec.steps:
        return analysis
    fill_info = None
    if fill and vspec.spec is not None:
        from pipespec.fill.engine import apply_fill

        filled = apply_fill(vspec, locked=locked)
        analysis.diagnostics.extend(filled.diagnostics)
        vspec, fill_info = filled.vspec, filled.info
    graph, gdiags = build_graph(vspec)
    analysis.graph = graph
    analysis.diagnostics.extend(gdiags)
    analysis.diagnostics.extend(shell_splice_warnings(vspec))
    if analysis.ok and vspec.spec is not None:
        analysis.pipeline = lower(vspec, graph, fill_info)
    return analysis
