"""PS616: a step whose image is past its end of support warns at `compile` and `check`, for
every target, without changing a byte of output; `PIPESPEC_TODAY` pins the date (PS617 when
it is not one)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipespec import ir
from pipespec.api import build
from pipespec.cli import main
from pipespec.compiler.support import image_support, run_date
from pipespec.diagnostics import Diagnostic, Severity
from pipespec.fill.catalog import TARGETS as CATALOG_TARGETS
from pipespec.fill.catalog import load_catalog
from tests.conftest import ROOT
from tests.fill.test_vertex_images import with_newer_xgboost
from tests.targets import TARGETS, example_pipeline

OLD = "europe-docker.pkg.dev/vertex-ai/training/xgboost-cpu.2-1:latest"  # support ended 2025-07-11
SERVING = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-6:latest"  # ends 2026-10-14
AFTER = datetime.date(2026, 12, 1)
LAST_DAY = datetime.date(2025, 7, 11)
# Installed targets with no image column in the catalog (Airflow, Kubeflow): their steps run
# the `kubernetes` image or their own.
PLAIN = [t for t in TARGETS if t not in CATALOG_TARGETS]

SPEC = f"""\
pipespec: 1
name: old-image
steps:
  fit:
    kind: container
    image: {OLD}
    command: [python, -c, "print(1)"]
  other:
    kind: container
    image: python:3.12-slim
    command: [python, -c, "print(2)"]
    after: [fit]
targets:
  sagemaker: {{role_arn: "arn:aws:iam::123456789012:role/p", region: eu-west-1}}
"""


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    path = tmp_path / "p.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def ps616(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == "PS616"]


@pytest.mark.parametrize("target", TARGETS)
def test_an_image_past_its_end_of_support_warns_at_its_step(spec: Path, target: str) -> None:
    result = build([spec], [target], spec.parent / "out", today=AFTER)
    (warning,) = ps616(result.diagnostics)
    assert result.ok and warning.severity is Severity.WARNING
    assert warning.span is not None and warning.span.line == 4  # the step `fit`
    assert warning.message == (
        f"image {OLD} reached its end of support on 2025-07-11 (Vertex AI framework support "
        "policy); its end of availability was 2026-07-11"
    )
    assert warning.hint == "pin a supported image in `image:` (the catalog knows no newer one)"


def test_no_warning_until_the_day_after_the_end(spec: Path) -> None:
    out = spec.parent / "out"
    assert ps616(build([spec], ["airflow"], out, today=LAST_DAY).diagnostics) == []
    later = ps616(build([spec], ["airflow"], out, today=LAST_DAY.replace(day=12)).diagnostics)
    assert len(later) == 1 and later[0].message.endswith("its end of availability is 2026-07-11")


def test_the_warning_changes_no_output_byte(spec: Path) -> None:
    out = spec.parent / "out"
    before = build([spec], TARGETS, out, today=LAST_DAY)
    after = build([spec], TARGETS, out, today=AFTER)
    assert len(ps616(after.diagnostics)) == len(TARGETS)
    assert after.outputs == before.outputs and after.outputs


def test_an_image_the_catalog_does_not_know_never_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    pipeline = example_pipeline("minimal")  # python:3.12-slim
    assert image_support(pipeline, "airflow", datetime.date(2999, 1, 1)) == []


@pytest.mark.parametrize("example", ["churn", "tuning", "registry"])
def test_the_catalogs_image_for_the_target_is_checked_by_the_targets_name(
    example: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog's Vertex images of a filled step (the one it runs in, the one serving
    its model) warn when compiling for `vertex`; the Kubernetes image the other targets run
    is not in the support tables."""
    monkeypatch.chdir(ROOT)
    pipeline = example_pipeline(example)
    vertex = {
        image
        for s in pipeline.steps
        for image in (s.target_images.get("vertex"), s.serving_images.get("vertex"))
        if image is not None and load_catalog().vertex_image(image) is not None
    }  # registry's own serving image (ghcr.io) has no date: it never warns
    assert vertex
    found = image_support(pipeline, "vertex", AFTER)
    assert {d.message.split()[1] for d in found} == vertex
    assert image_support(pipeline, "vertex", LAST_DAY) == []
    for target in PLAIN:
        assert image_support(pipeline, target, AFTER) == []


CPU_TRAIN = "us-docker.pkg.dev/vertex-ai/training/xgboost-cpu.2-1:latest"


