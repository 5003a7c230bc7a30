"""examples/tuning-own as a sagemaker SDK program. The tune step runs its own command, and a
tuning job's training job definition has no container entrypoint, so it is emulated as
the other targets run it: six processing jobs ``tune-trial-<i>``, each with one trial's
values where the command names them (``DROPOUT`` in its env), three at a time (a trial
waits for the one three before it), the trials drawn by pipespec's shared seeded sampler
(``pipespec/backends/trials.py``, read as the Kubeflow programs read it: the values every
target draws); then ``tune``, pipespec's select program picking the best trial by
``val_auc`` and copying its outputs; the retrain under a ConditionStep on the best AUC
and the best trial's ``layers``."""

import hashlib
import runpy
from pathlib import Path

from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import (
    ConditionGreaterThanOrEqualTo,
    ConditionLessThanOrEqualTo,
)
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

from tests.conformance.sagemaker_programs.common import (
    CODE_DIR,
    LAUNCHER,
    PLAN,
    PREFIX,
    code_folder,
    data_input,
    data_output,
    default_bucket,
    in_path,
    out_path,
    output_uri,
    plan,
    processor,
    retries,
    value_path,
)

NAME = "own-tuning"
REGION = "eu-west-1"
BUCKET = default_bucket(REGION)
IMAGE = "ghcr.io/acme/fraud:2.1.0"
INSTANCE = "ml.m5.xlarge"  # the default; the tune step's 4 CPUs, 8 GiB
TIMEOUT_S = 7200
DIGEST = "0" * 64  # code folders: not compared
SPACE = {
    "lr": {"type": "float", "min": 0.0001, "max": 0.1, "scale": "log"},
    "layers": {"type": "int", "min": 2, "max": 6},
    "optimizer": {"type": "categorical", "values": ["adam", "sgd"]},
    "dropout": {"type": "float", "min": 0.0, "max": 0.5},
}
TRIALS, PARALLEL = 6, 3
_ROOT = Path(__file__).resolve().parents[3]


PLANS = {
    "retrain": plan(
        [
            "python",
            "-m",
            "fraud.retrain",
            "--train",
            in_path("train"),
            "--best",
            "{file:" + in_path("best") + "/best_hyperparameters.json}",
            "--warm-start",
            in_path("warm"),
            "--model",
            out_path("model"),
        ]
    ),
}


def _trials():
    sampler = runpy.run_path(str(_ROOT / "pipespec" / "backends" / "trials.py"))
    namespace = {}
    exec(sampler["SAMPLE_TRIALS"], namespace)  # pipespec's own constant code
    seed = int(hashlib.sha256(f"{NAME}/tune".encode()).hexdigest()[:8], 16)
    return namespace["_sample_trials"](SPACE, TRIALS, seed)


def _split(session):
    argv = ["python", "-m", "fraud.split"]
    argv += ["--train", out_path("train"), "--validation", out_path("validation")]
    job = processor(session, IMAGE, argv, max_runtime_s=TIMEOUT_S)
    return ProcessingStep(
        name="split",
        step_args=job.run(
            outputs=[data_output(BUCKET, NAME, "split", o) for o in ("train", "validation")]
        ),
        retry_policies=retries(1),
    )


def _trial(session, split, index, values, before):
    argv = ["python", "-m", "fraud.train"]
    argv += [f"--train={in_path('train')}", f"--validation={in_path('validation')}"]
    argv += [f"--lr={values['lr']}", f"--layers={values['layers']}"]
    argv += [f"--optimizer={values['optimizer']}"]
    argv += [f"--model={out_path('model')}", f"--metrics={value_path('metrics')}"]
    job = processor(
        session,
        IMAGE,
        argv,
        instance_type=INSTANCE,
        env={"DROPOUT": str(values["dropout"])},
        max_runtime_s=TIMEOUT_S,
    )
    folder = f"tune/trials/{index}"
    inputs = [data_input(c, output_uri(split, c)) for c in ("train", "validation")]
    return ProcessingStep(
        name=f"tune-trial-{index}",
        step_args=job.run(
            inputs=inputs,
            outputs=[data_output(BUCKET, NAME, folder, o) for o in ("model", "metrics")],
        ),
        property_files=[PropertyFile(name="metrics", output_name="metrics", path="metrics.json")],
        retry_policies=retries(1),
        depends_on=before,
    )


def _select(session, trials, files):
    argv = ["python3", f"{CODE_DIR}/pipespec_select.py", f"{CODE_DIR}/plan.json"]
    location = [f"s3://{BUCKET}", PREFIX, NAME, ExecutionVariables.PIPELINE_EXECUTION_ID]
    every_trial = Join(on="/", values=[*location, "tune", "trials"])
    outputs = ("model", "metrics", "best_hyperparameters")
    return ProcessingStep(
        name="tune",
        step_args=processor(session, IMAGE, argv, instance_type=INSTANCE, max_runtime_s=3600).run(
            inputs=[data_input("trials", every_trial), code_folder(BUCKET, DIGEST)],
            outputs=[data_output(BUCKET, NAME, "tune", o) for o in outputs],
        ),
        property_files=files,
        retry_policies=retries(1),
        depends_on=trials,
    )


def _retrain(session, split, tune):
    inputs = [
        data_input("train", output_uri(split, "train")),
        data_input("best", output_uri(tune, "best_hyperparameters")),
        data_input("warm", output_uri(tune, "model")),
        code_folder(BUCKET, DIGEST),
    ]
    job = processor(session, IMAGE, LAUNCHER, instance_type=INSTANCE, max_runtime_s=TIMEOUT_S)
    return ProcessingStep(
        name="retrain",
        step_args=job.run(
            inputs=inputs,
            outputs=[data_output(BUCKET, NAME, "retrain", "model")],
            arguments=[PLAN],  # --best reads the values file: through the launcher
        ),
        retry_policies=retries(1),
    )


def build(session):
    min_auc = ParameterFloat(name="min_auc", default_value=0.8)
    split = _split(session)
    trials = []
    for index, values in enumerate(_trials()):
        before = [trials[index - PARALLEL]] if index >= PARALLEL else None
        trials.append(_trial(session, split, index, values, before))
    metrics = PropertyFile(name="metrics", output_name="metrics", path="metrics.json")
    best = PropertyFile(
        name="best_hyperparameters",
        output_name="best_hyperparameters",
        path="best_hyperparameters.json",
    )
    tune = _select(session, trials, [metrics, best])
    auc = JsonGet(step_name="tune", property_file=metrics, json_path="val_auc")
    layers = JsonGet(step_name="tune", property_file=best, json_path="layers")
    gate = ConditionStep(
        name="retrain-when",
        conditions=[
            ConditionGreaterThanOrEqualTo(left=auc, right=min_auc),
            ConditionLessThanOrEqualTo(left=layers, right=4),
        ],
        if_steps=[_retrain(session, split, tune)],
    )
    return Pipeline(
        name=NAME,
        parameters=[min_auc],
        steps=[split, *trials, tune, gate],
        sagemaker_session=session,
    )
