"""The two baselines pipespec's generated DAG is compared with, from the same pipeline model.

* :func:`handwritten_dag`: a static DAG file as a person would write it: plain
  ``KubernetesPodOperator(...)`` calls (``.partial().expand(arguments=[...])`` for the fan-out
  steps), ``ShortCircuitOperator`` gates calling one small function, typed ``Param``s and one
  ``a >> b`` line per edge; no pipespec helper, no generated code beyond the literals.
* :func:`dagfactory_config` + :func:`dagfactory_loader`: the same DAG as a dag-factory YAML
  config (``__type__`` for timedeltas, ``V1ResourceRequirements``, ``V1Toleration`` and
  ``Param``; ``dependencies:`` lists; ``expand:`` for fan-out; the gate's callable from a
  ``python_callable_file``) and the three-line DAG file that loads it.

Both carry the same tasks (ids included), edges, operator classes, params and KPO arguments
as pipespec's output for the spec of :func:`benchmarks.generate.make_pipeline`; the DagBag
benchmark checks tasks, edges, operators, mapped tasks and params with the conformance probe.
The only intended difference: pipespec maps a fan-out step with ``expand_kwargs`` (one dict
per item with ``cmds``/``arguments``/``env_vars``), the baselines with ``expand(arguments=...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmarks import generate as g

KPO_CLASS = "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"
GATE_CLASS = "airflow.providers.standard.operators.python.ShortCircuitOperator"
XCOM_RETURN = "/airflow/xcom/return.json"
GPU_PRODUCTS = {"nvidia-t4": "Tesla-T4", "nvidia-l4": "NVIDIA-L4", "nvidia-a100": "NVIDIA-A100"}
JSON_TYPES = {"string": "string", "int": "integer", "float": "number", "bool": "boolean"}
GATE_FUNCTION = "metric_at_least"
GATE_SOURCE = '''def metric_at_least(task_id, key, param, **context):
    """Short-circuit unless the metric that `task_id` pushed reaches the DAG param."""
    metrics = context["ti"].xcom_pull(task_ids=task_id, key="return_value")
    return metrics[key] >= context["params"][param]
'''
_PLACEHOLDER = re.compile(r"\$\{(?:(inputs|outputs|params)\.([a-z_][a-z0-9_]*)|(item))\}")
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Seconds:
    value: int


@dataclass(frozen=True)
class Resources:
    requests: dict[str, str]
    limits: dict[str, str]


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str
    effect: str


@dataclass(frozen=True)
class Param:
    default: Any
    type: str


@dataclass
class Task:
    task_id: str
    var: str
    operator: Literal["kpo", "gate"]
    kwargs: dict[str, Any] = field(default_factory=dict)
    expand_arguments: list[list[str]] | None = None  # fan-out: one argv tail per item


def seconds(duration: str) -> int:
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"unsupported duration {duration!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def artifact_uri(pipeline: g.BenchPipeline, step: str, output: str) -> str:
    return f"{g.ARTIFACT_ROOT}/{pipeline.name}/{{{{ run_id }}}}/{step}/{output}"


def _text(value: str, step: g.BenchStep, pipeline: g.BenchPipeline, item: str | None) -> str:
    """A command/env string with pipespec placeholders replaced by Airflow templates."""
    sources = {name: (src, out) for name, src, out in step.inputs}
    outputs = dict(step.outputs)

    def replace(match: re.Match[str]) -> str:
        kind, name, is_item = match.group(1), match.group(2), match.group(3)
        if is_item:
            if item is None:
                raise ValueError(f"${{item}} outside foreach in {step.id}")
            return item
        if kind == "params":
            return f"{{{{ params['{name}'] }}}}"
        if kind == "inputs":
            src, out = sources[name]
            return artifact_uri(pipeline, src, out)
        if outputs[name] == "metrics":
            return XCOM_RETURN
        uri = artifact_uri(pipeline, step.id, name)
        return uri + "/{{ ti.map_index }}" if step.foreach is not None else uri

    return _PLACEHOLDER.sub(replace, value)


def _kpo_kwargs(step: g.BenchStep, pipeline: g.BenchPipeline) -> dict[str, Any]:
    cpu = step.cpu if step.cpu is not None else g.DEFAULT_CPU
    memory = step.memory if step.memory is not None else g.DEFAULT_MEMORY
    limits = {"memory": memory}
    if step.gpu:
        limits["nvidia.com/gpu"] = str(step.gpu)
    kwargs: dict[str, Any] = {
        "task_id": step.id,
        "retries": g.DEFAULT_RETRIES,
        "retry_delay": Seconds(seconds(g.DEFAULT_RETRY_DELAY)),
        "execution_timeout": Seconds(seconds(step.timeout or g.DEFAULT_TIMEOUT)),
        "name": step.id,
        "image": step.image or g.IMAGE,
        "namespace": g.NAMESPACE,
        "container_resources": Resources({"cpu": str(cpu), "memory": memory}, limits),
    }
    if step.gpu and step.accelerator:
        kwargs["node_selector"] = {"nvidia.com/gpu.product": GPU_PRODUCTS[step.accelerator]}
        kwargs["tolerations"] = [Toleration("nvidia.com/gpu", "Exists", "NoSchedule")]
    if any(kind == "metrics" for _, kind in step.outputs):
        kwargs["do_xcom_push"] = True
    kwargs["get_logs"] = True
    kwargs["on_finish_action"] = "delete_pod"
    kwargs["cmds"] = [step.command[0]]
    if step.foreach is None:
        kwargs["arguments"] = [_text(a, step, pipeline, None) for a in step.command[1:]]
    env = dict(g.DEFAULT_ENV)
    env.update(dict(step.env))
    kwargs["env_vars"] = {k: _text(v, step, pipeline, None) for k, v in sorted(env.items())}
    return kwargs


def tasks_and_edges(pipeline: g.BenchPipeline) -> tuple[list[Task], list[tuple[str, str]]]:
    """Tasks in authoring order (a gate right before its step) and edges as task ids."""
    tasks: list[Task] = []
    edges: list[tuple[str, str]] = []
    for step in pipeline.steps:
        direct = [src for _, src, _ in step.inputs] + list(step.after)
        if step.when is not None:
            cond = step.when
            gate_id = f"{step.id}.when"
            tasks.append(
                Task(
                    gate_id,
                    f"{step.id}_when",
                    "gate",
                    {
                        "task_id": gate_id,
                        "doc_md": f"Runs `{step.id}` only when: {cond.text()}",
                        "op_kwargs": {"task_id": cond.step, "key": cond.key, "param": cond.param},
                        "ignore_downstream_trigger_rules": False,
                    },
                )
            )
            edges.append((cond.step, gate_id))
            edges.append((gate_id, step.id))
        task = Task(step.id, step.id, "kpo", _kpo_kwargs(step, pipeline))
        if step.foreach is not None:
            task.expand_arguments = [
                [_text(a, step, pipeline, item) for a in step.command[1:]] for item in step.foreach
            ]
        tasks.append(task)
        edges.extend((src, step.id) for src in direct)
    return tasks, list(dict.fromkeys(edges))


def dag_params() -> dict[str, Param]:
    return {name: Param(default, JSON_TYPES[t]) for name, (t, default) in g.PARAMS.items()}


def description(pipeline: g.BenchPipeline) -> str:
    return f"Synthetic ML pipeline with {len(pipeline.steps)} container steps (pipespec benchmark)"


# --- hand-written Python ------------------------------------------------------------------


def py(value: Any) -> str:
    if isinstance(value, Seconds):
        return f"datetime.timedelta(seconds={value.value})"
    if isinstance(value, Resources):
        return f"k8s.V1ResourceRequirements(requests={value.requests!r}, limits={value.limits!r})"
    if isinstance(value, Toleration):
        return (
            f"k8s.V1Toleration(key={value.key!r}, operator={value.operator!r}, "
            f"effect={value.effect!r})"
        )
    if isinstance(value, Param):
        return f"Param({value.default!r}, type={value.type!r})"
    if isinstance(value, list):
        return "[" + ", ".join(py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {py(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise TypeError(f"no Python literal for {value!r}")


def handwritten_dag(pipeline: g.BenchPipeline) -> str:
    tasks, edges = tasks_and_edges(pipeline)
    var = {t.task_id: t.var for t in tasks}
    params = ", ".join(f"{name!r}: {py(p)}" for name, p in dag_params().items())
    out = [
        f'"""{pipeline.name}: a hand-written-style Airflow DAG (plain operators, `>>` edges).',
        "",
        "Written by benchmarks/baselines.py: the static baseline of the DagBag benchmark.",
        '"""',
        "",
        "import datetime",
        "",
        "from airflow.sdk import DAG, Param",
        "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator",
        "from airflow.providers.standard.operators.python import ShortCircuitOperator",
        "from kubernetes.client import models as k8s",
        "",
        "",
        GATE_SOURCE,
        "",
        "with DAG(",
        f"    dag_id={pipeline.name!r},",
        f"    description={description(pipeline)!r},",
        f"    schedule={g.SCHEDULE!r},",
        "    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),",
        "    catchup=False,",
        "    tags=['bench'],",
        f"    params={{{params}}},",
        ") as dag:",
    ]
    for task in tasks:
        if task.operator == "gate":
            out.append(f"    {task.var} = ShortCircuitOperator(")
            out.append(f"        task_id={task.kwargs['task_id']!r},")
            out.append(f"        doc_md={task.kwargs['doc_md']!r},")
            out.append(f"        python_callable={GATE_FUNCTION},")
            out.append(f"        op_kwargs={py(task.kwargs['op_kwargs'])},")
            out.append("        ignore_downstream_trigger_rules=False,")
            out.append("    )")
            continue
        call = (
            "KubernetesPodOperator.partial(" if task.expand_arguments else "KubernetesPodOperator("
        )
        out.append(f"    {task.var} = {call}")
        out.extend(f"        {key}={py(value)}," for key, value in task.kwargs.items())
        if task.expand_arguments:
            out.append(f"    ).expand(arguments={py(task.expand_arguments)})")
        else:
            out.append("    )")
    out.append("")
    out.extend(f"    {var[up]} >> {var[down]}" for up, down in edges)
    return "\n".join(out) + "\n"


