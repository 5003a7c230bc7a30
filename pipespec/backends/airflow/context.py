"""What every part of the Airflow renderer shares for one pipeline: its settings
(``targets.airflow``), the task variable of each step, the diagnostics found while
rendering, and the facts about steps that several parts need (tuned? mapped? argv?)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipespec import ir
from pipespec.backends.airflow.jinja_text import escape_literal
from pipespec.backends.layout import output_path, spec_relative_to
from pipespec.backends.placeholders import named_outputs
from pipespec.diagnostics import Diagnostic

XCOM_RETURN = "/airflow/xcom/return.json"
DEFAULT_START_DATE = "2024-01-01"
DEFAULT_LOCAL_ROOT = "/tmp/pipespec-artifacts"
TARGET = "airflow"


def dag_path(pipeline: ir.Pipeline) -> str:
    """The DAG file, relative to the output root."""
    return output_path(TARGET, pipeline.name, "py")


class Context:
    def __init__(self, pipeline: ir.Pipeline, settings: Mapping[str, Any]) -> None:
        self.p = pipeline
        self.version: str = settings.get("version", "3")
        self.operator: str = settings.get("operator", "kubernetes")
        self.namespace: str | None = settings.get("namespace")
        self.conn_id: str | None = settings.get("kubernetes_conn_id")
        self.start_date: str = settings.get("start_date") or DEFAULT_START_DATE
        self.tags: list[str] = settings.get("tags") or ["pipespec"]
        root = settings.get("artifact_root")
        self.diags: list[Diagnostic] = []
        if root is None:
            # Without artifact_root, pods do not share artifacts: the capability table says
            # so (PS606, capabilities.py), before rendering.
            root = DEFAULT_LOCAL_ROOT
        self.root: str = root.rstrip("/")
        self.vars: dict[str, str] = {}
        for i, step in enumerate(pipeline.steps):
            self.vars[step.id] = f"t{i}_{step.id.replace('-', '_')}"
        self.secrets = {s.name: s for s in pipeline.secrets}
        self.params = {p.name: p for p in pipeline.params}
        self.spec_path = spec_relative_to(dag_path(pipeline), pipeline.source_file)
        # In a monitor's own DAG (monitor_dag.py): the pipeline's DAG, whose steps wrote the
        # monitor's inputs in runs the `<monitor>.latest` task looks up at run time.
        self.published_by: str | None = None
        self.upstream_steps: dict[str, ir.Step] = {}

    @property
    def kubernetes(self) -> bool:
        return self.operator == "kubernetes"

    # --- diagnostics -----------------------------------------------------------------------

    def error(self, message: str, step: ir.Step, hint: str | None = None) -> None:
        self.diags.append(Diagnostic("PS600", message, step.span, hint))

    # --- where values travel ---------------------------------------------------------------

    def xcom_key(self, output: str) -> str:
        """A pod returns one XCom (its return.json); a local task pushes one per output."""
        return "return_value" if self.kubernetes else output

    def producer(self, step_id: str) -> ir.Step:
        """The step that writes an input: in this DAG, or in the pipeline's DAG."""
        return self.upstream_steps.get(step_id) or self.p.step(step_id)

    def artifact_uri(self, step: ir.Step, output: str, *, mapped_item: bool) -> str:
        base = escape_literal(self.root)
        if step.id in self.upstream_steps:
            # The run of the pipeline's DAG that last wrote it (monitor_dag.LATEST_RUNS).
            run = "{{ ti.xcom_pull(task_ids='" + latest_task(self.p.steps[0]) + "')"
            run += f"['{step.id}'] }}}}"
            return f"{base}/{self.published_by}/{run}/{step.id}/{output}"
        uri = f"{base}/{self.p.name}/{{{{ run_id }}}}/{step.id}/{output}"
        return uri + ("/{{ ti.map_index }}" if mapped_item else "")


def latest_task(monitor: ir.Step) -> str:
    """The task of a monitor's own DAG that finds the runs that wrote its inputs."""
    return f"{monitor.id}.latest"


def natively_tuned(step: ir.Step) -> bool:
    """A tune step Airflow runs as a fan-out of trials: it runs pipespec's train script,
    which takes each trial's hyperparameters as `--name=value` arguments, or its own
    command, which takes them as ${hyperparameters.NAME}."""
    return ir.runs_own_trials(step) or runs_standard_script_trials(step)


def runs_standard_script_trials(step: ir.Step) -> bool:
    """A tune step running pipespec's train script (trial values as `--name=value`)."""
    return (
        step.kind == "tune"
        and step.script is not None
        and step.script.name == "pipespec:train"
        and isinstance(step.details, ir.TuneDetails)
        and bool(step.details.search_space)
        and step.details.max_trials is not None
        and step.details.objective is not None
    )


def trial_marker(name: str) -> str:
    """Stands for trial hyperparameter ``name`` until `_fill_item` runs at run time."""
    return f"\x00hp:{name}\x00"


def best_key(output: str) -> str:
    """The key of a tuned step's output in its `<step>.best` XCom."""
    return "hyperparameters" if output == "best_hyperparameters" else output


def is_mapped(step: ir.Step) -> bool:
    return step.foreach is not None or natively_tuned(step)


def argv_of(step: ir.Step) -> tuple[tuple[ir.Segment, ...], ...]:
    """The step's argv; a script travels inline, as `python -c <source> <args>`."""
    if step.script is not None:
        return ((ir.Text("python"),), (ir.Text("-c"),), (ir.Text(step.script.source),), *step.args)
    return step.command


def written_parameter_outputs(step: ir.Step) -> list[str]:
    """Parameter/metrics outputs the step's command or env actually names."""
    named = named_outputs((*argv_of(step), *(value for _, value in step.env)))
    return [o.name for o in step.outputs if o.is_parameter and o.name in named]
