"""Portability: capability tables x features used -> diagnostics and the explain report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import pytest

from pipespec import backends, ir
from pipespec.backends import RenderResult, portability
from pipespec.backends.airflow.capabilities import CAPABILITIES, capabilities_for
from pipespec.backends.airflow.options import AirflowOptions
from pipespec.backends.base import Backend, Capability, Options, Support
from pipespec.diagnostics import Severity
from pipespec.ir.features import Feature
from tests.airflow.helpers import COMPLETE_EXAMPLES, example_spec, pipeline_of


class _Toy(Backend):
    """A target whose table says what each test needs."""

    name = "toy"
    capabilities: ClassVar[Mapping[ir.Feature, Capability]] = {
        Feature.CONTAINER_STEP: Capability(Support.NATIVE, "a box"),
        Feature.SCHEDULE: Capability(Support.EMULATED, "a cron job beside it"),
        Feature.FOREACH_LITERAL: Capability(Support.UNSUPPORTED, "no fan-out"),
    }

    def render(self, pipeline: ir.Pipeline, options: Options) -> RenderResult:
        return RenderResult()


SPEC = """\
pipespec: 1
name: few
schedule: "@daily"
steps:
  a:
    kind: container
    image: busybox
    command: [echo, "${item}"]
    foreach: [1, 2]
  b:
    kind: container
    image: busybox
    command: [echo, "${item}"]
    foreach: [x]
"""


@pytest.fixture
def few(tmp_path: Path) -> ir.Pipeline:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    return pipeline_of(spec)


def test_unsupported_is_an_error_and_emulated_a_warning_each_at_its_place(
    few: ir.Pipeline,
) -> None:
    diags = portability.check(few, _Toy(), Options())
    by_code = {d.code: d for d in diags}
    assert sorted(d.code for d in diags) == ["PS605", "PS606"]  # container steps: native
    # One diagnostic per feature: at its first step, the other steps as related spans.
    fanout = by_code["PS605"]
    assert fanout.severity is Severity.ERROR
    assert fanout.span == few.step("a").span
    assert [span for span, _ in fanout.related] == [few.step("b").span]
    assert "toy cannot express" in fanout.message and "no fan-out" in fanout.message
    schedule = by_code["PS606"]
    assert schedule.severity is Severity.WARNING
    assert (schedule.span.line, schedule.span.col) == (1, 1)  # type: ignore[union-attr]
    assert "behaves differently" in schedule.message


def test_no_hint_names_a_target_that_is_not_installed(few: ir.Pipeline) -> None:
    installed = set(backends.available())
    for diag in portability.check(few, _Toy(), Options()):
        named = (diag.hint or "").rpartition(": ")[2].split(", ")
        assert diag.hint is None or set(named) <= installed
        for word in ("sagemaker", "vertex", "kubeflow"):
            assert word not in (diag.hint or "").lower() or word in installed


@pytest.mark.parametrize("operator", ["kubernetes", "local"])
def test_airflow_table_covers_every_feature(operator: str) -> None:
    options = AirflowOptions.model_validate({"operator": operator, "artifact_root": "s3://b"})
    table = capabilities_for(options)
    assert set(table) == set(Feature)
    assert all(cap.how for cap in table.values())


def test_airflow_table_follows_the_options() -> None:
    k8s = capabilities_for(AirflowOptions())
    local = capabilities_for(AirflowOptions(operator="local"))
    several = Feature.MULTIPLE_PARAMETER_OUTPUTS
    assert k8s[several].support is Support.UNSUPPORTED
    assert local[several].support is Support.NATIVE
    assert k8s[Feature.ACCELERATOR].support is Support.NATIVE
    assert local[Feature.ACCELERATOR].support is Support.EMULATED
    assert k8s[Feature.ARTIFACT_OUTPUT].support is Support.EMULATED  # no artifact_root
    with_root = capabilities_for(AirflowOptions(artifact_root="s3://b"))
    assert with_root[Feature.ARTIFACT_OUTPUT] == CAPABILITIES[Feature.ARTIFACT_OUTPUT]


@pytest.mark.parametrize("name", COMPLETE_EXAMPLES)
def test_report_lists_every_feature_used_with_its_support(name: str) -> None:
    pipeline = pipeline_of(example_spec(name))
    toy = _Toy()
    rows = portability.report(pipeline, toy, Options())
    data = json.loads(portability.report_json("toy", rows))
    assert data["target"] == "toy"
    assert [r["feature"] for r in data["features"]] == [r.feature.name.lower() for r in rows]
    for row in data["features"]:
        expected = toy.capability(Feature[row["feature"].upper()])
        assert (row["support"], row["how"]) == (expected.support.value, expected.how)
    text = portability.report_human(pipeline.name, "toy", rows)
    assert {"container_step", "script_step"} & {r["feature"] for r in data["features"]}
    assert pipeline.name in text


def test_a_feature_missing_from_a_table_is_unsupported(few: ir.Pipeline) -> None:
    class Bare(_Toy):
        capabilities: ClassVar[Mapping[ir.Feature, Capability]] = {}

    codes = [d.code for d in portability.check(few, Bare(), Options())]
    assert codes == ["PS605", "PS605", "PS605"]  # container steps, schedule, foreach
