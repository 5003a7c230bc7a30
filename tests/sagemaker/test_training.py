"""Train and tune steps as SageMaker definition entries: a TrainingStep running the step's
command, a TuningStep in script mode for the standard script on a catalog image (with
``<id>-best``), and the emulation of any other tune (trials as processing steps, then the
pick), each registering its outputs for later steps."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipespec import ir
from pipespec.api import analyze_file
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.launch import REQUIREMENTS_RUNNER
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.processing import processing_step
from pipespec.backends.sagemaker.training import training_step
from pipespec.backends.sagemaker.tune_programs import TRIAL_RUNNER_FILE
from pipespec.backends.sagemaker.tune_trials import sample_trials
from pipespec.backends.sagemaker.tuning import parameter_ranges, tuning_steps
from pipespec.backends.sagemaker.upsert import uploads
from pipespec.backends.trials import TRIALS_PROGRAM
from tests.backends.spec_ir import ir_of
from tests.conftest import ROOT

ROLE = "arn:aws:iam::123456789012:role/pipelines"
BUCKET = "acme-ml"
TARGETS = f"targets:\n  sagemaker: {{role_arn: '{ROLE}', region: eu-west-1}}\n"
TRAIN_SPEC = """
pipespec: 1
name: trainer
params:
  rate: {type: float, default: 0.1}
  kind: {type: string, default: ml.m5.2xlarge}
steps:
  prep:
    kind: container
    image: prep:1
    command: [prep, "${outputs.data}", "${outputs.stats}"]
    outputs: {data: dataset, stats: metrics}
  train:
    kind: train
    image: trainer:1
    command: [python, -m, t.train, --data, "${inputs.data}", --rate, "${params.rate}",
              --model, "${outputs.model}"]
    inputs: {data: prep.data, raw: "s3://acme/raw/"}
    hyperparameters: {rate: "${params.rate}", depth: 3, deep: true, name: tree}
    env: {MODE: fast}
    resources: {cpu: 16, memory: 32Gi}
