"""Every serving manifest pipespec builds passes the CRD schema of the pinned KServe and
Seldon Core releases, strictly; a wrong one does not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.backends import serving_k8s
from pipespec.backends.serving_k8s import Manifest
from tests.backends.spec_ir import ir_of
from tests.conformance import k8s_serving_checks as checks

TRAIN = """\
  {id}:
    kind: train
    framework: {framework}
    image: python:3.12-slim
    command: [python, train.py, "${{outputs.model}}"]
    outputs: {{model: model}}
"""
STANDARD = """\
  {id}:
    kind: train
    framework: {framework}
    task: binary_classification
    image: python:3.12-slim
    script: pipespec:train
    outputs: {{model: model}}
"""
DEPLOY = """\
  {id}:
    kind: deploy
    inputs: {{model: {model}.model}}
    endpoint: {endpoint}
{extra}"""
FRAMEWORKS = {
    "scikit-learn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "pytorch": "pytorch",
    "tensorflow": "tensorflow",
    "transformers": "huggingface",
}
GPU = """\
    resources:
      {cpu: 4, memory: 16Gi, limits: {cpu: 8, memory: 32Gi}, gpu: 2, accelerator: nvidia-a100}
    node_selector: {pool: serving}
    tolerations:
      - {key: dedicated, operator: Equal, value: ml, effect: NoExecute, toleration_seconds: 60}
