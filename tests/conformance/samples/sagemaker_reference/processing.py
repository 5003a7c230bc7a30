"""ProcessingStep: ScriptProcessor with local code, FrameworkProcessor (SKLearn) with a
source_dir, inputs/outputs, a PropertyFile, and one step's output feeding the next."""

from _offline import ROLE, session, show
from sagemaker.processing import (
    FrameworkProcessor,
    ProcessingInput,
    ProcessingOutput,
    ScriptProcessor,
)
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

sess = session()
input_uri = ParameterString(name="InputUri", default_value="s3://my-bucket/raw/data.csv")
count = ParameterInteger(name="InstanceCount", default_value=1)

script = ScriptProcessor(
    image_uri="111122223333.dkr.ecr.eu-west-1.amazonaws.com/prep:latest",
    command=["python3"],
    role=ROLE,
    instance_type="ml.m5.xlarge",
    instance_count=count,
    env={"MODE": "full"},
    sagemaker_session=sess,
)
prep_args = script.run(
    code="code/preprocess.py",
    inputs=[ProcessingInput(source=input_uri, destination="/opt/ml/processing/input")],
    outputs=[
        ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
        ProcessingOutput(
            output_name="test",
            source="/opt/ml/processing/test",
            destination=Join(on="/", values=["s3://my-bucket", "prep", "test"]),
        ),
    ],
    arguments=["--split", "0.2"],
)
prep = ProcessingStep(name="Prep", step_args=prep_args)

framework = FrameworkProcessor(
    estimator_cls=SKLearn,
    framework_version="1.2-1",
    role=ROLE,
    instance_type="ml.m5.xlarge",
    instance_count=1,
    sagemaker_session=sess,
)
report = PropertyFile(name="EvalReport", output_name="evaluation", path="evaluation.json")
eval_args = framework.run(
    code="evaluate.py",
    source_dir="code",
    inputs=[
        ProcessingInput(
            source=prep.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri,
            destination="/opt/ml/processing/test",
        )
    ],
    outputs=[ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
)
evaluate = ProcessingStep(name="Evaluate", step_args=eval_args, property_files=[report])

show(
    Pipeline(
        name="ref-processing",
        parameters=[input_uri, count],
        steps=[prep, evaluate],
        sagemaker_session=sess,
    )
)
