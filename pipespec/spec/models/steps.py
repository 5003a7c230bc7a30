"""The step models, one per kind, and the discriminated union ``Step``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from pipespec.spec.models.columns import Input, Output
from pipespec.spec.models.settings import (
    K8sName,
    LabelName,
    Resources,
    StepTargets,
    Toleration,
)
from pipespec.spec.models.tracking import Tracking
from pipespec.spec.models.values import (
    IDENT_RE,
    NAME_RE,
    Description,
    Duration,
    EnvName,
    Ident,
    Image,
    Model,
    Scalar,
    Schedule,
    StepId,
    _check_script,
    _error,
    _is_scalar,
)

# When a step runs given how its upstream steps ended (Airflow's names): a join after
# exclusive branches needs one that accepts a skipped upstream.
TriggerRule = Literal["all_success", "none_failed", "all_done", "one_success"]


class StepBase(Model):
    description: Description | None = None
    image: Image | None = None
    command: Annotated[list[str], Field(min_length=1)] | None = None
    script: Annotated[str, AfterValidator(_check_script)] | None = Field(
        default=None,
        description="a Python file relative to the spec, or pipespec:<name> for a standard script",
    )
    args: list[str] | None = Field(default=None, description="arguments passed to `script`")
    env: dict[EnvName, str] | None = None
    secrets: dict[EnvName, str] | None = Field(
        default=None, description="environment variable -> name of a spec-level secret"
    )
    inputs: dict[Ident, Input] | None = Field(
        default=None,
        description="input name -> <step>.<output>, params.<name>, a URI, {one_of: [...]}, "
        "or {uri, columns | sample}",
    )
    outputs: dict[Ident, Output] | None = Field(
        default=None,
        description="output name -> type, or {type: dataset, columns | sample}",
    )
    after: list[StepId] | None = None
    when: Annotated[str, Field(min_length=1)] | None = None
    else_of: StepId | None = Field(
        default=None, description="run this step when that step's `when:` is false"
    )
    trigger: TriggerRule | None = Field(
        default=None,
        description="when the step runs, given its upstream steps (default all_success)",
    )
    foreach: Annotated[
        Any,
        WithJsonSchema({"oneOf": [{"type": "array", "minItems": 1}, {"type": "string"}]}),
    ] = None
    parallelism: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        default=None, description="at most this many `foreach` items run at a time"
    )
    resources: Resources | None = None
    node_selector: dict[LabelName, Annotated[str, Field(max_length=63)]] | None = None
    tolerations: list[Toleration] | None = None
    service_account: K8sName | None = None
    cache: bool | None = Field(
        default=None, description="reuse an earlier run's result for the same inputs"
    )
    retries: Annotated[int, Field(ge=0, le=20)] | None = None
    retry_delay: Duration | None = None
    timeout: Duration | None = None
    targets: StepTargets | None = None
    tracking: Tracking | None = Field(
        default=None, description="experiment tracking (replaces `defaults.tracking`)"
    )

    @model_validator(mode="after")
    def _command_or_script(self) -> StepBase:
        if self.command is not None and self.script is not None:
            raise _error("PS203", "a step has a `command` or a `script`, not both")
        if self.args is not None and self.script is None:
            raise _error("PS203", "`args` go with `script`; put arguments in `command`")
        return self

    @model_validator(mode="after")
    def _foreach_shape(self) -> StepBase:
        value = self.foreach
        if value is None or isinstance(value, str):
            return self
        if not isinstance(value, list):
            raise _error("PS405", "foreach takes a list literal or a reference to a list param")
        if not value:
            raise _error("PS405", "foreach over an empty list runs nothing")
        # Items are all scalars, or all mappings of names to scalars (read as ${item.KEY}).
        mappings = [isinstance(item, dict) for item in value]
        if any(mappings) and not all(mappings):
            raise _error("PS405", "foreach items are all scalars or all mappings, not both")
        for item in value:
            if isinstance(item, dict):
                if not item:
                    raise _error("PS405", "a foreach item mapping is empty")
                for key, field in item.items():
                    if not isinstance(key, str) or not re.match(IDENT_RE, key):
                        raise _error("PS405", f"foreach item key {key!r} is not a name")
                    if not _is_scalar(field):
                        raise _error(
                            "PS405", "foreach item values must be strings, numbers or booleans"
                        )
            elif not _is_scalar(item):
                raise _error(
                    "PS405", "foreach items must be strings, numbers, booleans or mappings"
                )
        return self


class Source(Model):
    type: Literal["sql", "uri", "bigquery", "s3", "gcs"]
    connection: str | None = None
    query: str | None = None
    uri: str | None = None
    format: Literal["csv", "parquet", "json"] | None = None


class IngestStep(StepBase):
    kind: Literal["ingest"]
    source: Source | None = None


class TransformStep(StepBase):
    kind: Literal["transform"]


Framework = Literal["xgboost", "scikit-learn", "lightgbm", "pytorch", "tensorflow", "transformers"]
Task = Literal[
    "binary_classification", "multiclass_classification", "regression", "text_classification"
]


ServingImage = Annotated[
    Image | None,
    Field(description="the image that serves the model, when it is not the training image"),
]


class TrainStep(StepBase):
    kind: Literal["train"]
    framework: Framework | None = None
    task: Task | None = None
    hyperparameters: dict[str, Scalar] | None = None
    serving_image: ServingImage = None


class Objective(Model):
    metric: Ident
    goal: Literal["maximize", "minimize"]


class SearchDimension(Model):
    type: Literal["float", "int", "categorical"]
    min: float | None = None
    max: float | None = None
    values: Annotated[list[Scalar], Field(min_length=1)] | None = None
    scale: Literal["linear", "log"] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> SearchDimension:
        if self.type == "categorical":
            if self.values is None:
                raise _error("PS201", "a categorical dimension needs `values`")
            return self
        if self.min is None or self.max is None:
            raise _error("PS201", f"a {self.type} dimension needs `min` and `max`")
        if self.min >= self.max:
            raise _error("PS203", "`min` must be less than `max`")
        if self.scale == "log" and self.min <= 0:
            raise _error("PS203", "a log-scaled dimension needs `min` > 0")
        return self


class TuneStep(StepBase):
    kind: Literal["tune"]
    framework: Framework | None = None
    task: Task | None = None
    hyperparameters: dict[str, Scalar] | None = None
    objective: Objective | None = None
    search_space: dict[str, SearchDimension] | None = None
    max_trials: Annotated[int, Field(ge=1, le=10_000)] | None = None
    parallel_trials: Annotated[int, Field(ge=1, le=1_000)] | None = None
    serving_image: ServingImage = None


class EvaluateStep(StepBase):
    kind: Literal["evaluate"]
    task: Task | None = None
    metrics: Annotated[list[Ident], Field(min_length=1)] | None = None


class Endpoint(Model):
    name: Annotated[str, Field(pattern=NAME_RE)]
    instance_type: str = "small"
    min_replicas: Annotated[int, Field(ge=0, le=1000)] = 1
    max_replicas: Annotated[int, Field(ge=1, le=1000)] = 1
    # The share of requests the new model gets while the previous one keeps the rest
    # (KServe's canary rollout); None: the new model takes all traffic at once.
    canary_traffic_percent: Annotated[int, Field(ge=1, le=99)] | None = None

    @model_validator(mode="after")
    def _replicas(self) -> Endpoint:
        if self.max_replicas < self.min_replicas:
            raise _error("PS203", "max_replicas is less than min_replicas")
        return self


class DeployStep(StepBase):
    kind: Literal["deploy"]
    endpoint: Endpoint | None = None
    serving_image: ServingImage = None


class Drift(Model):
    metric: Literal["psi", "ks", "jensen_shannon", "chi_squared"]
    threshold: Annotated[float, Field(gt=0)]


class MonitorStep(StepBase):
    kind: Literal["monitor"]
    drift: Drift | None = None
    schedule: Schedule | None = None


class ContainerStep(StepBase):
    kind: Literal["container"]


class FailStep(StepBase):
    """Stops the run with a message (SageMaker FailStep); usually guarded by `when:`."""

    kind: Literal["fail"]
    message: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _runs_nothing(self) -> FailStep:
        ran = ("image", "command", "script", "outputs", "foreach")
        written = [name for name in ran if getattr(self, name) is not None]
        if written:
            raise _error("PS232", f"a fail step runs nothing: remove `{written[0]}`")
        return self


Approval = Literal["pending", "approved", "rejected"]


class RegisterStep(StepBase):
    """A model (input `model`) registered as a new version in a model group (SageMaker model
    package group, Vertex Model Registry, MLflow registered model)."""

    kind: Literal["register"]
    model_group: Annotated[str, Field(pattern=NAME_RE)] = Field(
        description="the model package group / registered model the version joins"
    )
    approval: Approval = "pending"
    parent_model: Annotated[str, Field(min_length=1, max_length=512)] | None = Field(
        default=None,
        description="an existing registry model the version is added to (Vertex parent_model)",
    )
    tags: dict[Ident, Annotated[str, Field(max_length=256)]] | None = None
    serving_image: ServingImage = None


class BatchPredictStep(StepBase):
    """Predictions for a dataset (input `data`) from a model (input `model`), written to
    the `predictions` dataset (SageMaker TransformStep, Vertex batch prediction)."""

    kind: Literal["batch_predict"]
    keep_columns: (
        Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None
    ) = Field(default=None, description="input columns copied beside each prediction (an id)")
    serving_image: ServingImage = None


Step = Annotated[
    IngestStep
    | TransformStep
    | TrainStep
    | TuneStep
    | EvaluateStep
    | DeployStep
    | MonitorStep
    | ContainerStep
    | FailStep
    | RegisterStep
    | BatchPredictStep,
    Field(discriminator="kind"),
]

STEP_MODELS: dict[str, type[StepBase]] = {
    "ingest": IngestStep,
    "transform": TransformStep,
    "train": TrainStep,
    "tune": TuneStep,
    "evaluate": EvaluateStep,
    "deploy": DeployStep,
    "monitor": MonitorStep,
    "container": ContainerStep,
    "fail": FailStep,
    "register": RegisterStep,
    "batch_predict": BatchPredictStep,
}
