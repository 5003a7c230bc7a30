"""Each step kind's own fields, typed: what a tune searches, where a deploy serves, ...

One frozen dataclass per kind (`TuneDetails`, `DeployDetails`, ...), built by the compiler
from the validated step models, so a backend reads ``step.details.objective.metric`` with a
type checker behind it instead of digging in an untyped mapping.

Every record is also a read-only mapping of its fields that are set (a field that is
``None`` is absent), in the order the spec language declares them: code that only lists or
dumps the fields (``explain``, the completeness check, emitters through ``ir.thaw``) keeps
working without knowing each kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pipespec.ir.frozen import FrozenMap, Record

__all__ = [
    "BatchPredictDetails",
    "ContainerDetails",
    "DeployDetails",
    "Details",
    "Drift",
    "Endpoint",
    "EvaluateDetails",
    "FailDetails",
    "IngestDetails",
    "IngestSource",
    "MonitorDetails",
    "Objective",
    "RegisterDetails",
    "SearchDimension",
    "TrainDetails",
    "TransformDetails",
    "TuneDetails",
]


@dataclass(frozen=True)
class IngestSource(Record):
    type: Literal["sql", "uri", "bigquery", "s3", "gcs"]
    connection: str | None = None  # the name of a spec-level secret
    query: str | None = None
    uri: str | None = None
    format: Literal["csv", "parquet", "json"] | None = None


@dataclass(frozen=True)
class IngestDetails(Record):
    source: IngestSource | None = None


@dataclass(frozen=True)
class TransformDetails(Record):
    pass


@dataclass(frozen=True)
class TrainDetails(Record):
    framework: str | None = None
    task: str | None = None
    hyperparameters: FrozenMap | None = None  # name -> scalar
    serving_image: str | None = None  # the image that serves the model, if not this one


@dataclass(frozen=True)
class Objective(Record):
    metric: str
    goal: Literal["maximize", "minimize"]


@dataclass(frozen=True)
class SearchDimension(Record):
    type: Literal["float", "int", "categorical"]
    min: float | None = None
    max: float | None = None
    # The categorical choices (scalars). The field keeps the spec's name `values`, which
    # hides Mapping.values() on this one record: read its fields by name.
    values: tuple[Any, ...] | None = None  # type: ignore[assignment]
    scale: Literal["linear", "log"] | None = None


@dataclass(frozen=True)
class TuneDetails(Record):
    framework: str | None = None
    task: str | None = None
    hyperparameters: FrozenMap | None = None  # fixed ones, name -> scalar
    objective: Objective | None = None
    search_space: FrozenMap | None = None  # name -> SearchDimension, as written
    max_trials: int | None = None
    parallel_trials: int | None = None
    # The search dimensions the step's own command, args or env take as
    # ${hyperparameters.NAME} (first use first): a target fills them per trial. Derived
    # by the compiler, not written in the spec: left out of the mapping view.
    trial_values: tuple[str, ...] | None = field(default=None, metadata={"derived": True})
    serving_image: str | None = None


@dataclass(frozen=True)
class EvaluateDetails(Record):
    task: str | None = None
    metrics: tuple[str, ...] | None = None  # the metric keys the step reports


@dataclass(frozen=True)
class Endpoint(Record):
    name: str
    instance_type: str
    min_replicas: int
    max_replicas: int
    canary_traffic_percent: int | None = None  # 1-99: the new model's share of requests


@dataclass(frozen=True)
class DeployDetails(Record):
    endpoint: Endpoint | None = None
    serving_image: str | None = None


@dataclass(frozen=True)
class Drift(Record):
    metric: Literal["psi", "ks", "jensen_shannon", "chi_squared"]
    threshold: float


@dataclass(frozen=True)
class MonitorDetails(Record):
    drift: Drift | None = None
    schedule: str | None = None  # cron or a preset; its own, not the pipeline's


@dataclass(frozen=True)
class ContainerDetails(Record):
    pass


@dataclass(frozen=True)
class FailDetails(Record):
    """A `fail` step: it stops the run with this message."""

    message: str


@dataclass(frozen=True)
class RegisterDetails(Record):
    """A new version of the `model` input in a registry's model group."""

    model_group: str
    approval: Literal["pending", "approved", "rejected"] = "pending"
    parent_model: str | None = None  # an existing registry model to add the version to
    tags: FrozenMap | None = None  # name -> string, on the version
    serving_image: str | None = None


@dataclass(frozen=True)
class BatchPredictDetails(Record):
    keep_columns: tuple[str, ...] | None = None  # input columns copied beside predictions
    serving_image: str | None = None


Details = (
    IngestDetails
    | TransformDetails
    | TrainDetails
    | TuneDetails
    | EvaluateDetails
    | DeployDetails
    | MonitorDetails
    | ContainerDetails
    | FailDetails
    | RegisterDetails
    | BatchPredictDetails
)
