"""examples/pod-control as a sagemaker SDK program: the foreach over three mapping items
unrolled into three processing jobs ``score-<i>`` (SageMaker has no loop), each with its
item's values, on the instance type and count the run's parameters choose, cached; then
``pick``, which reads every copy's score (the fan-in) and waits for all three.

Both kinds of step start through pipespec's launcher (``common.LAUNCHER``): ``score``
because its secret is read at start, ``pick`` because its argument is the copies' reported
values as one JSON list. Node selectors, tolerations and service accounts have no
SageMaker counterpart (Kubernetes only); ``parallelism`` is not kept.
"""

from sagemaker.processing import ProcessingInput
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import CacheConfig, ProcessingStep

from tests.conformance.sagemaker_programs.common import (
    LAUNCHER,
    PLAN,
    code_folder,
    data_output,
    default_bucket,
    in_path,
    output_uri,
    plan,
    processor,
    value_path,
)

NAME = "pod-control"
REGION = "eu-west-1"
BUCKET = default_bucket(REGION)
IMAGE = "python:3.12-slim"
ITEMS = [("eu-west", "0.5"), ("us-east", "0.7"), ("ap-south", "0.6")]
SCORE = "import sys, json; open(sys.argv[3], 'w').write(json.dumps(float(sys.argv[2])))"
PICK = "import sys, json; print(max(json.loads(sys.argv[1])))"
SECRETS = {
    "WAREHOUSE_TOKEN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:warehouse-token"
}
# Each copy's item in its argv; pick's argument every copy's score, as one JSON list.
SCORES = ",".join(f"{in_path('scores')}/{i}/score.json" for i in range(len(ITEMS)))
PLANS = {
    **{
        f"score-{i}": plan(
            ["python", "-c", SCORE, region, threshold, value_path("score")], secrets=SECRETS
        )
        for i, (region, threshold) in enumerate(ITEMS)
    },
    "pick": plan(["python", "-c", PICK, "{files:" + SCORES + "}"], secrets=SECRETS),
}
# The plans differ per step (each copy's item values): not compared (a code folder).
DIGEST = "0" * 64


def build(session):
    instance_type = ParameterString(name="instance_type", default_value="ml.m5.xlarge")
    instance_count = ParameterInteger(name="instance_count", default_value=1)
    copies = []
    for index, _ in enumerate(ITEMS):
        name = f"score-{index}"
        job = processor(
            session,
            IMAGE,
            LAUNCHER,
            instance_type=instance_type,
            instance_count=instance_count,
        )
        copies.append(
            ProcessingStep(
                name=name,
                step_args=job.run(
                    inputs=[code_folder(BUCKET, DIGEST)],
                    outputs=[data_output(BUCKET, NAME, name, "score")],
                    arguments=[PLAN],
                ),
                property_files=[PropertyFile(name="score", output_name="score", path="score.json")],
                cache_config=CacheConfig(enable_caching=True, expire_after="P30D"),
                description="Score one region with its own threshold",
            )
        )
    scores = [
        ProcessingInput(
            source=output_uri(copy, "score"),
            destination=f"/opt/ml/processing/input/scores/{index}",
            input_name=f"scores-{index}",
        )
        for index, copy in enumerate(copies)
    ]
    pick = ProcessingStep(
        name="pick",
        step_args=processor(session, IMAGE, LAUNCHER, instance_type="ml.m5.large").run(
            inputs=[*scores, code_folder(BUCKET, DIGEST)], arguments=[PLAN]
        ),
        description="Receives every region's score as one JSON list",
    )
    return Pipeline(
        name=NAME,
        parameters=[instance_type, instance_count],
        steps=[*copies, pick],
        sagemaker_session=session,
    )
