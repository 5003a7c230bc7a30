"""ModelStep(model.create), ModelStep(model.register(...)), the older RegisterModel step
collection, and a TransformStep over the created model."""

from _offline import REGION, ROLE, session, show
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.transformer import Transformer
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import TrainingStep, TransformStep

sess = session()
approval = ParameterString(name="ApprovalStatus", default_value="PendingManualApproval")
image = image_uris.retrieve(framework="xgboost", region=REGION, version="1.7-1")
est = Estimator(
    image_uri=image,
    role=ROLE,
    instance_type="ml.m5.xlarge",
    instance_count=1,
    output_path="s3://my-bucket/models",
    sagemaker_session=sess,
)
train = TrainingStep(
    name="Train",
    step_args=est.fit(inputs={"train": TrainingInput("s3://my-bucket/train")}),
)
model = Model(
    image_uri=image,
    model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
    role=ROLE,
    sagemaker_session=sess,
)
create = ModelStep(name="CreateModel", step_args=model.create(instance_type="ml.m5.large"))

metrics = ModelMetrics(
    model_statistics=MetricsSource(
        s3_uri="s3://my-bucket/evaluation/evaluation.json", content_type="application/json"
    )
)
register = ModelStep(
    name="Register",
    step_args=model.register(
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        model_package_group_name="churn-models",
        approval_status=approval,
        model_metrics=metrics,
    ),
)
legacy = RegisterModel(
    name="RegisterLegacy",
    estimator=est,
    model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
    content_types=["text/csv"],
    response_types=["text/csv"],
    inference_instances=["ml.m5.large"],
    transform_instances=["ml.m5.large"],
    model_package_group_name="churn-models",
    approval_status="Approved",
)
transformer = Transformer(
    model_name=create.properties.ModelName,
    instance_type="ml.m5.xlarge",
    instance_count=1,
    output_path="s3://my-bucket/batch",
    accept="text/csv",
    assemble_with="Line",
    sagemaker_session=sess,
)
transform = TransformStep(
    name="BatchScore",
    step_args=transformer.transform(
        data="s3://my-bucket/batch-input", content_type="text/csv", split_type="Line"
    ),
)

show(
    Pipeline(
        name="ref-model",
        parameters=[approval],
        steps=[train, create, register, legacy, transform],
        sagemaker_session=sess,
    )
)
