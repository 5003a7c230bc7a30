"""Experiment tracking: `tracking: {mlflow: {uri, experiment, credentials}}`, in `defaults`
or on a step.

The values reach the step's container as MLflow's own environment variables (the compiler
sets them: pipespec.compiler.tracking), so the standard scripts and a user's own code that
calls mlflow both log to the same server without an argument. The credentials are never a
value in the spec: they name a spec-level secret, resolved per target like every other.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from pipespec.spec.models.values import Model, _error

# The stores a container can reach by URI: a tracking server (http/https), Databricks
# (`databricks`, `databricks://PROFILE`, `databricks-uc` for Unity Catalog's registry), or
# a database or directory on a mounted volume (sqlite:///, file:///).
_URI = re.compile(
    r"^(?:https?://[A-Za-z0-9.\[\]:-]+(?:/\S*)?"
    r"|file:(?://)?/\S*"
    r"|sqlite:////?\S+"
    r"|databricks(?:-uc)?(?:://[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)?)?)$"
)
_URI_FORMS = (
    "http(s)://HOST[:PORT][/PATH], databricks, databricks://PROFILE, databricks-uc, "
    "sqlite:///PATH or file:///PATH"
)
MAX_URI = 2048
# MLflow's SQL store keeps an experiment name in a 256-character column.
MAX_EXPERIMENT = 256


def _check_uri(value: str) -> str:
    if "${" in value:
        # The value travels as literal text: a placeholder would reach MLflow unreplaced.
        raise _error(
            "PS203",
            "the tracking uri is literal text, not a placeholder: write the server's URI",
        )
    userinfo = re.match(r"^https?://[^/@\s]*@", value)
    if userinfo is not None:
        # A password written in the spec would land in every generated file and log.
        raise _error(
            "PS203",
            "the tracking uri carries credentials (user@ or user:password@): name a secret "
            "in `credentials` instead",
        )
    if len(value) > MAX_URI or _URI.match(value) is None:
        raise _error("PS203", f"{value[:80]!r} is not an MLflow tracking URI: write {_URI_FORMS}")
    return value


def _check_experiment(value: str) -> str:
    if not value.strip():
        raise _error("PS203", "the experiment name is blank")
    if len(value) > MAX_EXPERIMENT:
        raise _error("PS203", f"the experiment name is longer than {MAX_EXPERIMENT} characters")
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise _error("PS203", "the experiment name holds a control character")
    return value


class MlflowTracking(Model):
    """Where the standard scripts (and any code calling mlflow) log runs and models."""

    uri: Annotated[str, AfterValidator(_check_uri)] = Field(
        description="the tracking server: " + _URI_FORMS,
        json_schema_extra={"maxLength": MAX_URI},
    )
    experiment: Annotated[str, AfterValidator(_check_experiment)] = Field(
        description="the experiment the runs go to (created when missing)",
        json_schema_extra={"minLength": 1, "maxLength": MAX_EXPERIMENT},
    )
    credentials: Annotated[str, Field(min_length=1, max_length=63)] | None = Field(
        default=None,
        description="name of a spec-level secret holding the server's token "
        "(MLFLOW_TRACKING_TOKEN; DATABRICKS_TOKEN for a databricks URI)",
    )


class Tracking(Model):
    """Experiment tracking for a step, or for every step (in `defaults`); a step's own
    `tracking` replaces the default's whole block."""

    mlflow: MlflowTracking
