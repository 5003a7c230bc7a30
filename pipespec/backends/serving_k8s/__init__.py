"""A deploy step with an `endpoint` on the Kubernetes targets (Airflow's pods, Kubeflow):
a KServe ``InferenceService`` or a Seldon Core ``SeldonDeployment``, built here as data,
and the fixed program that applies one in the task's pod and waits until it serves.

The backends call ``deploy_manifest`` at compile time (the manifest goes to the task as
JSON, in ``PIPESPEC_MANIFEST``) and run ``APPLIER_PROGRAM`` with ``applier_args``; the
model's location, known only at run time, is the applier's ``--model-uri`` argument.
docs/serving.md describes the manifests, the applier and the RBAC it needs.
"""

from __future__ import annotations

import json

from pipespec import ir
from pipespec.backends.k8s import Serving
from pipespec.backends.serving_k8s.applier import (
    API_URL_ENV,
    APPLIER_PROGRAM,
    DEFAULT_TIMEOUT_S,
    FIELD_MANAGER,
    MANIFEST_ENV,
    SA_DIR_ENV,
    applier_args,
)
from pipespec.backends.serving_k8s.common import MODEL_URI_MARKER
from pipespec.backends.serving_k8s.kserve import inference_service
from pipespec.backends.serving_k8s.model import Manifest, ServedModel, served_model
from pipespec.backends.serving_k8s.rbac import role, role_binding
from pipespec.backends.serving_k8s.seldon import seldon_deployment

__all__ = [
    "API_URL_ENV",
    "APPLIER_PROGRAM",
    "DEFAULT_TIMEOUT_S",
    "FIELD_MANAGER",
    "MANIFEST_ENV",
    "MODEL_URI_MARKER",
    "SA_DIR_ENV",
    "Manifest",
    "ServedModel",
    "Serving",
    "applier_args",
    "deploy_manifest",
    "inference_service",
    "manifest_json",
    "role",
    "role_binding",
    "seldon_deployment",
    "served_model",
]


def deploy_manifest(
    pipeline: ir.Pipeline,
    step: ir.Step,
    serving: Serving = "kserve",
    namespace: str | None = None,
    *,
    service_account: str | None = None,
) -> Manifest:
    """The serving resource of a deploy step, for the applier; ``manifest.diagnostics``
    holds what stops it (PS600 errors) or changes it (PS606 warnings)."""
    model = served_model(pipeline, step)
    build = inference_service if serving == "kserve" else seldon_deployment
    return build(step, namespace, model, service_account=service_account)


def manifest_json(manifest: Manifest) -> str:
    """The manifest as the applier reads it: compact JSON, keys in the order built."""
    return json.dumps(manifest.resource, separators=(",", ":"), ensure_ascii=False)