"""


def _spec(tmp_path: Path) -> ir.Pipeline:
    """One pipeline holding every case: a deploy step per framework, standard-script
    models, a custom image, replicas, GPUs and placement, a canary."""
    steps = []
    for i, framework in enumerate(FRAMEWORKS):
        steps.append(TRAIN.format(id=f"t{i}", framework=framework))
        steps.append(DEPLOY.format(id=f"d{i}", model=f"t{i}", endpoint=f"{{name: m{i}}}", extra=""))
    for framework in ("scikit-learn", "xgboost"):
        sid = framework.replace("-", "")
        steps.append(STANDARD.format(id=f"std_{sid}", framework=framework))
        endpoint = f"{{name: std-{sid}}}"
        steps.append(
            DEPLOY.format(id=f"d_std_{sid}", model=f"std_{sid}", endpoint=endpoint, extra="")
        )
    cases = {
        "custom": ("{name: custom}", "    serving_image: ghcr.io/acme/serve:1.2\n"),
        "replicas": ("{name: scaled, min_replicas: 0, max_replicas: 8}", ""),
        "gpu": ("{name: gpu, min_replicas: 2, max_replicas: 4}", GPU),
        "canary": (
            "{name: canary, min_replicas: 1, max_replicas: 3, canary_traffic_percent: 10}",
            "",
        ),
    }
    for sid, (endpoint, extra) in cases.items():
        steps.append(DEPLOY.format(id=sid, model="t0", endpoint=endpoint, extra=extra))
    text = "pipespec: 1\nname: serving\nsteps:\n" + "".join(steps)
    return ir_of(tmp_path, text)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> ir.Pipeline:
    return _spec(tmp_path_factory.mktemp("serving"))


def _deploys(pipeline: ir.Pipeline) -> list[ir.Step]:
    return [s for s in pipeline.steps if s.kind == "deploy"]


def _build(pipeline: ir.Pipeline, sid: str, serving: serving_k8s.Serving) -> Manifest:
    return serving_k8s.deploy_manifest(pipeline, pipeline.step(sid), serving, "ml")


def _errors(manifest: Manifest) -> list[str]:
    return [d.message for d in manifest.diagnostics if d.severity.value == "error"]


@pytest.mark.parametrize("namespace", ["ml", None])
def test_every_inference_service_passes_the_kserve_schema(
    pipeline: ir.Pipeline, namespace: str | None
) -> None:
    for step in _deploys(pipeline):
        manifest = serving_k8s.deploy_manifest(pipeline, step, "kserve", namespace)
        assert manifest.ok, _errors(manifest)
        assert checks.problems(manifest.resource) == [], step.id
        uri = json.loads(serving_k8s.manifest_json(manifest))
        assert uri == manifest.resource  # the JSON the applier gets is the same data


def test_every_seldon_deployment_it_can_build_passes_the_seldon_schema(
    pipeline: ir.Pipeline,
) -> None:
    built = 0
    for step in _deploys(pipeline):
        manifest = _build(pipeline, step.id, "seldon")
        assert checks.problems(manifest.resource) == [], step.id
        built += manifest.ok
    assert built >= 7  # sklearn, xgboost, tensorflow, transformers, custom, replicas, gpu...


@pytest.mark.parametrize(("index", "framework"), list(enumerate(FRAMEWORKS)))
def test_the_model_format_follows_the_framework(
    pipeline: ir.Pipeline, index: int, framework: str
) -> None:
    model = _build(pipeline, f"d{index}", "kserve").resource["spec"]["predictor"]["model"]
    assert model["modelFormat"] == {"name": FRAMEWORKS[framework]}
    assert model["storageUri"] == serving_k8s.MODEL_URI_MARKER
    assert "runtime" not in model


def test_a_standard_script_model_is_served_as_the_joblib_it_is(pipeline: ir.Pipeline) -> None:
    plain = _build(pipeline, "d_std_scikitlearn", "kserve").resource["spec"]["predictor"]
    assert plain["model"]["modelFormat"] == {"name": "sklearn"} and "runtime" not in plain["model"]
    boosted = _build(pipeline, "d_std_xgboost", "kserve").resource["spec"]["predictor"]
    assert boosted["model"]["modelFormat"] == {"name": "sklearn"}
    assert boosted["model"]["runtime"] == "kserve-predictiveserver"
    seldon = _build(pipeline, "d_std_xgboost", "seldon")
    assert not seldon.ok and "no Seldon Core prepackaged server" in _errors(seldon)[0]


def test_custom_image_replicas_gpu_and_canary(pipeline: ir.Pipeline) -> None:
    custom = _build(pipeline, "custom", "kserve").resource["spec"]["predictor"]
    assert "model" not in custom
    assert custom["containers"] == [
        {
            "name": "kserve-container",
            "image": "ghcr.io/acme/serve:1.2",
            "env": [{"name": "STORAGE_URI", "value": serving_k8s.MODEL_URI_MARKER}],
        }
    ]
    scaled = _build(pipeline, "replicas", "kserve").resource["spec"]["predictor"]
    assert (scaled["minReplicas"], scaled["maxReplicas"]) == (0, 8)
    gpu = _build(pipeline, "gpu", "kserve").resource["spec"]["predictor"]
    assert gpu["model"]["resources"] == {
        "requests": {"cpu": "4", "memory": "16Gi"},
        "limits": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "2"},
    }
    assert gpu["nodeSelector"] == {
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB",
        "pool": "serving",
    }
    assert {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoExecute",
            "tolerationSeconds": 60} in gpu["tolerations"]  # fmt: skip
    canary = _build(pipeline, "canary", "kserve").resource["spec"]["predictor"]
    assert canary["canaryTrafficPercent"] == 10
    assert "canaryTrafficPercent" not in scaled


def test_seldon_servers_replicas_and_autoscaling(pipeline: ir.Pipeline) -> None:
    servers = {"d0": "SKLEARN_SERVER", "d1": "XGBOOST_SERVER", "d4": "TENSORFLOW_SERVER"}
    for sid, server in servers.items():
        graph = _build(pipeline, sid, "seldon").resource["spec"]["predictors"][0]["graph"]
        assert graph["implementation"] == server
        assert graph["modelUri"] == serving_k8s.MODEL_URI_MARKER
    hf = _build(pipeline, "d5", "seldon").resource["spec"]
    assert hf["protocol"] == "v2"
    assert hf["predictors"][0]["graph"]["implementation"] == "HUGGINGFACE_SERVER"
    for sid in ("d2", "d3"):  # lightgbm, pytorch: no prepackaged server
        assert not _build(pipeline, sid, "seldon").ok
    gpu = _build(pipeline, "gpu", "seldon").resource["spec"]["predictors"][0]
    assert gpu["replicas"] == 2
    component = gpu["componentSpecs"][0]
    assert component["hpaSpec"]["minReplicas"] == 2 and component["hpaSpec"]["maxReplicas"] == 4
    assert component["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    scaled = _build(pipeline, "replicas", "seldon")
    assert scaled.resource["spec"]["predictors"][0]["replicas"] == 1
    assert any("min_replicas 0 is 1" in d.message for d in scaled.diagnostics)
    canary = _build(pipeline, "canary", "seldon")
    assert canary.ok and any(d.code == "PS606" for d in canary.diagnostics)


def _broken(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


NEGATIVE = [
    ("kserve", ("spec", "predictor", "minReplica"), 1, "minReplica"),  # a typo
    ("kserve", ("spec", "predictor", "minReplicas"), "1", "'1' is not of type 'integer'"),
    ("kserve", ("spec", "predictor", "model", "modelFormat"), {"version": "1"}, "'name'"),
    ("kserve", ("spec", "predictor", "maxReplicas"), 2**40, "int32"),
    ("kserve", ("spec", "predictor", "tolerations"), [{"toleration_seconds": 5}], "toleration"),
    ("kserve", ("spec", "predictor", "model", "resources", "limits", "cpu"), [], "cpu"),
    ("kserve", ("metadata", "name"), "Churn_Scorer", "RFC 1123"),
    ("kserve", ("metadata", "labels"), {"a": 1}, "map of strings"),
    ("seldon", ("spec", "predictors", 0, "graph", "modelURI"), "s3://x", "modelURI"),
    ("seldon", ("spec", "predictors", 0, "replicas"), "two", "'two' is not of type"),
    ("seldon", ("spec", "predictors", 0, "componentSpecs", 0, "hpaSpec", "metrics"),
     [{"type": "Resource", "resource": {"name": "cpu", "target": {}}}], "target"),
]  # fmt: skip


@pytest.mark.parametrize(("serving", "path", "value", "expected"), NEGATIVE)
def test_a_wrong_field_is_caught(
    pipeline: ir.Pipeline, serving: str, path: tuple[Any, ...], value: Any, expected: str
) -> None:
    manifest = _build(pipeline, "gpu", "kserve" if serving == "kserve" else "seldon")
    assert checks.problems(manifest.resource) == []
    found = checks.problems(_broken(manifest.resource, path, value))
    assert found and any(expected in p for p in found), found


def test_the_kubernetes_extensions_are_honoured_not_ignored() -> None:
    """x-kubernetes-* keywords are in the vendored schemas and change what validates."""
    kserve = checks.raw_schema("serving.kserve.io/v1beta1", "InferenceService")
    text = json.dumps(kserve)
    for keyword in ("x-kubernetes-int-or-string", "x-kubernetes-list-type",
                    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-map-type"):  # fmt: skip
        assert keyword in text, keyword
    base = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}},
    }
    limits = ("spec", "predictor", "model", "resources")
    for quantity in ("500m", 2, "1Gi"):  # int-or-string quantities
        assert checks.problems(_broken(base, limits, {"limits": {"cpu": quantity}})) == []
    # status preserves unknown fields: not an error even under strict validation...
    status = _broken(base, ("status",), {"someControllerField": {"x": 1}})
    assert checks.problems(status) == []
    # ...while spec does not
    assert checks.problems(_broken(base, ("spec", "someField"), 1))


def test_the_schema_files_are_the_pinned_ones() -> None:
    """The digests PROVENANCE.md records (a changed file is a new provenance)."""
    import hashlib

    text = (checks.SCHEMA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for name in checks.SCHEMAS.values():
        digest = hashlib.sha256((checks.SCHEMA_DIR / name).read_bytes()).hexdigest()
        assert digest in text, name


def test_a_name_kubernetes_refuses_is_a_diagnostic(tmp_path: Path) -> None:
    spec = "pipespec: 1\nname: x\nsteps:\n" + TRAIN.format(id="t", framework="xgboost")
    spec += DEPLOY.format(id="d", model="t", endpoint="{name: scorer-}", extra="")
    pipeline = ir_of(tmp_path, spec)
    for serving in ("kserve", "seldon"):
        manifest = _build(pipeline, "d", serving)
        assert not manifest.ok
        assert "not a Kubernetes resource name" in _errors(manifest)[0]
        assert manifest.diagnostics[0].span == pipeline.step("d").span
