"""Branches and joins: `else_of`, `one_of` inputs and trigger rules.

An else step runs when the step it names is skipped by its `when:`; it carries that
condition negated, so a target without an if/else construct can still run it correctly
as a plain condition. Two steps are on *exclusive branches* when one is guarded by a
condition being true and the other by the same condition being false (directly or through
upstream steps whose skip reaches them); at most one of them runs. A `one_of` input needs
exclusive sources, and a step that waits for exclusive steps with the default trigger rule
(all_success) is always skipped, which is almost certainly not what was meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import TYPE_CHECKING

from pipespec.compiler.facts import Edge, StepFacts
from pipespec.diagnostics import Diagnostic, Severity, Span, did_you_mean
from pipespec.spec import conditions, models
from pipespec.spec.loader import NodePath, SourceMap
from pipespec.spec.references import ArtifactRef, BadReference, OneOf, parse_input
from pipespec.spec.validate import ValidatedSpec

if TYPE_CHECKING:
    import networkx as nx

Guard = tuple[str, bool]  # (the step whose `when:` decides, which way it went)


class BranchChecks:
    """The branch half of the graph checker (mixed into it); reports into ``diags``."""

    vspec: ValidatedSpec
    smap: SourceMap
    diags: list[Diagnostic]
    edges: list[Edge]
    all_ids: list[str]

    def err(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        raise NotImplementedError  # the checker's own

    def _artifact(self, ref: ArtifactRef, span: Span) -> str | None:
        raise NotImplementedError  # the checker's own

    def _reads_itself(self, sid: str, upstream: str, span: Span, what: str) -> bool:
        raise NotImplementedError  # the checker's own

    def one_of_input(self, sid: str, value: models.OneOf, path: NodePath) -> OneOf | None:
        """The checked sources of a `one_of` input (each a data edge), or None."""
        sources: list[ArtifactRef] = []
        first_type: str | None = None
        for i, text in enumerate(value.one_of):
            span = self.smap.span((*path, "one_of", i))
            try:
                source = parse_input(text)
            except BadReference as exc:
                self.err("PS302", str(exc), span, exc.hint)
                return None
            if not isinstance(source, ArtifactRef):
                self.err("PS302", f"one_of takes step outputs, not {text!r}", span, None)
                return None
            if self._reads_itself(sid, source.step, span, "input"):
                return None
            type_name = self._artifact(source, span)
            if type_name is None:
                return None
            self.edges.append(Edge(source.step, sid, "data", span, source.output))
            if first_type is not None and type_name != first_type:
                self.err(
                    "PS421",
                    f"'{source}' is {_a(type_name)}, but '{sources[0]}' is {_a(first_type)}",
                    span,
                    "a one_of input has one type: list outputs of the same type",
                )
                return None
            first_type = type_name
            sources.append(source)
        return OneOf(tuple(sources))

    def link_else(self, facts: dict[str, StepFacts]) -> None:
        """Give each `else_of` step its branch's negated condition and the same edges."""
        for sid, step in self.vspec.steps.items():
            other = step.else_of
            if other is None:
                continue
            span = self.smap.span(("steps", sid, "else_of"))
            if self._reads_itself(sid, other, span, "else_of"):
                continue
            if other in self.vspec.broken_steps:
                continue
            if other not in self.vspec.steps:
                hint = did_you_mean(other, self.all_ids)
                self.err("PS401", f"unknown step '{other}'", span, hint)
                continue
            if self.vspec.steps[other].when is None:
                self.err(
                    "PS230",
                    f"step '{sid}' is the else of '{other}', which has no `when:`",
                    span,
                    f"add a `when:` to '{other}'; its else runs when it is false",
                )
                continue
            if step.when is not None:
                self.err(
                    "PS231",
                    f"step '{sid}' has `else_of` and its own `when:`",
                    self.smap.span(("steps", sid, "when")),
                    "an else step runs exactly when the other condition is false; remove `when:`",
                )
                continue
            condition = facts[other].condition
            if condition is None:
                continue  # the condition itself was reported
            ok = True
            for ref in conditions.walk(condition):
                if isinstance(ref, conditions.Ref) and not ref.is_param:
                    if self._reads_itself(sid, ref.parts[0], span, "else_of condition"):
                        ok = False
                        continue
                    self.edges.append(Edge(ref.parts[0], sid, "condition", span, ref.parts[1]))
            if ok:
                facts[sid].condition = conditions.Not(condition)


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _guards(graph: nx.DiGraph[str], vspec: ValidatedSpec) -> dict[str, frozenset[Guard]]:
    """Which condition outcomes each step needs in order to run at all."""
    import networkx as nx

    guards: dict[str, frozenset[Guard]] = {}
    for sid in nx.topological_sort(graph):
        step = vspec.steps[sid]
        own: set[Guard] = set()
        if step.else_of is not None:
            own.add((step.else_of, False))
        elif step.when is not None:
            own.add((sid, True))
        inherited = [guards[p] for p in graph.predecessors(sid)]
        if not inherited:
            guards[sid] = frozenset(own)
        elif (step.trigger or "all_success") == "all_success":
            # A skipped upstream skips this step too: it needs every upstream's outcomes.
            guards[sid] = frozenset(own.union(*inherited))
        else:
            # It runs after whichever upstream ran: only what all of them need.
            guards[sid] = frozenset(own | frozenset.intersection(*inherited))
    return guards


