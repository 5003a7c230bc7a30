"""The `pipespec` command line: click -> pipespec.api -> print the diagnostics -> exit code.

The stages run in pipespec.api (the library); this module parses arguments, prints results
and chooses the exit code. Heavy modules (pydantic models, networkx, jsonschema, openai) are
imported inside the commands that need them, so `pipespec --help` starts fast. Exit codes:
0 ok, 1 spec errors, 2 usage or environment errors.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipespec import __version__
from pipespec.cli_fill import llm_options
from pipespec.cli_limits import OUTPUT_LIMIT_OPTION, SPEC_LIMIT_OPTION
from pipespec.diagnostics import printable, printable_lines, printable_path

if TYPE_CHECKING:
    from pipespec.api import Analysis
    from pipespec.diagnostics import Diagnostic

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2

FORMAT_OPTION = click.option(
    "--format",
    "diag_format",
    type=click.Choice(["human", "json", "github"]),
    default="human",
    show_default=True,
    help="How to print diagnostics: for people, as JSON, or as GitHub workflow annotations.",
)

STRICT_OPTION = click.option(
    "--strict",
    is_flag=True,
    help="Treat every warning as an error (an emulated feature, a param spliced into a "
    "shell...): nothing is written.",
)


def _emit(diagnostics: Sequence[Diagnostic], analyses: Sequence[Analysis], fmt: str) -> None:
    from pipespec import diagnostics as d

    # A fault met once per mapped item (say) is reported once.
    ordered = sorted(dict.fromkeys(diagnostics), key=lambda x: x.sort_key())
    if fmt == "json":
        click.echo(d.render_json(ordered), nl=False)
        return
    if not ordered:
        return
    if fmt == "github":
        click.echo(d.render_github(ordered), nl=False, err=True)
        return
    sources = {a.file: a.text for a in analyses if a.text is not None}
    text = d.render_human(ordered, sources)
    click.echo(text, nl=False, err=True)
    errors = sum(1 for x in ordered if x.severity is d.Severity.ERROR)
    warnings = sum(1 for x in ordered if x.severity is d.Severity.WARNING)
    click.echo(f"{errors} error(s), {warnings} warning(s)", err=True)


def _say(text: str, **kwargs: Any) -> None:
    """Print text that may carry outside text (paths, spec values), each line escaped."""
    click.echo(printable_lines(text), **kwargs)


def _exit_code(diagnostics: Sequence[Diagnostic]) -> int:
    from pipespec.diagnostics import Severity
    from pipespec.output.errors import ENVIRONMENT_CODES

    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if any(d.code == "PS100" or d.code in ENVIRONMENT_CODES for d in errors):
        return EXIT_USAGE
    return EXIT_SPEC if errors else EXIT_OK


def _analyze(specs: Sequence[Path]) -> list[Analysis]:
    from pipespec import api

    return api.analyze(specs)


class _Main(click.Group):
    """The command group; its help names the targets installed now, not the planned ones."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from pipespec.backends import available  # light: no pydantic, jinja2 or networkx

        self.help = (
            "Compile declarative ML pipeline specs to orchestrator files.\n\n"
            f"Targets: {', '.join(sorted(available()))}."
        )
        super().format_help_text(ctx, formatter)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipespec")
def main() -> None:
    """Compile declarative ML pipeline specs to orchestrator files."""


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@STRICT_OPTION
@FORMAT_OPTION
@SPEC_LIMIT_OPTION
def validate(specs: tuple[Path, ...], strict: bool, diag_format: str) -> None:
    """Check specs: syntax, schema, references, conditions and the DAG."""
    from pipespec.api import as_errors

    analyses = _analyze(specs)
    diags = [d for a in analyses for d in a.diagnostics]
    if strict:
        diags = as_errors(diags)
    _emit(diags, analyses, diag_format)
    code = _exit_code(diags)
    if code == EXIT_OK and diag_format == "human":
        for a in analyses:
            steps = len(a.graph.order) if a.graph else 0
            click.echo(f"{printable_path(a.file)}: ok ({steps} steps)")
    sys.exit(code)


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "graph_format",
    type=click.Choice(["mermaid", "dot", "json"]),
    default="mermaid",
    show_default=True,
)
@SPEC_LIMIT_OPTION
def graph(spec: Path, graph_format: str) -> None:
    """Print the pipeline's DAG as Mermaid, Graphviz DOT or JSON."""
    from pipespec.compiler import render_graph

    analyses = _analyze([spec])
    analysis = analyses[0]
    _emit(analysis.diagnostics, analyses, "human")
    code = _exit_code(analysis.diagnostics)
    if code != EXIT_OK or analysis.graph is None:
        sys.exit(code or EXIT_SPEC)
    text = render_graph.render(analysis, graph_format)
    click.echo(text if graph_format == "json" else printable_lines(text), nl=False)


TARGET_OPTION = click.option(
    "--target",
    "-t",
    "target",
    default="all",
    show_default=True,
    help="Comma-separated targets (`pipespec --help` lists them), or 'all'.",
)


