"""The authoring models: what a user may write in a spec, checked strictly.

Strict means what YAML 1.2 says is what pydantic keeps: the string "2" is not the integer 2,
"no" is not False, and an unknown key is an error (with a suggestion) rather than ignored.
The authoring JSON Schema (``pipespec schema``) is generated from these models.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipespec.spec import units
from pipespec.spec.patterns import pattern_problem

SPEC_VERSION = 1

STEP_KINDS = (
    "ingest",
    "transform",
    "train",
    "tune",
    "evaluate",
    "deploy",
    "monitor",
    "container",
)
FRAMEWORKS = ("xgboost", "scikit-learn", "lightgbm", "pytorch", "tensorflow", "transformers")
TASKS = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "text_classification",
)
ACCELERATORS = (
    "nvidia-t4",
    "nvidia-l4",
    "nvidia-a10g",
    "nvidia-v100",
    "nvidia-a100",
    "nvidia-a100-80gb",
    "nvidia-h100",
)
ARTIFACT_TYPES = ("dataset", "model", "metrics", "artifact")
PARAMETER_TYPES = ("string", "int", "float", "bool", "list", "dict")
OUTPUT_TYPES = ARTIFACT_TYPES + PARAMETER_TYPES

NAME_RE = r"^[a-z][a-z0-9-]{0,62}$"
STEP_ID_RE = r"^[a-z][a-z0-9_-]{0,62}$"
IDENT_RE = r"^[a-z_][a-z0-9_]{0,62}$"
ENV_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"
_CRON_FIELD = re.compile(
    r"^(?:\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/[0-9]+)?(?:,(?:\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/[0-9]+)?)*$"
)
CRON_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly")


def _error(code: str, message: str) -> PydanticCustomError:
    # The pydantic error type carries our diagnostic code through to the reporter.
    return PydanticCustomError(code, message)


def _check_duration(value: str) -> str:
    try:
        units.parse_duration(value)
    except ValueError as exc:
        raise _error("PS204", str(exc)) from None
    return value


def _check_memory(value: str) -> str:
    try:
        units.parse_quantity(value)
    except ValueError as exc:
        raise _error("PS205", str(exc)) from None
    return value


def _check_cpu(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _error("PS202", "cpu is a number of cores (2, 0.5) or millicores ('500m')")
    try:
        units.parse_cpu(value)
    except ValueError as exc:
        raise _error("PS205", str(exc)) from None
    return value


def _check_schedule(value: str) -> str:
    if value.startswith("@"):
        if value not in CRON_PRESETS:
            raise _error(
                "PS210", f"unknown schedule preset {value!r}; use one of {', '.join(CRON_PRESETS)}"
            )
        return value
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise _error(
            "PS210",
            f"{value!r} is not a 5-field cron expression (minute hour day month weekday)",
        )
    return value


def _is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool))


def _check_scalar(value: Any) -> Any:
    if not _is_scalar(value):
        raise _error("PS202", "expected a string, number or boolean")
    return value


def _check_text(value: str) -> str:
    # A blank description would reach docs and the LLM's prompt as if it said something.
    if not value.strip():
        raise _error("PS203", "a description is blank; write what it is, or remove the key")
    return value


def _check_image(value: str) -> str:
    if not value or any(c.isspace() for c in value) or value.startswith("-"):
        raise _error("PS203", f"{value!r} is not a container image reference")
    return value


SCRIPT_RE = re.compile(r"^(pipespec:[a-z_]+|[A-Za-z0-9_][A-Za-z0-9_./-]*\.py)$")


def _check_script(value: str) -> str:
    if not SCRIPT_RE.match(value) or ".." in value.split("/"):
        raise _error(
            "PS203",
            f"script {value!r} must be a .py path inside the spec's folder, or pipespec:<name>",
        )
    return value


def _check_json_value(value: Any, depth: int = 0) -> Any:
    if depth > 32:
        raise _error("PS202", "value nests too deeply")
    if value is None or _is_scalar(value):
        return value
    if isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1)
        return value
    if isinstance(value, dict):
        for item in value.values():
            _check_json_value(item, depth + 1)
        return value
    raise _error("PS202", "expected a plain value (no infinities or NaN)")


_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "integer", "boolean"]}

Scalar = Annotated[Any, AfterValidator(_check_scalar), WithJsonSchema(_SCALAR_SCHEMA)]
JsonValue = Annotated[Any, AfterValidator(_check_json_value), WithJsonSchema({})]
Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    WithJsonSchema({"type": "string", "pattern": r"^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"}),
]
Memory = Annotated[
    str,
    AfterValidator(_check_memory),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"}),
]
Cpu = Annotated[
    Any,
    AfterValidator(_check_cpu),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^[0-9]+m$"},
            ]
        }
    ),
]
Schedule = Annotated[str, AfterValidator(_check_schedule)]
Description = Annotated[
    str, AfterValidator(_check_text), WithJsonSchema({"type": "string", "pattern": r"\S"})
]
Image = Annotated[str, AfterValidator(_check_image), Field(min_length=1, max_length=512)]
StepId = Annotated[str, Field(pattern=STEP_ID_RE)]
Ident = Annotated[str, Field(pattern=IDENT_RE)]
EnvName = Annotated[str, Field(pattern=ENV_RE)]


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- run-time parameters -------------------------------------------------------------


class Param(Model):
    type: Literal["string", "int", "float", "bool", "list", "dict"]
    default: JsonValue = None
    description: str | None = None
    # Constraints every target enforces when a run is triggered (JSON Schema's `enum` and
    # `pattern`): a trigger-time value is outside input, and may reach a shell.
    enum: Annotated[list[JsonValue], Field(min_length=1)] | None = None
    pattern: str | None = None

    @model_validator(mode="after")
    def _default_matches_type(self) -> Param:
        if self.default is not None and not param_value_matches(self.type, self.default):
            raise _error(
                "PS209",
                f"default {self.default!r} is not a {self.type}",
            )
        for value in self.enum or ():
            if not param_value_matches(self.type, value):
                raise _error("PS220", f"enum value {value!r} is not a {self.type}")
        if self.pattern is not None:
            if self.type != "string":
                raise _error("PS220", f"pattern applies to string params, not to a {self.type}")
            problem = pattern_problem(self.pattern)
            if problem:
                raise _error("PS220", problem)
        if self.default is not None and not param_value_allowed(self, self.default):
            raise _error("PS220", f"default {self.default!r} is not allowed by enum or pattern")
        return self


def param_value_allowed(param: Param, value: Any) -> bool:
    """Whether ``value`` passes the param's enum and pattern (searched, as JSON Schema
    does: anchor it with ^...$ to match the whole value)."""
    if param.enum is not None and value not in param.enum:
        return False
    return param.pattern is None or re.search(param.pattern, str(value)) is not None


def param_value_matches(type_name: str, value: Any) -> bool:
    checks: dict[str, Any] = {
        "string": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "dict": lambda v: isinstance(v, dict),
    }
    return bool(checks[type_name](value))


# --- resources, secrets ---------------------------------------------------------------


class Resources(Model):
    cpu: Cpu = None
    memory: Memory | None = None
    gpu: Annotated[int, Field(ge=0, le=16)] | None = None
    accelerator: (
        Literal[
            "nvidia-t4",
            "nvidia-l4",
            "nvidia-a10g",
            "nvidia-v100",
            "nvidia-a100",
            "nvidia-a100-80gb",
            "nvidia-h100",
        ]
        | None
    ) = None


class AirflowSecret(Model):
    conn_id: str


class KubernetesSecret(Model):
    secret: str
    key: str


class AwsSecret(Model):
    secret_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")]


class GcpSecret(Model):
    secret: Annotated[str, Field(pattern=r"^projects/[^/]+/secrets/[^/]+(/versions/[^/]+)?$")]


class Secret(Model):
    """A named reference, resolved per target; never a value."""

    description: str | None = None
    airflow: AirflowSecret | None = None
    kubernetes: KubernetesSecret | None = None
    aws: AwsSecret | None = None
    gcp: GcpSecret | None = None


# --- per-target settings ----------------------------------------------------------------
# A spec's `targets.<name>` blocks are raw mappings here: each backend's options model
# (pipespec.backends.base.Options) checks its own block, so a third-party target can accept
# its settings without this module knowing them.

TargetSettings = dict[str, dict[str, Any] | None]


class StepTarget(Model):
    """Per-step overrides for one target."""

    instance_type: str | None = None


class StepTargets(Model):
    airflow: StepTarget | None = None
    kubeflow: StepTarget | None = None
    sagemaker: StepTarget | None = None
    vertex: StepTarget | None = None


# --- defaults ---------------------------------------------------------------------------


class Defaults(Model):
    image: Image | None = None
    retries: Annotated[int, Field(ge=0, le=20)] | None = None
    retry_delay: Duration | None = None
    timeout: Duration | None = None
    resources: Resources | None = None
    env: dict[EnvName, str] | None = None


# --- steps ------------------------------------------------------------------------------


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


class FillSettings(Model):
    """How `pipespec fill` reaches an LLM. The API key is never written in a spec."""

    model: str | None = None
    base_url: str | None = None
    timeout: Duration | None = None
    max_concurrency: Annotated[int, Field(ge=1, le=32)] | None = None


class SpecHeader(Model):
    """Everything in a spec but its steps; validated apart so one bad step hides nothing."""

    pipespec: Literal[1]
    name: Annotated[str, Field(pattern=NAME_RE)]
    description: Description | None = None
    schedule: Schedule | None = None
    params: dict[Ident, Param] | None = None
    defaults: Defaults | None = None
    secrets: dict[Ident, Secret] | None = None
    steps: Any = None
    targets: TargetSettings | None = Field(
        default=None, description="target name -> its settings (checked by that target)"
    )
    fill: FillSettings | None = None


class Spec(SpecHeader):
    """A pipeline, independent of any orchestrator."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        title="pipespec pipeline spec",
    )

    steps: Annotated[dict[StepId, Step], Field(min_length=1)]
