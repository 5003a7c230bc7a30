"""The benchmark pipeline as a Kubeflow Pipelines v2 DSL program (kfp 2.x), from the same model.

:func:`program` writes what a person would write with the kfp SDK for the spec of
:func:`benchmarks.generate.make_pipeline`: one ``@dsl.container_component`` per step (named
after the step, so kfp's compiler names the task ``sanitize(step id)``, the component
``comp-<task>`` and the executor ``exec-<task>``, as pipespec does) and one
``@dsl.pipeline`` function that calls them, in one of two styles:

* ``straight``: straight-line code, one block per task (a call and its setters), as kfp's
  documentation writes pipelines and as a code generator would emit them;
* ``table``: the steps as a JSON table and a loop over it inside the pipeline function (the
  same calls and setters, made once per row), as one would build a large pipeline from a
  config.

Both compile to the same IR, byte for byte. The pipeline itself:

* data edges: ``t_x.outputs["data_out"]`` passed to the reading step's
  ``dsl.Input[dsl.Dataset]``; ``after:`` edges: ``.after(t_x)`` (kfp allows it on a task inside
  a ``dsl.ParallelFor``);
* ``when: score_X.metrics.auc >= params.min_auc``: ``with dsl.If(t_score.outputs["auc"] >=
  min_auc)``. kfp cannot compare a key of a dict output, so the DSL's score component has a
  float output ``auc`` next to its ``metrics`` dict (one more output parameter and its
  ``--auc`` argument on the score steps);
* ``foreach: [eu, us, apac]``: ``with dsl.ParallelFor(["eu", "us", "apac"]) as item``, the item
  passed as a string input (no step reads a fan-out step's output in these specs, so there is
  no ``dsl.Collected``);
* params: pipeline function arguments with defaults; a step whose command or env reads
  ``${params.x}`` gets it as a component input;
* resources, retries, timeout, GPU placement: ``set_cpu_request`` / ``set_memory_request`` /
  ``set_memory_limit``, ``set_accelerator_type`` / ``set_accelerator_limit``, ``set_retry``
  (factor 1: a fixed delay; the maximum duration as pipespec bounds it),
  ``kubernetes.set_timeout``, ``kubernetes.add_node_selector`` / ``add_toleration``;
* env: ``set_env_variable`` for literal values; KFP passes env to the pod unresolved, so a value
  reading a param is exported by a ``sh -c`` wrapper in front of the command (what pipespec's
  output does too).

Names the DSL cannot spell differ from pipespec's IR: a Python function cannot take an input
and an output of the same name, so a step's output ``data`` is ``data_out``; component inputs
are Python identifiers (``run_date``, ``item``; pipespec writes ``param-run_date``,
``loop-item``); kfp numbers its groups (``condition-1``, ``for-loop-3``).

:func:`task_graph` reads a straight-line program's tasks and edges back (with ``ast``, no kfp
needed) for the tests.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from benchmarks import generate as g
from benchmarks.baselines import GPU_PRODUCTS, seconds

Style = Literal["straight", "table"]
STYLES: tuple[Style, ...] = ("table", "straight")
OUTPUT_SUFFIX = "_out"
SCORE_OUTPUT = "auc"
ACCELERATOR_TYPE = "nvidia.com/gpu"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
ENV_RUNNER = 'while [ "$1" != "--" ]; do export "$1"; shift; done; shift; exec "$@"'
_PLACEHOLDER = re.compile(r"\$\{(?:(inputs|outputs|params)\.([a-z_][a-z0-9_]*)|(item))\}")
_PY_TYPES = {"string": "str", "int": "int", "float": "float", "bool": "bool"}


@dataclass(frozen=True)
class KfpProgram:
    """A kfp DSL module in two parts (so that ``benchmarks/kfp_driver.py`` can time defining
    the components and tracing the pipeline apart); ``text`` is the whole file."""

    name: str
    style: Style
    components: str
    pipeline: str

    @property
    def text(self) -> str:
        return self.components + "\n\n" + self.pipeline


def retry_bound(step: g.BenchStep) -> int:
    """``backoff_max_duration`` in seconds: room for every try at its timeout, never less
    than kfp's default hour (the value pipespec writes, so that the two IRs agree)."""
    timeout = seconds(step.timeout or g.DEFAULT_TIMEOUT)
    return max(3600, (g.DEFAULT_RETRIES + 1) * (timeout + seconds(g.DEFAULT_RETRY_DELAY)))


