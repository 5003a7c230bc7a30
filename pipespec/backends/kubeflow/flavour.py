"""Kubeflow Pipelines on Kubernetes: GPUs as ``nvidia.com/gpu``, pod settings in the
PlatformSpec (kfp-kubernetes), tune trials as a loop of container tasks."""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends import k8s
from pipespec.backends.kfp_ir.flavour import Flavour
from pipespec.backends.kfp_ir.placement import natively_tuned
from pipespec.backends.kfp_ir.resources import container_resources, platform_config
from pipespec.backends.kfp_ir.state import Build


class KubeflowFlavour(Flavour):
    def container_resources(self, build: Build, step: ir.Step) -> dict[str, Any]:
        return container_resources(step.resources, k8s.GPU_RESOURCE)

    def finish_container(
        self, build: Build, step: ir.Step, task: str, container: dict[str, Any]
    ) -> None:
        secrets = k8s.secrets_as_env(step, {s.name: s for s in build.pipeline.secrets})
        for use in secrets.unmapped:
            build.error(
                step,
                f"step '{step.id}' uses secret '{use.secret}', which has no `kubernetes:` "
                "mapping: KFP reads secrets from Kubernetes Secrets",
                f"add `kubernetes: {{secret: NAME, key: KEY}}` to secrets.{use.secret}",
            )
        config = platform_config(step, secrets.env)
        if config:
            build.platform[f"exec-{task}"] = config

    def runs_trial_loop(self, step: ir.Step) -> bool:
        return natively_tuned(step)

    def picks_best_trial(self, step: ir.Step) -> bool:
        return natively_tuned(step)


KUBEFLOW = KubeflowFlavour()
