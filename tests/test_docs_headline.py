"""The headline example of docs/spec-language.md compiles as shown, for Airflow 2 and 3."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipespec.api import build
from pipespec.diagnostics import Severity, render_human

DOC = Path(__file__).resolve().parents[1] / "docs" / "spec-language.md"


def headline_yaml() -> str:
    match = re.search(r"^```yaml\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
    assert match, "docs/spec-language.md has no ```yaml block"
    return match.group(1)


@pytest.mark.parametrize("version", ["2", "3"])
def test_headline_example_validates_and_compiles_for_airflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.delenv("CI", raising=False)
    text = headline_yaml().replace('version: "3"', f'version: "{version}"')
    spec = tmp_path / "churn.yaml"
    spec.write_text(text, encoding="utf-8")
    result = build([spec], ["airflow"], tmp_path / "out")
    shown = render_human(result.diagnostics, {})
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR], shown
    # A clean example: no warnings either (the doc is what users copy), but for the
    # blocks of targets this installation does not have (PS607) and the SQL ingest running
    # in defaults.image (PS438: the catalog has no image for it). Its deploy and monitor,
    # written with no command, are Airflow's own (KServe, pipespec's drift check): no
    # portability note (PS606) either.
    expected = ("PS438", "PS607")
    assert [d for d in result.diagnostics if d.code not in expected] == [], shown
    dags = [rel for files in result.outputs.values() for rel in files if rel.endswith(".py")]
    assert dags, result.outputs
    (analysis,) = result.analyses
    assert analysis.pipeline is not None
    assert {s.id for s in analysis.pipeline.steps} == {
        "ingest",
        "clean",
        "features",
        "train",
        "evaluate",
        "deploy",
        "monitor",
    }


def test_headline_example_compiles_for_kubeflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its deploy is a KServe InferenceService applied by a task, its monitor the drift
    check: no note on either (KFP checks no param pattern: that one note stays)."""
    monkeypatch.delenv("CI", raising=False)
    spec = tmp_path / "churn.yaml"
    spec.write_text(headline_yaml(), encoding="utf-8")
    result = build([spec], ["kubeflow"], tmp_path / "out")
    shown = render_human(result.diagnostics, {})
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR], shown
    notes = [d for d in result.diagnostics if d.code == "PS606"]
    assert [d.message.split(";")[0] for d in notes] == [
        "the pipeline uses param enum/pattern checked at trigger time"
    ], shown
    (files,) = result.outputs.values()
    assert "serving.kserve.io/v1beta1" in files["kubeflow/churn-retrain.yaml"]