"""


def _context(pipeline: ir.Pipeline) -> Context:
    options = SagemakerOptions(role_arn=ROLE, region="eu-west-1", bucket=BUCKET)
    return Context(pipeline, options, "eu-west-1", ROLE, BUCKET)


def _filled(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> ir.Pipeline:
    monkeypatch.delenv("CI", raising=False)
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text, encoding="utf-8")
    analysis = analyze_file(spec, fill=True)
    assert analysis.pipeline is not None, [d.message for d in analysis.diagnostics]
    return analysis.pipeline


def _example(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> ir.Pipeline:
    text = (ROOT / "examples" / name / "pipeline.yaml").read_text(encoding="utf-8")
    if "  sagemaker:" not in text:
        text += "  " + TARGETS.splitlines()[1].strip() + "\n"
    return _filled(tmp_path, text, monkeypatch)


def _built(ctx: Context, upto: str) -> None:
    """Build the producers before ``upto`` (as processing steps) for their refs."""
    for step in ctx.pipeline.steps:
        if step.id == upto:
            return
        processing_step(ctx, step, ctx.instance_type)


def test_a_train_step_runs_its_command_as_a_training_job(tmp_path: Path) -> None:
    ctx = _context(ir_of(tmp_path, TRAIN_SPEC))
    _built(ctx, "train")
    (entry,) = training_step(ctx, ctx.pipeline.step("train"))
    assert (entry["Name"], entry["Type"]) == ("train", "Training")
    args = entry["Arguments"]
    algorithm = args["AlgorithmSpecification"]
    assert algorithm["TrainingImage"] == "trainer:1"
    assert algorithm["ContainerEntrypoint"] == ["python"]
    rate = {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.rate"}]}}
    assert algorithm["ContainerArguments"] == [
        "-m", "t.train", "--data", "/opt/ml/input/data/data", "--rate", rate,
        "--model", "/opt/ml/model",
    ]  # fmt: skip
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in args["InputDataConfig"]}
    assert channels["data"]["S3Uri"] == {
        "Get": "Steps.prep.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"
    }
    assert channels["raw"]["S3Uri"] == "s3://acme/raw/"
    assert args["HyperParameters"] == {"rate": rate, "depth": "3", "deep": "true", "name": "tree"}
    assert args["Environment"] == {"MODE": "fast"}
    assert args["ResourceConfig"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.4xlarge",
        "VolumeSizeInGB": 30,
    }
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert args["RoleArn"] == ROLE
    path = args["OutputDataConfig"]["S3OutputPath"]["Std:Join"]["Values"]
    assert path[0] == f"s3://{BUCKET}" and path[-2:] == ["train", "model"]
    model = ctx.ref("train", "model")
    assert model.uri == {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"} and model.packed
    assert ctx.exits["train"] == ["train"]
    assert not ctx.errors


def test_a_train_script_arrives_as_the_code_channel(tmp_path: Path) -> None:
    (tmp_path / "fit.py").write_text("print('fit')\n")
    text = TRAIN_SPEC.replace(
        "    command: [python, -m, t.train,",
        "    script: fit.py\n    args: [",
    ).replace("    image: trainer:1\n", "    image: trainer:1\n    timeout: 2h\n")
    text += "    targets: {sagemaker: {instance_type: '${params.kind}', instance_count: 2}}\n"
    ctx = _context(ir_of(tmp_path, text))
    _built(ctx, "train")
    (entry,) = training_step(ctx, ctx.pipeline.step("train"))
    args = entry["Arguments"]
    algorithm = args["AlgorithmSpecification"]
    command = algorithm["ContainerEntrypoint"] + algorithm["ContainerArguments"]
    assert command[:4] == [
        "python3",
        "/opt/ml/input/data/code/fit.py",
        "--data",
        "/opt/ml/input/data/data",
    ]
    (code,) = [c for c in args["InputDataConfig"] if c["ChannelName"] == "code"]
    folder = code["DataSource"]["S3DataSource"]["S3Uri"]
    assert ctx.uploads[f"{folder}/fit.py"] == "print('fit')\n"
    assert args["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.kind"}
    assert args["ResourceConfig"]["InstanceCount"] == 2
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}


def test_a_train_step_output_besides_the_model_is_an_error(tmp_path: Path) -> None:
    scores = '"${outputs.scores}"]\n    outputs: {model: model, scores: metrics}'
    text = TRAIN_SPEC.replace('"${outputs.model}"]', f'"${{outputs.model}}", {scores}')
    ctx = _context(ir_of(tmp_path, text))
    _built(ctx, "train")
    training_step(ctx, ctx.pipeline.step("train"))
    assert [m for _, m in ctx.errors if "'scores'" in m and "keeps only its model" in m]


def test_a_catalog_train_installs_what_the_image_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"""
pipespec: 1
name: lgbm
steps:
  split:
    kind: container
    image: prep:1
    command: [prep, "${{outputs.train}}"]
    outputs: {{train: dataset}}
  train:
    kind: train
    framework: lightgbm
    task: regression
    inputs: {{train: split.train}}
{TARGETS}"""
    ctx = _context(_filled(tmp_path, text, monkeypatch))
    _built(ctx, "train")
    step = ctx.pipeline.step("train")
    (entry,) = training_step(ctx, step)
    args = entry["Arguments"]
    image = step.target_images["sagemaker"]
    assert "sagemaker-scikit-learn" in image
    assert args["AlgorithmSpecification"]["TrainingImage"] == image
    entrypoint = args["AlgorithmSpecification"]["ContainerEntrypoint"]
    assert entrypoint[:4] == ["/bin/sh", "-c", REQUIREMENTS_RUNNER, "pipespec"]
    assert entrypoint[4] == "python3"
    assert args["Environment"]["PIPESPEC_REQUIREMENTS"] == "lightgbm==4.6.0"
    assert not ctx.errors


def test_the_standard_tune_is_a_tuning_job_in_script_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(_example(tmp_path, "tuning", monkeypatch))
    _built(ctx, "tune")
    step = ctx.pipeline.step("tune")
    tune, best = tuning_steps(ctx, step)
    assert (tune["Name"], tune["Type"], best["Name"], best["Type"]) == (
        "tune", "Tuning", "tune-best", "Processing",
    )  # fmt: skip
    config = tune["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "rmse"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 4}
    ranges = config["ParameterRanges"]
    assert {"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.3",
            "ScalingType": "Logarithmic"} in ranges["ContinuousParameterRanges"]  # fmt: skip
    assert {"Name": "n_estimators", "MinValue": "100", "MaxValue": "1000",
            "ScalingType": "Linear"} in ranges["IntegerParameterRanges"]  # fmt: skip
    job = tune["Arguments"]["TrainingJobDefinition"]
    static = job["StaticHyperParameters"]
    assert static["sagemaker_program"] == json.dumps(TRIAL_RUNNER_FILE)
    uri = json.loads(static["sagemaker_submit_directory"])
    assert uri.startswith(f"s3://{BUCKET}/pipespec/code/") and uri.endswith("/sourcedir.tar.gz")
    archive = json.loads(ctx.uploads[uri])  # the members, as upsert.py reads them
    assert set(archive) == {TRIAL_RUNNER_FILE, "plan.json", "train.py", "requirements.txt"}
    assert archive["train.py"] == step.script.source  # type: ignore[union-attr]
    assert archive["requirements.txt"] == "lightgbm==4.6.0\n"
    manifest, _ = uploads(ctx)  # the upsert file lists the archive's members
    (listed,) = [m for m in manifest if m["s3_uri"] == uri]
    assert [m["name"] for m in listed["tar_gz"]] == sorted(archive)
    plan = json.loads(archive["plan.json"])
    assert plan["dimensions"]["num_leaves"] == {"type": "int"}
    assert plan["argv"][plan["hyperparameters_at"] - 1] == [{"text": "--hyperparameters"}]
    assert {"text": "/opt/ml/input/data/train"} in [part for arg in plan["argv"] for part in arg]
    model = ctx.ref("tune", "model")
    values = model.uri["Std:Join"]["Values"]
    assert values[-3:] == [
        {"Get": "Steps.tune.BestTrainingJob.TrainingJobName"}, "output", "model.tar.gz",
    ]  # fmt: skip
    assert model.packed
    assert ctx.ref("tune", "metrics").property_file == ("tune-best", "metrics")
    assert ctx.ref("tune", "best_hyperparameters").property_file == (
        "tune-best", "best_hyperparameters",
    )  # fmt: skip
    assert ctx.exits["tune"] == ["tune-best"]
    assert {f["PropertyFileName"] for f in best["PropertyFiles"]} == {
        "metrics", "best_hyperparameters",
    }  # fmt: skip
    assert not ctx.errors and not ctx.warnings


def _draws(pipeline: str, step: ir.Step) -> dict[str, str]:
    """The env of Kubeflow's `<step>-trials` program for the same step."""

    assert isinstance(step.details, ir.TuneDetails)
    seed = int(hashlib.sha256(f"{pipeline}/{step.id}".encode()).hexdigest()[:8], 16)
    return {
        **os.environ,
        "PIPESPEC_SEARCH_SPACE": json.dumps(ir.thaw(step.details.search_space)),
        "PIPESPEC_TRIALS": str(step.details.max_trials),
        "PIPESPEC_SEED": str(seed),
    }


