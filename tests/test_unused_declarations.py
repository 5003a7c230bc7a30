"""Warnings on a spec that otherwise compiles: a declared parameter/metrics output nothing
writes or reads (PS439), an input an own-command step never names (PS440), and
`defaults.image` running a standard script the catalog has no image for (PS438); and a
catalog-filled step runs in its framework's catalog image, not `defaults.image`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipespec.api import analyze_file
from pipespec.diagnostics import Severity, render_human

UNUSED = """\
pipespec: 1
name: unused
steps:
  prep:
    kind: container
    image: busybox
    command: [prep, "${outputs.data}", "${outputs.used}"]
    outputs:
      data: dataset
      rows: int
      stats: metrics
      used: int
  score:
    kind: container
    image: busybox
    command: [score, "${inputs.data}"]
    inputs:
      data: prep.data
      count: prep.used
  scripted:
    kind: container
    image: busybox
    script: pipespec:ingest_sql
    args: [--query, "SELECT 1", --out, "${outputs.data}"]
    inputs: {unused_by_script: prep.data}
    outputs: {data: dataset}
"""

DEFAULT_IMAGE = """\
pipespec: 1
name: images
params:
  day: {type: string, default: "2026-01-01"}
defaults:
  image: ghcr.io/acme/team:1
secrets:
  warehouse: {airflow: {conn_id: warehouse}}
steps:
  load:
    kind: ingest
    source: {type: sql, connection: warehouse, query: "SELECT * FROM t WHERE day = :day"}
    outputs: {data: dataset}
  train:
    kind: train
    framework: xgboost
    task: regression
    inputs: {train: load.data}
  own:
    kind: train
    framework: xgboost
    task: regression
    command: [python, own.py, "${inputs.train}", "${outputs.model}"]
    inputs: {train: load.data}
"""


def _analyze(tmp_path: Path, text: str, name: str) -> list[tuple[int, int, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    analysis = analyze_file(path, fill=True)
    shown = render_human(analysis.diagnostics, {})
    assert analysis.pipeline is not None, shown
    assert all(d.severity is Severity.WARNING for d in analysis.diagnostics), shown
    return sorted((d.span.line, d.span.col, d.code) for d in analysis.diagnostics if d.span)


def test_declared_never_used_outputs_and_inputs_are_warnings_at_their_lines(
    tmp_path: Path,
) -> None:
    got = _analyze(tmp_path, UNUSED, "unused.yaml")
    # rows and stats: never written nor read; count: an input the command never names.
    # `used` is written; `data` is an artifact; the script step's input is not judged.
    assert got == [(10, 7, "PS439"), (11, 7, "PS439"), (19, 7, "PS440")]


def test_a_catalog_filled_step_runs_in_the_catalog_image_not_defaults_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    path = tmp_path / "images.yaml"
    path.write_text(DEFAULT_IMAGE, encoding="utf-8")
    analysis = analyze_file(path, fill=True)
    assert analysis.pipeline is not None, render_human(analysis.diagnostics, {})
    images = {s.id: s.image for s in analysis.pipeline.steps}
    assert images["train"] == "public.ecr.aws/sagemaker/sagemaker-distribution:4.4.1-cpu"
    assert images["own"] == "ghcr.io/acme/team:1"  # the user's code: the team's image
    assert images["load"] == "ghcr.io/acme/team:1"  # the catalog has no SQL image...
    train = next(s for s in analysis.pipeline.steps if s.id == "train")
    assert train.provenance["image"].startswith("catalog:xgboost@")
    # ... and a warning at the defaults line says defaults.image runs the SQL script.
    got = [(d.span.line, d.span.col, d.code) for d in analysis.diagnostics if d.span]
    assert got == [(6, 10, "PS438")], render_human(analysis.diagnostics, {})