def _default_locked() -> bool:
    import os

    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


LOCKED_OPTION = click.option(
    "--locked/--no-locked",
    default=None,
    help="Require a fresh lock entry for every filled step (default: on when CI=true).",
)
OUT_OPTION = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output directory (default: generated/ beside each spec).",
)


def _targets(target: str, diag_format: str) -> list[str]:
    """The ``--target`` names; an unknown one is a usage error (exit 2)."""
    from pipespec.api import resolve_targets

    targets, problems = resolve_targets(target)
    if problems:
        _emit(problems, [], diag_format)
        sys.exit(EXIT_USAGE)
    return targets


@main.command(name="compile")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@TARGET_OPTION
@OUT_OPTION
@LOCKED_OPTION
@STRICT_OPTION
@FORMAT_OPTION
@SPEC_LIMIT_OPTION
@OUTPUT_LIMIT_OPTION
def compile_(
    specs: tuple[Path, ...],
    target: str,
    out: Path | None,
    locked: bool | None,
    strict: bool,
    diag_format: str,
) -> None:
    """Compile specs to orchestrator files (written atomically: all or nothing).

    Reads only the spec, its lock file and the built-in catalog: no network.
    """
    from pipespec import api

    targets = _targets(target, diag_format)
    locked = _default_locked() if locked is None else locked
    result = api.compile(list(specs), targets, out, locked=locked, strict=strict)
    found = result.recovered + result.diagnostics
    _emit(found, result.analyses, diag_format)
    if _exit_code(found) != EXIT_OK:
        sys.exit(_exit_code(found))
    if result.write_diagnostics:  # an empty list would print a second JSON document
        _emit(result.write_diagnostics, [], diag_format)
    if _exit_code(result.write_diagnostics) != EXIT_OK:
        sys.exit(_exit_code(result.write_diagnostics))
    for root, files in sorted(result.written.items()):
        if diag_format == "human":
            for rel in sorted(files):
                click.echo(f"wrote {printable((root / rel).as_posix())}")
    sys.exit(EXIT_OK)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@TARGET_OPTION
@OUT_OPTION
@LOCKED_OPTION
@STRICT_OPTION
@FORMAT_OPTION
@SPEC_LIMIT_OPTION
@OUTPUT_LIMIT_OPTION
def check(
    specs: tuple[Path, ...],
    target: str,
    out: Path | None,
    locked: bool | None,
    strict: bool,
    diag_format: str,
) -> None:
    """Fail (exit 1) when generated files or lock entries on disk are stale, missing or extra."""
    from pipespec import api

    targets = _targets(target, diag_format)
    locked = True if locked is None else locked
    result = api.check(list(specs), targets, out, locked=locked, strict=strict)
    found = result.recovered + result.diagnostics
    if _exit_code(found) != EXIT_OK:
        _emit(found, result.analyses, diag_format)
        sys.exit(_exit_code(found))
    # `compile` printed the specs' warnings when it wrote these files; up-to-date files
    # mean it ran, so a person sees each warning once. Machines and a failing check get all.
    # What this run found on disk (recovered) is new, so a person sees it first.
    warnings = result.diagnostics
    if diag_format == "human":
        _emit(result.recovered, [], diag_format)
    else:
        warnings = found  # one document for machines
    if diag_format != "json":  # stdout carries the JSON document
        for diff in result.diffs:
            click.echo(printable_lines(diff), nl=False)
    if result.stale or diag_format != "human":
        _emit([*warnings, *result.stale], result.analyses, diag_format)
    elif warnings:
        click.echo(
            f"{len(warnings)} warning(s), not repeated: `pipespec compile` prints them", err=True
        )
    if result.stale:
        sys.exit(_exit_code(result.stale))
    if diag_format == "human":
        click.echo("generated files are up to date")
    sys.exit(EXIT_OK)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change (a diff); write nothing.")
