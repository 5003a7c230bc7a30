"""Checks over the whole graph, once every step's facts are known.

A parameter or metrics output is a value the producing step writes itself, to the file
``${outputs.X}`` stands for (every target collects it from there). When the producer's
command never names ``${outputs.X}``, nothing writes the value: a step that reads it (as an
input, in `when:` or in `foreach:`) would fail at run time on every target, so it is an
error here, at the place the value is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipespec import ir
from pipespec.compiler.facts import Edge, StepFacts
from pipespec.diagnostics import Diagnostic
from pipespec.spec.semantics import TARGET_WRITTEN_OUTPUTS

_WHERE = {"data": "input", "condition": "condition", "foreach": "foreach"}


def unwritten_outputs(edges: Iterable[Edge], facts: Mapping[str, StepFacts]) -> list[Diagnostic]:
    """PS410 for each read of a parameter output its producer's command never names."""
    diags: list[Diagnostic] = []
    named: dict[str, set[str]] = {}
    for edge in edges:
        producer = facts.get(edge.upstream)
        if edge.output is None or producer is None or not producer.runs_something:
            continue  # an `after:`, or a step with nothing to run yet (PS500 says so later)
        type_name = producer.outputs.get(edge.output)
        if type_name is None or not ir.is_parameter(type_name):
            continue  # artifacts are files the target moves, whoever writes them
        if edge.output in TARGET_WRITTEN_OUTPUTS.get(producer.kind, ()):
            continue  # the target writes it (a tune step's best-trial pick)
        if edge.upstream not in named:
            named[edge.upstream] = producer.named_outputs
        if edge.output in named[edge.upstream]:
            continue
        where = "args" if producer.script is not None else "command"
        placeholder = "${outputs." + edge.output + "}"
        diags.append(
            Diagnostic(
                "PS410",
                f"step '{edge.downstream}' reads {edge.upstream}.{edge.output} in its "
                f"{_WHERE[edge.why]}, but nothing writes it: '{edge.upstream}' never names "
                f"{placeholder} in its {where} or env",
                edge.span,
                f"pass {placeholder} to the {where} of '{edge.upstream}' and have it write "
                "the value there",
            )
        )
    return diags
