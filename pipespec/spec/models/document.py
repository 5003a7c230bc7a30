"""The whole spec: its header (validated apart from the steps) and the full ``Spec``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from pipespec.spec.models.settings import (
    Defaults,
    FillSettings,
    Param,
    Secret,
    TargetSettings,
)
from pipespec.spec.models.steps import (
    Step,
)
from pipespec.spec.models.values import (
    NAME_RE,
    Description,
    Ident,
    Model,
    Schedule,
    StepId,
)


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
