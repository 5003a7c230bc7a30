"""IR -> an Airflow DAG file.

The renderer builds a view model of plain values; the jinja2 template lays it out and every
value passes through the ``py`` filter (a proven Python literal, or ``Code`` that this module
assembled from literals and identifiers). Step features map to Airflow's own constructs:
KubernetesPodOperator (or a PythonOperator running the argv on the worker), typed ``Param``s,
ShortCircuitOperator for ``when:``, dynamic task mapping (``partial().expand_kwargs()``) for
``foreach:``, Kubernetes ``Secret``s, ``V1ResourceRequirements``, node selectors and
tolerations for accelerators.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pipespec import __version__, ir
from pipespec.backends import RenderResult
from pipespec.backends.airflow.jinja_text import escape_literal, keep_final_newline
from pipespec.diagnostics import Diagnostic, Severity, Span
from pipespec.pysafe import Code, comment, py_ident, py_literal, python_header
from pipespec.spec import conditions, units
from pipespec.spec.references import (
    ArtifactRef,
    LiteralUri,
    ParamRef,
    Placeholder,
    Segment,
    Text,
)

XCOM_RETURN = "/airflow/xcom/return.json"
DEFAULT_START_DATE = "2024-01-01"
DEFAULT_LOCAL_ROOT = "/tmp/pipespec-artifacts"

# Node labels set by NVIDIA GPU feature discovery (the GPU operator), the most portable
# way to ask Kubernetes for a GPU model.
GPU_PRODUCTS = {
    "nvidia-t4": "Tesla-T4",
    "nvidia-l4": "NVIDIA-L4",
    "nvidia-a10g": "NVIDIA-A10G",
    "nvidia-v100": "Tesla-V100-SXM2-16GB",
    "nvidia-a100": "NVIDIA-A100-SXM4-40GB",
    "nvidia-a100-80gb": "NVIDIA-A100-SXM4-80GB",
    "nvidia-h100": "NVIDIA-H100-80GB-HBM3",
}
PARAM_JSON_TYPES = {
    "string": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
}
PARAMETER_OUTPUT_TYPES = ("metrics", "string", "int", "float", "bool", "list", "dict")


@dataclass
class TaskView:
    var: str
    task_id: str
    operator: str
    kwargs: list[tuple[str, Any]]
    partial: bool = False
    expand: Any = None  # a Code expression for expand_kwargs(...)


@dataclass
class FunctionView:
    name: str
    params: Code
    body: Code


@dataclass
class DagView:
    header: list[str]
    version: str
    operator: str
    dag_kwargs: list[tuple[str, Any]]
    tasks: list[TaskView] = field(default_factory=list)
    functions: list[FunctionView] = field(default_factory=list)
    constants: list[tuple[str, Any]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    uses: set[str] = field(default_factory=set)


def _call(func: str, *args: Any, **kwargs: Any) -> Code:
    """``func(args..., key=value...)`` with every argument a literal or pipespec's Code."""
    parts = [_value(a) for a in args]
    parts += [f"{py_ident(k)}={_value(v)}" for k, v in kwargs.items()]
    dotted = ".".join(py_ident(p) for p in func.split("."))
    return Code(f"{dotted}({', '.join(parts)})")


def _value(value: Any) -> str:
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, list) and any(isinstance(v, Code) for v in value):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return py_literal(value)


@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipespec.backends.airflow", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["py"] = _value
    env.filters["ident"] = py_ident
    env.filters["comment"] = comment
    env.filters["python_header"] = python_header
    return env


