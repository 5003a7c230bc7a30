"""pipespec's inference handler in a model's container, where the catalog's SageMaker
serving image is a framework image (the scikit-learn and XGBoost inference containers,
which load no model themselves: they import a user module defining ``model_fn`` and the
request functions).

When the compiler says so (``step.serving_code["sagemaker"]``: a model of the standard
train script in the catalog's serving image), the container gets the handler as the
SageMaker SDK's framework ``Model(entry_point=..., source_dir=...)`` ships an inference
script: a ``sourcedir.tar.gz`` holding it (and a ``requirements.txt`` for a framework the
image lacks, LightGBM on the scikit-learn image), and the environment the SDK writes on
CreateModel's PrimaryContainer and on a model package's InferenceSpecification container:
``SAGEMAKER_PROGRAM`` (the handler's file), ``SAGEMAKER_SUBMIT_DIRECTORY`` (the archive's
S3 URI), ``SAGEMAKER_CONTAINER_LOG_LEVEL`` ("20", logging.INFO) and ``SAGEMAKER_REGION``.
The archive is content-keyed (``tuning.sourcedir``), where the SDK's key carries a time.
A serving image the spec names gets nothing: what it runs is its own.
"""

from __future__ import annotations

from pipespec import ir
from pipespec.backends.sagemaker.context import Context, script_file
from pipespec.backends.sagemaker.tuning import sourcedir

LOG_LEVEL = "20"  # logging.INFO, the SDK's default container_log_level
REQUIREMENTS = "requirements.txt"


def handler_environment(ctx: Context, step: ir.Step) -> dict[str, str]:
    """The container's SAGEMAKER_* environment for the handler (its archive uploaded),
    or nothing when the step's model is not served by pipespec's handler."""
    code = step.serving_code.get("sagemaker")
    if not isinstance(code, ir.ServingCode):
        return {}
    program = script_file(code.handler.name)
    files = {program: code.handler.source}
    if code.requirements:
        files[REQUIREMENTS] = "".join(p + "\n" for p in code.requirements)
    return {
        "SAGEMAKER_PROGRAM": program,
        "SAGEMAKER_SUBMIT_DIRECTORY": sourcedir(ctx, files, f"{step.id}-serve"),
        "SAGEMAKER_CONTAINER_LOG_LEVEL": LOG_LEVEL,
        "SAGEMAKER_REGION": ctx.region,
    }
