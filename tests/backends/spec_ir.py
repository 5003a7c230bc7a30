"""A spec's IR for the shared-helper tests: through the real front end and lowering, so
the tests build on what every backend receives, not on hand-made IR."""

from __future__ import annotations

from pathlib import Path

from pipespec import ir
from pipespec.compiler.graph import build_graph
from pipespec.compiler.lower import lower
from pipespec.spec.loader import read_spec_file
from pipespec.spec.validate import validate_spec


def ir_of(tmp_path: Path, text: str) -> ir.Pipeline:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text)
    loaded, diags = read_spec_file(spec)
    assert loaded is not None, diags
    vspec, vdiags = validate_spec(loaded)
    pgraph, gdiags = build_graph(vspec)
    assert not [*diags, *vdiags, *gdiags], [*diags, *vdiags, *gdiags]
    return lower(vspec, pgraph)
