"""examples/branching as a sagemaker SDK program: a quality gate (a ConditionStep on the
evaluation's AUC, read from its property file) with the retrain on the else branch; the
publish step, which takes the model from whichever branch ran, once per branch (each
copy reads one branch's model, so only the copy after the branch that ran can run); a
FailStep under a second ConditionStep when the AUC is below the floor."""

from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThan
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import JsonGet
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

from tests.conformance.sagemaker_programs.common import (
    data_input,
    data_output,
    default_bucket,
    in_path,
    out_path,
    output_uri,
    processor,
    value_path,
)

NAME = "branching"
REGION = "eu-west-1"
BUCKET = default_bucket(REGION)
IMAGE = "ghcr.io/acme/models:2.0.1"


def _step(session, name, argv, inputs=(), outputs=(), **kwargs):
    return ProcessingStep(
        name=name,
        step_args=processor(session, IMAGE, argv).run(
            inputs=list(inputs),
            outputs=[data_output(BUCKET, NAME, name, o) for o in outputs],
        ),
        **kwargs,
    )


def build(session):
    min_auc = ParameterFloat(name="min_auc", default_value=0.8)
    floor = ParameterFloat(name="floor", default_value=0.5)
    train = _step(
        session,
        "train",
        ["python", "-m", "models.train", "--model", out_path("model")],
        outputs=["model"],
    )
    metrics = PropertyFile(name="metrics", output_name="metrics", path="metrics.json")
    model = data_input("model", output_uri(train, "model"))
    evaluate = _step(
        session,
        "evaluate",
        [
            "python",
            "-m",
            "models.evaluate",
            "--model",
            in_path("model"),
            "--metrics",
            value_path("metrics"),
        ],
        inputs=[model],
        outputs=["metrics"],
        property_files=[metrics],
    )
    auc = JsonGet(step_name="evaluate", property_file=metrics, json_path="auc")
    promote = _step(
        session,
        "promote",
        ["python", "-m", "models.promote", "--model", in_path("model"), "--out", out_path("model")],
        inputs=[model],
        outputs=["model"],
    )
    retrain = _step(
        session,
        "retrain",
        ["python", "-m", "models.train", "--bigger", "--model", out_path("model")],
        outputs=["model"],
    )
    gate = ConditionStep(
        name="promote-when",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=min_auc)],
        if_steps=[promote],
        else_steps=[retrain],
    )
    publish = [
        _step(
            session,
            f"publish-{branch.name}",
            ["python", "-m", "models.publish", "--model", in_path("model")],
            inputs=[data_input("model", output_uri(branch, "model"))],
        )
        for branch in (promote, retrain)
    ]
    stop = ConditionStep(
        name="stop-when",
        conditions=[ConditionLessThan(left=auc, right=floor)],
        if_steps=[
            FailStep(
                name="stop",
                error_message="AUC is below the floor: the data is probably broken, not the model",
            )
        ],
    )
    return Pipeline(
        name=NAME,
        parameters=[min_auc, floor],
        steps=[train, evaluate, gate, *publish, stop],
        sagemaker_session=session,
    )
