"""Which targets a run compiles each spec for: ``--target`` resolved to names, and, for
``all``, a spec's targets less those it cannot be compiled for without settings it does
not give (a note, PS618)."""

from __future__ import annotations

from collections.abc import Sequence

from pipespec.compiler.analysis import Analysis
from pipespec.diagnostics import Diagnostic, Severity, Span


class AllTargets(list[str]):
    """``--target all`` (the default): every installed target, except, per spec, a target
    that cannot compile without settings the spec does not give (SageMaker's role and
    region): that one is skipped with a note. A target named outright is compiled, and
    its missing settings are errors."""


def resolve_targets(requested: str) -> tuple[list[str], list[Diagnostic]]:
    """``--target``: comma-separated names, or ``all`` for every installed backend."""
    from pipespec.backends import available

    names = [t.strip() for t in requested.split(",") if t.strip()]
    if names == ["all"]:
        return AllTargets(sorted(available())), []
    return names, unknown_targets(names)


def configured_targets(
    analysis: Analysis, targets: Sequence[str]
) -> tuple[list[str], list[Diagnostic]]:
    """The targets to render ``analysis`` for: ``targets``, less (for ``all``) those it
    has no block for that need one, with a note for each skipped."""
    from pipespec.backends import BackendError
    from pipespec.target_options import needs_block

    if not isinstance(targets, AllTargets) or analysis.loaded is None:
        return list(targets), []
    blocks = analysis.loaded.data.get("targets")
    given = blocks if isinstance(blocks, dict) else {}
    kept: list[str] = []
    notes: list[Diagnostic] = []
    for name in targets:
        try:
            needed = needs_block(name) if name not in given else []
        except BackendError:
            needed = []  # render_target reports the broken plugin
        if not needed:
            kept.append(name)
            continue
        notes.append(Diagnostic(
            "PS618",
            f"not compiled for {name}: it needs {' and '.join(needed)}, which the spec does "
            "not set",
            Span(analysis.file, 1, 1),
            f"add a `targets.{name}:` block to compile for {name} too",
            Severity.NOTE,
        ))  # fmt: skip
    return kept, notes


def unknown_targets(names: Sequence[str]) -> list[Diagnostic]:
    from pipespec.backends import available
    from pipespec.diagnostics import did_you_mean

    known = sorted(available())
    return [
        Diagnostic(
            "PS601",
            f"unknown target '{name}'",
            None,
            did_you_mean(name, known) or f"targets: {', '.join(known)}, all",
        )
        for name in names
        if name not in known
    ]
