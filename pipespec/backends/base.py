"""What a target is: a ``Backend`` subclass with a name, an options model, a capability
table and ``render``. Adding a target is one subpackage with one such class, registered
under the ``pipespec.backends`` entry-point group (the built-ins are listed in
``pipespec.backends.BUILTIN``).

The driver validates ``targets.<name>`` of a spec against ``options_model`` (with
``file:line:col`` spans), checks the features the pipeline uses against ``capabilities``
(the portability report and its diagnostics), and only then calls ``render`` with the
validated options. A backend never reads YAML, calls an LLM or writes files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from pipespec import ir
from pipespec.backends import RenderResult


class Support(str, Enum):
    """How a target expresses a language feature."""

    NATIVE = "native"  # the target's own construct, same behaviour
    EMULATED = "emulated"  # it compiles, but behaves differently (a warning says how)
    UNSUPPORTED = "unsupported"  # it cannot compile (an error says why)


@dataclass(frozen=True)
class Capability:
    support: Support
    how: str  # one line: the construct used, or what differs, or why not


class Options(BaseModel):
    """Base of every backend's options model (``targets.<name>`` in a spec): strict, no
    unknown keys, so a typo is a diagnostic at its line."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Backend(ABC):
    """One target. Subclasses set the class attributes and implement ``render``."""

    name: ClassVar[str]
    options_model: ClassVar[type[Options]] = Options
    # Every ir.Feature the language has; a feature missing here counts as unsupported.
    capabilities: ClassVar[Mapping[ir.Feature, Capability]] = {}

    @abstractmethod
    def render(self, pipeline: ir.Pipeline, options: Options) -> RenderResult:
        """The target's files (relative path -> text, laid out by ``output_path``) and the
        diagnostics only rendering can find."""

    def runs_natively(self, step: ir.Step, options: Options) -> bool:
        """Whether the target runs ``step`` as its own service (a Vertex deploy), so it
        needs no image or command, only its kind's fields. Default: no step."""
        return False

    def capabilities_for(self, options: Options) -> Mapping[ir.Feature, Capability]:
        """The table under these options: a setting can change how a target expresses a
        feature (Airflow's `operator: local` cannot reserve GPUs). Default: ``capabilities``."""
        return self.capabilities

    def capability(self, feature: ir.Feature, options: Options | None = None) -> Capability:
        table = self.capabilities if options is None else self.capabilities_for(options)
        return table.get(
            feature, Capability(Support.UNSUPPORTED, f"{self.name} has no construct for it")
        )
