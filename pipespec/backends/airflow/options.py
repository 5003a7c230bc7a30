"""``targets.airflow`` in a spec: the Airflow backend's options, checked strictly.

The driver validates the block against this model (with ``file:line:col`` spans for every
fault) before rendering, and ``render`` receives the validated model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from pipespec.backends.base import Options
from pipespec.backends.k8s import Serving
from pipespec.backends.kubeflow.options import DEFAULT_HELPER_IMAGE, HelperImage

# Airflow refuses to import a DAG with a longer tag (TAG_MAX_LEN in airflow.models.dag).
AIRFLOW_TAG_MAX = 100
DEFAULT_START_DATE = "2024-01-01"


def _check_tag(value: str) -> str:
    if len(value) > AIRFLOW_TAG_MAX:
        # The error type is the diagnostic code: the driver reports it as PS203.
        raise PydanticCustomError(
            "PS203",
            f"the tag is {len(value)} characters long; Airflow refuses to import a DAG "
            f"with a tag longer than {AIRFLOW_TAG_MAX}",
        )
    return value


AirflowTag = Annotated[
    str,
    AfterValidator(_check_tag),
    WithJsonSchema({"type": "string", "maxLength": AIRFLOW_TAG_MAX}),
]


class AirflowOptions(Options):
    """How a pipeline becomes an Airflow DAG file."""

    version: Literal["2", "3"] = "3"
    operator: Literal["kubernetes", "local"] = "kubernetes"
    namespace: str | None = None
    artifact_root: str | None = None
    kubernetes_conn_id: str | None = None
    start_date: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | None = None
    tags: list[AirflowTag] | None = None
    # A deploy step with an endpoint and no command (operator: kubernetes): the resource
    # that serves its model, applied by a pod of pipespec's in helper_image.
    serving: Serving = "kserve"
    helper_image: HelperImage = DEFAULT_HELPER_IMAGE
