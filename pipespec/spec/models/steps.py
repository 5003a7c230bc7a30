"""The step models, one per kind, and the discriminated union ``Step``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from pipespec.spec.models.settings import (
    Resources,
    StepTargets,
)
from pipespec.spec.models.values import (
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
    inputs: dict[Ident, str] | None = None
    outputs: (
        dict[
            Ident,
            Literal[
                "dataset",
                "model",
                "metrics",
                "artifact",
                "string",
                "int",
                "float",
                "bool",
                "list",
                "dict",
            ],
        ]
        | None
    ) = None
    after: list[StepId] | None = None
    when: Annotated[str, Field(min_length=1)] | None = None
    foreach: Annotated[
        Any,
        WithJsonSchema({"oneOf": [{"type": "array", "minItems": 1}, {"type": "string"}]}),
    ] = None
    resources: Resources | None = None
    retries: Annotated[int, Field(ge=0, le=20)] | None = None
    retry_delay: Duration | None = None
    timeout: Duration | None = None
    targets: StepTargets | None = None

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
        for item in value:
            if not _is_scalar(item):
                raise _error("PS405", "foreach items must be strings, numbers or booleans")
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


class TrainStep(StepBase):
    kind: Literal["train"]
    framework: Framework | None = None
    task: Task | None = None
    hyperparameters: dict[str, Scalar] | None = None


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


class EvaluateStep(StepBase):
    kind: Literal["evaluate"]
    task: Task | None = None
    metrics: Annotated[list[Ident], Field(min_length=1)] | None = None


class Endpoint(Model):
    name: Annotated[str, Field(pattern=NAME_RE)]
    instance_type: str = "small"
    min_replicas: Annotated[int, Field(ge=0, le=1000)] = 1
    max_replicas: Annotated[int, Field(ge=1, le=1000)] = 1

    @model_validator(mode="after")
    def _replicas(self) -> Endpoint:
        if self.max_replicas < self.min_replicas:
            raise _error("PS203", "max_replicas is less than min_replicas")
        return self


class DeployStep(StepBase):
    kind: Literal["deploy"]
    endpoint: Endpoint | None = None


class Drift(Model):
    metric: Literal["psi", "ks", "jensen_shannon", "chi_squared"]
    threshold: Annotated[float, Field(gt=0)]


class MonitorStep(StepBase):
    kind: Literal["monitor"]
    drift: Drift | None = None
    schedule: Schedule | None = None


class ContainerStep(StepBase):
    kind: Literal["container"]


Step = Annotated[
    IngestStep
    | TransformStep
    | TrainStep
    | TuneStep
    | EvaluateStep
    | DeployStep
    | MonitorStep
    | ContainerStep,
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
}
