"""What Airflow does with each language feature: the capability table.

Written from what the renderer does (docs/targets/airflow.md, "How the spec maps"). Some
entries depend on the options: `operator: local` runs the argv on the worker, so it cannot
reserve resources or GPUs, and writes each parameter output to a file of its own;
`operator: kubernetes` without `artifact_root` keeps artifacts inside each pod.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipespec.backends.airflow.options import AirflowOptions
from pipespec.backends.base import Capability, Support
from pipespec.ir import Feature

DEFAULT_LOCAL_ROOT = "/tmp/pipespec-artifacts"

_NATIVE = Support.NATIVE
_EMULATED = Support.EMULATED
_UNSUPPORTED = Support.UNSUPPORTED

# Kind fields Airflow has no construct for: the step runs once, as its command.
_RUNS_ONCE = "the step runs once, as its command, which must act on them itself"

CAPABILITIES: Mapping[Feature, Capability] = {
    Feature.CONTAINER_STEP: Capability(
        _NATIVE, "a KubernetesPodOperator (cmds and arguments from the command)"
    ),
    Feature.SCRIPT_STEP: Capability(
        _NATIVE,
        "the script's source travels in the DAG file and runs as `python -c <source> <args>`",
    ),
    Feature.PARAMS: Capability(_NATIVE, "DAG params: Param(default, type=...)"),
    Feature.PARAM_CONSTRAINTS: Capability(
        _NATIVE, "Param(enum=..., pattern=...), checked when a run is triggered"
    ),
    Feature.SCHEDULE: Capability(_NATIVE, "the DAG's schedule"),
    Feature.DATA_DEPENDENCY: Capability(
        _NATIVE, "the producer's URI under artifact_root, and a >> edge"
    ),
    Feature.ARTIFACT_OUTPUT: Capability(
        _NATIVE, "files under <artifact_root>/<dag_id>/{{ run_id }}/<step>/<output>"
    ),
    Feature.PARAMETER_OUTPUT: Capability(
        _NATIVE, "XCom: the pod's /airflow/xcom/return.json, read with ti.xcom_pull"
    ),
    Feature.MULTIPLE_PARAMETER_OUTPUTS: Capability(
        _UNSUPPORTED,
        "a KubernetesPodOperator returns one XCom file per pod: give a step at most one "
        "metrics or parameter output (put several values in one metrics/dict output)",
    ),
    Feature.CONDITION: Capability(
        _NATIVE,
        "a ShortCircuitOperator `<step>.when` generated from the condition's AST, upstream "
        "of the step",
    ),
    Feature.FOREACH_LITERAL: Capability(
        _NATIVE, "dynamic task mapping: .partial(...).expand_kwargs([...])"
    ),
    Feature.FOREACH_PARAM: Capability(
        _NATIVE, "dynamic task mapping over the list, read by a task `<step>.items`"
    ),
    Feature.FOREACH_OUTPUT: Capability(
        _NATIVE, "dynamic task mapping over the producer's XCom (XComArg(...).map(...))"
    ),
    Feature.AFTER: Capability(_NATIVE, ">> edges"),
    Feature.RETRIES: Capability(_NATIVE, "the task's retries and retry_delay"),
    Feature.TIMEOUT: Capability(_NATIVE, "the task's execution_timeout"),
    Feature.RESOURCES: Capability(
        _NATIVE, "container_resources=V1ResourceRequirements (memory limit = request)"
    ),
    Feature.GPU: Capability(
        _NATIVE, 'limits["nvidia.com/gpu"] and a toleration for the nvidia.com/gpu taint'
    ),
    Feature.ACCELERATOR: Capability(
        _NATIVE,
        "node selector nvidia.com/gpu.product (GPU feature discovery labels), a GPU limit "
        "and a toleration",
    ),
    Feature.INSTANCE_TYPE: Capability(
        _EMULATED, "Airflow has no instance types: targets.airflow.instance_type is not used"
    ),
    Feature.SECRETS: Capability(
        _NATIVE, "Secret('env', ...) from the secret's `kubernetes:` mapping"
    ),
    Feature.TUNE_NATIVE: Capability(
        _NATIVE,
        "built from dynamic task mapping: `<step>.trials` draws max_trials sets from the "
        "search space (seeded random search), one mapped task per trial (parallel_trials "
        "at a time), `<step>.best` picks the trial by the objective",
    ),
    Feature.TUNE_OWN_COMMAND: Capability(
        _EMULATED,
        "the objective, search space and trial counts are not passed to the task "
        f"(Airflow has no construct for them); {_RUNS_ONCE}",
    ),
    Feature.HYPERPARAMETERS_OWN_COMMAND: Capability(
        _EMULATED, f"the hyperparameters are not passed to the task; {_RUNS_ONCE}"
    ),
    Feature.INGEST_SOURCE_OWN_COMMAND: Capability(
        _EMULATED, f"the source is not passed to the task; {_RUNS_ONCE}"
    ),
    Feature.DEPLOY_ENDPOINT: Capability(
        _EMULATED,
        f"the endpoint is not passed to the task (Airflow has no construct for it); {_RUNS_ONCE}",
    ),
    Feature.MONITOR_DRIFT: Capability(
        _EMULATED,
        "the drift threshold is not passed to the task (Airflow has no construct for it); "
        "the step's command must compute the drift itself",
    ),
    Feature.MONITOR_SCHEDULE: Capability(
        _EMULATED,
        "the step runs once per DAG run, not on its own schedule (schedule a separate "
        "pipeline for periodic monitoring)",
    ),
}

# operator: local runs the argv with subprocess on the worker (docs/targets/airflow.md).
_LOCAL: Mapping[Feature, Capability] = {
    Feature.CONTAINER_STEP: Capability(
        _NATIVE, "a PythonOperator that runs the argv on the worker (no shell)"
    ),
    Feature.PARAMETER_OUTPUT: Capability(
        _NATIVE, "XCom: each output is a file the runner pushes under its own key"
    ),
    Feature.MULTIPLE_PARAMETER_OUTPUTS: Capability(
        _NATIVE, "each output is a file the runner pushes under its own XCom key"
    ),
    Feature.RESOURCES: Capability(
        _EMULATED, "operator: local runs on the worker: cpu and memory are not reserved"
    ),
    Feature.GPU: Capability(
        _EMULATED, "operator: local runs on the worker and cannot request GPUs"
    ),
    Feature.ACCELERATOR: Capability(
        _EMULATED, "operator: local runs on the worker and cannot request accelerators"
    ),
    Feature.SECRETS: Capability(
        _NATIVE, "the Airflow connection's URI (the secret's `airflow:` mapping), read at run time"
    ),
}

_NO_ARTIFACT_ROOT = Capability(
    _EMULATED,
    f"no targets.airflow.artifact_root: artifacts go to {DEFAULT_LOCAL_ROOT} inside each pod "
    "and are not shared between tasks; set artifact_root to an s3://, gs:// or mounted path",
)


def capabilities_for(options: AirflowOptions) -> Mapping[Feature, Capability]:
    """The table under these options."""
    table = dict(CAPABILITIES)
    if options.operator == "local":
        table.update(_LOCAL)
    elif options.artifact_root is None:
        table[Feature.ARTIFACT_OUTPUT] = _NO_ARTIFACT_ROOT
    return table
