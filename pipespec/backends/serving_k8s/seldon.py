"""A deploy step as a Seldon Core v1 ``SeldonDeployment`` (``machinelearning.seldon.io/v1``).

One predictor whose graph is one ``MODEL`` node: a prepackaged server for the model's
framework (``implementation: SKLEARN_SERVER``, ...) reading ``modelUri``, or the spec's
serving image as the node's container (``componentSpecs``), with the model's location in
``MODEL_URI`` (Seldon downloads ``modelUri`` only for its prepackaged servers). Replicas
from the endpoint's ``min_replicas`` (at least one) and, above them, a HorizontalPodAutoscaler
up to ``max_replicas``; resources and GPU placement from the step.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.serving_k8s import common
from pipespec.backends.serving_k8s.model import Manifest, ServedModel

API_VERSION = "machinelearning.seldon.io/v1"
KIND = "SeldonDeployment"
PREDICTOR = "default"
NODE = "model"  # the graph's one node, and the container serving it
# The spec's framework names -> Seldon Core v1.17's prepackaged model servers, and the
# protocol each needs (None: Seldon's own default protocol).
SERVERS: dict[str, tuple[str, str | None]] = {
    "scikit-learn": ("SKLEARN_SERVER", None),
    "xgboost": ("XGBOOST_SERVER", None),
    "tensorflow": ("TENSORFLOW_SERVER", None),
    "transformers": ("HUGGINGFACE_SERVER", "v2"),
}
HPA_CPU_UTILIZATION = 70  # percent of the requested CPU before another replica starts


def seldon_deployment(
    step: ir.Step,
    namespace: str | None,
    model: ServedModel,
    *,
    service_account: str | None = None,
) -> Manifest:
    """The step's SeldonDeployment, with an error diagnostic where it cannot be built."""
    manifest = Manifest({"apiVersion": API_VERSION, "kind": KIND})
    endpoint = common.endpoint_of(step, manifest)
    name = endpoint.name if endpoint is not None else step.id
    manifest.resource["metadata"] = common.metadata(step, name, namespace)
    graph: dict[str, Any] = {"name": NODE, "type": "MODEL"}
    protocol: str | None = None
    pod: dict[str, Any] = {}
    if model.serving_image is not None:
        container: dict[str, Any] = {
            "name": NODE,
            "image": model.serving_image,
            "env": [{"name": "MODEL_URI", "value": common.MODEL_URI_MARKER}],
        }
        pod["containers"] = [container]
    else:
        server, protocol = _server(step, model, manifest)
        graph["implementation"] = server
        graph["modelUri"] = common.MODEL_URI_MARKER
        container = {"name": NODE}  # the prepackaged server's container, resources added
    if service_account is not None:
        graph["serviceAccountName"] = service_account
    found = common.resources(step)
    if found is not None:
        container["resources"] = found
        pod.setdefault("containers", [container])
    pod.update(common.placement(step))
    predictor: dict[str, Any] = {"name": PREDICTOR, "graph": graph}
    if endpoint is not None:
        predictor["replicas"] = max(endpoint.min_replicas, 1)
        if endpoint.min_replicas < 1:
            manifest.warn(step, "Seldon Core keeps at least one replica: min_replicas 0 is 1")
        if endpoint.canary_traffic_percent is not None:
            manifest.warn(
                step,
                "Seldon Core serves one predictor here: canary_traffic_percent is not "
                "applied (the new model takes all traffic)",
                "use `serving: kserve` for a canary rollout",
            )
    component: dict[str, Any] = {}
    if pod:
        component["spec"] = pod
    hpa = _hpa(endpoint)
    if hpa is not None:
        component["hpaSpec"] = hpa
    if component:
        predictor["componentSpecs"] = [component]
    spec: dict[str, Any] = {}
    if protocol is not None:
        spec["protocol"] = protocol
    spec["predictors"] = [predictor]
    manifest.resource["spec"] = spec
    return manifest


def _server(step: ir.Step, model: ServedModel, manifest: Manifest) -> tuple[str, str | None]:
    framework = model.framework or ""
    if model.standard_script:
        # pipespec:train writes a model.joblib for every framework; the XGBoost server
        # reads only a native model.bst, and the scikit-learn server lacks xgboost.
        if framework != "scikit-learn":
            manifest.error(
                step,
                f"the {framework} model of pipespec:train is a pickled scikit-learn "
                "estimator that no Seldon Core prepackaged server loads",
                "name a `serving_image:` that loads model.joblib, or use `serving: kserve`",
            )
        return SERVERS["scikit-learn"]
    found = SERVERS.get(framework)
    if found is None:
        what = f"framework {framework}" if framework else "no framework"
        manifest.error(
            step,
            f"Seldon Core has no prepackaged server for a model of {what}",
            "name a `serving_image:` for the model, or use `serving: kserve`",
        )
        return ("UNKNOWN", None)
    return found


def _hpa(endpoint: ir.Endpoint | None) -> dict[str, Any] | None:
    """Scale between the endpoint's replicas on CPU."""
    if endpoint is None or endpoint.max_replicas <= max(endpoint.min_replicas, 1):
        return None
    return {
        "minReplicas": max(endpoint.min_replicas, 1),
        "maxReplicas": endpoint.max_replicas,
        # `metricsv2` is autoscaling/v2's form; Seldon's `metrics` is the v2beta1 one,
        # which Kubernetes 1.26 and later no longer serve.
        "metricsv2": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": HPA_CPU_UTILIZATION},
                },
            }
        ],
    }
