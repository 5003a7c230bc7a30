"""Deploying from a pipeline. sagemaker 2.257 has EndpointConfigStep and EndpointStep (step
types "EndpointConfig" and "Endpoint"), fed by PipelineSession.create_endpoint_config /
create_endpoint. The older documented pattern, a LambdaStep calling a Lambda function that
deploys, is shown beside them (function_arn given: the SDK creates no function)."""

from _offline import REGION, ROLE, session, show
from sagemaker import image_uris
from sagemaker.lambda_helper import Lambda
from sagemaker.model import Model
from sagemaker.workflow.endpoint_step import EndpointConfigStep, EndpointStep
from sagemaker.workflow.functions import Join
from sagemaker.workflow.lambda_step import (
    LambdaOutput,
    LambdaOutputTypeEnum,
    LambdaStep,
)
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.pipeline import Pipeline

sess = session()
image = image_uris.retrieve(framework="xgboost", region=REGION, version="1.7-1")
model = Model(
    image_uri=image,
    model_data="s3://my-bucket/models/model.tar.gz",
    role=ROLE,
    sagemaker_session=sess,
)
create = ModelStep(name="CreateModel", step_args=model.create(instance_type="ml.m5.large"))
config = EndpointConfigStep(
    name="EndpointConfig",
    step_args=sess.create_endpoint_config(
        name="churn-config",
        model_name=create.properties.ModelName,
        initial_instance_count=1,
        instance_type="ml.m5.large",
    ),
)
endpoint = EndpointStep(
    name="Endpoint",
    step_args=sess.create_endpoint(
        endpoint_name="churn-endpoint", config_name=config.properties.EndpointConfigName
    ),
)
deploy_fn = Lambda(
    function_arn="arn:aws:lambda:eu-west-1:111122223333:function:deploy-model",
    session=sess,
)
lambda_deploy = LambdaStep(
    name="DeployWithLambda",
    lambda_func=deploy_fn,
    inputs={
        "model_name": create.properties.ModelName,
        "endpoint_name": Join(on="-", values=["churn", "lambda"]),
    },
    outputs=[LambdaOutput(output_name="status", output_type=LambdaOutputTypeEnum.String)],
)
show(
    Pipeline(
        name="ref-deploy",
        steps=[create, config, endpoint, lambda_deploy],
        sagemaker_session=sess,
    )
)
