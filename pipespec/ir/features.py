"""The language features a pipeline can use: what capability tables are keyed by.

A feature is named from the spec's side (what the user wrote), never from a target's.
``features_used`` finds them in a pipeline, each with the steps that use it, so the
portability check and report are one mechanism for every target.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from pipespec.ir.pod_features import pod_rules
from pipespec.spec.conditions import condition_refs
from pipespec.spec.references import ArtifactRef, OneOf, Placeholder

if TYPE_CHECKING:  # ir/__init__ imports this module: the IR types are for annotations only
    from pipespec.ir import Pipeline, Step


class Feature(str, Enum):
    CONTAINER_STEP = "container step (image and command)"
    SCRIPT_STEP = "script step (a Python script run by the step)"
    PARAMS = "run-time params"
    PARAM_CONSTRAINTS = "param enum/pattern checked at trigger time"
    SCHEDULE = "schedule"
    DATA_DEPENDENCY = "data passed between steps (artifacts)"
    ARTIFACT_OUTPUT = "dataset, model or artifact outputs"
    PARAMETER_OUTPUT = "parameter or metrics output read by another step"
    MULTIPLE_PARAMETER_OUTPUTS = "several parameter or metrics outputs written by one step"
    CONDITION = "when: condition"
    BRANCH_ELSE = "else_of: the else branch of a condition"
    TRIGGER_RULE = "trigger: a step's trigger rule other than all_success"
    ONE_OF_INPUT = "one_of: an input from whichever branch produced it"
    FAIL_STEP = "fail: a step that stops the run with a message"
    FOREACH_LITERAL = "foreach over a literal list"
    FOREACH_PARAM = "foreach over a list param"
    FOREACH_OUTPUT = "foreach over a list output"
    FOREACH_PARALLELISM = "foreach with a parallelism bound"
    FOREACH_MAPPING_ITEMS = "foreach over mapping items read as ${item.KEY}"
    FOREACH_FAN_IN = "an output of a foreach step read by another step (all items' outputs)"
    AFTER = "after: ordering without data"
    RETRIES = "retries and retry delay"
    TIMEOUT = "timeout"
    RESOURCES = "cpu and memory requests"
    GPU = "GPU count"
    ACCELERATOR = "accelerator type"
    INSTANCE_TYPE = "instance type"
    INSTANCE_COUNT = "instance count"
    INSTANCE_PARAMS = "instance type or count chosen by a run-time param"
    RESOURCE_LIMITS = "cpu and memory limits apart from the requests"
    NODE_SELECTOR = "node_selector"
    TOLERATIONS = "tolerations"
    SERVICE_ACCOUNT = "service_account"
    CACHE = "cache: true (reuse an earlier run's result)"
    SECRETS = "secrets as environment variables"
    TUNE_NATIVE = "tune: search space, objective, trials"
    TUNE_OWN_COMMAND = "tune with the step's own command"
    TUNE_TRIAL_VALUES = "tune with the step's own command taking ${hyperparameters.NAME}"
    TUNE_BEST_HYPERPARAMETERS = "a tune step's best_hyperparameters read by another step"
    HYPERPARAMETERS_OWN_COMMAND = "hyperparameters of a step that runs its own command"
    INGEST_SOURCE_OWN_COMMAND = "ingest source of a step that runs its own command"
    DEPLOY_ENDPOINT = "deploy to an endpoint"
    DEPLOY_OWN_COMMAND = "deploy to an endpoint by the step's own command"
    MONITOR_DRIFT = "monitor: drift threshold"
    MONITOR_DRIFT_OWN_COMMAND = "monitor: drift threshold of the step's own command"
    MONITOR_SCHEDULE = "monitor with its own schedule"
    REGISTER_MODEL = "register: a model version in a model registry"
    BATCH_PREDICT = "batch_predict: predictions for a dataset"
    SERVING_IMAGE = "serving_image: the image that serves a model"
    MODEL_FIELDS_OWN_COMMAND = "register/batch_predict/deploy model fields of an own command"


# Output types that travel as values (a target's parameters/XCom), not as files.
PARAMETER_TYPES = frozenset({"metrics", "string", "int", "float", "bool", "list", "dict"})
STANDARD_TRAIN_SCRIPT = "pipespec:train"
_TUNE_FIELDS = ("objective", "search_space", "max_trials", "parallel_trials")


def runs_standard_tuning(step: Step) -> bool:
    """A tune step whose search a target can run itself: the standard train script (which
    takes each trial's hyperparameters as `--name=value`), a search space, an objective
    and a trial count."""
    return (
        step.kind == "tune"
        and step.script is not None
        and step.script.name == STANDARD_TRAIN_SCRIPT
        and bool(step.details.get("search_space"))
        and "max_trials" in step.details
        and "objective" in step.details
    )


def runs_own_trials(step: Step) -> bool:
    """A tune step running its own command (or script) that takes each trial's values as
    ${hyperparameters.NAME}: a target can run its search like the standard script's."""
    return (
        step.kind == "tune"
        and runs_own_code(step)
        and bool(getattr(step.details, "trial_values", None))
        and bool(step.details.get("search_space"))
        and "max_trials" in step.details
        and "objective" in step.details
    )


def _reads_best_hyperparameters(step: Step) -> bool:
    outputs: list[str | None] = [
        put.source.output for put in step.inputs if isinstance(put.source, ArtifactRef)
    ]
    if step.condition is not None:
        outputs += [r.output for r in condition_refs(step.condition)]
    return "best_hyperparameters" in outputs


def runs_own_code(step: Step) -> bool:
    """The step runs the user's command or script, not a standard `pipespec:` script, so
    no kind field reaches it as an argument."""
    return step.script is None or not step.script.name.startswith("pipespec:")


def written_parameter_outputs(step: Step) -> list[str]:
    """The step's parameter/metrics outputs that its arguments or env name (so it writes)."""
    argv = step.args if step.script is not None else step.command
    named = {
        seg.name
        for arg in (*argv, *(value for _, value in step.env))
        for seg in arg
        if isinstance(seg, Placeholder) and seg.root == "outputs"
    }
    return [o.name for o in step.outputs if o.type in PARAMETER_TYPES and o.name in named]


def _reads_output(step: Step, parameter: bool) -> bool:
    for put in step.inputs:
        from_step = isinstance(put.source, (ArtifactRef, OneOf))
        if from_step and (put.type in PARAMETER_TYPES) == parameter:
            return True
    # A condition reads step outputs as values.
    return (
        parameter
        and step.condition is not None
        and any(not r.is_param for r in condition_refs(step.condition))
    )


def _writes_code(step: Step) -> bool:
    """The step has a command or a script of the user's own (not one of pipespec's)."""
    script = step.script
    return bool(step.command) or (script is not None and not script.name.startswith("pipespec:"))


def _model_fields_own_command(step: Step) -> bool:
    """A register, batch_predict or deploy whose own command is not given the kind's model
    fields (registry group and approval, kept columns, the serving image to deploy)."""
    if step.kind == "register":
        return runs_own_code(step)
    if step.kind == "batch_predict":
        return runs_own_code(step) and "keep_columns" in step.details
    return step.kind == "deploy" and "serving_image" in step.details


def _step_rules(target: str | None) -> dict[Feature, Callable[[Step], bool]]:
    def own_instance_type(step: Step) -> bool:
        # Per-target settings count for the target asked about (any target when None).
        names = [target] if target is not None else list(step.target_overrides)
        return any((step.target_overrides.get(name) or {}).get("instance_type") for name in names)

    return {
        Feature.CONTAINER_STEP: lambda s: s.script is None and bool(s.command),
        Feature.SCRIPT_STEP: lambda s: s.script is not None,
        Feature.DATA_DEPENDENCY: lambda s: _reads_output(s, parameter=False),
        Feature.ARTIFACT_OUTPUT: lambda s: any(o.type not in PARAMETER_TYPES for o in s.outputs),
        Feature.PARAMETER_OUTPUT: lambda s: _reads_output(s, parameter=True),
        Feature.MULTIPLE_PARAMETER_OUTPUTS: lambda s: len(written_parameter_outputs(s)) > 1,
        Feature.CONDITION: lambda s: s.condition is not None,
        Feature.BRANCH_ELSE: lambda s: s.else_of is not None,
        Feature.TRIGGER_RULE: lambda s: s.trigger != "all_success",
        Feature.ONE_OF_INPUT: lambda s: any(isinstance(i.source, OneOf) for i in s.inputs),
        Feature.FAIL_STEP: lambda s: s.kind == "fail",
        Feature.FOREACH_LITERAL: lambda s: s.foreach is not None and s.foreach.items is not None,
        Feature.FOREACH_PARAM: lambda s: s.foreach is not None and s.foreach.param is not None,
        Feature.FOREACH_OUTPUT: lambda s: s.foreach is not None and s.foreach.ref is not None,
        Feature.AFTER: lambda s: bool(s.after),
        Feature.RETRIES: lambda s: s.retries > 0,
        Feature.TIMEOUT: lambda s: s.timeout_s is not None,
        Feature.RESOURCES: lambda s: (
            s.resources.cpu is not None or s.resources.memory_bytes is not None
        ),
        Feature.GPU: lambda s: s.resources.gpu > 0,
        Feature.ACCELERATOR: lambda s: s.resources.accelerator is not None,
        Feature.INSTANCE_TYPE: own_instance_type,
        Feature.SECRETS: lambda s: bool(s.secrets),
        Feature.TUNE_NATIVE: runs_standard_tuning,
        Feature.TUNE_OWN_COMMAND: lambda s: (
            s.kind == "tune"
            and not runs_standard_tuning(s)
            and not runs_own_trials(s)
            and any(name in s.details for name in _TUNE_FIELDS)
        ),
        Feature.TUNE_TRIAL_VALUES: runs_own_trials,
        Feature.TUNE_BEST_HYPERPARAMETERS: _reads_best_hyperparameters,
        Feature.HYPERPARAMETERS_OWN_COMMAND: lambda s: (
            s.kind in ("train", "tune") and runs_own_code(s) and "hyperparameters" in s.details
        ),
        Feature.INGEST_SOURCE_OWN_COMMAND: lambda s: (
            s.kind == "ingest" and runs_own_code(s) and "source" in s.details
        ),
        Feature.DEPLOY_ENDPOINT: lambda s: (
            s.kind == "deploy" and "endpoint" in s.details and not _writes_code(s)
        ),
        Feature.DEPLOY_OWN_COMMAND: lambda s: (
            s.kind == "deploy" and "endpoint" in s.details and _writes_code(s)
        ),
        Feature.MONITOR_DRIFT: lambda s: (
            s.kind == "monitor" and "drift" in s.details and not _writes_code(s)
        ),
        Feature.MONITOR_DRIFT_OWN_COMMAND: lambda s: (
            s.kind == "monitor" and "drift" in s.details and _writes_code(s)
        ),
        # Pipeline-aware: features_used replaces it (a monitor on the pipeline's schedule
        # runs in every run, which is its schedule).
        Feature.MONITOR_SCHEDULE: lambda s: s.kind == "monitor" and bool(s.details.get("schedule")),
        Feature.REGISTER_MODEL: lambda s: s.kind == "register",
        Feature.BATCH_PREDICT: lambda s: s.kind == "batch_predict",
        Feature.SERVING_IMAGE: lambda s: bool(s.details.get("serving_image")),
        Feature.MODEL_FIELDS_OWN_COMMAND: _model_fields_own_command,
    }


def features_used(pipeline: Pipeline, target: str | None = None) -> dict[Feature, list[Step]]:
    """Each feature the pipeline uses -> the steps using it, in pipeline order (empty for a
    pipeline-level feature: params, schedule). ``target`` limits per-target step settings
    (``steps.X.targets.<name>``) to that target's. Keys follow the enum's order."""
    pipeline_level = {
        Feature.PARAMS: bool(pipeline.params),
        Feature.PARAM_CONSTRAINTS: any(
            p.enum is not None or p.pattern is not None for p in pipeline.params
        ),
        Feature.SCHEDULE: pipeline.schedule is not None,
    }
    rules = _step_rules(target)
    rules.update({Feature[name]: rule for name, rule in pod_rules(pipeline, target).items()})
    from pipespec.ir.monitors import own_schedule  # imports the IR, which imports this module

    rules[Feature.MONITOR_SCHEDULE] = lambda s: own_schedule(s, pipeline) is not None
    found: dict[Feature, list[Step]] = {}
    for feature in Feature:
        if feature in pipeline_level:
            if pipeline_level[feature]:
                found[feature] = []
            continue
        steps = [s for s in pipeline.steps if rules[feature](s)]
        if steps:
            found[feature] = steps
    return found
