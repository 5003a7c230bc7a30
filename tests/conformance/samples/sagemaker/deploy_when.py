"""Deploy a model when a parameter says so, else batch-score with it.

Steps: ConditionStep whose IfSteps hold a ModelStep (Model.create), EndpointConfigStep and
EndpointStep (sagemaker 2.257.6's workflow/endpoint_step.py; the endpoint config named per
execution with Join, as a fixed name would collide on the second run), and whose ElseSteps
hold a ModelStep over an uncompressed model folder (model_data as a ModelDataSource:
S3Prefix, CompressionType None) and a TransformStep; then a RegisterModel with customer
metadata properties over the same folder. ``build(session)`` is called by ``sagemaker_probe
--build`` with an offline ``PipelineSession``.
"""

from sagemaker.model import Model
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionEquals, ConditionNot, ConditionOr
from sagemaker.workflow.endpoint_step import EndpointConfigStep, EndpointStep
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import TransformStep

ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-serving:1"
MODEL = "s3://my-bucket/models/model.tar.gz"
FOLDER = {
    "S3DataSource": {
        "S3Uri": "s3://my-bucket/models/folder/",
        "S3DataType": "S3Prefix",
        "CompressionType": "None",
    }
}


def _model(session, data=MODEL):
    return Model(image_uri=IMAGE, model_data=data, role=ROLE, sagemaker_session=session)


def build(session):
    mode = ParameterString("Mode", default_value="deploy")
    create = ModelStep(name="Serve", step_args=_model(session).create(instance_type="ml.m5.large"))
    config = EndpointConfigStep(
        name="ServeConfig",
        step_args=session.create_endpoint_config(
            name=Join(on="-", values=["churn", ExecutionVariables.PIPELINE_EXECUTION_ID]),
            model_name=create.properties.ModelName,
            initial_instance_count=1,
            instance_type="ml.m5.large",
        ),
    )
    endpoint = EndpointStep(
        name="ServeEndpoint",
        step_args=session.create_endpoint(
            endpoint_name="churn", config_name=config.properties.EndpointConfigName
        ),
    )
    batch_model = ModelStep(
        name="Batch", step_args=_model(session, FOLDER).create(instance_type="ml.m5.large")
    )
    transformer = Transformer(
        model_name=batch_model.properties.ModelName,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://my-bucket/scores",
        sagemaker_session=session,
    )
    score = TransformStep(
        name="Score",
        step_args=transformer.transform(data="s3://my-bucket/batch", content_type="text/csv"),
    )
    check = ConditionStep(
        name="DeployOrScore",
        conditions=[
            ConditionEquals(left=mode, right="deploy"),
            # Not and an Or holding a Not: shapes AWS's schema lacks (a listed correction).
            ConditionNot(expression=ConditionEquals(left=mode, right="never")),
            ConditionOr(
                conditions=[
                    ConditionNot(expression=ConditionEquals(left=mode, right="off")),
                    ConditionEquals(left=mode, right="force"),
                ]
            ),
        ],
        if_steps=[create, config, endpoint],
        else_steps=[batch_model, score],
    )
    register = ModelStep(
        name="Register",
        step_args=_model(session, FOLDER).register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            model_package_group_name="churn",
            approval_status="Approved",
            customer_metadata_properties={"team": "growth"},
        ),
    )
    return Pipeline(
        name="churn-deploy",
        parameters=[mode],
        steps=[check, register],
        sagemaker_session=session,
    )
