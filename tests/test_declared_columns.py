"""Declared columns in the spec: `{type: dataset, columns | sample}` outputs and
`{uri, columns | sample}` inputs (the faults, at their places, are tests/cases/bad/columns.yaml)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from pipespec.api import analyze_file, build
from pipespec.spec import models
from pipespec.spec.columns import MAX_SAMPLE_BYTES, SampleError, infer_type, read_sample
from pipespec.spec.loader import load_spec_bytes
from pipespec.spec.semantics import effective_outputs
from pipespec.target_options import authoring_schema
from tests.conftest import ROOT
from tests.targets import TARGETS

SPEC = """\
pipespec: 1
name: cols
steps:
  ingest:
    kind: container
    image: busybox
    command: [x, "${outputs.raw}", "${outputs.events}"]
    outputs:
      raw: {type: dataset, columns: {customer_id: int, country: string, amount: float}}
      events: {type: dataset, sample: events.csv}
      count: int
  use:
    kind: container
    image: busybox
    command: [x, "${inputs.raw}", "${inputs.log}"]
    inputs:
      raw: ingest.raw
      log: {uri: "s3://acme/log/", columns: {ts: datetime, ok: bool}}
"""


def write(folder: Path, text: str = SPEC) -> Path:
    (folder / "events.csv").write_text("id,when,flag,score,note\n1,2024-01-02,true,0.5,x\n")
    spec = folder / "pipeline.yaml"
    spec.write_text(text)
    return spec


def test_both_forms_validate_and_the_graph_sees_a_dataset(tmp_path: Path) -> None:
    analysis = analyze_file(write(tmp_path))
    assert analysis.ok, analysis.diagnostics
    assert analysis.pipeline is not None
    ingest = analysis.pipeline.step("ingest")
    assert {(o.name, o.type) for o in ingest.outputs} == {
        ("raw", "dataset"),
        ("events", "dataset"),
        ("count", "int"),
    }
    use = analysis.pipeline.step("use")
    log = next(i for i in use.inputs if i.name == "log")
    assert str(log.source) == "s3://acme/log/"  # the URI, as if written bare


def test_effective_outputs_are_type_names_whichever_form() -> None:
    step = models.ContainerStep.model_validate(
        {"kind": "container", "outputs": {"raw": {"type": "dataset", "columns": {"a": "int"}}}}
    )
    assert effective_outputs(step) == {"raw": "dataset"}
    assert isinstance((step.outputs or {})["raw"], models.DatasetOutput)


def test_a_sample_declares_names_and_inferred_types(tmp_path: Path) -> None:
    spec = write(tmp_path)
    assert read_sample(str(spec), "events.csv") == {
        "id": "int",
        "when": "datetime",
        "flag": "bool",
        "score": "float",
        "note": "string",
    }


@pytest.mark.parametrize(
    ("cells", "kind"),
    [
        (["1", "-2", ""], "int"),
        (["1", "2.5"], "float"),
        (["True", "false"], "bool"),
        (["2024-01-01", "2024-02-03 10:00:00"], "datetime"),
        (["20240101"], "int"),
        (["a", "1"], "string"),
        (["", " "], "string"),
        (["nan", "1"], "string"),
    ],
)
def test_types_are_inferred_from_the_filled_cells(cells: list[str], kind: str) -> None:
    assert infer_type(cells) == kind


def test_a_sample_too_large_outside_the_folder_or_not_utf8_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    spec = str(folder / "pipeline.yaml")
    (folder / "big.csv").write_text("a\n" + "1\n" * MAX_SAMPLE_BYTES)
    with pytest.raises(SampleError, match="larger than 64 KiB"):
        read_sample(spec, "big.csv")
    (tmp_path / "secret.csv").write_text("a\n1\n")
    os.symlink(tmp_path / "secret.csv", folder / "link.csv")
    with pytest.raises(SampleError, match="leads outside the spec's folder"):
        read_sample(spec, "link.csv")
    (folder / "latin1.csv").write_bytes(b"caf\xe9\n1\n")
    with pytest.raises(SampleError, match="not UTF-8"):
        read_sample(spec, "latin1.csv")
    (folder / "wide.csv").write_text(",".join(f"c{i}" for i in range(models.MAX_COLUMNS + 1)))
    with pytest.raises(SampleError, match="at most 128"):
        read_sample(spec, "wide.csv")


def test_too_many_declared_columns_are_refused_at_the_mapping(tmp_path: Path) -> None:
    wide = ", ".join(f"c{i}: int" for i in range(models.MAX_COLUMNS + 1))
    spec = write(tmp_path, SPEC.replace("customer_id: int, country: string, amount: float", wide))
    analysis = analyze_file(spec)
    codes = [(d.code, d.span.line if d.span else 0) for d in analysis.diagnostics]
    assert codes == [("PS216", 9)]
    assert "129 columns are declared; at most 128" in analysis.diagnostics[0].message


def test_the_authoring_schema_takes_both_forms(tmp_path: Path) -> None:
    schema = json.loads(authoring_schema())
    loaded, _ = load_spec_bytes(SPEC.encode(), "pipeline.yaml")
    assert loaded is not None
    document = loaded.data
    assert list(Draft202012Validator(schema).iter_errors(document)) == []
    document["steps"]["ingest"]["outputs"]["raw"] = {"type": "dataset", "columns": {"a": "intt"}}
    assert list(Draft202012Validator(schema).iter_errors(document))


def _compile_all(folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(folder)
    result = build([Path("pipeline.yaml")], TARGETS, Path("out"), locked=True)
    assert result.ok, [d.message for d in result.diagnostics]
    return {rel: text for files in result.outputs.values() for rel, text in files.items()}


def test_declarations_change_nothing_a_target_generates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The showcase, with an external input, compiles to the same files for every target
    whether its datasets declare columns or not."""
    monkeypatch.delenv("CI", raising=False)
    text = (ROOT / "examples" / "showcase" / "pipeline.yaml").read_text()
    text = text.replace(
        "inputs: {data: ingest.raw}\n    outputs: {train: dataset, test: dataset}",
        'inputs: {data: "s3://acme/raw/"}\n    outputs: {train: dataset, test: dataset}',
    )
    declared = text.replace(
        'inputs: {data: "s3://acme/raw/"}',
        'inputs: {data: {uri: "s3://acme/raw/", columns: {region: category, units: int}}}',
    ).replace(
        "outputs: {train: dataset, test: dataset}",
        "outputs: {train: {type: dataset, columns: {units: int}}, test: dataset}",
    )
    assert declared.count("columns:") == 2
    outputs = []
    for name, spec_text in (("bare", text), ("declared", declared)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "pipeline.yaml").write_text(spec_text)
        shutil.copy(ROOT / "examples" / "showcase" / "pipeline.lock.json", folder)
        # The files name the spec's hash, which differs with its text: nothing else may.
        digest = hashlib.sha256(spec_text.encode()).hexdigest()
        files = _compile_all(folder, monkeypatch)
        outputs.append({rel: text.replace(digest, "SPEC-SHA256") for rel, text in files.items()})
    assert outputs[0] and outputs[0] == outputs[1]


def test_a_step_dumps_and_validates_again_unchanged() -> None:
    """fill re-validates a step from its dump (engine._apply): both forms survive it, and
    serializing picks each value's form without a warning."""
    written = {
        "kind": "container",
        "outputs": {"raw": {"type": "dataset", "columns": {"a": "int"}}, "m": "model"},
        "inputs": {
            "log": {"uri": "s3://acme/log/", "sample": "events.csv"},
            "either": {"one_of": ["a.b", "c.d"]},
            "raw": "a.b",
        },
    }
    step = models.ContainerStep.model_validate(written)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dumped = step.model_dump(exclude_none=True)
    assert dumped == written
    assert models.ContainerStep.model_validate(dumped) == step
