"""The `pipespec` command line.

Heavy modules (pydantic models, networkx, jsonschema, openai) are imported inside the
commands that need them, so `pipespec --help` starts fast. Exit codes: 0 ok, 1 spec errors,
2 usage or environment errors.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipespec import __version__

if TYPE_CHECKING:
    from pipespec.compiler.driver import Analysis
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


def _emit(diagnostics: Sequence[Diagnostic], analyses: Sequence[Analysis], fmt: str) -> None:
    from pipespec import diagnostics as d

    ordered = sorted(diagnostics, key=lambda x: x.sort_key())
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


def _exit_code(diagnostics: Sequence[Diagnostic]) -> int:
    from pipespec.diagnostics import Severity

    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if any(d.code == "PS100" for d in errors):
        return EXIT_USAGE
    return EXIT_SPEC if errors else EXIT_OK


def _analyze(specs: Sequence[Path]) -> list[Analysis]:
    from pipespec.compiler.driver import analyze_file

    return [analyze_file(p) for p in specs]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipespec")
def main() -> None:
    """Compile one ML pipeline spec to Airflow, Kubeflow, SageMaker and Vertex AI."""


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@FORMAT_OPTION
def validate(specs: tuple[Path, ...], diag_format: str) -> None:
    """Check specs: syntax, schema, references, conditions and the DAG."""
    analyses = _analyze(specs)
    diags = [d for a in analyses for d in a.diagnostics]
    _emit(diags, analyses, diag_format)
    code = _exit_code(diags)
    if code == EXIT_OK and diag_format == "human":
        for a in analyses:
            steps = len(a.graph.order) if a.graph else 0
            click.echo(f"{a.file}: ok ({steps} steps)")
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
def graph(spec: Path, graph_format: str) -> None:
    """Print the pipeline's DAG as Mermaid, Graphviz DOT or JSON."""
    from pipespec.compiler import render_graph

    analyses = _analyze([spec])
    analysis = analyses[0]
    _emit(analysis.diagnostics, analyses, "human")
    code = _exit_code(analysis.diagnostics)
    if code != EXIT_OK or analysis.graph is None:
        sys.exit(code or EXIT_SPEC)
    click.echo(render_graph.render(analysis, graph_format), nl=False)


TARGET_OPTION = click.option(
    "--target",
    "-t",
    "target",
    default="all",
    show_default=True,
    help="Comma-separated targets (airflow, ...), or 'all'.",
)
OUT_OPTION = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output directory (default: generated/ beside each spec).",
)


def _build(specs: tuple[Path, ...], target: str, out: Path | None, diag_format: str) -> Any:
    from pipespec.compiler.build import build, resolve_targets

    targets, target_diags = resolve_targets(target)
    if target_diags:
        _emit(target_diags, [], diag_format)
        sys.exit(EXIT_USAGE)
    result = build(list(specs), targets, out)
    _emit(result.diagnostics, result.analyses, diag_format)
    code = _exit_code(result.diagnostics)
    if code != EXIT_OK:
        sys.exit(code)
    return result


@main.command(name="compile")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@TARGET_OPTION
@OUT_OPTION
@FORMAT_OPTION
def compile_(specs: tuple[Path, ...], target: str, out: Path | None, diag_format: str) -> None:
    """Compile specs to orchestrator files (written atomically: all or nothing)."""
    from pipespec.output import write_atomically

    result = _build(specs, target, out, diag_format)
    for root, files in sorted(result.outputs.items()):
        write_atomically(root, files)
        if diag_format == "human":
            for rel in sorted(files):
                click.echo(f"wrote {(root / rel).as_posix()}")
    sys.exit(EXIT_OK)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@TARGET_OPTION
@OUT_OPTION
@FORMAT_OPTION
def check(specs: tuple[Path, ...], target: str, out: Path | None, diag_format: str) -> None:
    """Fail (exit 1) when generated files on disk are stale, missing or extra."""
    from pipespec.diagnostics import Diagnostic
    from pipespec.output import compare

    result = _build(specs, target, out, diag_format)
    stale: list[Diagnostic] = []
    for root, files in sorted(result.outputs.items()):
        drift = compare(root, files, result.owned.get(root, []))
        if drift.diff:
            click.echo(drift.diff, nl=False)
        for kind, rels in (
            ("missing", drift.missing),
            ("changed", drift.changed),
            ("extra", drift.extra),
        ):
            for rel in rels:
                stale.append(
                    Diagnostic(
                        "PS602",
                        f"{(root / rel).as_posix()} is {kind}",
                        None,
                        "run `pipespec compile` with the same arguments and commit the result",
                    )
                )
    if stale:
        _emit(stale, [], diag_format)
        sys.exit(EXIT_SPEC)
    if diag_format == "human":
        click.echo("generated files are up to date")
    sys.exit(EXIT_OK)


@main.command()
def schema() -> None:
    """Print the authoring JSON Schema (for editors: see the README)."""
    from pipespec.schemas import authoring_schema_text

    click.echo(authoring_schema_text(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
