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
    Feature.BRANCH_ELSE: Capability(
        _NATIVE,
        "a BranchPythonOperator `<step>.branch` (instead of the ShortCircuitOperator) that "
        "follows the step when the condition holds and its else steps when it does not "
        "(SageMaker: ConditionStep if_steps/else_steps; KFP: dsl.If/dsl.Else)",
    ),
    Feature.TRIGGER_RULE: Capability(
        _NATIVE, "the task's trigger_rule (the same names: none_failed, all_done, one_success)"
    ),
    Feature.ONE_OF_INPUT: Capability(
        _NATIVE,
        "a DAG macro `pipespec_one_of` that, when the task's fields render, reads whichever "
        "source pushed its XCom or wrote its artifact (KFP: dsl.OneOf)",
    ),
    Feature.FAIL_STEP: Capability(
        _NATIVE,
        "a PythonOperator that raises AirflowFailException with the message (SageMaker: FailStep)",
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
    Feature.FOREACH_PARALLELISM: Capability(
        _NATIVE, "the mapped task's max_active_tis_per_dagrun (at most N items at a time)"
    ),
    Feature.FOREACH_MAPPING_ITEMS: Capability(
        _NATIVE,
        "each mapped task's kwargs carry the item's values (${item.KEY}); with items from a "
        "list param or output a missing key fails that task at run time",
    ),
    Feature.FOREACH_FAN_IN: Capability(
        _NATIVE,
        "a parameter output arrives as the JSON list of every mapped task's XCom, in item "
        "order; an artifact as the producer's output folder, one sub-folder per map index",
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
    Feature.INSTANCE_COUNT: Capability(
        _EMULATED, "Airflow has no instance counts: a task runs one pod; the count is not used"
    ),
    Feature.INSTANCE_PARAMS: Capability(
        _EMULATED, "Airflow has no instance types or counts: the run-time param is not used"
    ),
    Feature.RESOURCE_LIMITS: Capability(
        _NATIVE, "container_resources=V1ResourceRequirements(limits=...) apart from requests"
    ),
    Feature.NODE_SELECTOR: Capability(
        _NATIVE, "the KubernetesPodOperator's node_selector (merged with the GPU model's)"
    ),
    Feature.TOLERATIONS: Capability(
        _NATIVE, "the KubernetesPodOperator's tolerations=[k8s.V1Toleration(...)]"
    ),
    Feature.SERVICE_ACCOUNT: Capability(
        _NATIVE, "the KubernetesPodOperator's service_account_name"
    ),
    Feature.CACHE: Capability(
        _EMULATED,
        "Airflow has no task-result caching: the step runs again in every DAG run",
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
    Feature.TUNE_TRIAL_VALUES: Capability(
        _NATIVE,
        "built from dynamic task mapping as for the standard script: `<step>.trials` draws "
        "the trials, each mapped task gets its values in place of ${hyperparameters.NAME} "
        "(filled at run time), `<step>.best` picks the trial by the objective key of its "
        "metrics output",
    ),
    Feature.TUNE_BEST_HYPERPARAMETERS: Capability(
        _NATIVE, "the `<step>.best` task's XCom (its `hyperparameters`)"
    ),
    Feature.HYPERPARAMETERS_OWN_COMMAND: Capability(
        _EMULATED, f"the hyperparameters are not passed to the task; {_RUNS_ONCE}"
    ),
    Feature.INGEST_SOURCE_OWN_COMMAND: Capability(
        _EMULATED, f"the source is not passed to the task; {_RUNS_ONCE}"
    ),
    Feature.DEPLOY_ENDPOINT: Capability(
        _NATIVE,
        "a KServe InferenceService (or a Seldon Core SeldonDeployment with `serving: "
        "seldon`) from the model's framework or serving image, with the endpoint's "
        "replicas and the step's resources, applied by a task that waits until it is Ready",
    ),
    Feature.DEPLOY_OWN_COMMAND: Capability(
        _EMULATED,
        f"the endpoint is not passed to the task; {_RUNS_ONCE}",
    ),
    Feature.MONITOR_DRIFT: Capability(
        _NATIVE,
        "pipespec's standard drift check (pipespec:drift: PSI, KS, Jensen-Shannon or "
        "chi-squared per feature against the threshold) as a task: a report folder and a metrics "
        "output a `when:` can gate retraining on",
    ),
    Feature.MONITOR_DRIFT_OWN_COMMAND: Capability(
        _EMULATED,
        "the drift threshold is not passed to the task (Airflow has no construct for it); "
        "the step's command must compute the drift itself",
    ),
    Feature.MONITOR_SCHEDULE: Capability(
        _EMULATED,
        "without targets.airflow.artifact_root, a second DAG cannot read the pipeline's "
        "artifacts: the step runs once per DAG run, not on its own schedule",
    ),
    Feature.REGISTER_MODEL: Capability(
        _NATIVE,
        "a task running the catalog's `pipespec:register` script: a new version of the MLflow "
        "registered model `model_group` (server from MLFLOW_TRACKING_URI), its approval as "
        "the version's `approval_status` tag (MLflow has no approval status)",
    ),
    Feature.BATCH_PREDICT: Capability(
        _NATIVE, "a task running the catalog's `pipespec:batch_predict` script over the data"
    ),
    Feature.SERVING_IMAGE: Capability(
        _NATIVE,
        "a batch_predict task runs in the serving image (its own or its model's); "
        "`pipespec:register` records it as the version's `serving_image` tag",
    ),
    Feature.MODEL_FIELDS_OWN_COMMAND: Capability(
        _EMULATED,
        "the model group, approval, tags, kept columns or serving image are not passed to "
        f"the task; {_RUNS_ONCE}",
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
    Feature.RESOURCE_LIMITS: Capability(
        _EMULATED, "operator: local runs on the worker: cpu and memory are not limited"
    ),
    Feature.NODE_SELECTOR: Capability(
        _EMULATED, "operator: local runs on the worker: the node selector is not used"
    ),
    Feature.TOLERATIONS: Capability(
        _EMULATED, "operator: local runs on the worker: the tolerations are not used"
    ),
    Feature.DEPLOY_ENDPOINT: Capability(
        _UNSUPPORTED,
        "operator: local runs on the worker, outside the cluster: deploying to KServe or "
        "Seldon needs operator: kubernetes (or a command of the step's own)",
    ),
    Feature.SERVICE_ACCOUNT: Capability(
        _EMULATED, "operator: local runs as the worker: the service account is not used"
    ),
}

_NO_ARTIFACT_ROOT = Capability(
    _EMULATED,
    f"no targets.airflow.artifact_root: artifacts go to {DEFAULT_LOCAL_ROOT} inside each pod "
    "and are not shared between tasks; set artifact_root to an s3://, gs:// or mounted path",
)


_MONITOR_DAG = Capability(
    _NATIVE,
    "its own DAG, <pipeline>-<step>, on the step's schedule, reading the outputs of the "
    "pipeline DAG's latest run that wrote them (Airflow assets; datasets on Airflow 2); "
    "the step also runs in every run of the pipeline's DAG",
)


def capabilities_for(options: AirflowOptions) -> Mapping[Feature, Capability]:
    """The table under these options."""
    table = dict(CAPABILITIES)
    if options.artifact_root is not None:
        table[Feature.MONITOR_SCHEDULE] = _MONITOR_DAG
    if options.operator == "local":
        table.update(_LOCAL)
    elif options.artifact_root is None:
        table[Feature.ARTIFACT_OUTPUT] = _NO_ARTIFACT_ROOT
    return table
