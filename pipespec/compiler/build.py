"""compile and check: from spec files to generated files, for one or more targets.

Everything is rendered in memory first; files are written (atomically) only when no spec
has an error, so a failed run leaves earlier outputs untouched.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipespec.compiler.driver import Analysis, analyze_file
from pipespec.diagnostics import Diagnostic, Severity


@dataclass
class BuildResult:
    analyses: list[Analysis]
    diagnostics: list[Diagnostic]
    outputs: dict[Path, dict[str, str]] = field(default_factory=dict)  # root -> files
    owned: dict[Path, list[str]] = field(default_factory=dict)  # root -> owned globs

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def output_root(spec: Path, out: Path | None) -> Path:
    """Default layout: ``generated/`` beside the spec; ``--out DIR`` replaces it."""
    return out if out is not None else spec.parent / "generated"


def spec_from_root(spec: Path, root: Path) -> str:
    """The spec's path relative to the output root: what generated files name as their
    source. It depends on where the two are, never on the working directory."""
    return Path(os.path.relpath(spec.resolve(), root.resolve())).as_posix()


def resolve_targets(requested: str) -> tuple[list[str], list[Diagnostic]]:
    from pipespec.backends import available

    known = sorted(available())
    names = [t.strip() for t in requested.split(",") if t.strip()]
    if names == ["all"]:
        return known, []
    diags = []
    for name in names:
        if name not in known:
            from pipespec.diagnostics import did_you_mean

            diags.append(
                Diagnostic(
                    "PS601",
                    f"unknown target '{name}'",
                    None,
                    did_you_mean(name, known) or f"targets: {', '.join(known)}, all",
                )
            )
    return names, diags


def build(
    specs: list[Path], targets: list[str], out: Path | None, *, locked: bool = False
) -> BuildResult:
    with no_cyclic_gc():
        return _build(specs, targets, out, locked=locked)


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for one compile.

    A compile allocates many small objects (nodes, models, IR) that all live until it
    ends; collection passes over them find nothing to free and, at 1,000 steps, cost about
    half of the run (benchmarks/README.md). Reference counting still frees as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(specs: list[Path], targets: list[str], out: Path | None, *, locked: bool) -> BuildResult:
    from pipespec import backends, limits
    from pipespec.compiler.budget import OutputBudget
    from pipespec.compiler.complete import check_complete

    analyses = [analyze_file(p, fill=True, locked=locked) for p in specs]
    budget = OutputBudget(limits.current())
    result = BuildResult(analyses, [d for a in analyses for d in a.diagnostics])
    seen: dict[tuple[Path, str], str] = {}
    for spec, analysis in zip(specs, analyses, strict=False):
        if analysis.pipeline is None:
            continue
        incomplete = check_complete(analysis.pipeline)
        result.diagnostics.extend(incomplete)
        if incomplete:
            continue
        root = output_root(spec, out)
        files = result.outputs.setdefault(root, {})
        owned = result.owned.setdefault(root, [])
        pipeline = dataclasses.replace(analysis.pipeline, source_file=spec_from_root(spec, root))
        # Refuse what is sure to be too big before rendering it; then count what was.
        over = budget.precheck(analysis.file, pipeline)
        for target in targets if over is None else ():
            rendered = backends.load(target).render(pipeline)
            result.diagnostics.extend(rendered.diagnostics)
            over = budget.add(analysis.file, pipeline, rendered.files)
            if over is not None:
                break
            owned.append(f"{target}/{analysis.pipeline.name}")
            for rel, text in rendered.files.items():
                key = (root, rel)
                if key in seen and seen[key] != analysis.file:
                    result.diagnostics.append(
                        Diagnostic(
                            "PS601",
                            f"{analysis.file} and {seen[key]} both generate {rel}",
                            analysis.pipeline.steps[0].span,
                            "give the pipelines different names, or compile to different --out",
                        )
                    )
                seen[key] = analysis.file
                files[rel] = text
        if over is not None:
            result.diagnostics.append(over)
            if over.code == "PS604":
                break  # the run is over its limit: render no more
    return result