def _env(step: g.BenchStep) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(literal env, env reading placeholders), each sorted by name."""
    env = dict(g.DEFAULT_ENV)
    env.update(dict(step.env))
    literal = [(k, v) for k, v in sorted(env.items()) if "${" not in v]
    exported = [(k, v) for k, v in sorted(env.items()) if "${" in v]
    return literal, exported


def _params_read(step: g.BenchStep) -> list[str]:
    """The pipeline params a step's command or env reads, in first-use order."""
    texts = [*step.command, *(v for _, v in step.env)]
    found = [m.group(2) for t in texts for m in _PLACEHOLDER.finditer(t) if m.group(1) == "params"]
    return list(dict.fromkeys(found))


def _outputs(step: g.BenchStep) -> list[tuple[str, str]]:
    """(DSL output name, annotation) for each output, plus the score's float."""
    out: list[tuple[str, str]] = []
    for name, kind in step.outputs:
        if kind == "metrics":
            out.append((name + OUTPUT_SUFFIX, "dsl.OutputPath(dict)"))
            if step.role == "score":
                out.append((SCORE_OUTPUT, "dsl.OutputPath(float)"))
        else:
            artifact = "dsl.Model" if kind == "model" else "dsl.Dataset"
            out.append((name + OUTPUT_SUFFIX, f"dsl.Output[{artifact}]"))
    return out


def _word(text: str, step: g.BenchStep) -> str:
    """One command word as a Python expression over the component's arguments."""
    kinds = dict(step.outputs)
    parts: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > pos:
            parts.append(json.dumps(text[pos : m.start()]))
        kind, name = m.group(1), m.group(2)
        if m.group(3):
            parts.append("item")
        elif kind == "params":
            parts.append(name)
        elif kind == "inputs":
            parts.append(f"{name}.path")
        elif kinds[name] == "metrics":
            parts.append(name + OUTPUT_SUFFIX)  # an OutputPath is the path itself
        else:
            parts.append(f"{name}{OUTPUT_SUFFIX}.path")
        pos = m.end()
    if pos < len(text):
        parts.append(json.dumps(text[pos:]))
    return parts[0] if len(parts) == 1 else "dsl.ConcatPlaceholder([" + ", ".join(parts) + "])"


def _command(step: g.BenchStep) -> str:
    words = [_word(w, step) for w in step.command]
    if step.role == "score":
        words += [json.dumps("--auc"), SCORE_OUTPUT]
    _, exported = _env(step)
    if exported:
        words = [
            '"sh"',
            '"-c"',
            "ENV_RUNNER",
            '"with-env"',
            *(_word(f"{k}={v}", step) for k, v in exported),
            '"--"',
            *words,
        ]
    return "[" + ", ".join(words) + "]"


def component(step: g.BenchStep) -> str:
    """One ``@dsl.container_component`` function for ``step``."""
    args = [f"{name}: dsl.Input[dsl.Dataset]" for name, _, _ in step.inputs]
    args += [f"{p}: {_PY_TYPES[g.PARAMS[p][0]]}" for p in _params_read(step)]
    if step.foreach is not None:
        args.append("item: str")
    args += [f"{name}: {annotation}" for name, annotation in _outputs(step)]
    image = step.image or g.IMAGE
    return (
        "@dsl.container_component\n"
        f"def {step.id}({', '.join(args)}) -> dsl.ContainerSpec:\n"
        f"    return dsl.ContainerSpec(image={json.dumps(image)}, command={_command(step)})\n"
    )


def _components(pipeline: g.BenchPipeline) -> str:
    header = (
        f'"""{pipeline.name}: the benchmark pipeline as a kfp DSL program (generated by '
        'benchmarks/kfp_program.py; do not edit)."""\n\n'
        "from kfp import dsl, kubernetes\n\n"
        f"ENV_RUNNER = {json.dumps(ENV_RUNNER)}\n\n\n"
    )
    return header + "\n\n".join(component(s) for s in pipeline.steps)


def _signature(pipeline: g.BenchPipeline) -> list[str]:
    params = ", ".join(
        f"{name}: {_PY_TYPES[t]} = {json.dumps(d)}" for name, (t, d) in g.PARAMS.items()
    )
    description = f"Synthetic ML pipeline with {len(pipeline.steps)} container steps"
    return [
        f"@dsl.pipeline(name={json.dumps(pipeline.name)}, description={json.dumps(description)})",
        f"def pipeline({params}) -> None:",
    ]


# --- straight-line --------------------------------------------------------------------


def call_args(step: g.BenchStep) -> str:
    """The keyword arguments of the call of ``step``'s component."""
    kwargs = [f'{name}=t_{src}.outputs["{out}{OUTPUT_SUFFIX}"]' for name, src, out in step.inputs]
    kwargs += [f"{p}={p}" for p in _params_read(step)]
    if step.foreach is not None:
        kwargs.append("item=item")
    return ", ".join(kwargs)


