"""The RBAC a deploy task's service account needs to run the applier: a Role in the
serving namespace granting ``get`` (polling), ``create`` (the first apply of a resource
creates it) and ``patch`` (server-side apply) on the one kind it applies, and the
RoleBinding of that Role to the service account. Data, for a cluster admin to apply once
(``docs/serving.md``); pipespec never grants itself permissions at run time."""

from __future__ import annotations

from typing import Any

from pipespec.backends.serving_k8s import kserve, seldon
from pipespec.backends.serving_k8s.common import MANAGED_BY

# kind -> (API group, resource plural)
RESOURCES = {
    kserve.KIND: (kserve.API_VERSION.split("/")[0], "inferenceservices"),
    seldon.KIND: (seldon.API_VERSION.split("/")[0], "seldondeployments"),
}
VERBS = ("get", "create", "patch")
ROLE_NAME = "pipespec-deployer"


def role(kind: str, namespace: str, name: str = ROLE_NAME) -> dict[str, Any]:
    """A Role allowing the applier's calls on ``kind`` (InferenceService or
    SeldonDeployment) in ``namespace``."""
    group, plural = RESOURCES[kind]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "rules": [{"apiGroups": [group], "resources": [plural], "verbs": list(VERBS)}],
    }


def role_binding(
    namespace: str,
    service_account: str,
    service_account_namespace: str | None = None,
    name: str = ROLE_NAME,
) -> dict[str, Any]:
    """Binds the Role ``name`` to the service account the deploy task's pod runs as (it
    may live in another namespace: the pipeline's, not the serving one)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": service_account,
                "namespace": service_account_namespace or namespace,
            }
        ],
    }
