"""`pipespec fill`: run the fill pass on specs and write each lock file (and scripts)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipespec.compiler.driver import Analysis, display_path
from pipespec.diagnostics import Diagnostic, Severity, Span
from pipespec.fill.lock import lock_path
from pipespec.output.errors import ENVIRONMENT_CODES


def llm_config_for(spec: Any, model: str | None, base_url: str | None) -> tuple[Any, str | None]:
    """(LLMConfig or None, a problem to report) from the CLI, the spec and the environment."""
    from pipespec.fill.llm import LLMConfig
    from pipespec.spec import units

    settings = spec.fill
    model = model or (settings.model if settings else None)
    if model is None:
        return None, None
    base_url = (
        base_url or (settings.base_url if settings else None) or os.environ.get("OPENAI_BASE_URL")
    )
    api_key = os.environ.get("OPENAI_API_KEY")
    if api_key is None:
        if base_url is None:
            return None, "OPENAI_API_KEY is not set (and no base URL names another server)"
        api_key = "unused"  # local OpenAI-compatible servers accept any key
    kwargs: dict[str, Any] = {"model": model, "base_url": base_url, "api_key": api_key}
    if settings and settings.timeout:
        kwargs["timeout_s"] = float(units.parse_duration(settings.timeout))
    if settings and settings.max_concurrency:
        kwargs["max_concurrency"] = settings.max_concurrency
    return LLMConfig(**kwargs), None


def run_fill_command(
    specs: Sequence[Path],
    *,
    dry_run: bool,
    model: str | None,
    base_url: str | None,
    emit: Callable[[list[Diagnostic], list[Analysis]], None],
    echo: Callable[..., None],
) -> int:
    from pipespec.compiler.graph import build_graph
    from pipespec.fill.engine import run_fill
    from pipespec.output import recover, unified_diff
    from pipespec.spec.loader import read_spec_file
    from pipespec.spec.validate import validate_spec

    # Finish or undo an interrupted fill before its lock is read.
    diagnostics = [p.diagnostic() for p in recover(sorted({s.parent for s in specs}))]
    analyses: list[Analysis] = []
    usage_lines: list[str] = []
    writes: dict[Path, dict[str, str]] = {}  # folder -> files of the whole run
    done: list[str] = []  # what to report once they are written
    for spec_path in specs:
        name = display_path(spec_path)
        loaded, diags = read_spec_file(spec_path, name)
        analysis = Analysis(name, loaded, diagnostics=list(diags))
        analyses.append(analysis)
        diagnostics.extend(diags)
        if loaded is None:
            continue
        vspec, vdiags = validate_spec(loaded)
        diagnostics.extend(vdiags)
        if vspec.spec is None:
            continue
        _, gdiags = build_graph(vspec)
        errors = [d for d in gdiags if d.severity is Severity.ERROR]
        diagnostics.extend(gdiags)
        if errors:
            continue
        llm, problem = llm_config_for(vspec.spec, model, base_url)
        if problem:
            diagnostics.append(
                Diagnostic("PS505", problem, Span(name, 1, 1), severity=Severity.WARNING)
            )
        result = run_fill(vspec, llm)
        diagnostics.extend(result.diagnostics)
        assert result.lock is not None
        base = Path(name).parent
        lock_rel = lock_path(name).name
        files = {lock_rel: result.lock.render(), **result.files}
        if result.usage is not None:
            u = result.usage
            usage_lines.append(
                f"{name}: LLM {u.requests} request(s), {u.prompt_tokens} prompt + "
                f"{u.completion_tokens} completion tokens"
            )
        if not result.lock.steps and not (base / lock_rel).exists():
            echo(f"{name}: every step is complete as written; no lock file needed")
            continue
        if dry_run:
            for rel, text in sorted(files.items()):
                target = base / rel
                old = target.read_text(encoding="utf-8") if target.exists() else ""
                echo(unified_diff(target, old, text, "after fill"), nl=False)
            continue
        writes.setdefault(base, {}).update(files)
        filled = sorted(result.lock.steps)
        done.append(
            f"wrote {(base / lock_rel).as_posix()} "
            f"({len(filled)} filled step(s): {', '.join(filled)})"
        )
        done.extend(f"wrote {(base / rel).as_posix()} (review it)" for rel in sorted(result.files))
    diagnostics.extend(_write(writes, diagnostics, done, echo))
    emit(diagnostics, analyses)
    for line in usage_lines:
        echo(line)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        environment = any(d.code == "PS100" or d.code in ENVIRONMENT_CODES for d in diagnostics)
        return 2 if environment else 1
    return 0


def _write(
    writes: dict[Path, dict[str, str]],
    diagnostics: list[Diagnostic],
    done: list[str],
    echo: Callable[..., None],
) -> list[Diagnostic]:
    """Write every lock and script of the run at once, or nothing when any step failed.

    A failed step keeps its old lock entry and script: nothing of the old lock is lost.
    """
    from pipespec.output import OutputError, commit

    if not writes:
        return []
    if any(d.severity is Severity.ERROR for d in diagnostics):
        echo("nothing written: a step could not be filled (see the errors)")
        return []
    try:
        notes = commit(writes)
    except OutputError as exc:
        return [p.diagnostic() for p in exc.problems]
    for line in done:
        echo(line)
    return [p.diagnostic() for p in notes]
