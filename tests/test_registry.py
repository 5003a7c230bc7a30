"""`register` and `batch_predict` kinds and `serving_image`: IR, fill, features, Airflow.

The example examples/registry (train -> evaluate -> register when the AUC clears the bar ->
batch_predict) is the worked case; small specs written here cover the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipespec import ir
from pipespec.api import analyze_file
from pipespec.backends.airflow.capabilities import CAPABILITIES
from pipespec.backends.base import Support
from pipespec.compiler.complete import check_complete
from pipespec.ir.features import features_used
from tests.conftest import ROOT
from tests.targets import example_pipeline

SERVING = "ghcr.io/acme/churn-serving:1.4.2"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> ir.Pipeline:
    monkeypatch.chdir(ROOT)
    return example_pipeline("registry")


def _args(step: ir.Step) -> list[str]:
    return ["".join(str(getattr(s, "text", s)) for s in arg) for arg in step.args]


def test_register_details_are_typed_as_written(registry: ir.Pipeline) -> None:
    details = registry.step("register").details
    assert isinstance(details, ir.RegisterDetails)
    assert (details.model_group, details.approval) == ("churn", "pending")
    assert details.tags == {"team": "growth"}
    # Nothing inherited in the details: the serving image is the train step's.
    assert details.serving_image is None
    assert registry.step("train").details["serving_image"] == SERVING
    predict = registry.step("predict").details
    assert isinstance(predict, ir.BatchPredictDetails)
    assert predict.keep_columns == ("customer_id",)


def test_catalog_fills_register_with_the_mlflow_script(registry: ir.Pipeline) -> None:
    step = registry.step("register")
    assert step.script is not None and step.script.name == "pipespec:register"
    args = _args(step)
    assert args[args.index("--model-group") + 1] == "churn"
    assert args[args.index("--approval") + 1] == "pending"
    assert args[args.index("--serving-image") + 1] == SERVING  # the model's, inherited
    assert args[args.index("--tag") + 1] == "team=growth"
    assert "--metrics" in args and "--description" in args
    assert [o.name for o in step.outputs] == ["model_version"]


def test_batch_predict_runs_the_standard_script_in_the_serving_image(
    registry: ir.Pipeline,
) -> None:
    step = registry.step("predict")
    assert step.script is not None and step.script.name == "pipespec:batch_predict"
    assert step.image == SERVING
    assert step.provenance["image"] == "serving_image"
    args = _args(step)
    assert args[args.index("--keep-columns") + 1] == "customer_id"
    assert ("predictions", "dataset") in [(o.name, o.type) for o in step.outputs]
    assert "register" in step.upstream  # `after: [register]`: only a registered model


def test_features_and_airflow_rows(registry: ir.Pipeline) -> None:
    used = features_used(registry)
    assert [s.id for s in used[ir.Feature.REGISTER_MODEL]] == ["register"]
    assert [s.id for s in used[ir.Feature.BATCH_PREDICT]] == ["predict"]
    assert [s.id for s in used[ir.Feature.SERVING_IMAGE]] == ["train"]
    assert ir.Feature.MODEL_FIELDS_OWN_COMMAND not in used
    for feature in (
        ir.Feature.REGISTER_MODEL,
        ir.Feature.BATCH_PREDICT,
        ir.Feature.SERVING_IMAGE,
        ir.Feature.MODEL_FIELDS_OWN_COMMAND,
    ):
        assert feature in CAPABILITIES
    assert CAPABILITIES[ir.Feature.MODEL_FIELDS_OWN_COMMAND].support is Support.EMULATED


OWN = """\
pipespec: 1
name: own
defaults: {image: ghcr.io/acme/base:1}
steps:
  train:
    kind: train
    image: ghcr.io/acme/train:1
    command: [train, "${outputs.model}"]
    framework: xgboost
    task: regression
    hyperparameters: {max_depth: 3}
  register:
    kind: register
    image: ghcr.io/acme/registry-client:1
    command: [register, "${inputs.model}", "${outputs.model_version}"]
    inputs: {model: train.model}
    model_group: houses
    approval: approved
    parent_model: projects/p/locations/l/models/42
  predict:
    kind: batch_predict
    command: [predict, "${inputs.model}", "${inputs.data}", "${outputs.predictions}"]
    inputs: {model: train.model, data: train.model}
    serving_image: ghcr.io/acme/serve:2
"""


def _analyze(tmp_path: Path, text: str) -> ir.Pipeline:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text)
    analysis = analyze_file(spec, fill=True)
    assert analysis.pipeline is not None, [d.message for d in analysis.diagnostics]
    return analysis.pipeline


def test_own_commands_run_as_written(tmp_path: Path) -> None:
    text = OWN.replace("data: train.model}", "data: train.data}").replace(
        "    hyperparameters: {max_depth: 3}\n",
        "    hyperparameters: {max_depth: 3}\n    outputs: {model: model, data: dataset}\n",
    )
    pipeline = _analyze(
        tmp_path, text.replace('"${outputs.model}"]', '"${outputs.model}", "${outputs.data}"]')
    )
    register = pipeline.step("register")
    assert register.script is None and register.image == "ghcr.io/acme/registry-client:1"
    assert register.details["parent_model"] == "projects/p/locations/l/models/42"
    predict = pipeline.step("predict")
    assert predict.script is None
    # Its own serving image wins over `defaults.image`.
    assert predict.image == "ghcr.io/acme/serve:2"
    used = features_used(pipeline)
    assert [s.id for s in used[ir.Feature.MODEL_FIELDS_OWN_COMMAND]] == ["register"]


def test_batch_predict_of_an_own_command_model_gets_no_standard_script(tmp_path: Path) -> None:
    """pipespec:batch_predict reads only models pipespec:train wrote: a model from the
    user's own command is not given it, so the step stays incomplete (PS500)."""
    text = OWN.replace(
        '    command: [predict, "${inputs.model}", "${inputs.data}", "${outputs.predictions}"]\n',
        "",
    ).replace("data: train.model}", "data: split.data}")
    text = text.replace(
        "steps:\n",
        "steps:\n  split:\n    kind: container\n    image: busybox\n"
        '    command: [split, "${outputs.data}"]\n    outputs: {data: dataset}\n',
    )
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text)
    analysis = analyze_file(spec, fill=True)
    assert analysis.pipeline is not None
    assert analysis.pipeline.step("predict").script is None
    (diag,) = check_complete(analysis.pipeline)
    assert diag.code == "PS500" and "predict" in diag.message