# --- dag-factory ------------------------------------------------------------------------


def _df_value(value: Any) -> Any:
    """A value as dag-factory YAML data (``__type__`` objects for non-JSON values)."""
    if isinstance(value, Seconds):
        return {"__type__": "datetime.timedelta", "seconds": value.value}
    if isinstance(value, Resources):
        return {
            "__type__": "kubernetes.client.models.V1ResourceRequirements",
            "requests": dict(value.requests),
            "limits": dict(value.limits),
        }
    if isinstance(value, Toleration):
        return {
            "__type__": "kubernetes.client.models.V1Toleration",
            "key": value.key,
            "operator": value.operator,
            "effect": value.effect,
        }
    if isinstance(value, Param):
        return {"__type__": "airflow.sdk.Param", "__args__": [value.default], "type": value.type}
    if isinstance(value, list):
        return [_df_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _df_value(v) for k, v in value.items()}
    return value


def dagfactory_config(pipeline: g.BenchPipeline, callables_file: Path) -> str:
    """dag-factory YAML for the pipeline; ``callables_file`` holds the gate function."""
    tasks, edges = tasks_and_edges(pipeline)
    upstream: dict[str, list[str]] = {}
    for up, down in edges:
        upstream.setdefault(down, []).append(up)
    config_tasks: dict[str, Any] = {}
    for task in tasks:
        body: dict[str, Any] = {}
        if task.operator == "gate":
            body["operator"] = GATE_CLASS
            body["doc_md"] = task.kwargs["doc_md"]
            body["python_callable_name"] = GATE_FUNCTION
            body["python_callable_file"] = str(callables_file)
            body["op_kwargs"] = dict(task.kwargs["op_kwargs"])
            body["ignore_downstream_trigger_rules"] = False
        else:
            body["operator"] = KPO_CLASS
            body.update({k: _df_value(v) for k, v in task.kwargs.items() if k != "task_id"})
            if task.expand_arguments:
                body["expand"] = {"arguments": task.expand_arguments}
        if task.task_id in upstream:
            body["dependencies"] = upstream[task.task_id]
        config_tasks[task.task_id] = body
    config = {
        pipeline.name: {
            "description": description(pipeline),
            "schedule": g.SCHEDULE,
            "start_date": "2024-01-01",
            "catchup": False,
            "tags": ["bench"],
            "params": {name: _df_value(p) for name, p in dag_params().items()},
            "tasks": config_tasks,
        }
    }
    head = f"# dag-factory config for {pipeline.name}, written by benchmarks/baselines.py.\n"
    return head + g.to_yaml(config)


def dagfactory_loader(config_name: str) -> str:
    return (
        f"# Airflow DAG file: dag-factory builds the DAG from {config_name} (same folder).\n"
        "from pathlib import Path\n"
        "\n"
        "from dagfactory import load_yaml_dags\n"
        "\n"
        f'CONFIG = Path(__file__).with_name("{config_name}")\n'
        "load_yaml_dags(globals_dict=globals(), config_filepath=str(CONFIG))\n"
    )


def callables_module() -> str:
    return f'"""The gate callable of the dag-factory benchmark config."""\n\n\n{GATE_SOURCE}'
