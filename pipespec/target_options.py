"""A spec's ``targets.<name>`` blocks, checked by the backends they configure.

The spec's models keep each block as a raw mapping; here each block of a requested target
is validated against its backend's options model (``pipespec.backends.base.Options``),
with the spans and "did you mean" hints of every other spec fault. A block naming a
target that is not installed is a warning (PS607): its settings are not checked, since it
may be meant for a target planned or installed elsewhere.

This sits beside the api module, above the backends: the spec room knows no target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from pipespec import ir
from pipespec.backends.base import Backend, Options
from pipespec.diagnostics import Diagnostic, Severity, Span, did_you_mean
from pipespec.spec.loader import LoadedSpec


def backend(name: str) -> Backend:
    """The installed backend ``name`` (raises backends.BackendError for a broken plugin)."""
    from pipespec import backends

    return backends.load(name)


def check_blocks(loaded: LoadedSpec, requested: Sequence[str] | None = None) -> list[Diagnostic]:
    """Diagnostics for the spec's ``targets:`` blocks: each block of a requested target
    (every installed one when ``requested`` is None) against its options model, a warning
    for each block no installed target reads, and the options a requested target without
    a block would miss."""
    from pipespec.backends import available

    installed = sorted(available())
    raw = loaded.data.get("targets")
    blocks: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    diags: list[Diagnostic] = []
    for name, block in blocks.items():
        if name not in installed:
            diags.append(_not_installed(loaded, str(name), installed))
        elif (requested is None or name in requested) and isinstance(block, (dict, type(None))):
            # Another shape is the spec model's PS202 already.
            diags.extend(_check_block(loaded, name, block or {}))
    for name in requested or ():
        if name in installed and name not in blocks:
            diags.extend(_without_block(loaded, name))
    return diags


def _without_block(loaded: LoadedSpec, name: str) -> list[Diagnostic]:
    """A requested target the spec has no block for: its defaults, or what they lack, said
    at the `targets:` key (or the top of the file) with the block to add."""
    where = loaded.source_map.key_span(("targets",)) if "targets" in loaded.data else None
    span = where or Span(loaded.source_map.file, 1, 1)
    return [
        dataclasses.replace(d, span=span, hint=f"add a `targets.{name}:` block ({d.hint})")
        if d.hint
        else dataclasses.replace(d, span=span, hint=f"add a `targets.{name}:` block")
        for d in _check_block(loaded, name, {})
    ]


def needs_block(name: str) -> list[str]:
    """The settings target ``name`` cannot compile without (its options model's required
    keys): a spec without a ``targets.<name>`` block cannot be compiled for it."""
    model = options_model(name)
    return [key for key, info in model.model_fields.items() if info.is_required()]


def options_model(name: str) -> type[Options]:
    """The installed target's options model: a class attribute, read without making the
    backend (checking a spec renders nothing)."""
    from pipespec.backends import backend_class

    return backend_class(name).options_model


def _check_block(loaded: LoadedSpec, name: str, block: dict[str, Any]) -> list[Diagnostic]:
    from pipespec.backends import BackendError
    from pipespec.spec.errors import validate_block

    try:
        model = options_model(name)
    except BackendError as exc:
        return [broken_backend(exc, loaded.source_map.span(("targets", name)))]
    _, diags = validate_block(model, block, ("targets", name), loaded.source_map)
    return diags


def broken_backend(exc: Exception, span: Span | None) -> Diagnostic:
    """PS609: an installed target whose plugin cannot be used, named with the reason."""
    return Diagnostic(
        "PS609",
        str(exc),
        span,
        "reinstall or fix the package that provides this target (its `pipespec.backends` "
        "entry point), or uninstall it",
    )


def _not_installed(loaded: LoadedSpec, name: str, installed: list[str]) -> Diagnostic:
    return Diagnostic(
        "PS607",
        f"targets.{name}: no installed target is called '{name}', so these settings are "
        "not checked",
        loaded.source_map.key_span(("targets", name)),
        did_you_mean(name, installed) or f"installed targets: {', '.join(installed)}",
        Severity.WARNING,
    )


def options_for(target: Backend, pipeline: ir.Pipeline) -> Options:
    """The pipeline's validated options for ``target`` (``check_blocks`` reported any fault,
    so this succeeds for every pipeline that reached lowering)."""
    block = ir.thaw(pipeline.targets.get(target.name, ir.FrozenMap()))
    return target.options_model.model_validate(block)


def builtin_options_models() -> dict[str, type[Options]]:
    """Each built-in target's options model, for the authoring schema editors read."""
    from pipespec.backends import BUILTIN

    return {name: options_model(name) for name in sorted(BUILTIN)}


def authoring_schema() -> str:
    """The committed authoring schema: the spec's models plus the built-in targets' blocks."""
    from pipespec.schemas import generate_authoring_schema

    return generate_authoring_schema(builtin_options_models())


def portability_report(pipeline: ir.Pipeline, target: str, fmt: str = "human") -> str:
    """`pipespec explain SPEC --target T`: the features the pipeline uses on ``target``
    (``fmt`` human: a table; json: a document)."""
    from pipespec.backends import portability

    chosen = backend(target)
    rows = portability.report(pipeline, chosen, options_for(chosen, pipeline))
    if fmt == "json":
        return portability.report_json(target, rows)
    return portability.report_human(pipeline.name, target, rows)
