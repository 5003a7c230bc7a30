"""What SageMaker Pipelines does with each language feature: the plan the backend is
written to (issue 13), as its capability table. Not a registered target yet: the table is
checked for completeness in tests/sagemaker/test_capabilities.py, and `pipespec explain
--target sagemaker` will print it once the backend renders."""

from __future__ import annotations

from collections.abc import Mapping

from pipespec.backends.base import Capability, Support
from pipespec.ir import Feature

_NATIVE = Support.NATIVE
_EMULATED = Support.EMULATED
_UNSUPPORTED = Support.UNSUPPORTED
_RUNS_ONCE = "the step runs once, as its command, which must act on them itself"
_NO_POD = "SageMaker jobs run on instances it provisions, with no Kubernetes pod settings"

CAPABILITIES: Mapping[Feature, Capability] = {
    Feature.CONTAINER_STEP: Capability(
        _NATIVE,
        "the step's SageMaker job (a ProcessingStep; a TrainingStep for train) runs the "
        "image with the command as its entrypoint and arguments; register, deploy and "
        "batch_predict are SageMaker's own steps and run no command",
    ),
    Feature.SCRIPT_STEP: Capability(
        _NATIVE,
        "the script is the job's code input, uploaded to S3 first (the manifest beside the "
        "definition lists each file and its S3 URI)",
    ),
    Feature.PARAMS: Capability(
        _EMULATED,
        "pipeline Parameters (String, Integer, Float, Boolean); a list or dict param is a "
        "String holding its JSON",
    ),
    Feature.PARAM_CONSTRAINTS: Capability(
        _EMULATED, "a String parameter's EnumValues; SageMaker has no pattern check"
    ),
    Feature.SCHEDULE: Capability(
        _NATIVE,
        "an EventBridge Scheduler schedule whose target starts the pipeline "
        "(StartPipelineExecution), in the upsert file beside the definition",
    ),
    Feature.DATA_DEPENDENCY: Capability(
        _NATIVE, "a `Get` of the producer's output S3 URI (ProcessingOutputConfig, ModelArtifacts)"
    ),
    Feature.ARTIFACT_OUTPUT: Capability(
        _NATIVE, "a ProcessingOutput (or the model artifacts) on S3"
    ),
    Feature.PARAMETER_OUTPUT: Capability(
        _NATIVE, "a PropertyFile on a processing output, read with JsonGet"
    ),
    Feature.MULTIPLE_PARAMETER_OUTPUTS: Capability(
        _NATIVE, "one PropertyFile per output, each on its own processing output"
    ),
    Feature.CONDITION: Capability(
        _NATIVE,
        "a ConditionStep (ConditionEquals, ConditionGreaterThan..., ConditionNot, "
        "ConditionOr) over JsonGet of a PropertyFile and Parameters",
    ),
    Feature.BRANCH_ELSE: Capability(_NATIVE, "the ConditionStep's ElseSteps"),
    Feature.TRIGGER_RULE: Capability(
        _EMULATED,
        "SageMaker runs a step only when every step it depends on ran and succeeded; a "
        "step cannot depend on a ConditionStep, so other trigger rules are not kept",
    ),
    Feature.ONE_OF_INPUT: Capability(
        _EMULATED,
        "SageMaker cannot rejoin exclusive branches: the step runs as one copy per branch, "
        "and only the copy after the branch that ran runs (a step others depend on cannot "
        "be split so: an error)",
    ),
    Feature.FAIL_STEP: Capability(_NATIVE, "a FailStep with the message as its ErrorMessage"),
    Feature.FOREACH_LITERAL: Capability(
        _EMULATED, "unrolled at compile time: one step per item (SageMaker has no loop)"
    ),
    Feature.FOREACH_PARAM: Capability(
        _EMULATED,
        "SageMaker has no loop: unrolled over the param's default at compile time, so a "
        "run's own value does not change the fan-out",
    ),
    Feature.FOREACH_OUTPUT: Capability(
        _UNSUPPORTED, "SageMaker has no loop: a list known only at run time cannot be unrolled"
    ),
    Feature.FOREACH_PARALLELISM: Capability(
        _EMULATED, "the unrolled steps run as SageMaker schedules them: the bound is not kept"
    ),
    Feature.FOREACH_MAPPING_ITEMS: Capability(_NATIVE, "each unrolled step gets its item's keys"),
    Feature.FOREACH_FAN_IN: Capability(
        _EMULATED,
        "each unrolled step's output is its own input of the reader (`<input>/<index>`); "
        "values reach the command as one JSON list through pipespec's launcher",
    ),
    Feature.AFTER: Capability(_NATIVE, "DependsOn"),
    Feature.RETRIES: Capability(
        _EMULATED,
        "RetryPolicies with the delay; SageMaker retries only service and job faults "
        "(throttling, capacity, internal errors), not a container that exits non-zero",
    ),
    Feature.TIMEOUT: Capability(_NATIVE, "the job's StoppingCondition.MaxRuntimeInSeconds"),
    Feature.RESOURCES: Capability(
        _EMULATED, "the smallest ML instance type that holds the step's cpu and memory"
    ),
    Feature.GPU: Capability(_NATIVE, "an ML instance type with that many GPUs"),
    Feature.ACCELERATOR: Capability(
        _NATIVE,
        "an ML instance family with that GPU (nvidia-t4 -> ml.g4dn, nvidia-a10g -> ml.g5...)",
    ),
    Feature.INSTANCE_TYPE: Capability(_NATIVE, "the job's InstanceType"),
    Feature.INSTANCE_COUNT: Capability(_NATIVE, "the job's InstanceCount"),
    Feature.INSTANCE_PARAMS: Capability(
        _NATIVE, "InstanceType and InstanceCount from a pipeline Parameter (a `Get`)"
    ),
    Feature.RESOURCE_LIMITS: Capability(
        _EMULATED, "an instance is the step's own: limits are the instance's size"
    ),
    Feature.NODE_SELECTOR: Capability(_EMULATED, f"{_NO_POD}: node_selector is not used"),
    Feature.TOLERATIONS: Capability(_EMULATED, f"{_NO_POD}: tolerations are not used"),
    Feature.SERVICE_ACCOUNT: Capability(
        _EMULATED, "every job runs as the pipeline's execution role (targets.sagemaker.role_arn)"
    ),
    Feature.CACHE: Capability(_NATIVE, "the step's CacheConfig"),
    Feature.SECRETS: Capability(
        _NATIVE,
        "a Secrets Manager ARN (the secret's `aws:` mapping) passed by reference and read "
        "when the job starts, never a value in the definition",
    ),
    Feature.TUNE_NATIVE: Capability(
        _NATIVE,
        "a TuningStep in script mode on the catalog's framework image: ranges from the search "
        "space, the objective read from pipespec's trial runner, max and parallel jobs; the "
        "best job's model",
    ),
    Feature.TUNE_OWN_COMMAND: Capability(
        _EMULATED,
        "a tuning job cannot run a container's own command: one processing step, then "
        "`<step>` passes on its outputs; the objective, search space and trial counts are "
        "not used",
    ),
    Feature.TUNE_TRIAL_VALUES: Capability(
        _EMULATED,
        "a tuning job cannot run a container's own command: max_trials processing steps with "
        "the shared seeded draws (parallel_trials at a time), then `<step>` picks the best; "
        "a failed trial fails the run",
    ),
    Feature.TUNE_BEST_HYPERPARAMETERS: Capability(
        _EMULATED,
        "written by pipespec: from the best training job's output (`<step>-best`), or by the "
        "emulation's pick",
    ),
    Feature.HYPERPARAMETERS_OWN_COMMAND: Capability(
        _NATIVE, "the TrainingStep's HyperParameters (SageMaker passes them to the container)"
    ),
    Feature.INGEST_SOURCE_OWN_COMMAND: Capability(
        _EMULATED, f"the source is not passed to the job; {_RUNS_ONCE}"
    ),
    Feature.DEPLOY_ENDPOINT: Capability(
        _NATIVE,
        "a ModelStep (CreateModel), then the endpoint config and endpoint by the documented "
        "pattern",
    ),
    Feature.DEPLOY_OWN_COMMAND: Capability(
        _NATIVE,
        "SageMaker's own Model, EndpointConfig and Endpoint steps deploy the model; the "
        "step's own command is not run (a warning)",
    ),
    Feature.MONITOR_DRIFT: Capability(
        _NATIVE,
        "pipespec's standard drift check (pipespec:drift: PSI, KS, Jensen-Shannon or "
        "chi-squared per feature against the threshold) as a Processing job: a report "
        "folder and a metrics output a `when:` can gate retraining on",
    ),
    Feature.MONITOR_DRIFT_OWN_COMMAND: Capability(
        _EMULATED,
        "no SageMaker pipeline step computes PSI or KS drift (QualityCheckStep is Model "
        "Monitor's statistics-and-constraints check): the step's command runs as a "
        "Processing job, which must compute the drift itself",
    ),
    Feature.MONITOR_SCHEDULE: Capability(
        _EMULATED,
        "the step runs once per pipeline execution, on the pipeline's schedule: a second "
        "pipeline could not find this one's outputs (they sit under each execution's id)",
    ),
    Feature.REGISTER_MODEL: Capability(
        _NATIVE,
        "RegisterModel (CreateModelPackage): the model package group, approval status, "
        "inference specification and metrics",
    ),
    Feature.BATCH_PREDICT: Capability(_NATIVE, "a TransformStep (CreateTransformJob)"),
    Feature.SERVING_IMAGE: Capability(
        _NATIVE, "the model's inference image (CreateModel, the model package)"
    ),
    Feature.MODEL_FIELDS_OWN_COMMAND: Capability(
        _NATIVE, "the model fields go to SageMaker's own steps; the step's own command is not run"
    ),
}
