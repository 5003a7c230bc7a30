"""Fill says what it could not do, at fill time: an ingest step described only in prose
is incomplete (no LLM request is spent on it), and a run where a step failed never claims
that every step is complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fill.fake_openai import FakeOpenAI, Reply
from tests.fill.test_fill import run

SPEC = """\
pipespec: 1
name: honest
defaults: {image: "python:3.12-slim"}
steps:
  ingest:
    kind: ingest
    description: Load yesterday's orders from the warehouse
    outputs: {raw: dataset}
"""
TRANSFORM = """\
  clean:
    kind: transform
    description: Drop rows with a missing amount
    inputs: {data: ingest.raw}
"""


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    path = tmp_path / "pipeline.yaml"
    path.write_text(SPEC)
    return path


def test_an_ingest_step_with_only_a_description_is_incomplete_at_fill_time(spec: Path) -> None:
    with FakeOpenAI([Reply.error(500)]) as fake:
        code, out, err = run("fill", str(spec), "--model", "m", "--base-url", fake.base_url)
        assert fake.calls == 0  # a script could not complete it: no request spent
    assert code == 1
    assert "pipeline.yaml:5:3: error[PS500]: step 'ingest' still needs `source`" in err
    assert "hint: write `source:`" in err
    assert "complete as written" not in out + err
    assert not (spec.parent / "pipeline.lock.json").exists()


def test_a_failed_step_is_never_reported_as_complete(spec: Path) -> None:
    # The ingest runs its own command: only the failing transform needs fill, so the
    # lock stays empty, which is when the message used to claim every step complete.
    own_ingest = SPEC.replace(
        "    outputs: {raw: dataset}", '    command: [python, ingest.py, "${outputs.raw}"]\n'
        "    outputs: {raw: dataset}",
    )  # fmt: skip
    spec.write_text(own_ingest + TRANSFORM)
    with FakeOpenAI([Reply.error(400)]) as fake:
        code, out, err = run("fill", str(spec), "--model", "m", "--base-url", fake.base_url)
    assert code == 1
    assert "step 'clean': the LLM gave no usable answer: the LLM server answered HTTP 400" in err
    assert "complete as written" not in out + err
    # The provider's details on the same line, not after an escaped line break.
    assert "\\n" not in err
