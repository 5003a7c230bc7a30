"""The model a deploy step serves, as the Kubernetes serving manifests need it: the
framework it was trained with, the image the spec names to serve it, and whether
pipespec's standard train script made it (which fixes the files it is saved as).

Found in the IR by following the step's `model` input back through any register steps to
the train or tune step that made it, as the catalog fill and the spec's serving image
follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipespec import ir
from pipespec.diagnostics import Diagnostic, Severity
from pipespec.ir.features import STANDARD_TRAIN_SCRIPT

_MAKERS = ("train", "tune")


@dataclass(frozen=True)
class ServedModel:
    framework: str | None = None  # the spec's framework name (scikit-learn, transformers...)
    serving_image: str | None = None  # the spec's own serving image, nearest the deploy first
    producer: str | None = None  # the id of the train or tune step that made the model
    standard_script: bool = False  # made by pipespec:train: a model.joblib


def served_model(pipeline: ir.Pipeline, step: ir.Step) -> ServedModel:
    """What the step's `model` input is: its framework, serving image and maker."""
    image: str | None = None
    current: ir.Step | None = step
    seen: set[str] = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        own = current.details.get("serving_image")
        if image is None and isinstance(own, str):
            image = own
        if current.kind in _MAKERS:
            framework = current.details.get("framework")
            script = current.script
            return ServedModel(
                framework if isinstance(framework, str) else None,
                image,
                current.id,
                script is not None and script.name == STANDARD_TRAIN_SCRIPT,
            )
        model = current.input("model")
        source = model.source if model is not None else None
        current = pipeline.step(source.step) if isinstance(source, ir.ArtifactRef) else None
    return ServedModel(serving_image=image)


@dataclass
class Manifest:
    """A resource to apply, as JSON-ready data, with what building it found.

    ``resource`` is complete except for the model's location, which exists only when the
    run has made the model: every field that takes it holds ``MODEL_URI_MARKER`` and the
    applier replaces that exact value with the URI it is given."""

    resource: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def kind(self) -> str:
        return str(self.resource["kind"])

    @property
    def name(self) -> str:
        return str(self.resource["metadata"]["name"])

    def error(self, step: ir.Step, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic("PS600", f"step '{step.id}': {message}", step.span, hint)
        )

    def warn(self, step: ir.Step, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic("PS606", f"step '{step.id}': {message}", step.span, hint, Severity.WARNING)
        )