class _Renderer:
    def __init__(self, pipeline: ir.Pipeline) -> None:
        self.p = pipeline
        settings = dict(ir.thaw(pipeline.targets.get("airflow", ir.FrozenMap())))
        self.version: str = settings.get("version", "3")
        self.operator: str = settings.get("operator", "kubernetes")
        self.namespace: str | None = settings.get("namespace")
        self.conn_id: str | None = settings.get("kubernetes_conn_id")
        self.start_date: str = settings.get("start_date") or DEFAULT_START_DATE
        self.tags: list[str] = settings.get("tags") or ["pipespec"]
        root = settings.get("artifact_root")
        self.diags: list[Diagnostic] = []
        if root is None:
            root = DEFAULT_LOCAL_ROOT
            if self.operator == "kubernetes" and _has_artifacts(pipeline):
                self.warn(
                    f"no targets.airflow.artifact_root: artifacts go to {root} inside each "
                    "pod and are not shared between tasks",
                    None,
                    "set artifact_root to an s3://, gs:// or mounted path",
                )
        self.root = root.rstrip("/")
        self.vars: dict[str, str] = {}
        for i, step in enumerate(pipeline.steps):
            self.vars[step.id] = f"t{i}_{step.id.replace('-', '_')}"
        self.secrets = {s.name: s for s in pipeline.secrets}
        self.params = {p.name: p for p in pipeline.params}
        # The DAG file sits one folder below the output root (`airflow/`).
        self.spec_path = posixpath.normpath(posixpath.join("..", pipeline.source_file))

    # --- diagnostics -----------------------------------------------------------------------

    def warn(self, message: str, step: ir.Step | None, hint: str | None = None) -> None:
        # A pipeline-wide warning points at the spec itself, so a CI annotation has a file.
        span = step.span if step is not None else Span(self.p.steps[0].span.file, 1, 1)
        self.diags.append(Diagnostic("PS600", message, span, hint, Severity.WARNING))

    def error(self, message: str, step: ir.Step, hint: str | None = None) -> None:
        self.diags.append(Diagnostic("PS600", message, step.span, hint))

    # --- strings for templated fields ------------------------------------------------------

    def _producer(self, step_id: str) -> ir.Step:
        return self.p.step(step_id)

    def _xcom_jinja(self, ref: ArtifactRef, type_name: str) -> str:
        pull = f"ti.xcom_pull(task_ids='{ref.step}', key='{self._xcom_key(ref)}')"
        return "{{ " + pull + ("" if type_name == "string" else " | tojson") + " }}"

    def _xcom_key(self, ref: ArtifactRef) -> str:
        return "return_value" if self.operator == "kubernetes" else ref.output

    def artifact_uri(self, step: ir.Step, output: str, *, mapped_item: bool) -> str:
        base = escape_literal(self.root)
        uri = f"{base}/{self.p.name}/{{{{ run_id }}}}/{step.id}/{output}"
        return uri + ("/{{ ti.map_index }}" if mapped_item else "")

    def is_parameter_output(self, type_name: str) -> bool:
        return type_name in PARAMETER_OUTPUT_TYPES

    def param_jinja(self, name: str) -> str:
        """A run-time param as Jinja: strings as they are, anything else as JSON."""
        suffix = "" if self.params[name].type == "string" else " | tojson"
        return "{{ params['" + name + "']" + suffix + " }}"

    def placeholder(self, step: ir.Step, seg: Placeholder, item_text: str | None) -> str:
        # Called for every placeholder of every step: lookups here must be O(1).
        if seg.root == "item":
            assert item_text is not None
            return item_text
        name = str(seg.name)
        if seg.root == "params":
            return self.param_jinja(name)
        if seg.root == "outputs":
            out = next(o for o in step.outputs if o.name == name)
            if self.is_parameter_output(out.type) and self.operator == "kubernetes":
                return XCOM_RETURN
            return self.artifact_uri(step, name, mapped_item=is_mapped(step))
        inp = step.input(name)
        assert inp is not None
        source = inp.source
        if isinstance(source, ParamRef):
            return self.param_jinja(source.name)
        if isinstance(source, LiteralUri):
            return escape_literal(source.uri)
        producer = self._producer(source.step)
        if natively_tuned(producer):
            # The best trial's outputs, as its `<step>.best` task reports them.
            pull = f"ti.xcom_pull(task_ids='{producer.id}.best')['{source.output}']"
            plain = inp.type in ("model", "dataset", "artifact", "string")
            return "{{ " + pull + ("" if plain else " | tojson") + " }}"
        if self.is_parameter_output(inp.type) and self.operator == "kubernetes":
            return self._xcom_jinja(source, inp.type)
        uri = self.artifact_uri(producer, source.output, mapped_item=False)
        return uri + ("/" if producer.foreach is not None else "")

    def text(
        self, step: ir.Step, segments: tuple[Segment, ...], item_text: str | None = None
    ) -> str:
        out = []
        for seg in segments:
            if isinstance(seg, Text):
                out.append(escape_literal(seg.text))
            else:
                out.append(self.placeholder(step, seg, item_text))
        return keep_final_newline("".join(out))

    def plain(self, value: str) -> str:
        return keep_final_newline(escape_literal(value))

    # --- the DAG ---------------------------------------------------------------------------

    def dag_kwargs(self) -> list[tuple[str, Any]]:
        year, month, day = (int(x) for x in self.start_date.split("-"))
        params = {}
        for p in self.p.params:
            kwargs: dict[str, Any] = {"type": PARAM_JSON_TYPES[p.type]}
            if p.description:
                kwargs["description"] = p.description
            if p.enum is not None:
                kwargs["enum"] = [ir.thaw(v) for v in p.enum]
            if p.pattern is not None:
                kwargs["pattern"] = p.pattern
            params[p.name] = _call("Param", ir.thaw(p.default), **kwargs)
        doc = (self.p.description or self.p.name).rstrip() + (
            f"\n\nGenerated by pipespec from the spec `{self.spec_path}` (relative to this "
            "file); edit the spec, not this file."
        )
        out: list[tuple[str, Any]] = [
            ("dag_id", self.p.name),
            (
                "description",
                (self.p.description or "").strip().splitlines()[0] if self.p.description else None,
            ),
            ("doc_md", doc),
            # Always explicit: without it Airflow 2 runs daily and Airflow 3 never.
            ("schedule", Code("None") if self.p.schedule is None else self.p.schedule),
            (
                "start_date",
                _call("datetime.datetime", year, month, day, tzinfo=Code("datetime.timezone.utc")),
            ),
            ("catchup", False),
            ("tags", self.tags),
        ]
        if params:
            out.append(("params", _dict_code(params)))
        out.append(("render_template_as_native_obj", False))
        return out

    def common_kwargs(self, step: ir.Step) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [("task_id", step.id)]
        if step.description:
            # Airflow reads a doc_md ending in ".md" as a template file name.
            doc = step.description + ("\n" if step.description.endswith(".md") else "")
            out.append(("doc_md", doc))
        out.append(("retries", step.retries))
        if step.retry_delay_s is not None:
            out.append(("retry_delay", _call("datetime.timedelta", seconds=step.retry_delay_s)))
        if step.timeout_s is not None:
            out.append(("execution_timeout", _call("datetime.timedelta", seconds=step.timeout_s)))
        return out

    def written_parameter_outputs(self, step: ir.Step) -> list[str]:
        """Parameter/metrics outputs the step's command or env actually names."""
        named = {
            seg.name
            for arg in (*argv_of(step), *(value for _, value in step.env))
            for seg in arg
            if isinstance(seg, Placeholder) and seg.root == "outputs"
        }
        return [
            o.name for o in step.outputs if self.is_parameter_output(o.type) and o.name in named
        ]

    def check_consumers(self) -> None:
        """A parameter output someone reads must be written by its producer's command."""
        for step in self.p.steps:
            reads: list[tuple[str, str]] = [
                (i.source.step, i.source.output)
                for i in step.inputs
                if isinstance(i.source, ArtifactRef) and self.is_parameter_output(i.type)
            ]
            if step.condition is not None:
                reads += [
                    (r.parts[0], r.parts[1])
                    for r in conditions.condition_refs(step.condition)
                    if not r.is_param
                ]
            for producer_id, output in reads:
                producer = self.p.step(producer_id)
                if not argv_of(producer):
                    continue
                if output not in self.written_parameter_outputs(producer):
                    self.error(
                        f"step '{step.id}' reads {producer_id}.{output}, but the command of "
                        f"'{producer_id}' never names ${{outputs.{output}}}, so nothing "
                        "writes it",
                        step,
                        f"pass ${{outputs.{output}}} to the command of '{producer_id}'",
                    )

    def check_step(self, step: ir.Step) -> None:
        params_out = self.written_parameter_outputs(step)
        if self.operator == "kubernetes" and len(params_out) > 1:
            self.error(
                f"step '{step.id}' writes {len(params_out)} parameter/metrics outputs "
                f"({', '.join(params_out)}); a KubernetesPodOperator returns "
                "one XCom file per pod",
                step,
                "on Airflow with operator: kubernetes, give a step at most one metrics or "
                "parameter output (put several values in one metrics/dict output)",
            )
        if step.resources.accelerator and self.operator == "local":
            self.warn(
                f"step '{step.id}' asks for {step.resources.accelerator}; operator: local "
                "runs on the worker and cannot request accelerators",
                step,
            )
        # Kind fields Airflow has no construct for: the step's command must act on them.
        unmapped = {
            "tune": ("objective", "search_space", "max_trials", "parallel_trials"),
            "deploy": ("endpoint",),
            "monitor": ("drift",),
        }.get(step.kind, ())
        present = [
            name
            for name in unmapped
            if name in step.details and not (natively_tuned(step) and step.kind == "tune")
        ]
        # Settings a standard script reads from its arguments; a user's command gets none.
        own_code = step.script is None or not step.script.name.startswith("pipespec:")
        if own_code and step.kind in ("train", "tune") and "hyperparameters" in step.details:
            present.append("hyperparameters")
        if own_code and step.kind == "ingest" and "source" in step.details:
            present.append("source")
        if present:
            verb, pronoun = ("is", "it") if len(present) == 1 else ("are", "them")
            self.warn(
                f"{step.kind} step '{step.id}': {', '.join(present)} {verb} not passed to "
                f"the Airflow task (Airflow has no construct for {pronoun}); the step runs "
                f"once, as its command, which must act on {pronoun} itself",
                step,
                "compile to sagemaker or vertex for native tuning, endpoints and monitoring"
                if step.kind != "monitor"
                else "the command must compute the drift itself",
            )
        if step.kind == "monitor" and step.details.get("schedule"):
            self.warn(
                f"monitor step '{step.id}' has its own schedule; on Airflow it runs once per "
                "DAG run (schedule a separate pipeline for periodic monitoring)",
                step,
            )
        for key in step.target_overrides:
            if key == "airflow" and step.target_overrides[key].get("instance_type"):
                self.warn(
                    f"step '{step.id}': Airflow has no instance types; "
                    "targets.airflow.instance_type is not used",
                    step,
                )

    def k8s_kwargs(
        self, step: ir.Step, item_text: str | None, extra: tuple[str, ...] = ()
    ) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
        """(fixed kwargs, per-item kwargs) for a KubernetesPodOperator."""
        fixed: list[tuple[str, Any]] = []
        assert step.image is not None
        argv = [self.text(step, arg, item_text) for arg in argv_of(step)] + list(extra)
        env = {name: self.text(step, value, item_text) for name, value in step.env}
        fixed.append(("name", step.id))
        fixed.append(("image", self.plain(step.image)))
        if self.namespace:
            fixed.append(("namespace", self.plain(self.namespace)))
        if self.conn_id:
            fixed.append(("kubernetes_conn_id", self.plain(self.conn_id)))
        per_item: dict[str, Any] = {"cmds": argv[:1], "arguments": argv[1:]}
        if env:
            per_item["env_vars"] = env
        secrets = []
        for use in step.secrets:
            k8s_ref = self.secrets[use.secret].platforms.get("kubernetes")
            if k8s_ref is None:
                self.error(
                    f"secret '{use.secret}' has no `kubernetes:` mapping, which the "
                    "KubernetesPodOperator needs to expose it without writing its value",
                    step,
                    f"add `kubernetes: {{secret: NAME, key: KEY}}` to secrets.{use.secret}",
                )
                continue
            secrets.append(_call("Secret", "env", use.env, k8s_ref["secret"], k8s_ref["key"]))
        if secrets:
            fixed.append(("secrets", secrets))
        resources = self.resources(step)
        if resources is not None:
            fixed.append(("container_resources", resources))
        if step.resources.accelerator:
            fixed.append(
                (
                    "node_selector",
                    {"nvidia.com/gpu.product": GPU_PRODUCTS[step.resources.accelerator]},
                )
            )
        if step.resources.gpu or step.resources.accelerator:
            fixed.append(
                (
                    "tolerations",
                    [
                        _call(
                            "k8s.V1Toleration",
                            key="nvidia.com/gpu",
                            operator="Exists",
                            effect="NoSchedule",
                        )
                    ],
                )
            )
        if self.written_parameter_outputs(step):
            fixed.append(("do_xcom_push", True))
        fixed.append(("get_logs", True))
        fixed.append(("on_finish_action", "delete_pod"))
        return fixed, per_item

    def resources(self, step: ir.Step) -> Code | None:
        r = step.resources
        requests: dict[str, str] = {}
        limits: dict[str, str] = {}
        if r.cpu is not None:
            requests["cpu"] = units.format_cpu(r.cpu)
        if r.memory_bytes is not None:
            requests["memory"] = units.format_quantity(r.memory_bytes)
            limits["memory"] = units.format_quantity(r.memory_bytes)
        gpus = r.gpu or (1 if r.accelerator else 0)
        if gpus:
            limits["nvidia.com/gpu"] = str(gpus)
        if not requests and not limits:
            return None
        return _call("k8s.V1ResourceRequirements", requests=requests, limits=limits)

    def local_kwargs(
        self, step: ir.Step, item_text: str | None, extra: tuple[str, ...] = ()
    ) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
        argv = [self.text(step, arg, item_text) for arg in argv_of(step)] + list(extra)
        env = {name: self.text(step, value, item_text) for name, value in step.env}
        outputs = {
            o.name: self.artifact_uri(step, o.name, mapped_item=is_mapped(step))
            for o in step.outputs
            if self.is_parameter_output(o.type)
        }
        connections = {}
        for use in step.secrets:
            airflow_ref = self.secrets[use.secret].platforms.get("airflow")
            if airflow_ref is None:
                self.error(
                    f"secret '{use.secret}' has no `airflow:` mapping (a connection id), "
                    "which operator: local reads at run time",
                    step,
                    f"add `airflow: {{conn_id: NAME}}` to secrets.{use.secret}",
                )
                continue
            connections[use.env] = self.plain(airflow_ref["conn_id"])
        # Local paths the step writes under: their parent directories must exist first.
        local_dirs = sorted(
            {
                self.artifact_uri(step, o.name, mapped_item=is_mapped(step)).rsplit("/", 1)[0]
                for o in step.outputs
                if "://" not in self.root
            }
        )
        fixed: list[tuple[str, Any]] = [("python_callable", Code("_run_local"))]
        op_kwargs = {
            "argv": argv,
            "env": env,
            "connections": connections,
            "outputs": outputs,
            "local_dirs": local_dirs,
        }
        return fixed, {"op_kwargs": op_kwargs}

    def step_task(self, step: ir.Step, view: DagView) -> None:
        self.check_step(step)
        if step.image is None or not argv_of(step):
            return  # incomplete steps never reach a backend (PS500)
        var = self.vars[step.id]
        factory = self.k8s_kwargs if self.operator == "kubernetes" else self.local_kwargs
        operator = "KubernetesPodOperator" if self.operator == "kubernetes" else "PythonOperator"
        common = self.common_kwargs(step)
        if natively_tuned(step):
            self.tuned_tasks(step, view, factory, operator, common)
            return
        fe = step.foreach
        if fe is None:
            fixed, per_item = factory(step, None)
            view.tasks.append(
                TaskView(var, step.id, operator, common + fixed + list(per_item.items()))
            )
            return
        if fe.items is not None:
            expansions = []
            for item in fe.items:
                _, per_item = factory(step, escape_literal(_item_text(item)))
                expansions.append(per_item)
            fixed, _ = factory(step, "")
            view.tasks.append(
                TaskView(var, step.id, operator, common + fixed, partial=True, expand=expansions)
            )
            return
        # A run-time list (a list param or a list output): map a kwargs builder over it.
        fixed, template = factory(step, "\x00item\x00")
        fn = f"_{var}_kwargs"
        const = f"_{var.upper()}_TEMPLATE"
        view.constants.append((const, _split_markers(template)))
        view.functions.append(
            FunctionView(fn, Code("item"), Code(f"return _fill_item({py_ident(const)}, item)"))
        )
        view.uses.add("fill_item")
        if fe.param is not None:
            items_var = f"{var}_items"
            view.tasks.append(
                TaskView(
                    items_var,
                    f"{step.id}.items",
                    "PythonOperator",
                    [
                        ("task_id", f"{step.id}.items"),
                        ("python_callable", Code("_param_items")),
                        ("op_kwargs", {"name": fe.param}),
                    ],
                )
            )
            view.uses.add("param_items")
            source = Code(f"{py_ident(items_var)}.output.map({py_ident(fn)})")
        else:
            assert fe.ref is not None
            producer_var = py_ident(self.vars[fe.ref.step])
            key = "return_value" if self.operator == "kubernetes" else fe.ref.output
            source = Code(f"XComArg({producer_var}, key={py_literal(key)}).map({py_ident(fn)})")
            view.uses.add("xcomarg")
        view.tasks.append(
            TaskView(var, step.id, operator, common + fixed, partial=True, expand=source)
        )

    def tuned_tasks(
        self,
        step: ir.Step,
        view: DagView,
        factory: Any,
        operator: str,
        common: list[tuple[str, Any]],
    ) -> None:
        """Tuning as Airflow does fan-out: `<step>.trials` samples the search space (seeded,
        so reproducible), the step maps one task per trial (at most `parallel_trials` at a
        time), and `<step>.best` picks the trial by the objective and reports its outputs."""
        var = self.vars[step.id]
        details = ir.thaw(step.details)
        space: dict[str, Any] = details["search_space"]
        names = sorted(space)
        extra = tuple(escape_literal(f"--{n}=") + _marker(n) for n in names)
        fixed, template = factory(step, None, extra)
        const = f"_{var.upper()}_TEMPLATE"
        space_const = f"_{var.upper()}_SPACE"
        view.constants.append((const, _split_markers(template)))
        view.constants.append((space_const, space))
        seed = int(hashlib.sha256(f"{self.p.name}/{step.id}".encode()).hexdigest()[:8], 16)
        trials = int(details["max_trials"])
        parallel = int(details.get("parallel_trials") or 1)
        kwargs_fn, trials_fn, best_fn = f"_{var}_kwargs", f"_{var}_trials", f"_{var}_best"
        fill_trial = Code(f"return _fill_item({py_ident(const)}, trial)")
        view.functions.append(FunctionView(kwargs_fn, Code("trial"), fill_trial))
        view.functions.append(
            FunctionView(
                trials_fn,
                Code("**context"),
                Code(f"return _sample_trials({py_ident(space_const)}, {trials}, {seed})"),
            )
        )
        objective = details["objective"]
        key = "return_value" if self.operator == "kubernetes" else "metrics"
        artifacts = [o.name for o in step.outputs if not self.is_parameter_output(o.type)]
        best_args = ", ".join(
            [
                "context",
                py_literal(step.id),
                py_literal(key),
                py_literal(objective["metric"]),
                py_literal(objective["goal"]),
                str(trials),
                py_literal(f"{self.root}/{self.p.name}"),
                py_literal(artifacts),
            ]
        )
        view.functions.append(
            FunctionView(best_fn, Code("**context"), Code(f"return _best_trial({best_args})"))
        )
        view.uses |= {"fill_item", "sample_trials", "best_trial"}
        trials_var = f"{var}_trials"
        view.tasks.append(
            TaskView(
                trials_var,
                f"{step.id}.trials",
                "PythonOperator",
                [("task_id", f"{step.id}.trials"), ("python_callable", Code(trials_fn))],
            )
        )
        view.tasks.append(
            TaskView(
                var,
                step.id,
                operator,
                [*common, *fixed, ("max_active_tis_per_dagrun", parallel)],
                partial=True,
                expand=Code(f"{py_ident(trials_var)}.output.map({py_ident(kwargs_fn)})"),
            )
        )
        view.tasks.append(
            TaskView(
                f"{var}_best",
                f"{step.id}.best",
                "PythonOperator",
                [
                    ("task_id", f"{step.id}.best"),
                    (
                        "doc_md",
                        f"The best of `{step.id}`'s trials by {objective['metric']} "
                        f"({objective['goal']})",
                    ),
                    ("python_callable", Code(best_fn)),
                ],
            )
        )

    def condition_task(self, step: ir.Step, view: DagView) -> str | None:
        if step.condition is None:
            return None
        fn = f"_when_{self.vars[step.id]}"
        expr = self.condition_code(step.condition)
        view.functions.append(FunctionView(fn, Code("**context"), Code(f"return bool({expr})")))
        var = f"{self.vars[step.id]}_when"
        view.tasks.append(
            TaskView(
                var,
                f"{step.id}.when",
                "ShortCircuitOperator",
                [
                    ("task_id", f"{step.id}.when"),
                    ("doc_md", f"Runs `{step.id}` only when: {step.condition_text}"),
                    ("python_callable", Code(fn)),
                    ("ignore_downstream_trigger_rules", False),
                ],
            )
        )
        view.uses.add("xcom_value")
        return var

    def condition_code(self, node: conditions.Expr) -> str:
        if isinstance(node, conditions.Literal):
            return py_literal(node.value)
        if isinstance(node, conditions.Ref):
            parts = node.parts
            if parts[0] == "params":
                return f"context['params'][{py_literal(parts[1])}]"
            if natively_tuned(self.p.step(parts[0])):
                access = (
                    f"_xcom_value(context, {py_literal(parts[0] + '.best')}, 'return_value')"
                    f"[{py_literal(parts[1])}]"
                )
                if len(parts) == 3:
                    access += f"[{py_literal(parts[2])}]"
                return access
            key = "return_value" if self.operator == "kubernetes" else parts[1]
            access = f"_xcom_value(context, {py_literal(parts[0])}, {py_literal(key)})"
            if len(parts) == 3:
                access += f"[{py_literal(parts[2])}]"
            return access
        if isinstance(node, conditions.Compare):
            left = self.condition_code(node.left)
            right = self.condition_code(node.right)
            return f"({left} {node.op} {right})"
        if isinstance(node, conditions.BoolOp):
            joiner = f" {node.op} "
            return "(" + joiner.join(self.condition_code(o) for o in node.operands) + ")"
        assert isinstance(node, conditions.Not)
        return f"(not {self.condition_code(node.operand)})"

    def render(self) -> tuple[str, list[Diagnostic]]:
        header = [
            f"pipespec {__version__} wrote this from the spec {self.spec_path} (relative to",
            "this file). Regenerate: pipespec compile SPEC --target airflow",
            f"Spec sha256: {self.p.source_digest}",
        ]
        view = DagView(
            header=header,
            version=self.version,
            operator=self.operator,
            dag_kwargs=[(k, v) for k, v in self.dag_kwargs() if v is not None],
        )
        condition_vars: dict[str, str] = {}
        self.check_consumers()
        for step in self.p.steps:
            when_var = self.condition_task(step, view)
            if when_var is not None:
                condition_vars[step.id] = when_var
            self.step_task(step, view)
        view.edges = self.edges(condition_vars)
        text = _environment().get_template("dag.py.j2").render(v=view)
        return text, self.diags

    def edges(self, condition_vars: dict[str, str]) -> list[tuple[str, str]]:
        """Spec edges; a condition's references feed its ShortCircuitOperator instead."""
        out: list[tuple[str, str]] = []

        def source(step_id: str) -> str:
            # A tuned step's dependents wait for its best trial to be picked.
            var = self.vars[step_id]
            return f"{var}_best" if natively_tuned(self.p.step(step_id)) else var

        for step in self.p.steps:
            if natively_tuned(step):
                out.append((self.vars[step.id], f"{self.vars[step.id]}_best"))
            when_var = condition_vars.get(step.id)
            cond_refs: set[str] = set()
            if step.condition is not None:
                cond_refs = {
                    r.parts[0] for r in conditions.condition_refs(step.condition) if not r.is_param
                }
            direct = {i.source.step for i in step.inputs if isinstance(i.source, ArtifactRef)}
            direct |= set(step.after)
            if step.foreach is not None and step.foreach.ref is not None:
                direct.add(step.foreach.ref.step)
            for upstream in step.upstream:
                if upstream in cond_refs and when_var is not None:
                    out.append((source(upstream), when_var))
                if upstream in direct or when_var is None:
                    out.append((source(upstream), self.vars[step.id]))
            if when_var is not None:
                out.append((when_var, self.vars[step.id]))
        return list(dict.fromkeys(out))


