"""What Vertex AI Pipelines does with each language feature (docs/targets/vertex.md).

The flow constructs are the KFP IR's, as on Kubeflow; the ML kinds become Vertex's own
services through Google Cloud Pipeline Components.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipespec.backends.base import Capability, Support
from pipespec.backends.kubeflow.capabilities import CAPABILITIES as KUBEFLOW
from pipespec.ir import Feature

_NATIVE = Support.NATIVE
_EMULATED = Support.EMULATED
_UNSUPPORTED = Support.UNSUPPORTED
_RUNS_ONCE = "the step runs once, as its command, which must act on them itself"
_NO_POD = "Vertex runs tasks on machines it picks, with no Kubernetes pod settings"

# The IR's flow constructs are the same on both KFP engines: those rows are Kubeflow's.
_SHARED = (
    Feature.CONTAINER_STEP, Feature.SCRIPT_STEP, Feature.PARAMS, Feature.PARAM_CONSTRAINTS,
    Feature.DATA_DEPENDENCY, Feature.ARTIFACT_OUTPUT, Feature.PARAMETER_OUTPUT,
    Feature.MULTIPLE_PARAMETER_OUTPUTS, Feature.CONDITION, Feature.BRANCH_ELSE,
    Feature.TRIGGER_RULE, Feature.ONE_OF_INPUT, Feature.FAIL_STEP, Feature.FOREACH_LITERAL,
    Feature.FOREACH_PARAM, Feature.FOREACH_OUTPUT, Feature.FOREACH_PARALLELISM,
    Feature.FOREACH_MAPPING_ITEMS, Feature.FOREACH_FAN_IN, Feature.AFTER, Feature.RETRIES,
    Feature.RESOURCES, Feature.RESOURCE_LIMITS, Feature.CACHE,
    Feature.HYPERPARAMETERS_OWN_COMMAND, Feature.INGEST_SOURCE_OWN_COMMAND,
)  # fmt: skip

CAPABILITIES: Mapping[Feature, Capability] = {
    **{feature: KUBEFLOW[feature] for feature in _SHARED},
    Feature.SCHEDULE: Capability(
        _NATIVE,
        "a PipelineJobSchedule: `<name>.job.json` beside the pipeline holds its cron and "
        "settings for PipelineJob.create_schedule",
    ),
    Feature.TIMEOUT: Capability(
        _EMULATED,
        "a training job's own timeout (train and tune trials); a container task on Vertex "
        "has none: the step's timeout is not applied there",
    ),
    Feature.GPU: Capability(
        _NATIVE, "the machine's accelerator count (a training job's machine_spec, or the task's)"
    ),
    Feature.ACCELERATOR: Capability(
        _NATIVE,
        "Vertex's accelerator type (nvidia-t4 -> NVIDIA_TESLA_T4, ...); a GPU Vertex lacks "
        "(nvidia-a10g) is an error",
    ),
    Feature.INSTANCE_TYPE: Capability(
        _NATIVE, "the training job's machine_spec.machine_type (targets.vertex.instance_type)"
    ),
    Feature.INSTANCE_COUNT: Capability(
        _NATIVE, "a training job's replicas: the chief's pool and one more with the rest"
    ),
    Feature.INSTANCE_PARAMS: Capability(
        _NATIVE,
        "a machine type from a param reaches the job as a component input placeholder; a "
        "count from a param is an error (pool sizes are fixed at compile time)",
    ),
    Feature.NODE_SELECTOR: Capability(_EMULATED, f"{_NO_POD}: node_selector is not used"),
    Feature.TOLERATIONS: Capability(_EMULATED, f"{_NO_POD}: tolerations are not used"),
    Feature.SERVICE_ACCOUNT: Capability(
        _EMULATED,
        "a training job or deployed model runs as the Google service account "
        "targets.vertex.service_accounts maps the step's name to; other tasks (and "
        "unmapped names) run as the run's (targets.vertex.service_account)",
    ),
    Feature.SECRETS: Capability(
        _NATIVE,
        "read from Secret Manager (the secret's `gcp:` mapping) when the step starts, with "
        "the step's own identity, and exported to its command: never in the pipeline",
    ),
    Feature.TUNE_NATIVE: Capability(
        _NATIVE,
        "a Vertex hyperparameter tuning job (HyperparameterTuningJobRunOp) with the study "
        "spec from the objective and search space; `<step>-best` returns the best trial's "
        "model, metrics and hyperparameters",
    ),
    Feature.TUNE_OWN_COMMAND: Capability(
        _EMULATED,
        "one custom job; the objective, search space and trial counts are not passed; "
        + _RUNS_ONCE,
    ),
    Feature.TUNE_TRIAL_VALUES: Capability(
        _NATIVE,
        "a Vertex tuning job: each trial's values replace ${hyperparameters.NAME} in the "
        "step's command",
    ),
    Feature.TUNE_BEST_HYPERPARAMETERS: Capability(
        _NATIVE, "the `<step>-best` task's STRUCT output best_hyperparameters"
    ),
    Feature.DEPLOY_ENDPOINT: Capability(
        _NATIVE,
        "ModelUploadOp, EndpointCreateOp (or an existing endpoint from "
        "targets.vertex.endpoints) and ModelDeployOp with the endpoint's machine and "
        "replicas; without a serving image the step's command runs instead (a warning)",
    ),
    Feature.DEPLOY_OWN_COMMAND: Capability(
        _NATIVE,
        "Vertex's services deploy the model as for a deploy without a command; the step's "
        "own command is not run (a warning), unless deploy is in container_kinds",
    ),
    Feature.MONITOR_DRIFT: Capability(
        _NATIVE,
        "pipespec's standard drift check (pipespec:drift: PSI, KS, Jensen-Shannon or "
        "chi-squared per feature against the threshold) as a container task: a report "
        "folder and a metrics output a `when:` can gate retraining on",
    ),
    Feature.MONITOR_DRIFT_OWN_COMMAND: Capability(
        _EMULATED,
        "GCPC 2.22 has no model monitoring component: the step runs its command as a "
        "container task, which must compute the drift itself",
    ),
    Feature.MONITOR_SCHEDULE: Capability(
        _EMULATED,
        "the step runs once per pipeline run, on the pipeline's schedule: a scheduled second "
        "pipeline could not find this one's artifacts (Vertex keeps them per run, and an "
        "output's URI cannot be chosen)",
    ),
    Feature.REGISTER_MODEL: Capability(
        _EMULATED,
        "a Vertex Model Registry version (ModelUploadOp, under parent_model when given); "
        "Vertex has no approval status: it is the label pipespec-approval",
    ),
    Feature.BATCH_PREDICT: Capability(
        _NATIVE,
        "ModelUploadOp and ModelBatchPredictOp over the data's files (CSV in, JSON Lines "
        "out); one kept column is the job's key field",
    ),
    Feature.SERVING_IMAGE: Capability(
        _NATIVE, "the uploaded model's container (UnmanagedContainerModel containerSpec)"
    ),
    Feature.MODEL_FIELDS_OWN_COMMAND: Capability(
        _NATIVE,
        "the model fields go to Vertex's services; the step's own command is not run "
        "(a warning; list the kind in targets.vertex.container_kinds to run it instead)",
    ),
}
