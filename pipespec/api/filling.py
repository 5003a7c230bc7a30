"""`pipespec fill` as a library call: complete underspecified steps (catalog, then an LLM)
and pin them in lock files, written all at once or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipespec.api import _load_and_validate
from pipespec.diagnostics import Diagnostic, Severity, Span, has_errors

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pipespec.compiler.analysis import Analysis
    from pipespec.fill.settings import LLMOverrides


@dataclass
class FillReport:
    """``messages``: what the run did (each ends with a newline; dry-run diffs among them),
    to show before the diagnostics; ``usage``: lines of the LLM's token counts, to show after."""

    analyses: list[Analysis] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    usage: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def run_fill_command(
    specs: Sequence[Path],
    *,
    dry_run: bool = False,
    llm: LLMOverrides | None = None,
) -> FillReport:
    """Fill each spec and write its lock file and scripts (all at once, or nothing when a
    step failed); ``dry_run`` puts diffs in the messages instead of writing; ``llm``: what
    the command line says about the LLM."""
    from pipespec.output import recover

    # Finish or undo an interrupted fill before its lock is read.
    report = FillReport(
        diagnostics=[p.diagnostic() for p in recover(sorted({s.parent for s in specs}))]
    )
    writes: dict[Path, dict[str, str]] = {}  # folder -> files of the whole run
    done: list[str] = []  # what to report once they are written
    for spec_path in specs:
        _fill_one(spec_path, report, writes, done, dry_run=dry_run, llm=llm)
    report.diagnostics.extend(_write_fill(writes, report, done))
    return report


def _fill_one(
    spec_path: Path,
    report: FillReport,
    writes: dict[Path, dict[str, str]],
    done: list[str],
    *,
    dry_run: bool,
    llm: LLMOverrides | None,
) -> None:
    from pipespec.compiler.graph import build_graph
    from pipespec.fill.engine import run_fill
    from pipespec.fill.lock import lock_path
    from pipespec.fill.settings import llm_config_for
    from pipespec.output import unified_diff

    analysis, vspec = _load_and_validate(spec_path, None)
    report.analyses.append(analysis)
    report.diagnostics.extend(analysis.diagnostics)
    if vspec is None or vspec.spec is None:
        return
    name = analysis.file
    _, gdiags = build_graph(vspec)
    report.diagnostics.extend(gdiags)
    if has_errors(gdiags):
        return
    config, problem = llm_config_for(vspec.spec, llm)
    if problem:
        report.diagnostics.append(
            Diagnostic("PS505", problem, Span(name, 1, 1), severity=Severity.WARNING)
        )
    result = run_fill(vspec, config)
    report.diagnostics.extend(result.diagnostics)
    assert result.lock is not None
    base = Path(name).parent
    lock_rel = lock_path(name).name
    files = {lock_rel: result.lock.render(), **result.files}
    if result.usage is not None:
        u = result.usage
        report.usage.append(
            f"{name}: LLM {u.requests} request(s), {u.prompt_tokens} prompt + "
            f"{u.completion_tokens} completion tokens"
        )
    if not result.lock.steps and not (base / lock_rel).exists():
        if not has_errors(result.diagnostics):  # a step that failed is not complete
            report.messages.append(
                f"{name}: every step is complete as written; no lock file needed\n"
            )
        return
    if dry_run:
        for rel, text in sorted(files.items()):
            target = base / rel
            old = target.read_text(encoding="utf-8") if target.exists() else ""
            report.messages.append(unified_diff(target, old, text, "after fill"))
        return
    writes.setdefault(base, {}).update(files)
    filled = sorted(result.lock.steps)
    done.append(
        f"wrote {(base / lock_rel).as_posix()} ({len(filled)} filled step(s): {', '.join(filled)})"
    )
    done.extend(f"wrote {(base / rel).as_posix()} (review it)" for rel in sorted(result.files))


def _write_fill(
    writes: dict[Path, dict[str, str]], report: FillReport, done: list[str]
) -> list[Diagnostic]:
    """Write every lock and script of the run at once, or nothing when any step failed.

    A failed step keeps its old lock entry and script: nothing of the old lock is lost.
    """
    from pipespec.output import OutputError, commit

    if not writes:
        return []
    if has_errors(report.diagnostics):
        report.messages.append("nothing written: a step could not be filled (see the errors)\n")
        return []
    try:
        notes = commit(writes)
    except OutputError as exc:
        return [p.diagnostic() for p in exc.problems]
    report.messages.extend(line + "\n" for line in done)
    return [p.diagnostic() for p in notes]
