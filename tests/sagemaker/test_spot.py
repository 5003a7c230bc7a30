"""Managed spot training and checkpoints (``targets.sagemaker.spot``, ``max_wait``,
``checkpoints``): lowered into the step's target overrides in seconds, written into the
training job and the tuning job's training job definition as the SDK writes them, and
warned about where the trials are emulated as processing jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipespec import ir
from pipespec.api import analyze_file
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.processing import processing_step
from pipespec.backends.sagemaker.spot import CHECKPOINT_DIR, stopping_condition
from pipespec.backends.sagemaker.training import training_step
from pipespec.backends.sagemaker.tuning import tuning_steps
from tests.backends.spec_ir import ir_of
from tests.conftest import ROOT

ROLE = "arn:aws:iam::123456789012:role/pipelines"
BUCKET = "acme-ml"
SPEC = """
pipespec: 1
name: spot
steps:
  train:
    kind: train
    image: trainer:1
    command: [train, --model, "${outputs.model}"]
"""


def _context(pipeline: ir.Pipeline) -> Context:
    options = SagemakerOptions(role_arn=ROLE, region="eu-west-1", bucket=BUCKET)
    return Context(pipeline, options, "eu-west-1", ROLE, BUCKET)


def _train(tmp_path: Path, extra: str) -> dict[str, object]:
    ctx = _context(ir_of(tmp_path, SPEC + extra))
    (entry,) = training_step(ctx, ctx.pipeline.step("train"))
    assert not ctx.errors and not ctx.warnings
    arguments: dict[str, object] = entry["Arguments"]
    return arguments


def test_overrides_carry_what_was_written_with_max_wait_in_seconds(tmp_path: Path) -> None:
    text = SPEC + (
        "    targets:\n"
        "      sagemaker: {spot: true, max_wait: 1h30m, checkpoints: true}\n"
        "      vertex: {instance_type: n1-standard-8}\n"
    )
    step = ir_of(tmp_path, text).step("train")
    assert ir.thaw(step.target_overrides) == {
        "sagemaker": {"spot": True, "max_wait_s": 5400, "checkpoints": True},
        "vertex": {"instance_type": "n1-standard-8"},
    }


def test_a_block_without_spot_lowers_as_before(tmp_path: Path) -> None:
    """Settings left at their defaults (spot: false) are not overrides: a spec without
    spot has the IR, and so the output, it had before spot existed."""
    text = SPEC + "    targets: {sagemaker: {instance_type: ml.m5.large, spot: false}}\n"
    step = ir_of(tmp_path, text).step("train")
    assert ir.thaw(step.target_overrides) == {"sagemaker": {"instance_type": "ml.m5.large"}}


def test_a_spot_train_job_with_checkpoints_under_the_run(tmp_path: Path) -> None:
    args = _train(
        tmp_path,
        "    timeout: 1h\n"
        "    targets: {sagemaker: {spot: true, max_wait: 3h, checkpoints: true}}\n",
    )
    assert args["EnableManagedSpotTraining"] is True
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 10800}
    config = args["CheckpointConfig"]
    assert isinstance(config, dict)
    assert config["LocalPath"] == CHECKPOINT_DIR == "/opt/ml/checkpoints"
    where = config["S3Uri"]["Std:Join"]
    assert where["On"] == "/"
    assert where["Values"] == [
        f"s3://{BUCKET}", "pipespec", "spot", {"Get": "Execution.PipelineExecutionId"},
        "train", "checkpoints",
    ]  # fmt: skip


def test_spot_without_max_wait_waits_twice_the_run_time(tmp_path: Path) -> None:
    args = _train(tmp_path, "    timeout: 2h\n    targets: {sagemaker: {spot: true}}\n")
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert "CheckpointConfig" not in args
    args = _train(tmp_path, "    targets: {sagemaker: {spot: true}}\n")
    assert args["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 86400,  # the SDK's default run time
        "MaxWaitTimeInSeconds": 172800,
    }


def test_max_wait_without_a_timeout_bounds_the_run_time(tmp_path: Path) -> None:
    """SageMaker rejects a wait below the run time: without a timeout of its own the job
    may run no longer than it may wait."""
    args = _train(tmp_path, "    targets: {sagemaker: {spot: true, max_wait: 2h}}\n")
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 7200}


def test_checkpoints_without_spot_keep_the_job_on_demand(tmp_path: Path) -> None:
    args = _train(tmp_path, "    targets: {sagemaker: {checkpoints: true}}\n")
    assert "EnableManagedSpotTraining" not in args
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert "CheckpointConfig" in args


def test_a_train_without_spot_has_none_of_it(tmp_path: Path) -> None:
    args = _train(tmp_path, "")
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert not {"EnableManagedSpotTraining", "CheckpointConfig"} & set(args)
    assert stopping_condition(ir_of(tmp_path, SPEC).step("train")) == {"MaxRuntimeInSeconds": 86400}


def _example(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, block: str) -> Context:
    """The example with ``block`` as its tune step's ``targets.sagemaker``."""
    monkeypatch.delenv("CI", raising=False)
    text = (ROOT / "examples" / name / "pipeline.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    kind: tune\n", f"    kind: tune\n    targets: {{sagemaker: {block}}}\n"
    )
    if "  sagemaker: {role_arn" not in text:
        text += f"  sagemaker: {{role_arn: '{ROLE}', region: eu-west-1}}\n"
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text, encoding="utf-8")
    analysis = analyze_file(spec, fill=True)
    assert analysis.pipeline is not None, [d.message for d in analysis.diagnostics]
    ctx = _context(analysis.pipeline)
    for step in ctx.pipeline.steps:
        if step.id == "tune":
            break
        processing_step(ctx, step, ctx.instance_type)
    return ctx


def test_a_tuning_job_runs_its_trials_on_spot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _example(tmp_path, "tuning", monkeypatch, "{spot: true, max_wait: 3h}")
    tune, _ = tuning_steps(ctx, ctx.pipeline.step("tune"))
    job = tune["Arguments"]["TrainingJobDefinition"]
    assert job["EnableManagedSpotTraining"] is True
    # The example's defaults.timeout is 1h.
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 10800}
    assert "CheckpointConfig" not in job
    assert not ctx.errors and not ctx.warnings


def test_emulated_trials_cannot_use_spot_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _example(tmp_path, "tuning-own", monkeypatch, "{spot: true}")
    entries = tuning_steps(ctx, ctx.pipeline.step("tune"))
    assert all(e["Type"] == "Processing" for e in entries)
    assert not any("EnableManagedSpotTraining" in e["Arguments"] for e in entries)
    (warning,) = [m for _, m in ctx.warnings if "spot" in m]
    assert "processing jobs" in warning and "no effect" in warning
    assert not ctx.errors


def test_the_spot_settings_validate_where_they_apply(tmp_path: Path) -> None:
    """The good half of tests/cases/bad/sagemaker_spot.yaml, on its own: no diagnostic."""
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        SPEC
        + "    timeout: 2h\n"
        + "    targets: {sagemaker: {spot: true, max_wait: 2h, checkpoints: true}}\n",
        encoding="utf-8",
    )
    analysis = analyze_file(spec)
    assert analysis.pipeline is not None and not analysis.diagnostics
