"""ModelStep over framework models with an inference entry_point. SKLearnModel points its
container at an uploaded sourcedir.tar.gz (env SAGEMAKER_SUBMIT_DIRECTORY); PyTorchModel with
model_data from a step adds a repack training step (model.tar.gz rebuilt with the code inside,
at run time) before CreateModel."""

import os
import shutil
import tempfile

from _offline import ROLE, session, show
from sagemaker.pytorch.model import PyTorchModel
from sagemaker.sklearn.model import SKLearnModel
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline

sess = session()
# The repack writes _repack_model.py and its launcher into source_dir: give it a copy.
scratch = tempfile.mkdtemp(prefix="repack-")
torch_code = shutil.copytree("code", os.path.join(scratch, "code"))
model = SKLearnModel(
    model_data="s3://my-bucket/models/model.tar.gz",
    entry_point="train.py",  # stands in for an inference script
    source_dir="code",
    framework_version="1.2-1",
    role=ROLE,
    sagemaker_session=sess,
)
step = ModelStep(name="Serve", step_args=model.create(instance_type="ml.m5.large"))
model_uri = ParameterString(name="ModelUri", default_value="s3://my-bucket/models/model.tar.gz")
torch = PyTorchModel(
    model_data=model_uri,  # a pipeline variable: the repack is deferred to run time
    entry_point="train.py",
    source_dir=torch_code,
    framework_version="2.1",
    py_version="py310",
    role=ROLE,
    sagemaker_session=sess,
)
torch_step = ModelStep(name="ServeTorch", step_args=torch.create(instance_type="ml.m5.large"))
show(
    Pipeline(
        name="ref-repack", parameters=[model_uri], steps=[step, torch_step], sagemaker_session=sess
    )
)
