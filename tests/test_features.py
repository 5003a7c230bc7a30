"""features_used: the language features a pipeline uses, each with the steps using it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipespec import ir
from pipespec.backends.native_deploy import serves_natively
from pipespec.ir.features import Feature, features_used
from tests.airflow.helpers import COMPLETE_EXAMPLES, example_spec, pipeline_of

F = Feature


def _ids(found: dict[Feature, list[ir.Step]]) -> dict[Feature, list[str]]:
    return {feature: [s.id for s in steps] for feature, steps in found.items()}


def test_showcase_features_and_the_steps_that_use_them() -> None:
    pipeline = pipeline_of(example_spec("showcase"))
    used = _ids(features_used(pipeline, "airflow"))
    every_step = [s.id for s in pipeline.steps]
    own = ["ingest", "features", "split", "tune", "train", "evaluate", "notify"]
    assert used == {
        # The deploy runs no code of its own (each target's serving deploys it); the
        # monitor runs pipespec's drift check.
        F.CONTAINER_STEP: own,
        F.SCRIPT_STEP: ["monitor"],
        F.PARAMS: [],
        F.PARAM_CONSTRAINTS: [],
        F.SCHEDULE: [],
        F.DATA_DEPENDENCY: ["features", "split", "tune", "train", "evaluate", "deploy", "monitor"],
        F.ARTIFACT_OUTPUT: ["ingest", "features", "split", "tune", "train", "monitor"],
        F.PARAMETER_OUTPUT: ["train", "deploy"],
        F.CONDITION: ["deploy"],
        F.FOREACH_PARAM: ["features"],
        F.AFTER: ["split", "monitor", "notify"],
        F.RETRIES: every_step[:-1],
        F.TIMEOUT: every_step,
        F.RESOURCES: every_step,
        F.GPU: ["train"],
        F.ACCELERATOR: ["train"],
        F.SECRETS: ["ingest"],
        F.TUNE_OWN_COMMAND: ["tune"],
        F.HYPERPARAMETERS_OWN_COMMAND: ["train"],
        F.INGEST_SOURCE_OWN_COMMAND: ["ingest"],
        F.DEPLOY_ENDPOINT: ["deploy"],
        F.MONITOR_DRIFT: ["monitor"],
        # The monitor's schedule is the pipeline's (@daily): no MONITOR_SCHEDULE.
        F.SERVING_IMAGE: ["train"],
    }


def test_tuning_on_the_standard_script_is_the_native_search() -> None:
    used = _ids(features_used(pipeline_of(example_spec("tuning"))))
    assert used[F.TUNE_NATIVE] == ["tune"]
    assert F.TUNE_OWN_COMMAND not in used
    assert "tune" in used[F.SCRIPT_STEP]


@pytest.mark.parametrize("name", COMPLETE_EXAMPLES)
def test_steps_come_in_pipeline_order_and_features_in_enum_order(name: str) -> None:
    pipeline = pipeline_of(example_spec(name))
    order = {s.id: i for i, s in enumerate(pipeline.steps)}
    found = features_used(pipeline)
    assert list(found) == [f for f in Feature if f in found]
    for steps in found.values():
        assert [order[s.id] for s in steps] == sorted(order[s.id] for s in steps)
    # Every step is a container step or a script step, or a deploy the targets' own
    # serving runs (no code of its own).
    runs = {s.id for f in (F.CONTAINER_STEP, F.SCRIPT_STEP) for s in found.get(f, [])}
    served = {s.id for s in pipeline.steps if serves_natively(s)}
    assert runs | served == set(order) and not runs & served


SPEC = """\
pipespec: 1
name: few
steps:
  two:
    kind: container
    image: busybox
    command: [sh, -c, "echo 1 > $0; echo 2 > $1", "${outputs.a}", "${outputs.b}"]
    outputs: {a: int, b: metrics}
    targets: {sagemaker: {instance_type: ml.m5.large}}
  each:
    kind: container
    image: busybox
    command: [echo, "${item}"]
    foreach: [1, 2]
    targets: {airflow: {instance_type: big}}
"""


def test_per_target_settings_count_for_the_target_asked_about(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    pipeline = pipeline_of(spec)
    assert _ids(features_used(pipeline, "airflow"))[F.INSTANCE_TYPE] == ["each"]
    assert _ids(features_used(pipeline, "sagemaker"))[F.INSTANCE_TYPE] == ["two"]
    assert _ids(features_used(pipeline))[F.INSTANCE_TYPE] == ["two", "each"]
    assert F.INSTANCE_TYPE not in features_used(pipeline, "kubeflow")
    used = _ids(features_used(pipeline))
    assert used[F.MULTIPLE_PARAMETER_OUTPUTS] == ["two"]
    assert used[F.FOREACH_LITERAL] == ["each"]
    assert F.PARAMS not in used and F.SCHEDULE not in used
