"""pipespec as a library: the one module that runs the stages, for the CLI and for callers.

load -> validate -> fill (from the lock) -> build and check the graph -> lower -> render ->
write. Each function returns its diagnostics in a result and never prints or exits: the
CLI (pipespec/cli.py) renders them and chooses the exit code. This module sits above the
backends and the output folder and may import every room below it; nothing below imports
it (the import-linter contract in pyproject.toml).

- ``analyze`` / ``analyze_file``: the front end for spec files (``pipespec validate``);
- ``compile``: render every spec for every target in memory, then write all or nothing;
- ``check``: the same renders, compared with what is on disk;
- ``fill``: complete underspecified steps (catalog, then an LLM) and write the lock files.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipespec import ir

# Which targets a run compiles for (re-exported: the CLI and library users import them here).
from pipespec.api.targets import AllTargets as AllTargets
from pipespec.api.targets import configured_targets as configured_targets
from pipespec.api.targets import resolve_targets as resolve_targets
from pipespec.api.targets import unknown_targets as unknown_targets
from pipespec.backends.layout import (  # the layout, defined once
    output_root,
    output_stem,
    spec_from_root,
)

# Re-exported: a library user's names (`from pipespec.api import Analysis`).
from pipespec.compiler.analysis import Analysis as Analysis
from pipespec.compiler.analysis import display_path as display_path
from pipespec.diagnostics import Diagnostic, Severity, has_errors
from pipespec.spec.loader import LoadLimits, read_spec_source

if TYPE_CHECKING:
    from pipespec.api.filling import FillReport
    from pipespec.backends import RenderResult
    from pipespec.compiler.budget import OutputBudget
    from pipespec.fill.llm import ProgressCallback
    from pipespec.spec.validate import ValidatedSpec


# --- the front end: one spec file -------------------------------------------------------


def _load_and_validate(
    path: Path, limits: LoadLimits | None
) -> tuple[Analysis, ValidatedSpec | None]:
    """The first two stages, shared by every command: the analysis so far and the
    validated spec (None when the file did not load)."""
    name = display_path(path)
    read = read_spec_source(path, name, limits)
    analysis = Analysis(name, read.loaded, diagnostics=list(read.diagnostics), source=read.text)
    if read.loaded is None:
        return analysis, None
    # Validation imports pydantic and the models: only once the file has loaded.
    from pipespec.spec.validate import validate_spec

    vspec, vdiags = validate_spec(read.loaded)
    analysis.diagnostics.extend(vdiags)
    return analysis, vspec


def analyze_file(
    path: Path,
    limits: LoadLimits | None = None,
    *,
    fill: bool = False,
    locked: bool = False,
    targets: Sequence[str] | None = None,
) -> Analysis:
    """Load, validate, check and lower one spec.

    ``fill=True`` completes underspecified steps from the lock file (and, unless
    ``locked``, from the deterministic catalog) before the graph is built; it never calls
    an LLM or the network. ``limits`` default to the run's (pipespec.limits.current()).
    ``targets``: whose ``targets.<name>`` blocks to check (None: every installed target's).
    """
    analysis, vspec = _load_and_validate(path, limits)
    if analysis.loaded is not None:
        from pipespec.target_options import check_blocks

        analysis.diagnostics.extend(check_blocks(analysis.loaded, targets))
    if vspec is None or not vspec.steps:
        return analysis
    from pipespec.compiler.graph import build_graph
    from pipespec.compiler.lower import lower
    from pipespec.compiler.shell import shell_splice_warnings

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
    from pipespec.compiler.contracts import contract_checks

    # Its warnings (declared, never used) only on a spec without errors: noise before then.
    analysis.diagnostics.extend(contract_checks(vspec, graph, fill_info, warn=analysis.ok))
    if analysis.ok and vspec.spec is not None:
        analysis.pipeline = lower(vspec, graph, fill_info)
    return analysis


def analyze(
    paths: Sequence[Path],
    *,
    fill: bool = False,
    locked: bool = False,
    targets: Sequence[str] | None = None,
) -> list[Analysis]:
    """``analyze_file`` for each spec, in order."""
    return [analyze_file(p, fill=fill, locked=locked, targets=targets) for p in paths]


# --- targets and output folders ---------------------------------------------------------


def recover_folders(specs: Sequence[Path], out: Path | None) -> list[Diagnostic]:
    """Finish or undo what an interrupted compile or fill left in the folders of this run
    (before their lock files and outputs are read)."""
    from pipespec.output import recover

    folders = [p for s in specs for p in (s.parent, output_root(s, out))]
    return [p.diagnostic() for p in recover(folders)]


# --- compile and check: every spec, every target, in memory first ------------------------


@dataclass
class BuildResult:
    analyses: list[Analysis]
    diagnostics: list[Diagnostic]
    outputs: dict[Path, dict[str, str]] = field(default_factory=dict)  # root -> files
    owned: dict[Path, list[str]] = field(default_factory=dict)  # root -> owned globs

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


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


def build(
    specs: Sequence[Path],
    targets: Sequence[str],
    out: Path | None,
    *,
    locked: bool = False,
    strict: bool = False,
    today: datetime.date | None = None,
) -> BuildResult:
    """Analyze, check and render every spec for every target, in memory; write nothing.
    ``strict``: every warning counts as an error (so nothing is written). ``today``: the
    date images' end of support is checked against (None: ``PIPESPEC_TODAY``, else the
    machine's date; an invalid ``PIPESPEC_TODAY`` is the PS617 error and nothing is built)."""
    if today is None:
        from pipespec.compiler.support import run_date

        when = run_date()
        if isinstance(when, Diagnostic):
            return BuildResult([], [when])
        today = when
    with no_cyclic_gc():
        result = _build(specs, targets, out, locked=locked, today=today)
    if strict:
        result.diagnostics = as_errors(result.diagnostics)
    return result


def as_errors(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """``--strict``: the same diagnostics, warnings made errors."""
    return [
        dataclasses.replace(d, severity=Severity.ERROR) if d.severity is Severity.WARNING else d
        for d in diagnostics
    ]


def native_steps(target: str, pipeline: ir.Pipeline) -> Callable[[ir.Step], bool]:
    """Which steps ``target`` runs as its own services (needing no image or command).
    The backend is loaded only when a step falls short: most specs never ask."""
    from functools import cache

    from pipespec.backends import BackendError
    from pipespec.target_options import backend, options_for

    @cache
    def decide() -> Callable[[ir.Step], bool]:
        try:
            chosen = backend(target)
        except BackendError:
            return lambda step: False  # render_target reports the broken backend
        options = options_for(chosen, pipeline)
        return lambda step: chosen.runs_natively(step, options)

    def runs_natively(step: ir.Step) -> bool:
        return decide()(step)

    return runs_natively


def render_target(target: str, pipeline: ir.Pipeline) -> RenderResult:
    """The one place a backend is loaded and renders a pipeline: once per spec and target.

    Checks that depend on the target (its options, its capabilities) belong here: the
    portability diagnostics (PS605/PS606) come first, and an unsupported feature stops
    the render.
    """
    from pipespec.backends import BackendError, RenderResult, portability
    from pipespec.target_options import backend, broken_backend, options_for

    try:
        chosen = backend(target)
    except BackendError as exc:
        return RenderResult({}, [broken_backend(exc, pipeline.steps[0].span)])
    options = options_for(chosen, pipeline)
    diags = portability.check(pipeline, chosen, options)
    if has_errors(diags):
        return RenderResult({}, diags)
    rendered = chosen.render(pipeline, options)
    return RenderResult(rendered.files, [*diags, *rendered.diagnostics])


def _build(
    specs: Sequence[Path],
    targets: Sequence[str],
    out: Path | None,
    *,
    locked: bool,
    today: datetime.date,
) -> BuildResult:
    from pipespec import limits
    from pipespec.compiler.budget import OutputBudget

    # With `all`, only the blocks a spec has are checked (a target it has none for is
    # skipped with a note when it needs one: configured_targets).
    checked = None if isinstance(targets, AllTargets) else targets
    analyses = analyze(specs, fill=True, locked=locked, targets=checked)
    budget = OutputBudget(limits.current())
    result = BuildResult(analyses, [d for a in analyses for d in a.diagnostics])
    seen: dict[tuple[Path, str], str] = {}  # (root, file) -> the spec that generates it
    for spec, analysis in zip(specs, analyses, strict=False):
        over = _build_one(spec, analysis, targets, out, budget, result, seen, today)
        if over is not None:
            result.diagnostics.append(over)
            if over.code == "PS604":
                break  # the run is over its limit: render no more
    return result


def _build_one(
    spec: Path,
    analysis: Analysis,
    targets: Sequence[str],
    out: Path | None,
    budget: OutputBudget,
    result: BuildResult,
    seen: dict[tuple[Path, str], str],
    today: datetime.date,
) -> Diagnostic | None:
    """Render one spec for every target into ``result``; the output limit it crossed."""
    from pipespec.compiler.complete import check_complete
    from pipespec.compiler.support import image_support

    if analysis.pipeline is None:
        return None
    targets, skipped = configured_targets(analysis, targets)
    result.diagnostics.extend(skipped)
    incomplete: list[Diagnostic] = []
    for target in targets:
        for diag in check_complete(analysis.pipeline, native_steps(target, analysis.pipeline)):
            if diag not in incomplete:  # the same step falls short on several targets
                incomplete.append(diag)
    result.diagnostics.extend(incomplete)
    if incomplete:
        return None
    root = output_root(spec, out)
    files = result.outputs.setdefault(root, {})
    owned = result.owned.setdefault(root, [])
    pipeline = dataclasses.replace(analysis.pipeline, source_file=spec_from_root(spec, root))
    # Refuse what is sure to be too big before rendering it; then count what was.
    over = budget.precheck(analysis.file, pipeline)
    for target in targets if over is None else ():
        rendered = render_target(target, pipeline)
        result.diagnostics.extend(rendered.diagnostics)
        # Images past their end of support: warnings only, the files are the same.
        result.diagnostics.extend(image_support(pipeline, target, today))
        over = budget.add(analysis.file, pipeline, rendered.files)
        if over is not None:
            break
        owned.append(output_stem(target, pipeline.name))
        for rel, text in rendered.files.items():
            key = (root, rel)
            if key in seen and seen[key] != analysis.file:
                result.diagnostics.append(
                    Diagnostic(
                        "PS608",
                        f"{analysis.file} and {seen[key]} both generate {rel}",
                        pipeline.steps[0].span,
                        "give the pipelines different names, or compile to different --out",
                    )
                )
            seen[key] = analysis.file
            files[rel] = text
    return over


@dataclass
class CompileResult:
    """``recovered``: what an interrupted earlier run left, put right; ``diagnostics``: the
    specs' and targets'; ``write_diagnostics``: writing (only tried when there was no
    error before it); ``written``: root -> files, once they are on disk."""

    analyses: list[Analysis]
    recovered: list[Diagnostic]
    diagnostics: list[Diagnostic]
    write_diagnostics: list[Diagnostic] = field(default_factory=list)
    written: dict[Path, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not has_errors([*self.recovered, *self.diagnostics, *self.write_diagnostics])


def compile(
    specs: Sequence[Path],
    targets: Sequence[str],
    out: Path | None = None,
    *,
    locked: bool = False,
    strict: bool = False,
    today: datetime.date | None = None,
) -> CompileResult:
    """Compile specs to every target; write all the files at once, or none on any error."""
    from pipespec.output import OutputError, commit

    unknown = unknown_targets(targets)
    if unknown:
        return CompileResult([], [], unknown)
    recovered = recover_folders(specs, out)
    built = build(specs, targets, out, locked=locked, strict=strict, today=today)
    result = CompileResult(built.analyses, recovered, built.diagnostics)
    if has_errors(recovered + built.diagnostics):
        return result
    try:
        notes = commit(built.outputs)
    except OutputError as exc:
        notes = exc.problems
    result.write_diagnostics = [p.diagnostic() for p in notes]
    if not has_errors(result.write_diagnostics):
        result.written = built.outputs
    return result


@dataclass
class CheckResult:
    """Like ``CompileResult``; ``stale``: a diagnostic per file that differs from what
    compile would write, with ``diffs`` (unified, one per output folder) showing how."""

    analyses: list[Analysis]
    recovered: list[Diagnostic]
    diagnostics: list[Diagnostic]
    stale: list[Diagnostic] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors([*self.recovered, *self.diagnostics, *self.stale])


def check(
    specs: Sequence[Path],
    targets: Sequence[str],
    out: Path | None = None,
    *,
    locked: bool = True,
    strict: bool = False,
    today: datetime.date | None = None,
) -> CheckResult:
    """Whether the generated files (and lock entries) on disk are what compile would write."""
    from pipespec.output import compare

    unknown = unknown_targets(targets)
    if unknown:
        return CheckResult([], [], unknown)
    recovered = recover_folders(specs, out)
    built = build(specs, targets, out, locked=locked, strict=strict, today=today)
    result = CheckResult(built.analyses, recovered, built.diagnostics)
    if has_errors(recovered + built.diagnostics):
        return result
    for root, files in sorted(built.outputs.items()):
        drift = compare(root, files, built.owned.get(root, []))
        if drift.diff:
            result.diffs.append(drift.diff)
        result.stale.extend(drift.diagnostics(root))
    return result


# --- fill: complete underspecified steps and pin them in lock files (api/filling.py) -------


def fill(
    specs: Sequence[Path],
    *,
    dry_run: bool = False,
    model: str | None = None,
    base_url: str | None = None,
    timeout_s: float | None = None,
    deadline_s: float | None = None,
    max_tokens: int | None = None,
    progress: ProgressCallback | None = None,
    trial_python: str | None = None,
) -> FillReport:
    """Fill each spec and write its lock file and scripts (all at once, or nothing when a
    step failed); ``dry_run`` puts diffs in the messages instead of writing.

    ``model``, ``base_url``, ``timeout_s`` (the longest silence), ``deadline_s`` (one step's
    request) and ``max_tokens`` override the spec's ``fill:`` block; ``progress`` is told
    how each step's LLM request stands (from worker threads); ``trial_python`` is the
    interpreter that runs LLM-written scripts once before they are locked (default: the one
    running pipespec)."""
    from pipespec.api.filling import run_fill_command
    from pipespec.fill.settings import LLMOverrides

    overrides = LLMOverrides(
        model, base_url, timeout_s, deadline_s, max_tokens, progress, trial_python
    )
    return run_fill_command(specs, dry_run=dry_run, llm=overrides)
