"""Spec-level settings: run-time parameters, resources, secrets, per-target settings,
defaults, and how `pipespec fill` reaches an LLM.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from pipespec.spec.models.tracking import Tracking
from pipespec.spec.models.values import (
    Accelerator,
    Cpu,
    Duration,
    EnvName,
    Image,
    JsonValue,
    Memory,
    Model,
    _error,
)
from pipespec.spec.patterns import pattern_problem

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


class ResourceLimits(Model):
    """The most a step's container may use; each at least its request (checked per step,
    after `defaults` merge, by the compiler: PS245)."""

    cpu: Cpu = None
    memory: Memory | None = None


class Resources(Model):
    cpu: Cpu = None
    memory: Memory | None = None
    gpu: Annotated[int, Field(ge=0, le=16)] | None = None
    accelerator: Accelerator | None = None
    # Limits above the requests (a pod may burst to them). Without `limits`, memory is
    # limited at its request and cpu is not limited: the meaning resources had before.
    limits: ResourceLimits | None = None


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

    instance_type: str | None = None  # may be "${params.NAME}": chosen per run
    instance_count: Annotated[int, Field(ge=1, le=1000)] | str | None = Field(
        default=None, description='machines for the step, or "${params.NAME}" of an int param'
    )


class SagemakerStepTarget(StepTarget):
    """SageMaker's own per-step settings: the instance, and managed spot training for the
    steps SageMaker runs as training jobs (spot: train and tune; checkpoints: train)."""

    # Where each may be written, and max_wait against the step's timeout after the
    # `defaults` merge, is the compiler's check (compiler/spot.py: PS247, PS248).

    spot: bool = Field(default=False, description="managed spot training (train and tune steps)")
    max_wait: Duration | None = Field(
        default=None,
        description="with spot: the longest the job may take, waiting for spot capacity "
        "included; at least the step's timeout (default: twice the timeout)",
    )
    checkpoints: bool = Field(
        default=False,
        description="train steps: /opt/ml/checkpoints is kept on S3 under the run, and "
        "restored when SageMaker restarts the job",
    )


class StepTargets(Model):
    airflow: StepTarget | None = None
    kubeflow: StepTarget | None = None
    sagemaker: SagemakerStepTarget | None = None
    vertex: StepTarget | None = None


# --- pod placement (the Kubernetes targets) ----------------------------------------------

LabelName = Annotated[
    str, Field(pattern=r"^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
]
K8sName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")]


class Toleration(Model):
    """A Kubernetes toleration (core/v1 Toleration), in its own field names."""

    key: LabelName | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: Annotated[str, Field(max_length=63)] | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Toleration:
        # Kubernetes rejects these at pod creation, long after the DAG was deployed.
        if self.operator == "Exists" and self.value is not None:
            raise _error("PS246", "a toleration with operator Exists takes no `value`")
        if self.key is None and self.operator != "Exists":
            raise _error("PS246", "a toleration without a `key` needs operator: Exists")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise _error("PS246", "toleration_seconds applies only to effect: NoExecute")
        return self


# --- defaults ---------------------------------------------------------------------------


class Defaults(Model):
    image: Image | None = None
    retries: Annotated[int, Field(ge=0, le=20)] | None = None
    retry_delay: Duration | None = None
    timeout: Duration | None = None
    resources: Resources | None = None
    env: dict[EnvName, str] | None = None
    secrets: dict[EnvName, str] | None = Field(
        default=None,
        description="environment variable -> name of a spec-level secret, for every step "
        "(a step's own `secrets` win per variable)",
    )
    node_selector: dict[LabelName, Annotated[str, Field(max_length=63)]] | None = None
    tolerations: list[Toleration] | None = None
    service_account: K8sName | None = None
    cache: bool | None = None
    tracking: Tracking | None = Field(
        default=None,
        description="experiment tracking for every step (a step's own `tracking` replaces it)",
    )


# --- fill -------------------------------------------------------------------------------


class FillSettings(Model):
    """How `pipespec fill` reaches an LLM. The API key is never written in a spec."""

    model: str | None = None
    base_url: str | None = None
    timeout: Duration | None = Field(
        default=None,
        description="the longest the LLM server may stay silent: the connect, the wait for "
        "the first token, each pause in the stream (default 120s; --timeout)",
    )
    deadline: Duration | None = Field(
        default=None,
        description="the longest one step's request may take, all attempts together "
        "(default 15m, or 3 x timeout when that is longer; --deadline)",
    )
    max_tokens: Annotated[int, Field(ge=16, le=32768)] | None = Field(
        default=None,
        description="the most tokens one answer may have (default 700; --max-tokens); an "
        "answer cut off there is sent back to the model to be written shorter",
    )
    max_concurrency: Annotated[int, Field(ge=1, le=32)] | None = None