def natively_tuned(step: ir.Step) -> bool:
    """A tune step Airflow runs as a fan-out of trials: it runs pipespec's train script,
    which takes each trial's hyperparameters as `--name=value` arguments."""
    return (
        step.kind == "tune"
        and step.script is not None
        and step.script.name == "pipespec:train"
        and bool(step.details.get("search_space"))
        and "max_trials" in step.details
        and "objective" in step.details
    )


def is_mapped(step: ir.Step) -> bool:
    return step.foreach is not None or natively_tuned(step)


def argv_of(step: ir.Step) -> tuple[tuple[Segment, ...], ...]:
    """The step's argv; a script travels inline, as `python -c <source> <args>`."""
    if step.script is not None:
        return ((Text("python"),), (Text("-c"),), (Text(step.script.source),), *step.args)
    return step.command


def _has_artifacts(pipeline: ir.Pipeline) -> bool:
    return any(
        o.type in ("dataset", "model", "artifact") for s in pipeline.steps for o in s.outputs
    )


def _item_text(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item)


_MARKER = re.compile("\x00(item|hp:[^\x00]*)\x00")


def _marker(name: str) -> str:
    """Stands for trial hyperparameter ``name`` until `_fill_item` runs at run time."""
    return f"\x00hp:{name}\x00"


def _split_markers(value: Any) -> Any:
    """Strings holding markers become lists of parts: text, ``None`` for the item, or
    ``{"key": name}`` for one value of the item (a trial's hyperparameter)."""
    if isinstance(value, str):
        pieces = _MARKER.split(value)
        if len(pieces) == 1:
            return value
        parts: list[Any] = []
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                if piece:
                    parts.append(piece)
            elif piece == "item":
                parts.append(None)
            else:
                parts.append({"key": piece.removeprefix("hp:")})
        return {"__pipespec_parts__": parts}
    if isinstance(value, dict):
        return {k: _split_markers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_split_markers(v) for v in value]
    return value


def _dict_code(values: dict[str, Code]) -> Code:
    return Code("{" + ", ".join(f"{py_literal(k)}: {v}" for k, v in values.items()) + "}")


def render_dag(pipeline: ir.Pipeline) -> RenderResult:
    text, diags = _Renderer(pipeline).render()
    if any(d.severity is Severity.ERROR for d in diags):
        return RenderResult({}, diags)
    return RenderResult({f"airflow/{pipeline.name}.py": text}, diags)
