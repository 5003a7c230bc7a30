"""examples/pod-control as a kfp DSL program: a bounded loop over literal items, each on
its own node pool with requests apart from limits, then a fan-in of every score
(dsl.Collected); a secret as env and a toleration on every step."""

from kfp import dsl, kubernetes

IMAGE = "python:3.12-slim"
SCORE = "import sys, json; open(sys.argv[3], 'w').write(json.dumps(float(sys.argv[2])))"
REGIONS = [
    {"region": "eu-west", "threshold": 0.5},
    {"region": "us-east", "threshold": 0.7},
    {"region": "ap-south", "threshold": 0.6},
]


@dsl.container_component
def score(region: str, threshold: str, score: dsl.OutputPath(float)):
    return dsl.ContainerSpec(image=IMAGE, command=["python", "-c", SCORE, region, threshold, score])


@dsl.container_component
def pick(scores: list):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-c", "import sys, json; print(max(json.loads(sys.argv[1])))", scores],
    )


def _pod(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: the warehouse token as env, the batch pool's toleration. (The service
    account is the run's in KFP: kfp-kubernetes has no per-task setting.)"""
    kubernetes.use_secret_as_env(
        task, secret_name="warehouse", secret_key_to_env={"token": "WAREHOUSE_TOKEN"}
    )
    kubernetes.add_toleration(
        task, key="dedicated", operator="Equal", value="batch", effect="NoSchedule"
    )
    return task


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
        kubernetes.add_node_selector(scored, "pool", "scoring")
        _pod(scored)
        kubernetes.add_toleration(scored, key="spot", operator="Exists", effect="NoSchedule")
    picked = pick(scores=dsl.Collected(scored.outputs["score"]))
    picked.set_cpu_request("1").set_memory_request("1Gi").set_memory_limit("1Gi")
    picked.set_caching_options(False)
    kubernetes.add_node_selector(picked, "pool", "batch")
    _pod(picked)
