"""Pipeline parameters of each type, and the pipeline-level fields."""

from _offline import session, show
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import (
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
)
from sagemaker.workflow.pipeline import Pipeline

sess = session()
region = ParameterString(name="Region", default_value="eu-west-1")
bucket = ParameterString(name="InputUri")  # no default: required at StartPipelineExecution
count = ParameterInteger(name="InstanceCount", default_value=1)
threshold = ParameterFloat(name="Threshold", default_value=0.75)
flag = ParameterBoolean(name="Flag", default_value=True)
allowed = ParameterString(
    name="InstanceType", default_value="ml.m5.xlarge", enum_values=["ml.m5.xlarge", "ml.m5.2xlarge"]
)

fail = FailStep(name="Stop", error_message=Join(on=" ", values=["threshold", threshold, region]))
pipeline = Pipeline(
    name="ref-params",
    parameters=[region, bucket, count, threshold, flag, allowed],
    steps=[fail],
    sagemaker_session=sess,
)
show(pipeline)
