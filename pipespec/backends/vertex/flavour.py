"""Vertex AI Pipelines as a KFP flavour: GPUs by Vertex's accelerator types, containers
with the catalog's Vertex images and Secret Manager, no Kubernetes PlatformSpec; train
and tune steps as Vertex training jobs and model steps as Vertex's services."""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.flavour import Flavour
from pipespec.backends.kfp_ir.placement import natively_tuned
from pipespec.backends.kfp_ir.resources import container_resources
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.vertex.containers import vertex_container
from pipespec.backends.vertex.machines import MachineError, accelerator_type
from pipespec.backends.vertex.model_steps import (
    batch_predict_step,
    deploy_step,
    native_model_step,
    register_step,
)
from pipespec.backends.vertex.options import VertexOptions
from pipespec.backends.vertex.training import custom_job
from pipespec.backends.vertex.tuning import tuning_job

_MODEL_STEPS = {
    "register": register_step,
    "deploy": deploy_step,
    "batch_predict": batch_predict_step,
}


def runs_as_job(step: ir.Step) -> bool:
    """Train and tune steps run as Vertex training jobs (a tune step without trials is
    one custom job; in a foreach, one job per item)."""
    return step.kind in ("train", "tune")


class VertexFlavour(Flavour):
    def container_resources(self, build: Build, step: ir.Step) -> dict[str, Any]:
        try:
            gpu = accelerator_type(step.resources)
        except MachineError as exc:
            build.error(step, f"step '{step.id}': {exc}")
            return {}
        return container_resources(step.resources, gpu or "")

    def finish_container(
        self, build: Build, step: ir.Step, task: str, container: dict[str, Any]
    ) -> None:
        vertex_container(build, step, container)

    def picks_best_trial(self, step: ir.Step) -> bool:
        return natively_tuned(step) and step.foreach is None

    def native_task(self, build: Build, step: ir.Step) -> bool:
        assert isinstance(build.options, VertexOptions)
        if natively_tuned(step) and step.foreach is not None:
            build.error(
                step,
                f"step '{step.id}': a tune step with foreach: Vertex runs one tuning job "
                "per step, not one per item",
                "tune once, or make the items a search dimension",
            )
        elif self.picks_best_trial(step):
            tuning_job(build, step)
        elif runs_as_job(step):
            custom_job(build, step)
        elif native_model_step(build.options, step):
            _MODEL_STEPS[step.kind](build, step)
        else:
            return False
        return True


VERTEX = VertexFlavour()
