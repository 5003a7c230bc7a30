"""What Kubeflow Pipelines v2 does with each language feature (docs/targets/kubeflow.md)."""

from __future__ import annotations

from collections.abc import Mapping

from pipespec.backends.base import Capability, Support
from pipespec.ir import Feature

_NATIVE = Support.NATIVE
_EMULATED = Support.EMULATED
_UNSUPPORTED = Support.UNSUPPORTED
_RUNS_ONCE = "the step runs once, as its command, which must act on them itself"

CAPABILITIES: Mapping[Feature, Capability] = {
    Feature.CONTAINER_STEP: Capability(
        _NATIVE,
        "a container component: image, command and env, values as KFP placeholders "
        "(env that names values is exported by `sh -c` before the command)",
    ),
    Feature.SCRIPT_STEP: Capability(
        _NATIVE,
        "the script's source travels in the executor, written to a file and run by "
        "`sh -c`, as kfp's lightweight components ship theirs",
    ),
    Feature.PARAMS: Capability(
        _NATIVE, "the root component's input parameters, typed, with defaults"
    ),
    Feature.PARAM_CONSTRAINTS: Capability(
        _EMULATED,
        "an enum becomes the input's literals, checked when a run is created; KFP has no "
        "pattern check: a pattern is not checked",
    ),
    Feature.SCHEDULE: Capability(
        _NATIVE,
        "a recurring run, created by `<name>.schedule.py` beside the pipeline file "
        "(KFP keeps schedules outside the pipeline)",
    ),
    Feature.DATA_DEPENDENCY: Capability(_NATIVE, "taskOutputArtifact inputs, and dependentTasks"),
    Feature.ARTIFACT_OUTPUT: Capability(
        _NATIVE, "output artifacts typed system.Dataset, system.Model or system.Artifact"
    ),
    Feature.PARAMETER_OUTPUT: Capability(
        _NATIVE, "output parameters (metrics and dicts as STRUCT) written to their output_file"
    ),
    Feature.MULTIPLE_PARAMETER_OUTPUTS: Capability(
        _NATIVE, "one output parameter per output, each written to its own file"
    ),
    Feature.CONDITION: Capability(
        _NATIVE,
        "a condition group (dsl.If) whose triggerPolicy.condition is CEL; a metrics key is "
        "selected from the producer's STRUCT output by parameterExpressionSelector",
    ),
    Feature.BRANCH_ELSE: Capability(
        _NATIVE, "an if/else branches group, the else's condition negated (dsl.If/dsl.Else)"
    ),
    Feature.TRIGGER_RULE: Capability(
        _EMULATED,
        "KFP has no trigger rules: a join after if/else waits for the branches group and "
        "reads one_of inputs (dsl.OneOf); other steps run when every upstream task succeeded",
    ),
    Feature.ONE_OF_INPUT: Capability(
        _NATIVE, "the branches group's output with valueFromOneof (dsl.OneOf)"
    ),
    Feature.FAIL_STEP: Capability(
        _NATIVE,
        "a task in the helper image that prints the message and exits 1 (KFP has no fail "
        "construct; the run fails with the message in the task's log)",
    ),
    Feature.FOREACH_LITERAL: Capability(_NATIVE, "a loop group (dsl.ParallelFor) over raw items"),
    Feature.FOREACH_PARAM: Capability(
        _NATIVE, "a loop group (dsl.ParallelFor) over the list param"
    ),
    Feature.FOREACH_OUTPUT: Capability(
        _NATIVE, "a loop group (dsl.ParallelFor) over the list output"
    ),
    Feature.FOREACH_PARALLELISM: Capability(_NATIVE, "the loop's iteratorPolicy.parallelismLimit"),
    Feature.FOREACH_MAPPING_ITEMS: Capability(
        _NATIVE, 'each key through parameterExpressionSelector parseJson(string_value)["KEY"]'
    ),
    Feature.FOREACH_FAN_IN: Capability(
        _NATIVE,
        "the loop group's output (dsl.Collected): a LIST of every item's parameter; an "
        "artifact list is an error (a container gets only its first path)",
    ),
    Feature.AFTER: Capability(_NATIVE, "dependentTasks"),
    Feature.RETRIES: Capability(
        _NATIVE, "retryPolicy: maxRetryCount, and backoffDuration with factor 1 for a delay"
    ),
    Feature.TIMEOUT: Capability(
        _NATIVE, "the pod's activeDeadlineSeconds (kfp-kubernetes set_timeout, PlatformSpec)"
    ),
    Feature.RESOURCES: Capability(_NATIVE, "container resources (cpu and memory requests)"),
    Feature.GPU: Capability(
        _NATIVE, "the accelerator (nvidia.com/gpu, count) and a toleration for GPU nodes"
    ),
    Feature.ACCELERATOR: Capability(
        _NATIVE, "a node selector on nvidia.com/gpu.product (PlatformSpec) with the GPU count"
    ),
    Feature.INSTANCE_TYPE: Capability(
        _EMULATED, "KFP has no instance types: targets.kubeflow.instance_type is not used"
    ),
    Feature.INSTANCE_COUNT: Capability(
        _EMULATED, "KFP runs one pod per task: the instance count is not used"
    ),
    Feature.INSTANCE_PARAMS: Capability(
        _EMULATED, "KFP has no instance types or counts: the run-time param is not used"
    ),
    Feature.RESOURCE_LIMITS: Capability(_NATIVE, "container resources (cpu and memory limits)"),
    Feature.NODE_SELECTOR: Capability(_NATIVE, "nodeSelector (kfp-kubernetes, PlatformSpec)"),
    Feature.TOLERATIONS: Capability(_NATIVE, "tolerations (kfp-kubernetes, PlatformSpec)"),
    Feature.SERVICE_ACCOUNT: Capability(
        _EMULATED,
        "KFP sets one service account per run, not per task: the schedule script passes "
        "the steps' account to the recurring run",
    ),
    Feature.CACHE: Capability(_NATIVE, "the task's cachingOptions.enableCache"),
    Feature.SECRETS: Capability(
        _NATIVE, "secretAsEnv from the secret's `kubernetes:` mapping (PlatformSpec)"
    ),
    Feature.TUNE_NATIVE: Capability(
        _NATIVE,
        "`<step>-trials` draws max_trials sets (seeded random search, as on Airflow), a "
        "loop group runs one trial each (parallel_trials at a time), `<step>-best` picks "
        "the trial by the objective and passes on its outputs",
    ),
    Feature.TUNE_OWN_COMMAND: Capability(
        _EMULATED,
        f"the objective, search space and trial counts are not passed to the task; {_RUNS_ONCE}",
    ),
    Feature.TUNE_TRIAL_VALUES: Capability(
        _NATIVE,
        "as for the standard script: each trial's values replace ${hyperparameters.NAME} "
        "(parameterExpressionSelector on the loop item)",
    ),
    Feature.TUNE_BEST_HYPERPARAMETERS: Capability(
        _NATIVE, "the `<step>-best` task's STRUCT output best_hyperparameters"
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
        "the drift threshold is not passed to the task; the step's command must compute it",
    ),
    Feature.MONITOR_SCHEDULE: Capability(
        _EMULATED,
        "the step runs once per pipeline run, on the pipeline's schedule: a recurring run of "
        "a second pipeline could not find this one's artifacts (KFP keeps them per run, and an "
        "output's URI cannot be chosen)",
    ),
    Feature.REGISTER_MODEL: Capability(
        _NATIVE,
        "a task running the catalog's `pipespec:register` script (MLflow model registry, "
        "server from MLFLOW_TRACKING_URI)",
    ),
    Feature.BATCH_PREDICT: Capability(
        _NATIVE, "a task running the catalog's `pipespec:batch_predict` script over the data"
    ),
    Feature.SERVING_IMAGE: Capability(
        _NATIVE,
        "a batch_predict task runs in the serving image; `pipespec:register` records it",
    ),
    Feature.MODEL_FIELDS_OWN_COMMAND: Capability(
        _EMULATED,
        "the model group, approval, tags, kept columns or serving image are not passed to "
        f"the task; {_RUNS_ONCE}",
    ),
}
