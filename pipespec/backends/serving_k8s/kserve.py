"""A deploy step as a KServe ``InferenceService`` (``serving.kserve.io/v1beta1``).

The predictor is one of:

- ``predictor.model``: KServe's runtime for the model's format (``modelFormat.name`` from
  the framework of the step that trained the model) reading ``storageUri``. A model of
  pipespec's standard train script is a ``model.joblib`` whatever the framework, which
  KServe's scikit-learn server loads; its xgboost and lightgbm models (their scikit-learn
  estimators) need those packages beside it, which the ``kserve-predictiveserver`` runtime
  has (KServe's xgboost and lightgbm servers read only their native ``model.bst``).
- ``predictor.containers``: the spec's serving image, given the model's location in
  ``STORAGE_URI``, KServe's way of downloading it to ``/mnt/models`` for a custom container.

Replicas from the endpoint, resources and GPU placement from the step, and
``canaryTrafficPercent`` where the endpoint asks for a canary rollout.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.serving_k8s import common
from pipespec.backends.serving_k8s.model import Manifest, ServedModel

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
CONTAINER_NAME = "kserve-container"  # the name KServe gives the serving container
# The spec's framework names -> KServe's model format names (its ClusterServingRuntimes).
MODEL_FORMATS = {
    "scikit-learn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "pytorch": "pytorch",
    "tensorflow": "tensorflow",
    "transformers": "huggingface",
}
# pipespec:train's xgboost and lightgbm models are pickled scikit-learn estimators: the
# scikit-learn server loads them where those packages are installed (KServe 0.17+).
STANDARD_SCRIPT_RUNTIME = "kserve-predictiveserver"
_NEEDS_PACKAGES = ("xgboost", "lightgbm")


def inference_service(
    step: ir.Step,
    namespace: str | None,
    model: ServedModel,
    *,
    service_account: str | None = None,
) -> Manifest:
    """The step's InferenceService, with an error diagnostic where it cannot be built.

    ``namespace`` None leaves the namespace to the applier (its pod's own);
    ``service_account`` is the predictor's (the one holding the storage credentials),
    not the applier task's."""
    manifest = Manifest({"apiVersion": API_VERSION, "kind": KIND})
    endpoint = common.endpoint_of(step, manifest)
    name = endpoint.name if endpoint is not None else step.id
    manifest.resource["metadata"] = common.metadata(step, name, namespace)
    predictor: dict[str, Any] = {}
    if endpoint is not None:
        predictor["minReplicas"] = endpoint.min_replicas
        predictor["maxReplicas"] = endpoint.max_replicas
        if endpoint.canary_traffic_percent is not None:
            predictor["canaryTrafficPercent"] = endpoint.canary_traffic_percent
    if service_account is not None:
        predictor["serviceAccountName"] = service_account
    predictor.update(common.placement(step))
    container = _container(step, model, manifest)
    if model.serving_image is not None:
        predictor["containers"] = [container]
    else:
        predictor["model"] = container
    manifest.resource["spec"] = {"predictor": predictor}
    return manifest


def _container(step: ir.Step, model: ServedModel, manifest: Manifest) -> dict[str, Any]:
    """``predictor.model`` (a runtime for the model's format) or the custom container."""
    out: dict[str, Any]
    if model.serving_image is not None:
        out = {
            "name": CONTAINER_NAME,
            "image": model.serving_image,
            "env": [{"name": "STORAGE_URI", "value": common.MODEL_URI_MARKER}],
        }
    else:
        fmt = _model_format(step, model, manifest)
        out = {"modelFormat": {"name": fmt}}
        if model.standard_script and model.framework in _NEEDS_PACKAGES:
            out["runtime"] = STANDARD_SCRIPT_RUNTIME
        out["storageUri"] = common.MODEL_URI_MARKER
    found = common.resources(step)
    if found is not None:
        out["resources"] = found
    return out


def _model_format(step: ir.Step, model: ServedModel, manifest: Manifest) -> str:
    if model.standard_script:
        return "sklearn"  # a model.joblib of a scikit-learn (API) estimator
    fmt = MODEL_FORMATS.get(model.framework or "")
    if fmt is None:
        where = f"step '{model.producer}'" if model.producer else "its model input"
        manifest.error(
            step,
            f"KServe serves a model by its framework, and {where} names none",
            "write `framework:` on the step that trains the model, or `serving_image:`",
        )
        return "unknown"
    return fmt
