"""QualityCheckStep (data quality baseline) and ClarifyCheckStep (data bias): what a
``monitor`` construct would need. Both run a processing job with an AWS-owned image."""

from _offline import ROLE, session, show
from sagemaker.clarify import BiasConfig, DataConfig
from sagemaker.model_monitor.dataset_format import DatasetFormat
from sagemaker.workflow.check_job_config import CheckJobConfig
from sagemaker.workflow.clarify_check_step import ClarifyCheckStep, DataBiasCheckConfig
from sagemaker.workflow.parameters import ParameterBoolean
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep

sess = session()
skip = ParameterBoolean(name="SkipCheck", default_value=False)
register_new = ParameterBoolean(name="RegisterNewBaseline", default_value=False)
job = CheckJobConfig(
    role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", sagemaker_session=sess
)
quality = QualityCheckStep(
    name="DataQuality",
    quality_check_config=DataQualityCheckConfig(
        baseline_dataset="s3://my-bucket/train/train.csv",
        dataset_format=DatasetFormat.csv(header=False),
        output_s3_uri="s3://my-bucket/monitor/data-quality",
    ),
    check_job_config=job,
    skip_check=skip,
    register_new_baseline=register_new,
    supplied_baseline_statistics="s3://my-bucket/baseline/statistics.json",
    supplied_baseline_constraints="s3://my-bucket/baseline/constraints.json",
    model_package_group_name="churn-models",
)
bias = ClarifyCheckStep(
    name="DataBias",
    clarify_check_config=DataBiasCheckConfig(
        data_config=DataConfig(
            s3_data_input_path="s3://my-bucket/train/train.csv",
            s3_output_path="s3://my-bucket/monitor/bias",
            label="churn",
            dataset_type="text/csv",
        ),
        data_bias_config=BiasConfig(label_values_or_threshold=[1], facet_name="gender"),
    ),
    check_job_config=job,
    skip_check=skip,
    register_new_baseline=register_new,
    model_package_group_name="churn-models",
)
show(
    Pipeline(
        name="ref-checks",
        parameters=[skip, register_new],
        steps=[quality, bias],
        sagemaker_session=sess,
    )
)
