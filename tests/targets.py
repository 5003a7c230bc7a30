"""The rows every target gets: ``backends.available()`` x the examples.

Tests that hold for every target (the committed outputs are current, they match their
goldens, they load in the target's own tooling) are parametrised over ``TARGET_EXAMPLES``,
so a new backend adds rows, not a copied test file. ``examples/<name>/generated/<target>/``
holds the goldens: what `pipespec compile --locked` writes for each example, committed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipespec import backends, ir
from pipespec.api import analyze_file, build
from pipespec.cli import main
from tests.conftest import ROOT

TARGETS = sorted(backends.available())
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/pipeline.yaml"))
TARGET_EXAMPLES = [pytest.param(t, e, id=f"{t}-{e}") for t in TARGETS for e in EXAMPLES]


def example_spec(example: str) -> Path:
    """The spec path as users pass it, relative to the repository root (the working
    directory of these tests: generated files name their spec relative to themselves)."""
    return Path("examples") / example / "pipeline.yaml"


def generated_dir(example: str) -> Path:
    return ROOT / "examples" / example / "generated"


def compile_example(target: str, example: str) -> dict[str, str]:
    """The example's files for ``target`` as `pipespec compile --locked` renders them:
    relative path under ``generated/`` -> text. Run from the repository root."""
    result = build([example_spec(example)], [target], None, locked=True)
    assert result.ok, [str(d.span) + " " + d.message for d in result.diagnostics]
    (files,) = result.outputs.values()
    assert files, f"{target} wrote nothing for {example}"
    return files


def example_pipeline(example: str) -> ir.Pipeline:
    """The example's IR, completed from its lock file as `compile --locked` does."""
    analysis = analyze_file(example_spec(example), fill=True, locked=True)
    assert analysis.pipeline is not None, analysis.diagnostics
    return analysis.pipeline


def committed_files(target: str, example: str) -> dict[str, str]:
    """What is committed under ``examples/<example>/generated/<target>/``."""
    folder = generated_dir(example) / target
    return {
        p.relative_to(generated_dir(example)).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def recompile_example(target: str, example: str) -> None:
    """Rewrite the example's committed output the way users do: through the CLI."""
    argv = ["compile", str(example_spec(example)), "--target", target, "--locked"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
