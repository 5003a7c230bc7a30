"""What differs between the KFP engines that run the same IR: Kubeflow Pipelines on a
Kubernetes cluster, and Vertex AI Pipelines.

The shared builder asks its flavour how a GPU is named in a container's resources, what a
container task needs beyond the PipelineSpec (Kubeflow: the PlatformSpec's pod settings;
Vertex: Secret Manager look-ups), how a tune step runs (a loop of trial tasks, or the
engine's own tuning job) and which steps become the engine's own components instead of
a container task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from pipespec import ir

if TYPE_CHECKING:
    from pipespec.backends.kfp_ir.state import Build


class IrOptions(Protocol):
    """The options every KFP flavour has (its own options model adds more)."""

    @property
    def pipeline_root(self) -> str | None: ...

    @property
    def helper_image(self) -> str: ...


class Flavour:
    """The hooks, with no behaviour of any engine: a flavour overrides what it needs."""

    def container_resources(self, build: Build, step: ir.Step) -> dict[str, Any]:
        """``container.resources`` of the step's executor."""
        return {}

    def finish_container(
        self, build: Build, step: ir.Step, task: str, container: dict[str, Any]
    ) -> None:
        """Settings beyond the container (may change it in place, add diagnostics)."""

    def runs_trial_loop(self, step: ir.Step) -> bool:
        """Whether a tune step's trials run as a loop of container tasks."""
        return False

    def picks_best_trial(self, step: ir.Step) -> bool:
        """Whether a helper task after the step picks its best trial's outputs."""
        return False

    def native_task(self, build: Build, step: ir.Step) -> bool:
        """Builds the step's tasks as the engine's own components; False: a container
        task (and, for a tune step with a trial loop, its trials) is built instead."""
        return False
