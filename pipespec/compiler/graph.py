"""The pipeline DAG: edges from references and `after:`, and every check on them.

Edges come from artifact inputs, `when:` references, `foreach:` over a step output and
`after:`. Each edge keeps the span of the text that created it, so a cycle is reported with
the whole path and where each link was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipespec.compiler.branches import BranchChecks, branch_diagnostics
from pipespec.compiler.checks import unwritten_outputs
from pipespec.compiler.facts import EDGE_KINDS, Edge, EdgeKind, StepFacts
from pipespec.compiler.placeholders import PlaceholderChecks, string_span
from pipespec.compiler.pod import pod_problems, written_defaults
from pipespec.compiler.tuning import tune_problems
from pipespec.diagnostics import Diagnostic, Span, did_you_mean
from pipespec.fill.scripts import STANDARD_SCRIPTS, Script, load_script
from pipespec.spec import conditions, models
from pipespec.spec.loader import NodePath
from pipespec.spec.references import (
    ArtifactRef,
    BadReference,
    ParamRef,
    parse_input,
)
from pipespec.spec.semantics import (
    INPUT_ROLES,
    REQUIRED_INPUTS,
    effective_outputs,
    is_artifact,
    step_kind,
)
from pipespec.spec.validate import ValidatedSpec

# string_span moved to placeholders.py, Edge and StepFacts to facts.py; they stay
# importable from here for other checks.
__all__ = ["Edge", "PipelineGraph", "StepFacts", "build_graph", "script_path", "string_span"]

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class PipelineGraph:
    graph: nx.DiGraph[str]
    edges: list[Edge]
    facts: dict[str, StepFacts]
    order: list[str]  # step ids in authoring order

    def edge_kinds(self) -> dict[tuple[str, str], tuple[EdgeKind, ...]]:
        """Each edge of the DAG once, with every reason for it (one edge can carry data
        *and* a `when`), kinds in the order data, foreach, condition, after."""
        kinds: dict[tuple[str, str], set[EdgeKind]] = {}
        for edge in self.edges:
            if self.graph.has_edge(edge.upstream, edge.downstream):
                kinds.setdefault((edge.upstream, edge.downstream), set()).add(edge.why)
        return {
            pair: tuple(k for k in EDGE_KINDS if k in reasons) for pair, reasons in kinds.items()
        }


def script_path(spec_file: str, script: str) -> Path:
    """Where a step's script lives: relative to the spec's folder."""
    return Path(spec_file).parent / script


class _Checker(PlaceholderChecks, BranchChecks):
    def __init__(self, vspec: ValidatedSpec) -> None:
        self.vspec = vspec
        self.smap = vspec.loaded.source_map
        self.lines = vspec.loaded.text.splitlines()  # once: spans inside strings use it
        self.diags: list[Diagnostic] = []
        header = vspec.loaded.data
        params = header.get("params")
        self.params: dict[str, str] = {}
        if isinstance(params, dict):
            for name, p in params.items():
                if isinstance(p, dict) and isinstance(p.get("type"), str):
                    self.params[name] = p["type"]
        secrets = header.get("secrets")
        self.secrets: set[str] = set(secrets) if isinstance(secrets, dict) else set()
        raw_steps = header.get("steps")
        self.all_ids: list[str] = list(raw_steps) if isinstance(raw_steps, dict) else []
        self.outputs = {sid: effective_outputs(s) for sid, s in vspec.steps.items()}
        self.edges: list[Edge] = []

    # --- references ---------------------------------------------------------------------

    def _artifact(self, ref: ArtifactRef, span: Span) -> str | None:
        """The type of ``ref``'s output, or None after reporting why it has none."""
        if ref.step in self.vspec.broken_steps:
            return None  # already reported; do not pile on
        if ref.step not in self.vspec.steps:
            self.err(
                "PS401",
                f"unknown step '{ref.step}'",
                span,
                did_you_mean(ref.step, self.all_ids),
            )
            return None
        outputs = self.outputs[ref.step]
        if ref.output not in outputs:
            hint = did_you_mean(f"{ref.output}", outputs)
            if hint is None and outputs:
                hint = f"'{ref.step}' has outputs: {', '.join(sorted(outputs))}"
            elif hint is None:
                hint = f"'{ref.step}' declares no outputs; add `outputs:` to it"
            else:
                hint = hint.replace("'", f"'{ref.step}.", 1)
            self.err("PS402", f"step '{ref.step}' has no output '{ref.output}'", span, hint)
            return None
        return outputs[ref.output]

    def _reads_itself(self, sid: str, upstream: str, span: Span, what: str) -> bool:
        """Report a step that reads its own output: it would wait for itself forever."""
        if upstream != sid:
            return False
        self.err(
            "PS406",
            f"step '{sid}' reads its own output in its {what}",
            span,
            "a step's outputs exist only after it ran; read them in a later step",
        )
        return True

    def _param(self, name: str, span: Span) -> str | None:
        if name not in self.params:
            self.err(
                "PS404",
                f"unknown param '{name}'",
                span,
                did_you_mean(name, self.params)
                or ("declare it under `params:`" if not self.params else None),
            )
            return None
        return self.params[name]

    def check_step(self, sid: str, step: models.StepBase) -> StepFacts:
        facts = StepFacts(outputs=self.outputs[sid], kind=step_kind(step))
        base: NodePath = ("steps", sid)
        kind = step_kind(step)
        roles = INPUT_ROLES.get(kind, {})
        for name, value in (step.inputs or {}).items():
            path = (*base, "inputs", name)
            if isinstance(value, models.OneOf):
                one_of = self.one_of_input(sid, value, path)
                if one_of is not None:
                    first = one_of.sources[0]
                    facts.inputs[name] = one_of
                    facts.input_types[name] = self.outputs[first.step][first.output]
                continue
            span = self.smap.span(path)
            try:
                # A declared external input (`{uri, columns}`) reads its URI.
                uri = value.uri if isinstance(value, models.ExternalInput) else value
                source = parse_input(uri)
            except BadReference as exc:
                self.err("PS302", str(exc), span, exc.hint)
                continue
            facts.inputs[name] = source
            if isinstance(source, ArtifactRef):
                if self._reads_itself(sid, source.step, span, "input"):
                    continue
                type_name = self._artifact(source, span)
                if type_name is None:
                    continue
                self.edges.append(Edge(source.step, sid, "data", span, source.output))
                facts.input_types[name] = type_name
                expected = roles.get(name)
                if expected and type_name != expected:
                    self.err(
                        "PS403",
                        f"input '{name}' of {_a(kind)} step expects {_a(expected)}, but "
                        f"'{source}' is {_a(type_name)}",
                        span,
                        _type_hint(expected, source.step, self.outputs[source.step]),
                    )
            elif isinstance(source, ParamRef):
                ptype = self._param(source.name, span)
                if ptype is not None:
                    facts.input_types[name] = ptype
            else:
                facts.input_types[name] = roles.get(name, "artifact")
        for name in REQUIRED_INPUTS.get(kind, ()):
            if name not in (step.inputs or {}):
                self.err(
                    "PS407",
                    f"{_a(kind)} step needs an input named '{name}'",
                    self.smap.key_span(base),
                    f"add `inputs: {{{name}: <step>.{name}}}`",
                )
        self._check_after(sid, step, base)
        self._check_foreach(sid, step, base, facts)
        self._check_when(sid, step, base, facts)
        self._check_secrets(step, base)
        facts.command = tuple(
            self._placeholders(step, facts.outputs, (*base, "command", i), arg)
            for i, arg in enumerate(step.command or ())
        )
        facts.args = tuple(
            self._placeholders(step, facts.outputs, (*base, "args", i), arg)
            for i, arg in enumerate(step.args or ())
        )
        facts.script = self._check_script(step, base)
        facts.env = tuple(
            (key, self._placeholders(step, facts.outputs, (*base, "env", key), value))
            for key, value in sorted((step.env or {}).items())
        )
        return facts

    def _check_after(self, sid: str, step: models.StepBase, base: NodePath) -> None:
        for i, other in enumerate(step.after or ()):
            span = self.smap.span((*base, "after", i))
            if other == sid:
                self.err("PS406", f"step '{sid}' lists itself in `after`", span, "remove it")
            elif other in self.vspec.broken_steps:
                continue
            elif other not in self.vspec.steps:
                self.err(
                    "PS401", f"unknown step '{other}'", span, did_you_mean(other, self.all_ids)
                )
            else:
                self.edges.append(Edge(other, sid, "after", span))

    def _check_foreach(
        self, sid: str, step: models.StepBase, base: NodePath, facts: StepFacts
    ) -> None:
        value = step.foreach
        if value is None:
            return
        if isinstance(value, list):
            facts.foreach = tuple(value)
            return
        path = (*base, "foreach")
        span = self.smap.span(path)
        try:
            source = parse_input(value)
        except BadReference as exc:
            self.err(
                "PS405", f"foreach: {exc}", span, "write a list, or params.NAME of a list param"
            )
            return
        if isinstance(source, ParamRef):
            ptype = self._param(source.name, span)
            if ptype is not None and ptype != "list":
                self.err(
                    "PS405",
                    f"foreach over params.{source.name}, which is a {ptype}, not a list",
                    span,
                    f"declare it as `{source.name}: {{type: list, ...}}`",
                )
        elif isinstance(source, ArtifactRef):
            if self._reads_itself(sid, source.step, span, "foreach"):
                return
            type_name = self._artifact(source, span)
            if type_name is not None:
                self.edges.append(Edge(source.step, sid, "foreach", span, source.output))
                if type_name != "list":
                    self.err(
                        "PS405",
                        f"foreach over '{source}', which is a {type_name}, not a list",
                        span,
                        f"declare the output as `{source.output}: list`",
                    )
        else:
            self.err("PS405", "foreach over a URI", span, "write a list, or params.NAME")
            return
        facts.foreach = source

    def _check_when(
        self, sid: str, step: models.StepBase, base: NodePath, facts: StepFacts
    ) -> None:
        if step.when is None:
            return
        path = (*base, "when")
        try:
            expr = conditions.parse_condition(step.when)
        except conditions.ConditionSyntaxError as exc:
            span = string_span(self.smap, self.lines, path, exc.offset, 1)
            self.err("PS300", f"condition: {exc.message}", span, exc.hint)
            return
        ok = True
        for node in conditions.walk(expr):
            if isinstance(node, conditions.Ref):
                length = len(".".join(node.parts))
                span = string_span(self.smap, self.lines, path, node.offset, length)
                ok = self._condition_ref(sid, node, span) and ok
            if isinstance(node, conditions.Compare):
                ok = self._compare_types(node, path) and ok
        if ok:
            facts.condition = expr

    def _condition_ref(self, sid: str, ref: conditions.Ref, span: Span) -> bool:
        parts = ref.parts
        if parts[0] == "params":
            if len(parts) != 2:
                self.err("PS302", "a param reference is params.NAME", span)
                return False
            return self._param(parts[1], span) is not None
        if len(parts) < 2 or len(parts) > 3:
            self.err("PS302", f"'{'.'.join(parts)}' is not STEP.OUTPUT[.KEY]", span)
            return False
        if self._reads_itself(sid, parts[0], span, "condition"):
            return False
        type_name = self._artifact(ArtifactRef(parts[0], parts[1]), span)
        if type_name is None:
            return False
        self.edges.append(Edge(parts[0], sid, "condition", span, parts[1]))
        if len(parts) == 3:
            if type_name not in ("metrics", "dict"):
                self.err(
                    "PS301",
                    f"'{parts[0]}.{parts[1]}' is a {type_name}; only metrics and dict outputs "
                    "have keys",
                    span,
                )
                return False
            declared = getattr(self.vspec.steps[parts[0]], "metrics", None)
            if type_name == "metrics" and declared and parts[2] not in declared:
                self.err(
                    "PS408",
                    f"step '{parts[0]}' does not report a metric '{parts[2]}'",
                    span,
                    did_you_mean(parts[2], declared) or f"it reports: {', '.join(declared)}",
                )
                return False
        elif is_artifact(type_name):
            self.err(
                "PS301",
                f"a condition cannot test '{'.'.join(parts)}', a {type_name}",
                span,
                "compare a metric (STEP.metrics.KEY) or a parameter output",
            )
            return False
        return True

    def _value_type(self, node: conditions.Expr) -> str | None:
        """'number', 'string', 'bool', or None when unknown (a metric value)."""
        if isinstance(node, conditions.Literal):
            if isinstance(node.value, bool):
                return "bool"
            return "string" if isinstance(node.value, str) else "number"
        if isinstance(node, conditions.Ref):
            if node.parts[0] == "params":
                ptype = self.params.get(node.parts[1]) if len(node.parts) > 1 else None
            else:
                outs = self.outputs.get(node.parts[0], {})
                ptype = outs.get(node.parts[1]) if len(node.parts) == 2 else None
            return {"int": "number", "float": "number", "string": "string", "bool": "bool"}.get(
                ptype or ""
            )
        return "bool"

    def _compare_types(self, node: conditions.Compare, path: NodePath) -> bool:
        left, right = self._value_type(node.left), self._value_type(node.right)
        if left and right and left != right:
            span = string_span(self.smap, self.lines, path, node.offset, 1)
            self.err(
                "PS301",
                f"'{conditions.format_condition(node)}' compares a {left} with a {right}",
                span,
            )
            return False
        if node.op in ("<", "<=", ">", ">=") and "bool" in (left, right):
            span = string_span(self.smap, self.lines, path, node.offset, 1)
            self.err("PS301", f"'{node.op}' does not order booleans", span, "use == or !=")
            return False
        return True

    def _check_script(self, step: models.StepBase, base: NodePath) -> Script | None:
        """The step's script, read once for lowering and every backend; None after PS212."""
        if step.script is None:
            return None
        span = self.smap.span((*base, "script"))
        if step.script.startswith("pipespec:"):
            name = step.script.removeprefix("pipespec:")
            if name not in STANDARD_SCRIPTS:
                self.err(
                    "PS212",
                    f"there is no standard script '{name}'",
                    span,
                    did_you_mean(name, STANDARD_SCRIPTS)
                    or f"standard scripts: {', '.join(sorted(STANDARD_SCRIPTS))}",
                )
                return None
            return load_script(self.vspec.loaded.file, step.script)
        path = script_path(self.vspec.loaded.file, step.script)
        if not path.is_file():
            self.err(
                "PS212",
                f"script file {step.script} does not exist (looked in {path.parent.as_posix()})",
                span,
                "scripts are paths relative to the spec's folder",
            )
            return None
        try:
            return load_script(self.vspec.loaded.file, step.script)
        except UnicodeDecodeError as exc:
            problem, hint = (
                f"is not UTF-8 text (bad byte at offset {exc.start})",
                "save the script as UTF-8",
            )
        except OSError as exc:
            problem, hint = f"cannot be read ({exc.strerror or exc})", None
        self.err("PS212", f"script file {step.script} {problem}", span, hint)
        return None

    def _check_secrets(self, step: models.StepBase, base: NodePath) -> None:
        for env, secret in (step.secrets or {}).items():
            if secret not in self.secrets:
                self.err(
                    "PS211",
                    f"unknown secret '{secret}'",
                    self.smap.span((*base, "secrets", env)),
                    did_you_mean(secret, self.secrets) or "declare it under `secrets:`",
                )
        source = getattr(step, "source", None)
        if source is not None and source.connection and source.connection not in self.secrets:
            self.err(
                "PS211",
                f"unknown secret '{source.connection}'",
                self.smap.span((*base, "source", "connection")),
                did_you_mean(source.connection, self.secrets) or "declare it under `secrets:`",
            )


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _type_hint(expected: str, step: str, outputs: dict[str, str]) -> str | None:
    matching = sorted(name for name, t in outputs.items() if t == expected)
    if matching:
        return f"did you mean '{step}.{matching[0]}'?"
    return None


