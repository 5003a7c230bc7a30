"""`pipespec fill` with declared columns, against the fake OpenAI-compatible server: the
prompt carries them, an answer that guesses a column or fails its trial run goes back to the
model with the reason, and the lock records the trial run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipespec.cli import main
from pipespec.fill import trial_run
from pipespec.fill.llm_steps import COLUMNS_PROMPT, SYSTEM_PROMPT
from tests.fill.fake_openai import FakeOpenAI, Reply

SPEC = """\
pipespec: 1
name: orders
defaults: {image: "python:3.12"}
fill: {model: small-local}
steps:
  ingest:
    kind: container
    command: [load, "${outputs.raw}"]
    outputs:
      raw: {type: dataset, columns: {customer_id: int, country: string, amount_eur: float}}
  totals:
    kind: transform
    description: Total amount per country
    inputs: {orders: ingest.raw}
    outputs:
      totals: {type: dataset, columns: {country: string, total: float}}
"""
GUESSED = 'frame = inputs["orders"]\nreturn {"totals": frame.groupby("country")["amount"].sum()}'
COMPUTED = 'name = "amo" + "unt"\nframe = inputs["orders"]\nreturn {"totals": frame[[name]]}'
GOOD = """\
frame = inputs["orders"]
out = frame.groupby("country", as_index=False)["amount_eur"].sum()
return {"totals": out.rename(columns={"amount_eur": "total"})}
"""


def answer(body: str) -> Reply:
    value: dict[str, Any] = {
        "imports": [],
        "body": body,
        "resources": {"cpu": 1, "memory": "1Gi"},
        "image": None,
    }
    return Reply.answer(value, model="small-local")


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "pipeline.yaml"
    path.write_text(SPEC)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def user_data(body: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(body["messages"][1]["content"].split("\n", 1)[1])
    return data


def test_a_guessed_column_goes_back_to_the_model_and_the_lock_records_the_trial(
    spec: Path,
) -> None:
    with FakeOpenAI([answer(GUESSED), answer(GOOD)]) as fake:
        code, out, err = run("fill", "pipeline.yaml", "--base-url", fake.base_url)
        requests = fake.requests
    assert code == 0, out + err
    assert len(requests) == 2
    first = requests[0]["messages"]
    assert first[0]["content"] == SYSTEM_PROMPT + COLUMNS_PROMPT
    facts = user_data(requests[0])
    assert facts["input_columns"] == {
        "orders": {"customer_id": "int", "country": "string", "amount_eur": "float"}
    }
    assert facts["output_columns"] == {"totals": {"country": "string", "total": "float"}}
    feedback = requests[1]["messages"][-1]["content"]
    assert (
        "PS520: line 2 reads column 'amount' of input 'orders', which does not declare it "
        "(did you mean 'amount_eur'?); its columns are: customer_id (int), country (string), "
        "amount_eur (float)"
    ) in feedback
    lock = json.loads((spec.parent / "pipeline.lock.json").read_text())
    assert lock["steps"]["totals"]["trial"] == {
        "ran": True,
        "rows": 8,
        "inputs": {"orders": ["customer_id", "country", "amount_eur"]},
        "outputs": {"totals": ["country", "total"]},
    }
    code, out, err = run("compile", "pipeline.yaml", "--target", "airflow", "--locked")
    assert code == 0, out + err


def test_a_failed_trial_run_goes_back_to_the_model(spec: Path) -> None:
    with FakeOpenAI([answer(COMPUTED), answer(GOOD)]) as fake:
        code, out, err = run("fill", "pipeline.yaml", "--base-url", fake.base_url)
        requests = fake.requests
    assert code == 0, out + err
    assert len(requests) == 2
    feedback = requests[1]["messages"][-1]["content"]
    assert "PS521: the script failed on 8 synthetic rows per input: KeyError:" in feedback
    assert "line 3 of the body" in feedback
    assert "the inputs' columns are: orders: customer_id, country, amount_eur" in feedback


def test_a_script_that_never_passes_its_trial_run_is_not_written(spec: Path) -> None:
    with FakeOpenAI([answer(COMPUTED)]) as fake:
        code, _, err = run("fill", "pipeline.yaml", "--base-url", fake.base_url)
        assert fake.calls == 3
    assert code == 1
    assert "error[PS503]: step 'totals'" in err and "PS521" in err
    assert not (spec.parent / "pipeline.lock.json").exists()
    assert not (spec.parent / "scripts").exists()


def test_changed_declarations_make_the_entry_stale(spec: Path) -> None:
    with FakeOpenAI([answer(GOOD)]) as fake:
        code, out, err = run("fill", "pipeline.yaml", "--base-url", fake.base_url)
    assert code == 0, out + err
    # A column added upstream changes what the step reads: it must be filled again.
    spec.write_text(SPEC.replace("amount_eur: float}", "amount_eur: float, vat: float}", 1))
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow", "--locked")
    assert code == 1
    assert "error[PS502]: the lock entry for step 'totals' is stale" in err


def test_without_pandas_the_script_is_locked_unrun_with_a_warning(
    spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trial_run, "missing_modules", lambda python, modules: ("pandas",))
    with FakeOpenAI([answer(COMPUTED)]) as fake:
        code, out, err = run("fill", "pipeline.yaml", "--base-url", fake.base_url)
        assert fake.calls == 1
    assert code == 0, out + err
    assert "warning[PS522]: step 'totals': the LLM's script was locked without a trial run" in err
    lock = json.loads((spec.parent / "pipeline.lock.json").read_text())
    reason = lock["steps"]["totals"]["trial"]["reason"]
    assert lock["steps"]["totals"]["trial"]["ran"] is False
    assert reason.startswith("pandas cannot be imported by ")


def test_a_spec_without_declarations_gets_the_prompt_as_before(spec: Path) -> None:
    spec.write_text(
        SPEC.replace(
            "raw: {type: dataset, columns: {customer_id: int, country: string, amount_eur: float}}",
            "raw: dataset",
        ).replace(
            "totals: {type: dataset, columns: {country: string, total: float}}", "totals: dataset"
        )
    )
    with FakeOpenAI([answer(GUESSED)]) as fake:
        code, out, err = run("fill", "pipeline.yaml", "--base-url", fake.base_url)
        (request,) = fake.requests
    assert code == 0, out + err
    assert request["messages"][0]["content"] == SYSTEM_PROMPT
    assert "input_columns" not in user_data(request)
    lock = json.loads((spec.parent / "pipeline.lock.json").read_text())
    assert lock["steps"]["totals"]["trial"] == {
        "ran": False,
        "reason": "no input or output of the step declares its columns",
    }


def test_a_sample_declares_an_external_input_and_its_change_refills(spec: Path) -> None:
    (spec.parent / "rates.csv").write_text("country,rate\nfr,1.1\nde,0.9\n")
    spec.write_text(
        SPEC.replace(
            "inputs: {orders: ingest.raw}",
            'inputs: {orders: ingest.raw, rates: {uri: "s3://acme/fx/", sample: rates.csv}}',
        )
    )
    with FakeOpenAI([answer(GOOD)]) as fake:
        code, out, err = run("fill", "pipeline.yaml", "--base-url", fake.base_url)
        (request,) = fake.requests
    assert code == 0, out + err
    assert user_data(request)["input_columns"]["rates"] == {"country": "string", "rate": "float"}
    lock = json.loads((spec.parent / "pipeline.lock.json").read_text())
    assert lock["steps"]["totals"]["trial"]["inputs"]["rates"] == ["country", "rate"]
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow", "--locked")
    assert code == 0, err
    (spec.parent / "rates.csv").write_text("country,rate,day\nfr,1.1,2024-01-01\n")
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow", "--locked")
    assert code == 1
    assert "error[PS502]: the lock entry for step 'totals' is stale" in err


def test_the_trial_runs_in_the_python_the_command_line_names(spec: Path, tmp_path: Path) -> None:
    """--trial-python: an interpreter without pandas (a bare venv) cannot run it, and the
    lock names that interpreter; pipespec's own runs it."""
    import subprocess
    import sys

    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    with FakeOpenAI([answer(COMPUTED)]) as fake:
        argv = ["fill", "pipeline.yaml", "--base-url", fake.base_url, "--trial-python"]
        code, out, err = run(*argv, str(python))
        assert code == 0, out + err
        trial = json.loads((spec.parent / "pipeline.lock.json").read_text())["steps"]["totals"]
        assert trial["trial"] == {
            "ran": False,
            "reason": f"pandas cannot be imported by {python}",
        }
        code, out, err = run(*argv, sys.executable, "--dry-run")
    assert code == 0, out + err


def test_a_spec_cannot_name_the_trial_python(spec: Path) -> None:
    text = spec.read_text().replace(
        "{model: small-local}", "{model: small-local, trial_python: /bin/sh}"
    )
    spec.write_text(text)
    code, _, err = run("validate", "pipeline.yaml")
    assert code == 1 and "trial_python" in err
