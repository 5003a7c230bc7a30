"""Runs the front-end stages on one spec file: load, validate, build and check, lower."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipespec.compiler import ir
from pipespec.compiler.graph import PipelineGraph
from pipespec.diagnostics import Diagnostic, Severity
from pipespec.spec.loader import LoadedSpec, LoadLimits, read_spec_file


@dataclass
class Analysis:
    file: str
    loaded: LoadedSpec | None = None
    graph: PipelineGraph | None = None
    pipeline: ir.Pipeline | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def text(self) -> str | None:
        return self.loaded.text if self.loaded else None


def display_path(path: Path) -> str:
    """The path as users see it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


_DEFAULT_LIMITS = LoadLimits()


def analyze_file(
    path: Path,
    limits: LoadLimits = _DEFAULT_LIMITS,
    *,
    fill: bool = False,
    locked: bool = False,
) -> Analysis:
    """Load, validate, check and lower one spec.

    ``fill=True`` completes underspecified steps from the lock file (and, unless
    ``locked``, from the deterministic catalog) before the graph is built; it never calls
    an LLM or the network.
    """
    name = display_path(path)
    loaded, diags = read_spec_file(path, name, limits)
    analysis = Analysis(name, loaded, diagnostics=list(diags))
    if loaded is None:
        return analysis
    # Validation imports pydantic and the models: only once the file has loaded.
    from pipespec.compiler.graph import build_graph
    from pipespec.compiler.lower import lower
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
    if analysis.ok and vspec.spec is not None:
        analysis.pipeline = lower(vspec, graph, fill_info)
    return analysis