def build_graph(vspec: ValidatedSpec) -> tuple[PipelineGraph, list[Diagnostic]]:
    import networkx as nx

    checker = _Checker(vspec)
    facts = {sid: checker.check_step(sid, step) for sid, step in vspec.steps.items()}
    checker.check_defaults_env()
    checker.link_else(facts)
    graph: nx.DiGraph[str] = nx.DiGraph()
    order = [sid for sid in checker.all_ids if sid in vspec.steps]
    graph.add_nodes_from(order)
    for edge in checker.edges:
        if not graph.has_edge(edge.upstream, edge.downstream):
            graph.add_edge(edge.upstream, edge.downstream, why=edge.why, span=edge.span)
    checker.diags.extend(unwritten_outputs(checker.edges, facts))
    checker.diags.extend(tune_problems(vspec, facts, checker.edges))
    defaults = written_defaults(vspec.loaded.data)
    checker.diags.extend(
        pod_problems(vspec.steps, defaults, checker.secrets, checker.params, checker.smap)
    )
    cycles = _cycles(graph, order)
    checker.diags.extend(cycles or branch_diagnostics(graph, vspec, facts))
    return PipelineGraph(graph, checker.edges, facts, order), checker.diags


def _cycles(graph: nx.DiGraph[str], order: list[str]) -> list[Diagnostic]:
    import networkx as nx

    diags: list[Diagnostic] = []
    rank = {sid: i for i, sid in enumerate(order)}
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            continue  # self-loops are rejected earlier (PS406) and never become edges
        start = min(component, key=rank.__getitem__)
        cycle = nx.find_cycle(graph.subgraph(component), source=start)
        path = [u for u, _ in cycle] + [cycle[0][0]]
        related = tuple(
            (graph.edges[u, v]["span"], f"'{v}' depends on '{u}' ({graph.edges[u, v]['why']})")
            for u, v in cycle
        )
        first = min((s for s, _ in related), key=lambda s: (s.line, s.col))
        diags.append(
            Diagnostic(
                "PS400",
                "dependency cycle: " + " -> ".join(path),
                first,
                hint="a pipeline is a DAG; remove one of these dependencies",
                related=related,
            )
        )
    return diags
