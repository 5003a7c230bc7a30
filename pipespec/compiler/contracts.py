"""Faults pipespec can see before a run: a standard script called against its contract,
a catalog script run in an image nobody chose for it, declared values nothing uses.

The standard scripts' contracts are `pipespec.fill.catalog.contracts.CONTRACTS` (the one
source of docs/catalog.md). A step running `script: pipespec:<name>` must pass the script's
required arguments (PS435) and only arguments it takes (PS436); a key read from the metrics
it writes (in `when:`, a tune objective, an evaluate step's `metrics:`) must be one the
script writes for the step's task (PS437). Warnings: `defaults.image` running a standard
script (PS438), a parameter or metrics output nothing writes or reads (PS439), an input an
own-command step never uses (PS440).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pipespec.compiler.facts import StepFacts
from pipespec.compiler.graph import PipelineGraph
from pipespec.compiler.placeholders import string_span
from pipespec.diagnostics import Diagnostic, Severity, Span, did_you_mean
from pipespec.fill.catalog.contracts import ScriptContract, contract
from pipespec.fill.info import FillInfo
from pipespec.ir import is_parameter
from pipespec.spec import conditions, models
from pipespec.spec.loader import NodePath
from pipespec.spec.references import Placeholder
from pipespec.spec.validate import ValidatedSpec

_OUTPUT = re.compile(r"^\$\{outputs\.([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass(frozen=True)
class _Call:
    """A step that runs a standard script, as its args call it."""

    sid: str
    contract: ScriptContract
    args: tuple[str, ...]

    def value(self, flag: str) -> str | None:
        """The value passed to ``flag`` (any spelling; `--flag value` or `--flag=value`)."""
        arg = self.contract.argument(flag)
        spellings = arg.spellings if arg is not None else (flag,)
        for i, token in enumerate(self.args):
            name, eq, inline = token.partition("=")
            if name in spellings:
                if eq:
                    return inline
                return self.args[i + 1] if i + 1 < len(self.args) else None
        return None


def contract_checks(
    vspec: ValidatedSpec, pgraph: PipelineGraph, fill: FillInfo | None, *, warn: bool = True
) -> list[Diagnostic]:
    """The errors PS435-PS437 and, with ``warn``, the warnings PS438-PS440."""
    checker = _Checker(vspec, pgraph)
    calls = list(checker.calls())
    for call in calls:
        checker.arguments(call)
    checker.metric_keys(calls)
    if warn and not checker.diags:
        checker.default_image(calls, fill or FillInfo())
        checker.unused(pgraph.facts)
    return checker.diags


class _Checker:
    def __init__(self, vspec: ValidatedSpec, pgraph: PipelineGraph) -> None:
        self.vspec = vspec
        self.pgraph = pgraph
        self.smap = vspec.loaded.source_map
        self.lines = vspec.loaded.text.splitlines()
        self.diags: list[Diagnostic] = []

    def span(self, *path: str | int) -> Span:
        return self.smap.span(path)

    def calls(self) -> Iterator[_Call]:
        for sid, step in self.vspec.steps.items():
            if step.command is None and step.script is not None:
                found = contract(step.script)
                if found is not None:
                    yield _Call(sid, found, tuple(step.args or ()))

    # --- arguments ------------------------------------------------------------------------

    def arguments(self, call: _Call) -> None:
        c, base = call.contract, ("steps", call.sid)
        step = self.vspec.steps[call.sid]
        where = self.span(*base, "args") if step.args else self.span(*base, "script")
        missing = [a.flag for a in c.required if call.value(a.flag) is None]
        if missing:
            listed = ", ".join(missing)
            self.diags.append(
                Diagnostic(
                    "PS435",
                    f"step '{call.sid}' runs pipespec:{c.name} without {listed}, which the "
                    "script requires",
                    where,
                    f"add {listed} with their values to the step's `args:` (docs/catalog.md)",
                )
            )
        if c.accepts_extra:
            return
        for i, token in enumerate(call.args):
            name = token.partition("=")[0]
            if not name.startswith("--") or c.argument(name) is not None:
                continue
            what = (
                f"pipespec:{c.name} reads no label column, so `--label` cannot set one"
                if name == "--label"
                else f"pipespec:{c.name} takes no argument {name}"
            )
            known = [s for a in c.arguments for s in a.spellings]
            self.diags.append(
                Diagnostic(
                    "PS436",
                    f"step '{call.sid}': {what}",
                    self.span(*base, "args", i),
                    did_you_mean(name, known) or f"it takes: {', '.join(known)}",
                )
            )

    # --- metric keys ----------------------------------------------------------------------

    def written_keys(self, call: _Call) -> tuple[str, tuple[str, ...]] | None:
        """(metrics output, keys it gets) for a script that writes metrics for a known task."""
        c = call.contract
        if c.metrics_flag is None:
            return None
        target = _OUTPUT.match(call.value(c.metrics_flag) or "")
        if c.metric_keys:  # the same keys for any task (the drift check's verdict)
            return (target.group(1), c.metric_keys) if target is not None else None
        task = call.value(c.task_flag) if c.task_flag else self._task(call.sid)
        if target is None or task is None or task not in c.metrics:
            return None
        return target.group(1), c.metrics[task]

    def _task(self, sid: str) -> str | None:
        """An evaluate step's task: its own, or that of the train/tune step it scores."""
        step = self.vspec.steps[sid]
        task = getattr(step, "task", None)
        model = (step.inputs or {}).get("model")
        if task is None and isinstance(model, str) and "." in model:
            producer = self.vspec.steps.get(model.split(".", 1)[0])
            task = getattr(producer, "task", None)
        return task if isinstance(task, str) else None

    def metric_keys(self, calls: Sequence[_Call]) -> None:
        written: dict[tuple[str, str], tuple[_Call, tuple[str, ...]]] = {}
        for call in calls:
            found = self.written_keys(call)
            if found is not None:
                written[(call.sid, found[0])] = (call, found[1])
        for (sid, _), (call, keys) in written.items():
            step = self.vspec.steps[sid]
            for i, key in enumerate(getattr(step, "metrics", None) or ()):
                self._key(call, key, keys, self.span("steps", sid, "metrics", i))
            objective = getattr(step, "objective", None)
            if objective is not None:
                span = self.span("steps", sid, "objective", "metric")
                self._key(call, objective.metric, keys, span)
        for sid, facts in self.pgraph.facts.items():
            for ref in _refs(facts.condition):
                read = written.get((ref.parts[0], ref.parts[1])) if len(ref.parts) == 3 else None
                if read is not None:
                    length = len(".".join(ref.parts))
                    path: NodePath = ("steps", sid, "when")
                    span = string_span(self.smap, self.lines, path, ref.offset, length)
                    self._key(read[0], ref.parts[2], read[1], span)

    def _key(self, call: _Call, key: str, keys: tuple[str, ...], span: Span) -> None:
        if key in keys or self._named_key(call, key):
            return
        writes = f"{', '.join(keys)} for its task"
        if call.contract.metric_keys:
            metric = call.value("--metric") or "psi"
            writes = f"{', '.join(keys)} and {metric}_<feature> per feature"
        self.diags.append(
            Diagnostic(
                "PS437",
                f"pipespec:{call.contract.name} never writes a metric '{key}' for step "
                f"'{call.sid}' (it writes {writes})",
                span,
                did_you_mean(key, keys) or f"use one of: {', '.join(keys)} (docs/catalog.md)",
            )
        )

    def _named_key(self, call: _Call, key: str) -> bool:
        """A key named from the data: the drift check's `<metric>_<feature>` per feature."""
        if not call.contract.metric_keys:
            return False
        metric = call.value("--metric") or "psi"
        return key.startswith(metric + "_") and len(key) > len(metric) + 1

    # --- images ---------------------------------------------------------------------------

    def default_image(self, calls: Sequence[_Call], fill: FillInfo) -> None:
        """PS438 where `defaults.image` runs a standard script (the catalog had no image)."""
        spec = self.vspec.spec
        defaults = spec.defaults if spec is not None else None
        if defaults is None or defaults.image is None:
            return
        for call in calls:
            step = self.vspec.steps[call.sid]
            if step.image is not None or fill.target_images.get(call.sid, {}).get("kubernetes"):
                continue
            self.diags.append(
                Diagnostic(
                    "PS438",
                    f"step '{call.sid}' runs pipespec:{call.contract.name} in defaults.image "
                    f"{defaults.image!r}: the catalog has no image for it here",
                    self.span("defaults", "image"),
                    f"make sure the image has what docs/catalog.md says the script needs, "
                    f"or write `image:` on step '{call.sid}'",
                    severity=Severity.WARNING,
                )
            )

    # --- declared, never used -------------------------------------------------------------

    def unused(self, facts: Mapping[str, StepFacts]) -> None:
        read = {(e.upstream, e.output) for e in self.pgraph.edges if e.output is not None}
        for sid, step in self.vspec.steps.items():
            fact = facts.get(sid)
            if fact is None or not fact.runs_something:
                continue
            self._unused_outputs(sid, step, fact, read)
            if step.command is not None:
                self._unused_inputs(sid, step, fact)

    def _unused_outputs(
        self, sid: str, step: models.StepBase, fact: StepFacts, read: set[tuple[str, str]]
    ) -> None:
        named = fact.named_outputs
        for name, declared in (step.outputs or {}).items():
            type_name = models.output_type(declared)
            if not is_parameter(type_name) or name in named or (sid, name) in read:
                continue
            where = "args" if fact.script is not None else "command"
            self.diags.append(
                Diagnostic(
                    "PS439",
                    f"step '{sid}' declares the {type_name} output '{name}', but its {where} "
                    f"never writes it (no ${{outputs.{name}}}) and no step reads it",
                    self.smap.key_span(("steps", sid, "outputs", name)),
                    f"pass ${{outputs.{name}}} to the {where}, or remove the output",
                    severity=Severity.WARNING,
                )
            )

    def _unused_inputs(self, sid: str, step: models.StepBase, fact: StepFacts) -> None:
        values = (*fact.command, *fact.args, *(value for _, value in fact.env))
        used = {
            str(seg.name)
            for value in values
            for seg in value
            if isinstance(seg, Placeholder) and seg.root == "inputs"
        }
        for name in step.inputs or {}:
            if name in used:
                continue
            self.diags.append(
                Diagnostic(
                    "PS440",
                    f"step '{sid}' never uses its input '{name}': its command and env do not "
                    f"name ${{inputs.{name}}}",
                    self.smap.key_span(("steps", sid, "inputs", name)),
                    f"pass ${{inputs.{name}}} to the command, or use `after:` if the step "
                    "only needs to run later",
                    severity=Severity.WARNING,
                )
            )


def _refs(expr: conditions.Expr | None) -> Iterator[conditions.Ref]:
    if expr is None:
        return
    for node in conditions.walk(expr):
        if isinstance(node, conditions.Ref):
            yield node