def exclusive_on(a: frozenset[Guard], b: frozenset[Guard]) -> str | None:
    """The step whose condition decides between two guards, or None."""
    return next((s for s, way in a if (s, not way) in b), None)


def branch_diagnostics(
    graph: nx.DiGraph[str], vspec: ValidatedSpec, facts: dict[str, StepFacts]
) -> list[Diagnostic]:
    """PS420 for a `one_of` over steps that can both run; PS422 for an always-skipped join.
    Called on an acyclic graph only."""
    guards = _guards(graph, vspec)
    smap = vspec.loaded.source_map
    diags: list[Diagnostic] = []
    for sid, step_facts in facts.items():
        for name, source in step_facts.inputs.items():
            if isinstance(source, OneOf):
                path = ("steps", sid, "inputs", name, "one_of")
                diags.extend(_one_of_exclusive(source, guards, smap, path))
        step = vspec.steps[sid]
        if (step.trigger or "all_success") != "all_success":
            continue
        pair = _exclusive_pair(sorted(graph.predecessors(sid)), guards)
        if pair is not None:
            (a, b), decider = pair
            diags.append(
                Diagnostic(
                    "PS422",
                    f"step '{sid}' waits for '{a}' and '{b}', which are on exclusive branches "
                    f"of '{decider}': with the default trigger rule (all_success) it is "
                    "always skipped",
                    smap.key_span(("steps", sid)),
                    "add `trigger: none_failed` to run it after whichever branch ran",
                    Severity.WARNING,
                )
            )
    return diags


def _exclusive_pair(
    steps: Iterable[str], guards: dict[str, frozenset[Guard]]
) -> tuple[tuple[str, str], str] | None:
    for a, b in combinations(steps, 2):
        decider = exclusive_on(guards[a], guards[b])
        if decider is not None:
            return (a, b), decider
    return None


def _one_of_exclusive(
    source: OneOf, guards: dict[str, frozenset[Guard]], smap: SourceMap, path: NodePath
) -> list[Diagnostic]:
    for (_, a), (j, b) in combinations(enumerate(source.sources), 2):
        if a.step == b.step or exclusive_on(guards[a.step], guards[b.step]) is None:
            return [
                Diagnostic(
                    "PS420",
                    f"'{a}' and '{b}' can both be produced in one run: a one_of takes outputs "
                    "of exclusive branches",
                    smap.span((*path, j)),
                    "put the producers on opposite sides of one condition (`when:` on one, "
                    "`else_of:` on the other)",
                )
            ]
    return []