def resource_lines(var: str, step: g.BenchStep, accelerator: str) -> Iterator[str]:
    """A container task's cpu, memory and GPU setters (``accelerator``: the GPU's type)."""
    cpu = step.cpu if step.cpu is not None else g.DEFAULT_CPU
    memory = step.memory if step.memory is not None else g.DEFAULT_MEMORY
    yield f'{var}.set_cpu_request("{cpu}").set_memory_request("{memory}")'
    yield f'{var}.set_memory_limit("{memory}")'
    if step.gpu:
        yield f'{var}.set_accelerator_type("{accelerator}").set_accelerator_limit({step.gpu})'


def retry_line(var: str, step: g.BenchStep) -> str:
    return (
        f"{var}.set_retry(num_retries={g.DEFAULT_RETRIES}, "
        f'backoff_duration="{seconds(g.DEFAULT_RETRY_DELAY)}s", backoff_factor=1.0, '
        f'backoff_max_duration="{retry_bound(step)}s")'
    )


def _task_lines(step: g.BenchStep) -> Iterator[str]:
    """The call of ``step``'s component and its settings, unindented."""
    var = f"t_{step.id}"
    yield f"{var} = {step.id}({call_args(step)})"
    yield from resource_lines(var, step, ACCELERATOR_TYPE)
    if step.gpu:
        product = GPU_PRODUCTS[step.accelerator or "nvidia-t4"]
        yield f'kubernetes.add_node_selector({var}, "nvidia.com/gpu.product", "{product}")'
        tol = ", ".join(f'{k}="{v}"' for k, v in GPU_TOLERATION.items())
        yield f"kubernetes.add_toleration({var}, {tol})"
    yield retry_line(var, step)
    for key, value in _env(step)[0]:
        yield f"{var}.set_env_variable({json.dumps(key)}, {json.dumps(value)})"
    yield f"kubernetes.set_timeout({var}, {seconds(step.timeout or g.DEFAULT_TIMEOUT)})"
    if step.after:
        yield f"{var}.after({', '.join(f't_{a}' for a in step.after)})"


def _straight_pipeline(
    pipeline: g.BenchPipeline, task_lines: Callable[[g.BenchStep], Iterator[str]] = _task_lines
) -> str:
    """The straight-line pipeline function (``task_lines``: one step's statements)."""
    lines = _signature(pipeline)
    for step in pipeline.steps:
        indent = "    "
        if step.when is not None:
            cond = step.when
            lines.append(
                f'{indent}with dsl.If(t_{cond.step}.outputs["{SCORE_OUTPUT}"] >= {cond.param}):'
            )
            indent += "    "
        if step.foreach is not None:
            lines.append(f"{indent}with dsl.ParallelFor({json.dumps(list(step.foreach))}) as item:")
            indent += "    "
        lines += [indent + line for line in task_lines(step)]
    return "\n".join(lines) + "\n"


# --- table-driven ---------------------------------------------------------------------


def step_table(pipeline: g.BenchPipeline) -> list[dict[str, Any]]:
    """One row per step, for the table-driven pipeline function (JSON-ready)."""
    rows: list[dict[str, Any]] = []
    for step in pipeline.steps:
        gpu = None
        if step.gpu:
            gpu = [step.gpu, GPU_PRODUCTS[step.accelerator or "nvidia-t4"]]
        rows.append(
            {
                "id": step.id,
                "inputs": [[name, src, out + OUTPUT_SUFFIX] for name, src, out in step.inputs],
                "params": _params_read(step),
                "when": None if step.when is None else [step.when.step, step.when.param],
                "foreach": None if step.foreach is None else list(step.foreach),
                "cpu": str(step.cpu if step.cpu is not None else g.DEFAULT_CPU),
                "memory": step.memory if step.memory is not None else g.DEFAULT_MEMORY,
                "gpu": gpu,
                "env": [list(kv) for kv in _env(step)[0]],
                "timeout": seconds(step.timeout or g.DEFAULT_TIMEOUT),
                "retry_bound": f"{retry_bound(step)}s",
                "after": list(step.after),
            }
        )
    return rows


_TABLE_BODY = """\
    params = {PARAMS}
    tasks = {}
    for s in STEPS:
        with contextlib.ExitStack() as groups:
            if s["when"]:
                score, param = s["when"]
                groups.enter_context(dsl.If(tasks[score].outputs["{SCORE}"] >= params[param]))
            kwargs = {name: tasks[src].outputs[out] for name, src, out in s["inputs"]}
            kwargs.update({p: params[p] for p in s["params"]})
            if s["foreach"]:
                kwargs["item"] = groups.enter_context(dsl.ParallelFor(s["foreach"]))
            task = globals()[s["id"]](**kwargs)
            task.set_cpu_request(s["cpu"]).set_memory_request(s["memory"])
            task.set_memory_limit(s["memory"])
            if s["gpu"]:
                count, product = s["gpu"]
                task.set_accelerator_type("{ACCELERATOR}").set_accelerator_limit(count)
                kubernetes.add_node_selector(task, "nvidia.com/gpu.product", product)
                kubernetes.add_toleration(task, {TOLERATION})
            task.set_retry(
                num_retries={RETRIES},
                backoff_duration="{BACKOFF}",
                backoff_factor=1.0,
                backoff_max_duration=s["retry_bound"],
            )
            for key, value in s["env"]:
                task.set_env_variable(key, value)
            kubernetes.set_timeout(task, s["timeout"])
            if s["after"]:
                task.after(*(tasks[a] for a in s["after"]))
            tasks[s["id"]] = task
"""


