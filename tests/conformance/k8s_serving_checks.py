"""Serving manifests against the CRD schemas of pinned KServe and Seldon Core releases
(vendored in k8s_serving_schema/, PROVENANCE.md there), judged as the API server judges
a server-side apply with ``fieldValidation=Strict`` (what the applier sends):

- the CRD's ``openAPIV3Schema`` with JSON Schema (draft 4, the dialect OpenAPI 3.0's
  schema objects extend), ``nullable`` read as allowing null;
- an unknown field is an error (Strict), except below ``x-kubernetes-preserve-unknown-fields``
  and inside an ``x-kubernetes-embedded-resource`` (whose apiVersion/kind/metadata the
  API server adds); ``x-kubernetes-int-or-string`` nodes carry their own ``anyOf``;
- ``int32``/``int64`` formats are range-checked;
- ``metadata`` (the schema says only "object": the API server checks ObjectMeta itself):
  a DNS-1123 name, and only the ObjectMeta fields pipespec writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_DIR = Path(__file__).parent / "k8s_serving_schema"
SCHEMAS = {
    ("serving.kserve.io/v1beta1", "InferenceService"): "kserve-inferenceservice-v1beta1.json",
    ("machinelearning.seldon.io/v1", "SeldonDeployment"): "seldon-seldondeployment-v1.json",
}
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def raw_schema(api_version: str, kind: str) -> dict[str, Any]:
    """The vendored ``openAPIV3Schema``, as the CRD has it."""
    path = SCHEMA_DIR / SCHEMAS[(api_version, kind)]
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def strict(node: Any) -> Any:
    """A copy of a structural schema in which objects reject fields they do not declare,
    as the API server does under ``fieldValidation=Strict``."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    open_ended = node.get("x-kubernetes-preserve-unknown-fields") is True or node.get(
        "x-kubernetes-embedded-resource"
    )
    if "properties" in node and "additionalProperties" not in node and not open_ended:
        out["additionalProperties"] = False
    return out


def _int_format(checker: jsonschema.FormatChecker, fmt: str) -> None:
    low, high = _INT_RANGES[fmt]

    def check(value: object) -> bool:
        return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high

    checker.checks(fmt)(check)


@cache
def _validator(api_version: str, kind: str) -> jsonschema.Draft4Validator:
    schema = strict(raw_schema(api_version, kind))
    jsonschema.Draft4Validator.check_schema(schema)
    checker = jsonschema.FormatChecker(formats=())
    for fmt in _INT_RANGES:
        _int_format(checker, fmt)
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def _metadata_problems(metadata: Any) -> Iterator[str]:
    if not isinstance(metadata, dict):
        yield "metadata: not an object"
        return
    for key in sorted(set(metadata) - _METADATA_FIELDS):
        yield f"metadata: unknown field {key!r}"
    name = metadata.get("name")
    if not isinstance(name, str) or len(name) > 63 or not _NAME_RE.match(name):
        yield f"metadata.name: {name!r} is not an RFC 1123 label"
    for key in ("labels", "annotations"):
        values = metadata.get(key, {})
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            yield f"metadata.{key}: not a map of strings"


def problems(resource: dict[str, Any]) -> list[str]:
    """Every way ``resource`` fails its CRD's schema (empty: the API server takes it)."""
    key = (resource.get("apiVersion"), resource.get("kind"))
    if key not in SCHEMAS:
        return [f"no vendored schema for {key}"]
    found = [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in _validator(*key).iter_errors(resource)
    ]
    found.extend(_metadata_problems(resource.get("metadata")))
    return sorted(found)