def churn_train() -> tuple[ir.Pipeline, ir.Step, ir.TrainDetails]:
    """Churn's train step on the CPU build of its Vertex image (it asks for a GPU, so it
    runs the GPU build; the fake newer image these tests add is a CPU one)."""
    pipeline = example_pipeline("churn")
    train = next(s for s in pipeline.steps if s.kind == "train")
    assert isinstance(train.details, ir.TrainDetails)
    images = ir.FrozenMap({**train.target_images, "vertex": CPU_TRAIN})
    details = train.details
    return pipeline, dataclasses.replace(train, target_images=images), details


def test_a_serving_image_is_checked_and_the_hint_names_a_newer_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    pipeline, train, details = churn_train()
    served = dataclasses.replace(train, details=dataclasses.replace(details, serving_image=SERVING))
    one = dataclasses.replace(pipeline, steps=(served,))
    messages = [d.message for d in image_support(one, "airflow", AFTER)]
    assert messages == [
        f"image {SERVING} reached its end of support on 2026-10-14 (Vertex AI framework "
        "support policy); its end of availability is 2027-10-14"
    ]
    assert image_support(one, "airflow", datetime.date(2026, 10, 14)) == []
    hints = [d.hint for d in image_support(one, "vertex", AFTER, with_newer_xgboost())]
    newer = "us-docker.pkg.dev/vertex-ai/training/xgboost-cpu.2-10:latest"
    assert f"use the newer {newer}" in hints


def test_each_image_of_a_step_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    pipeline, train, details = churn_train()
    same = train.target_images["vertex"]
    step = dataclasses.replace(
        train,
        image=same,
        details=dataclasses.replace(details, serving_image=same),
        serving_images=ir.FrozenMap({"vertex": same}),
    )
    assert len(image_support(dataclasses.replace(pipeline, steps=(step,)), "vertex", AFTER)) == 1


# --- "today" and the command line ---------------------------------------------------------


def test_run_date_reads_pipespec_today() -> None:
    assert run_date({"PIPESPEC_TODAY": "2026-01-31"}) == datetime.date(2026, 1, 31)
    assert run_date({"PIPESPEC_TODAY": " "}) == datetime.date.today()
    assert run_date({}) == datetime.date.today()
    bad = run_date({"PIPESPEC_TODAY": "31/01/2026"})
    assert isinstance(bad, Diagnostic) and bad.code == "PS617" and bad.severity is Severity.ERROR


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_compile_warns_and_exits_zero_strict_fails_like_other_warnings(spec: Path) -> None:
    after = {"PIPESPEC_TODAY": AFTER.isoformat()}
    code, _, err = run(after, "compile", "p.yaml", "--target", "airflow", "--strict")
    assert code == 1 and "error[PS616]" in err  # --strict: every warning is an error (PS606)
    assert not (spec.parent / "generated").exists()
    code, out, err = run(after, "compile", "p.yaml", "--target", "airflow")
    assert code == 0 and "warning[PS616]" in err and "wrote generated/airflow/" in out
    before = {"PIPESPEC_TODAY": LAST_DAY.isoformat()}
    code, out, err = run(before, "compile", "p.yaml", "--target", "airflow")
    assert code == 0 and "PS616" not in err


def test_check_reports_it_too(spec: Path) -> None:
    after = {"PIPESPEC_TODAY": AFTER.isoformat()}
    assert run(after, "compile", "p.yaml", "--target", "airflow")[0] == 0
    code, out, _ = run(after, "check", "p.yaml", "--target", "airflow", "--format", "json")
    assert code == 0
    assert [d["code"] for d in json.loads(out)] == ["PS616"]


@pytest.mark.parametrize("command", ["compile", "check"])
def test_an_invalid_pipespec_today_is_an_environment_error(spec: Path, command: str) -> None:
    code, _, err = run({"PIPESPEC_TODAY": "tomorrow"}, command, "p.yaml", "--target", "airflow")
    assert code == 2 and "error[PS617]" in err and "PIPESPEC_TODAY='tomorrow'" in err
    assert not (spec.parent / "generated").exists()


def test_the_examples_are_silent_on_targets_without_catalog_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On Airflow and Kubeflow the committed examples run the catalog's Kubernetes image (or
    their own): none of those has a date, so compiling them never warns PS616."""
    monkeypatch.chdir(ROOT)
    for spec in sorted((ROOT / "examples").glob("*/pipeline.yaml")):
        pipeline: ir.Pipeline = example_pipeline(spec.parent.name)
        for target in PLAIN:
            assert image_support(pipeline, target, datetime.date(2999, 1, 1)) == [], spec