def test_an_own_command_tune_is_emulated_with_the_shared_trials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(_example(tmp_path, "tuning-own", monkeypatch))
    _built(ctx, "tune")
    step = ctx.pipeline.step("tune")
    entries = tuning_steps(ctx, step)
    names = [e["Name"] for e in entries]
    assert names == [f"tune-trial-{i}" for i in range(6)] + ["tune"]
    trials = sample_trials(ctx.pipeline.name, step)
    env = _draws(ctx.pipeline.name, step)
    result = tmp_path / "trials.json"
    subprocess.run([sys.executable, "-c", TRIALS_PROGRAM, str(result)], env=env, check=True)
    assert trials == json.loads(result.read_text())
    first = entries[0]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert f"--lr={trials[0]['lr']}" in first
    assert f"--optimizer={trials[0]['optimizer']}" in first
    assert entries[0]["Arguments"]["Environment"]["DROPOUT"] == json.dumps(trials[0]["dropout"])
    # parallel_trials: 3 at a time; the pick waits for every trial.
    assert "DependsOn" not in entries[0]
    assert entries[3]["DependsOn"] == ["tune-trial-0"]
    assert entries[-1]["DependsOn"] == names[:-1]
    outputs = entries[0]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    where = outputs[0]["S3Output"]["S3Uri"]["Std:Join"]["Values"]
    assert where[-2:] == ["tune/trials/0", "model"]
    pick = entries[-1]["Arguments"]
    (root,) = [i for i in pick["ProcessingInputs"] if i["InputName"] == "trials"]
    assert root["S3Input"]["S3Uri"]["Std:Join"]["Values"][-2:] == ["tune", "trials"]
    assert ctx.ref("tune", "best_hyperparameters").property_file == (
        "tune", "best_hyperparameters",
    )  # fmt: skip
    assert not ctx.ref("tune", "model").packed
    assert ctx.exits["tune"] == ["tune"]
    assert not ctx.warnings  # the capability table says it is emulated
    assert not ctx.errors


