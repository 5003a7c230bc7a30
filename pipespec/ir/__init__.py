"""The target-neutral IR: what every backend sees, and nothing else.

Frozen all the way down (tuples, not lists; ``FrozenMap`` for mappings), so a backend
cannot change what another one renders. Steps are topologically ordered, ties broken by
authoring order, so every backend emits steps in the same stable order.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pipespec.diagnostics import Span
from pipespec.fill.scripts import Script
from pipespec.ir.details import (
    BatchPredictDetails,
    ContainerDetails,
    DeployDetails,
    Details,
    Drift,
    Endpoint,
    EvaluateDetails,
    FailDetails,
    IngestDetails,
    IngestSource,
    MonitorDetails,
    Objective,
    RegisterDetails,
    SearchDimension,
    TrainDetails,
    TransformDetails,
    TuneDetails,
)
from pipespec.ir.features import Feature, runs_own_trials
from pipespec.ir.frozen import FrozenMap, Record, freeze, thaw

# What backends may use of the rest of the package comes through here: the condition AST
# and the placeholder segments the IR carries, and the language features.
from pipespec.spec.conditions import (
    BoolOp,
    Compare,
    Expr,
    Literal,
    Not,
    Ref,
    condition_refs,
)
from pipespec.spec.models.values import PRESET_CRON
from pipespec.spec.references import (
    ArtifactRef,
    InputSource,
    LiteralUri,
    OneOf,
    ParamRef,
    Placeholder,
    Segment,
    Text,
)
from pipespec.spec.semantics import TARGET_WRITTEN_OUTPUTS

__all__ = [
    "DEP_KINDS",
    "PARAMETER_TYPES",
    "PRESET_CRON",
    "TARGET_WRITTEN_OUTPUTS",
    "ArtifactRef",
    "BatchPredictDetails",
    "BoolOp",
    "Compare",
    "ContainerDetails",
    "Dep",
    "DepKind",
    "DeployDetails",
    "Details",
    "Drift",
    "Endpoint",
    "EvaluateDetails",
    "Expr",
    "FailDetails",
    "Feature",
    "FrozenMap",
    "IngestDetails",
    "IngestSource",
    "InputSource",
    "Literal",
    "LiteralUri",
    "MonitorDetails",
    "Not",
    "Objective",
    "OneOf",
    "ParamRef",
    "Placeholder",
    "Record",
    "Ref",
    "RegisterDetails",
    "Script",
    "SearchDimension",
    "Segment",
    "ServingCode",
    "Text",
    "TrainDetails",
    "TransformDetails",
    "TriggerRule",
    "TuneDetails",
    "condition_refs",
    "freeze",
    "is_parameter",
    "runs_own_trials",
    "thaw",
]

# Why one step waits for another: it reads an output (`data`), tests one in `when:`
# (`condition`), fans out over one (`foreach`), or lists the step in `after:`. In this
# order wherever kinds are listed.
DepKind = typing.Literal["data", "foreach", "condition", "after"]  # not the condition Literal
DEP_KINDS: tuple[DepKind, ...] = ("data", "foreach", "condition", "after")
TriggerRule = typing.Literal["all_success", "none_failed", "all_done", "one_success"]

# Output types passed by value (a small JSON document a task returns) rather than as a
# file at a URI: the parameter types, and metrics. The one definition every backend uses.
PARAMETER_TYPES = frozenset({"metrics", "string", "int", "float", "bool", "list", "dict"})


def is_parameter(type_name: str) -> bool:
    """Whether an output (or the input reading it) of this type is a parameter, not an
    artifact."""
    return type_name in PARAMETER_TYPES


@dataclass(frozen=True)
class Dep:
    """One edge of the DAG: ``target`` waits for ``source``, for every reason in ``kinds``
    (one edge can be data *and* a condition)."""

    source: str
    target: str
    kinds: tuple[DepKind, ...]  # at least one, in DEP_KINDS order

    def has(self, kind: DepKind) -> bool:
        return kind in self.kinds


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    description: str | None
    enum: tuple[Any, ...] | None = None  # allowed values, enforced when a run is triggered
    pattern: str | None = None  # a regular expression a string value must contain


@dataclass(frozen=True)
class SecretRef:
    """A named secret and how each platform finds it (no value, ever)."""

    name: str
    platforms: FrozenMap  # {"airflow": {"conn_id": ...}, "kubernetes": {...}, ...}


@dataclass(frozen=True)
class SecretUse:
    env: str
    secret: str


@dataclass(frozen=True)
class Input:
    name: str
    source: InputSource
    type: str  # dataset/model/metrics/artifact or a parameter type

    @property
    def upstream(self) -> str | None:
        return self.source.step if isinstance(self.source, ArtifactRef) else None

    @property
    def is_parameter(self) -> bool:
        return is_parameter(self.type)


@dataclass(frozen=True)
class Output:
    name: str
    type: str

    @property
    def is_parameter(self) -> bool:
        """A value the step writes as JSON at ``${outputs.NAME}`` (not an artifact)."""
        return is_parameter(self.type)


@dataclass(frozen=True)
class Resources:
    cpu: float | None
    memory_bytes: int | None
    gpu: int
    accelerator: str | None
    # Limits written apart from the requests (`resources.limits`); None: the target's
    # default meaning (memory limited at its request, cpu not limited).
    cpu_limit: float | None = None
    memory_limit_bytes: int | None = None


@dataclass(frozen=True)
class Foreach:
    """Fan-out: over literal ``items``, a list ``param``, or a list output ``ref``."""

    items: tuple[Any, ...] | None = None  # scalars, or FrozenMaps read as ${item.KEY}
    param: str | None = None
    ref: ArtifactRef | None = None
    parallelism: int | None = None  # at most this many items at a time; None: no bound


@dataclass(frozen=True)
class ServingCode:
    """What a target's catalog serving image runs to serve a model of pipespec's standard
    train script: a framework image (SageMaker's scikit-learn and XGBoost inference
    containers) loads no model by itself, it imports a user module that does."""

    handler: Script  # pipespec's inference handler (pipespec:serve)
    requirements: tuple[str, ...] = ()  # packages the image lacks for the model's framework


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    description: str | None
    image: str | None
    command: tuple[tuple[Segment, ...], ...]  # argv; each argument split into text/placeholders
    script: Script | None  # a Python file run with `args` (instead of `command`)
    args: tuple[tuple[Segment, ...], ...]
    env: tuple[tuple[str, tuple[Segment, ...]], ...]
    secrets: tuple[SecretUse, ...]
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    upstream: tuple[str, ...]  # every direct dependency, in pipeline order
    deps: tuple[Dep, ...]  # the same dependencies with their kinds (target is this step)
    after: tuple[str, ...]  # dependencies written in `after:`
    condition: Expr | None
    condition_text: str | None
    foreach: Foreach | None
    resources: Resources
    retries: int
    retry_delay_s: int | None
    timeout_s: int | None
    details: Details  # the kind's own fields, typed: TuneDetails, DeployDetails, ...
    target_images: FrozenMap  # target -> image from the catalog, when no image was written
    target_overrides: FrozenMap  # per-target step settings, e.g. {"sagemaker": {...}}
    provenance: FrozenMap  # field -> "user" | "default" | "kind" | "catalog:..." | "llm:..."
    span: Span
    # Pod placement and run control (Kubernetes targets), after the `defaults` merge.
    node_selector: FrozenMap = field(default_factory=FrozenMap)  # label -> value
    tolerations: tuple[FrozenMap, ...] = ()  # core/v1 Toleration fields, snake_case
    service_account: str | None = None
    cache: bool | None = None  # None: the target's default
    # When the step runs given its upstream steps' ends (Airflow's names); a join after
    # exclusive branches needs one that accepts a skipped upstream.
    trigger: TriggerRule = "all_success"
    # The step whose `when:` this step is the else of; `condition` is then its negation.
    else_of: str | None = None
    # Target -> packages to pip-install into its catalog image first (from the catalog).
    target_requirements: FrozenMap = field(default_factory=FrozenMap)
    # Target -> the image that serves the model this step makes or uses (the spec's
    # `serving_image`, else the catalog's prediction image), where the target deploys
    # models as its own services.
    serving_images: FrozenMap = field(default_factory=FrozenMap)
    # Target -> ServingCode, where ``serving_images`` holds the catalog's image for a model
    # of the standard train script and that image needs a handler (deploy, register,
    # batch_predict; none with the spec's own serving_image).
    serving_code: FrozenMap = field(default_factory=FrozenMap)

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)

    @property
    def param_refs(self) -> tuple[str, ...]:
        return tuple(i.source.name for i in self.inputs if isinstance(i.source, ParamRef))


@dataclass(frozen=True)
class Pipeline:
    name: str
    description: str | None
    schedule: str | None
    params: tuple[Param, ...]
    secrets: tuple[SecretRef, ...]
    steps: tuple[Step, ...]  # topological order, ties broken by authoring order
    targets: FrozenMap  # target name -> its settings, as written
    # The spec's path relative to the output root (POSIX), the same from any working directory.
    source_file: str
    source_digest: str  # sha256 of the spec text

    def step(self, step_id: str) -> Step:
        return self._by_id[step_id]

    @cached_property
    def _by_id(self) -> dict[str, Step]:
        return {s.id: s for s in self.steps}

    @property
    def edges(self) -> tuple[Dep, ...]:
        """Every edge with its kinds, by target then source in pipeline order."""
        return tuple(dep for s in self.steps for dep in s.deps)
