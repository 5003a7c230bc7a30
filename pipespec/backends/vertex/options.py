"""``targets.vertex`` in a spec: the Vertex AI Pipelines backend's options, checked
strictly, each at its line (the driver reports a fault as a diagnostic).

Every field has a default that compiles: without ``project`` the run uses the project
of the credentials that submit it (aiplatform's own default), as Vertex does.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from pipespec.backends.base import Options
from pipespec.backends.kubeflow.options import DEFAULT_HELPER_IMAGE, HelperImage

# Google Cloud's rules, checked here so a bad value is an error at its line, not a
# rejected API call after the pipeline was deployed.
PROJECT_RE = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
LOCATION_RE = r"^[a-z]+-[a-z]+[0-9]+$"
SERVICE_ACCOUNT_RE = r"^[a-z0-9-]{6,30}@[a-z0-9.-]+\.iam\.gserviceaccount\.com$"
NETWORK_RE = r"^projects/[0-9]{1,20}/global/networks/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
KMS_KEY_RE = (
    r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]{1,63}"
    r"/cryptoKeys/[A-Za-z0-9_-]{1,63}$"
)
GCS_URI_RE = r"^gs://[a-z0-9][a-z0-9._-]{1,221}(/[^\s{}]*)?$"
# A machine type: a family and a shape (n1-standard-8, a2-highgpu-1g, g2-standard-4).
MACHINE_TYPE_RE = r"^[a-z][a-z0-9]*-[a-z0-9-]+$"
# A Vertex resource's name: projects/P/locations/L/<collection>/<id>.
LOCATED_RE = r"^projects/[a-z0-9-]{1,30}/locations/[a-z0-9-]{1,30}/"
ENDPOINT_RE = LOCATED_RE + r"endpoints/[0-9]{1,20}$"
LABEL_KEY_RE = r"^[a-z][a-z0-9_-]{0,62}$"
LABEL_VALUE_RE = r"^[a-z0-9_-]{0,63}$"
MAX_LABELS = 64
# Vertex sets labels with these prefixes on every run itself, and refuses a user's.
RESERVED_LABEL_PREFIXES = ("goog", "vertex-ai-pipelines-")


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise PydanticCustomError("PS203", f"{len(labels)} labels; Vertex allows {MAX_LABELS}")
    for key in labels:
        if key.startswith(RESERVED_LABEL_PREFIXES):
            raise PydanticCustomError(
                "PS203",
                # pydantic formats {key} only: no conversions such as !r.
                "label '{key}': Vertex reserves the prefixes 'goog' and 'vertex-ai-pipelines-'",
                {"key": key},
            )
    return labels


LabelKey = Annotated[str, Field(pattern=LABEL_KEY_RE)]
LabelValue = Annotated[str, Field(pattern=LABEL_VALUE_RE)]


class VertexOptions(Options):
    """How a pipeline becomes a Vertex AI pipeline and the PipelineJob that runs it."""

    project: Annotated[str, Field(pattern=PROJECT_RE)] | None = None
    location: Annotated[str, Field(pattern=LOCATION_RE)] = "us-central1"
    # Where runs keep artifacts; None: the project's default bucket (Vertex makes one).
    pipeline_root: Annotated[str, Field(pattern=GCS_URI_RE)] | None = None
    # The identity runs (and their training jobs) act as; None: Compute Engine's default.
    service_account: Annotated[str, Field(pattern=SERVICE_ACCOUNT_RE)] | None = None
    # A step's `service_account` is a Kubernetes name; Vertex runs a job as a Google
    # service account: this maps the one to the other for the steps' own jobs.
    service_accounts: dict[str, Annotated[str, Field(pattern=SERVICE_ACCOUNT_RE)]] = Field(
        default_factory=dict
    )
    network: Annotated[str, Field(pattern=NETWORK_RE)] | None = None
    encryption_key: Annotated[str, Field(pattern=KMS_KEY_RE)] | None = None
    labels: Annotated[dict[LabelKey, LabelValue], AfterValidator(_check_labels)] = Field(
        default_factory=dict
    )
    # A step's machine when nothing it asks for chooses one (GCPC's own default).
    machine_type: Annotated[str, Field(pattern=MACHINE_TYPE_RE, max_length=64)] = "n1-standard-4"
    # Model steps as Vertex's own services (ModelUpload, EndpointCreate, ModelDeploy,
    # batch prediction); the kinds listed here run their command as a container instead.
    container_kinds: list[Literal["register", "deploy", "batch_predict"]] = Field(
        default_factory=list
    )
    # Endpoints that exist already, by the name a deploy step's `endpoint.name` gives:
    # the deploy adds the model to it instead of creating an endpoint on every run.
    endpoints: dict[str, Annotated[str, Field(pattern=ENDPOINT_RE)]] = Field(default_factory=dict)
    helper_image: HelperImage = DEFAULT_HELPER_IMAGE
    # A scheduled run waits while this many runs of the schedule are still going.
    max_concurrent_runs: Annotated[int, Field(ge=1, le=100)] = 1

    def account_for(self, step_account: str | None) -> str | None:
        """The Google service account a step's own job runs as: its `service_account`
        mapped in ``service_accounts``, else the run's."""
        if step_account is not None and step_account in self.service_accounts:
            return self.service_accounts[step_account]
        return self.service_account