def test_a_tune_without_trial_values_runs_once(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: once
steps:
  tune:
    kind: tune
    image: t:1
    command: [train, "${outputs.model}", "${outputs.metrics}"]
    objective: {metric: auc, goal: maximize}
    search_space: {lr: {type: float, min: 0.001, max: 0.1}}
    hyperparameters: {lr: 0.01}
    max_trials: 4
"""
    ctx = _context(ir_of(tmp_path, text))
    entries = tuning_steps(ctx, ctx.pipeline.step("tune"))
    assert [e["Name"] for e in entries] == ["tune-trial-0", "tune"]
    plan_uri = next(u for u in ctx.uploads if u.endswith("/plan.json"))
    assert json.loads(ctx.uploads[plan_uri])["trials"] == [{"lr": 0.01}]


def test_categorical_choices_travel_as_text_and_come_back_typed(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: choices
steps:
  tune:
    kind: tune
    image: t:1
    command: [train, "${outputs.model}", "${outputs.metrics}"]
    objective: {metric: auc, goal: maximize}
    search_space:
      depth: {type: categorical, values: [3, 5, "deep"]}
      rate: {type: float, min: 0.001, max: 0.1}
    max_trials: 4
"""
    ctx = _context(ir_of(tmp_path, text))
    ranges, dimensions = parameter_ranges(ctx, ctx.pipeline.step("tune"), _space(ctx))
    assert ranges["CategoricalParameterRanges"] == [{"Name": "depth", "Values": ["3", "5", "deep"]}]
    assert ranges["ContinuousParameterRanges"][0]["ScalingType"] == "Auto"
    assert dimensions["depth"]["choices"] == {"3": 3, "5": 5, "deep": "deep"}
    assert not ctx.errors
    ctx = _context(ir_of(tmp_path, text.replace('[3, 5, "deep"]', '[3, "3"]')))
    parameter_ranges(ctx, ctx.pipeline.step("tune"), _space(ctx))
    assert [m for _, m in ctx.errors if "distinct choices" in m]


def _space(ctx: Context) -> ir.FrozenMap:
    details = ctx.pipeline.step("tune").details
    assert isinstance(details, ir.TuneDetails) and details.search_space is not None
    return details.search_space


def test_an_extra_entry_name_over_sagemakers_bound_is_an_error(tmp_path: Path) -> None:
    long = "t" * 60
    text = f"""
pipespec: 1
name: long
steps:
  {long}:
    kind: tune
    image: t:1
    command: [train, "--lr=${{hyperparameters.lr}}", "${{outputs.model}}", "${{outputs.metrics}}"]
    objective: {{metric: auc, goal: maximize}}
    search_space: {{lr: {{type: float, min: 0.001, max: 0.1}}}}
    max_trials: 2
"""
    ctx = _context(ir_of(tmp_path, text))
    tuning_steps(ctx, ctx.pipeline.step(long))
    assert [m for _, m in ctx.errors if f"'{long}-trial-0' is over SageMaker's 64" in m]


def test_an_input_named_code_beside_a_script_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "fit.py").write_text("print('fit')\n")
    text = """
pipespec: 1
name: clash
steps:
  train:
    kind: train
    image: trainer:1
    script: fit.py
    args: [--src, "${inputs.code}", --model, "${outputs.model}"]
    inputs: {code: "s3://acme/src/"}
"""
    ctx = _context(ir_of(tmp_path, text))
    training_step(ctx, ctx.pipeline.step("train"))
    assert [m for _, m in ctx.errors if "input 'code' is the channel" in m]
    ctx = _context(ir_of(tmp_path, text.replace("script: fit.py\n    args: [", "command: [fit, ")))
    training_step(ctx, ctx.pipeline.step("train"))  # no code to deliver: no clash
    assert not ctx.errors


