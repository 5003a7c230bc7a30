"""The shared Kubernetes pieces, from the IR a spec lowers to."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipespec import ir
from pipespec.backends import k8s
from tests.backends.spec_ir import ir_of

SPEC = """\
pipespec: 1
name: pods
secrets:
  db:
    kubernetes: {secret: db-creds, key: dsn}
  api:
    airflow: {conn_id: api}
steps:
  plain:
    kind: container
    image: busybox
    command: ["true"]
  sized:
    kind: container
    image: busybox
    command: ["true"]
    resources: {cpu: 0.5, memory: 2Gi}
  gpus:
    kind: container
    image: busybox
    command: ["true"]
    resources: {gpu: 2}
  l4:
    kind: container
    image: busybox
    command: ["true"]
    resources: {cpu: 4, memory: 16Gi, accelerator: nvidia-l4}
    secrets: {DSN: db, TOKEN: api, DSN2: db}
"""


@pytest.fixture
def pipeline(tmp_path: Path) -> ir.Pipeline:
    return ir_of(tmp_path, SPEC)


def test_requests_and_limits(pipeline: ir.Pipeline) -> None:
    assert k8s.requirements(pipeline.step("plain").resources) is None
    sized = k8s.requirements(pipeline.step("sized").resources)
    assert sized == k8s.ResourceRequirements({"cpu": "500m", "memory": "2Gi"}, {"memory": "2Gi"})
    gpus = k8s.requirements(pipeline.step("gpus").resources)
    assert gpus == k8s.ResourceRequirements({}, {"nvidia.com/gpu": "2"})
    # An accelerator model alone asks for one GPU.
    l4 = k8s.requirements(pipeline.step("l4").resources)
    assert l4 is not None and l4.limits == {"memory": "16Gi", "nvidia.com/gpu": "1"}
    assert l4.requests == {"cpu": "4", "memory": "16Gi"}


def test_gpu_node_selector_and_tolerations(pipeline: ir.Pipeline) -> None:
    toleration = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert k8s.gpu_node_selector(pipeline.step("plain").resources) == {}
    assert k8s.gpu_tolerations(pipeline.step("plain").resources) == []
    assert k8s.gpu_node_selector(pipeline.step("gpus").resources) == {}
    assert k8s.gpu_tolerations(pipeline.step("gpus").resources) == toleration
    l4 = pipeline.step("l4").resources
    assert k8s.gpu_node_selector(l4) == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    assert k8s.gpu_tolerations(l4) == toleration


def test_every_accelerator_the_language_accepts_has_a_node_label() -> None:
    from pipespec.spec.models import ACCELERATORS

    assert set(ACCELERATORS) == set(k8s.GPU_PRODUCTS)


def test_secrets_as_env_by_reference_and_the_unmapped_ones(pipeline: ir.Pipeline) -> None:
    got = k8s.secrets_as_env(pipeline.step("l4"), {s.name: s for s in pipeline.secrets})
    assert got.env == [
        k8s.SecretEnv("DSN", "db-creds", "dsn"),
        k8s.SecretEnv("DSN2", "db-creds", "dsn"),
    ]
    assert got.unmapped == [ir.SecretUse("TOKEN", "api")]
    none = k8s.secrets_as_env(pipeline.step("plain"), {})
    assert none == k8s.SecretsAsEnv([], [])
