"""examples/pod-control for Vertex AI: a bounded loop over literal items with requests
apart from limits, then a fan-in of every score (dsl.Collected); the warehouse token read
from Secret Manager by every step. (Node selectors, tolerations and a task's service
account have no Vertex form: the Kubeflow program's kfp-kubernetes calls are left out.)"""

from kfp import dsl

from tests.conformance.vertex_programs.common import secret_command

IMAGE = "python:3.12-slim"
SCORE = "import sys, json; open(sys.argv[3], 'w').write(json.dumps(float(sys.argv[2])))"
TOKEN = {"WAREHOUSE_TOKEN": "projects/acme-ml/secrets/warehouse-token/versions/latest"}
REGIONS = [
    {"region": "eu-west", "threshold": 0.5},
    {"region": "us-east", "threshold": 0.7},
    {"region": "ap-south", "threshold": 0.6},
]


@dsl.container_component
def score(region: str, threshold: str, score: dsl.OutputPath(float)):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=secret_command(TOKEN, ["python", "-c", SCORE, region, threshold, score]),
    )


@dsl.container_component
def pick(scores: list):
    best = "import sys, json; print(max(json.loads(sys.argv[1])))"
    return dsl.ContainerSpec(
        image=IMAGE, command=secret_command(TOKEN, ["python", "-c", best, scores])
    )


@dsl.pipeline(
    name="pod-control",
    description="Score each region on its own node pool, then pick the best region",
)
def pipeline(instance_type: str = "ml.m5.xlarge", instance_count: int = 1):
    with dsl.ParallelFor(items=REGIONS, parallelism=2) as item:
        scored = score(region=item.region, threshold=item.threshold)
        scored.set_cpu_request("2").set_memory_request("4Gi")
        scored.set_cpu_limit("4").set_memory_limit("8Gi")
        scored.set_caching_options(True)
    picked = pick(scores=dsl.Collected(scored.outputs["score"]))
    picked.set_cpu_request("1").set_memory_request("1Gi").set_memory_limit("1Gi")
    picked.set_caching_options(False)