def _table_pipeline(pipeline: g.BenchPipeline) -> str:
    table = json.dumps(step_table(pipeline), separators=(",", ":"))
    body = _TABLE_BODY
    for key, value in {
        "{PARAMS}": "{" + ", ".join(f'"{n}": {n}' for n in g.PARAMS) + "}",
        "{SCORE}": SCORE_OUTPUT,
        "{ACCELERATOR}": ACCELERATOR_TYPE,
        "{TOLERATION}": ", ".join(f'{k}="{v}"' for k, v in GPU_TOLERATION.items()),
        "{RETRIES}": str(g.DEFAULT_RETRIES),
        "{BACKOFF}": f"{seconds(g.DEFAULT_RETRY_DELAY)}s",
    }.items():
        body = body.replace(key, value)
    # One string constant: a big literal would make the module's bytecode (and so the
    # work of every inspect.stack() call kfp makes while tracing) grow with N.
    return (
        "import contextlib\nimport json\n\n"
        f"STEPS = json.loads({json.dumps(table)})\n\n\n"
        + "\n".join(_signature(pipeline))
        + "\n"
        + body
    )


def program(pipeline: g.BenchPipeline, style: Style = "straight") -> KfpProgram:
    function = _table_pipeline if style == "table" else _straight_pipeline
    return KfpProgram(pipeline.name, style, _components(pipeline), function(pipeline))


# --- reading a straight-line program back ----------------------------------------------


@dataclass(frozen=True)
class TaskGraph:
    """What a straight-line program's pipeline function builds: task -> component, data
    edges (reader, input, writer, output), ``.after`` edges, and the tasks under ``dsl.If`` /
    ``dsl.ParallelFor``."""

    components: dict[str, str]
    data_edges: frozenset[tuple[str, str, str, str]]
    after_edges: frozenset[tuple[str, str]]
    conditioned: frozenset[str]
    looped: frozenset[str]


def task_graph(prog: KfpProgram) -> TaskGraph:
    """The tasks and edges of a straight-line ``prog``'s pipeline function, read with ``ast``."""
    if prog.style != "straight":
        raise ValueError("task_graph reads straight-line programs")
    (func,) = [n for n in ast.parse(prog.pipeline).body if isinstance(n, ast.FunctionDef)]
    found = TaskGraph({}, frozenset(), frozenset(), frozenset(), frozenset())
    data: set[tuple[str, str, str, str]] = set()
    after: set[tuple[str, str]] = set()
    conditioned: set[str] = set()
    looped: set[str] = set()

    def visit(stmts: list[ast.stmt], groups: tuple[str, ...]) -> None:
        for stmt in stmts:
            if isinstance(stmt, ast.With):
                context = stmt.items[0].context_expr
                kind = ast.unparse(context.func) if isinstance(context, ast.Call) else ""
                visit(stmt.body, (*groups, kind))
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                task = _task_name(stmt.targets[0])
                found.components[task] = ast.unparse(stmt.value.func)
                for kw in stmt.value.keywords:
                    src = _output_ref(kw.value)
                    if src is not None and kw.arg is not None:
                        data.add((task, kw.arg, *src))
                if "dsl.If" in groups:
                    conditioned.add(task)
                if "dsl.ParallelFor" in groups:
                    looped.add(task)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                if isinstance(call.func, ast.Attribute) and call.func.attr == "after":
                    task = _task_name(call.func.value)
                    after.update((task, _task_name(a)) for a in call.args)

    visit(func.body, ())
    return TaskGraph(
        found.components,
        frozenset(data),
        frozenset(after),
        frozenset(conditioned),
        frozenset(looped),
    )


def _task_name(node: ast.expr) -> str:
    if not (isinstance(node, ast.Name) and node.id.startswith("t_")):
        raise ValueError(f"not a task variable: {ast.unparse(node)}")
    return node.id[2:]


def _output_ref(node: ast.expr) -> tuple[str, str] | None:
    """``t_x.outputs["name"]`` -> (x, name)."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "outputs"
        and isinstance(node.slice, ast.Constant)
    ):
        return _task_name(node.value.value), str(node.slice.value)
    return None