@click.option("--model", default=None, help="LLM model (default: the spec's fill.model).")
@click.option(
    "--base-url",
    default=None,
    help="OpenAI-compatible server URL (default: the spec's fill.base_url, then OPENAI_BASE_URL).",
)
@llm_options
@FORMAT_OPTION
@SPEC_LIMIT_OPTION
def fill(
    specs: tuple[Path, ...],
    dry_run: bool,
    model: str | None,
    base_url: str | None,
    timeout_s: float | None,
    deadline_s: float | None,
    max_tokens: int | None,
    trial_python: Path | None,
    diag_format: str,
) -> None:
    """Complete underspecified steps and pin the result in a lock file beside each spec.

    On a terminal, stderr shows each step's LLM request as it streams."""
    from pipespec import api
    from pipespec.cli_fill import live_progress

    with live_progress() as progress:
        report = api.fill(
            list(specs),
            dry_run=dry_run,
            model=model,
            base_url=base_url,
            timeout_s=timeout_s,
            deadline_s=deadline_s,
            max_tokens=max_tokens,
            progress=progress,
            trial_python=None if trial_python is None else str(trial_python),
        )
    for message in report.messages:
        _say(message, nl=False)
    _emit(report.diagnostics, report.analyses, diag_format)
    for line in report.usage:
        _say(line)
    sys.exit(_exit_code(report.diagnostics))


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--step", "step_id", default=None, help="The step to explain.")
@click.option(
    "--target",
    "target",
    default=None,
    help="Print the portability report for this target instead: each feature the spec uses, "
    "its steps, native/emulated/unsupported, and how the target expresses it.",
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    help="With --target: a table for people, or JSON.",
)
@LOCKED_OPTION
@SPEC_LIMIT_OPTION
def explain(
    spec: Path, step_id: str | None, target: str | None, report_format: str, locked: bool | None
) -> None:
    """Explain a step (--step: each field, its value and its source) or a target
    (--target: the portability report)."""
    from pipespec.api import analyze_file

    if (step_id is None) == (target is None):
        _say("error: give --step ID or --target NAME", err=True)
        sys.exit(EXIT_USAGE)
    targets = None if target is None else _targets(target, "human")
    analysis = analyze_file(spec, fill=True, locked=bool(locked), targets=targets)
    _emit(analysis.diagnostics, [analysis], "human")
    if analysis.pipeline is None:
        sys.exit(_exit_code(analysis.diagnostics) or EXIT_SPEC)
    if target is not None:
        from pipespec.target_options import portability_report

        _say(portability_report(analysis.pipeline, target, report_format), nl=False)
        sys.exit(EXIT_OK)
    assert step_id is not None
    _explain_step(analysis, step_id)
    sys.exit(EXIT_OK)


def _explain_step(analysis: Analysis, step_id: str) -> None:
    from pipespec.compiler.explain import explain_step

    assert analysis.pipeline is not None and analysis.loaded is not None
    if step_id not in {s.id for s in analysis.pipeline.steps}:
        from pipespec.diagnostics import did_you_mean

        hint = did_you_mean(step_id, [s.id for s in analysis.pipeline.steps])
        message = f"error: no step '{step_id}'" + (f" ({hint})" if hint else "")
        click.echo(printable(message), err=True)
        sys.exit(EXIT_USAGE)
    written = analysis.loaded.data["steps"][step_id]
    step = analysis.pipeline.step(step_id)
    _say(explain_step(step, written, analysis.pipeline), nl=False)


@main.command()
@click.argument(
    "folder", required=False, default=".", type=click.Path(path_type=Path, file_okay=False)
)
@click.option(
    "--example",
    type=click.Choice(["minimal", "churn", "tuning"]),
    default="minimal",
    show_default=True,
    help="Which starter: two container steps, the churn pipeline (filled, with its lock and "
    "scripts), or a tuning pipeline filled from the catalog.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(folder: Path, example: str, force: bool) -> None:
    """Write a starter spec (pipeline.yaml) and the editor schema into FOLDER (default: .)."""
    from pipespec.output import OutputError, write_atomically
    from pipespec.starters import SPEC_FILE, plan

    todo = plan(folder, example, force=force)
    if todo.conflicts:
        for rel in todo.conflicts:
            target = (folder / rel).as_posix()
            why = "exists" if (folder / rel).is_file() else "exists and is not a file"
            _say(f"error: {target} {why}; nothing was written", err=True)
        if any((folder / rel).is_file() for rel in todo.conflicts) and not force:
            _say("  = hint: pass --force to overwrite, or choose another folder", err=True)
        sys.exit(EXIT_USAGE)
    try:
        notes = write_atomically(folder, todo.to_write)
    except OutputError as exc:
        notes = exc.problems
    diags = [p.diagnostic() for p in notes or []]
    if diags:
        _emit(diags, [], "human")
    if _exit_code(diags) != EXIT_OK:
        sys.exit(_exit_code(diags))
    for rel in sorted(todo.to_write):
        _say(f"wrote {(folder / rel).as_posix()}")
    if not todo.to_write:
        _say(f"{folder.as_posix()} already holds the {example} starter; nothing to write")
    spec = (folder / SPEC_FILE).as_posix()
    _say(f"next: pipespec validate {spec} && pipespec compile {spec} --target airflow")
    sys.exit(EXIT_OK)


@main.command()
def schema() -> None:
    """Print the authoring JSON Schema (for editors: see the README)."""
    from pipespec.schemas import authoring_schema_text

    click.echo(authoring_schema_text(), nl=False)


def run() -> None:
    """The console entry point: a bug in pipespec is reported as PS900, not a traceback."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence; every known fault is a diagnostic
        import traceback

        where = traceback.extract_tb(exc.__traceback__)[-1]
        click.echo(
            f"error[PS900]: internal error: {type(exc).__name__}: {printable(str(exc))} "
            f"(at {Path(where.filename).name}:{where.lineno})\n"
            "  = hint: this is a bug in pipespec; please report it with the spec that "
            "triggered it (set PIPESPEC_TRACEBACK=1 for the full traceback)",
            err=True,
        )
        import os

        if os.environ.get("PIPESPEC_TRACEBACK"):
            traceback.print_exc()
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    run()