def test_the_standard_tune_without_a_sagemaker_image_is_emulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = """
pipespec: 1
name: no-region
steps:
  split:
    kind: container
    image: prep:1
    command: [prep, "${outputs.train}"]
    outputs: {train: dataset}
  tune:
    kind: tune
    framework: xgboost
    task: regression
    inputs: {train: split.train}
    max_trials: 3
"""
    ctx = _context(_filled(tmp_path, text, monkeypatch))  # no region: no SageMaker image
    _built(ctx, "tune")
    step = ctx.pipeline.step("tune")
    assert "sagemaker" not in step.target_images
    entries = tuning_steps(ctx, step)
    assert [e["Name"] for e in entries] == ["tune-trial-0", "tune-trial-1", "tune-trial-2", "tune"]
    (first,) = sample_trials(ctx.pipeline.name, step)[:1]
    app = entries[0]["Arguments"]["AppSpecification"]
    if app["ContainerEntrypoint"][-1].endswith("pipespec_launch.py"):  # long arguments
        plan_uri = next(u for u in ctx.uploads if u.endswith("/launch.json"))
        argv = [p[0]["text"] for p in json.loads(ctx.uploads[plan_uri])["argv"]]
    else:
        argv = app["ContainerEntrypoint"] + app["ContainerArguments"]
    name = sorted(first)[0]
    assert f"--{name}={json.dumps(first[name])}" in argv
    assert "emulated: no SageMaker image" in ctx.warnings[0][1]


DIRECT = """
pipespec: 1
name: direct
steps:
  make:
    kind: container
    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/make:1
    command: [make, "${outputs.model}"]
    outputs: {model: model}
  reg:
    kind: register
    inputs: {model: make.model}
    model_group: churn
    serving_image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1
  fit:
    kind: train
    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/fit:1
    command: [fit, "--version", "${inputs.version}", "${outputs.model}"]
    inputs: {version: reg.model_version}
"""


def test_a_value_sagemaker_resolves_itself_is_no_channel(tmp_path: Path) -> None:
    """A model package ARN is a `Get` SageMaker resolves: a training job gets it in its
    command, not as a channel of files."""
    from pipespec.backends.sagemaker.definition import definition

    ctx = _context(ir_of(tmp_path, DIRECT))
    doc = definition(ctx)
    assert not ctx.errors, ctx.errors
    fit = next(s for s in doc["Steps"] if s["Name"] == "fit")["Arguments"]
    assert "InputDataConfig" not in fit
    assert fit["AlgorithmSpecification"]["ContainerArguments"][:2] == [
        "--version",
        {"Std:Join": {"On": "", "Values": [{"Get": "Steps.reg.ModelPackageArn"}]}},
    ]
