"""pipespec's fixed programs on Vertex, run for real in a subprocess: the metadata server
and Google's APIs are a fake ``urllib.request.urlopen`` (a wrapper installs it, then runs
the program's own text as ``python3 -c`` would), the bucket is a tmp folder (the
programs use a path that is not ``gs://`` as it is). Hostile values stay data."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipespec.backends.vertex.programs import (
    BEST_TRIAL_PROGRAM,
    JOB_RUNNER,
    MODEL_PROGRAM,
    SECRET_RUNNER,
)
from tests.vertex.vspec import compiled, pools

# Installs the fake urlopen (answers from FAKE_RESPONSES by URL, logs every request to
# FAKE_LOG), then runs FAKE_PROGRAM with this process's argv, as `python3 -c PROGRAM`.
WRAPPER = """\
import io, json, os, sys, urllib.error, urllib.request
with open(os.environ["FAKE_RESPONSES"], encoding="utf-8") as f:
    responses = json.load(f)
class Response(io.BytesIO):
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.close()
def fake(request, timeout=None):
    with open(os.environ["FAKE_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"url": request.full_url, "headers": dict(request.header_items())}))
        f.write("\\n")
    if request.full_url not in responses:
        raise urllib.error.HTTPError(request.full_url, 404, "not found", {}, None)
    return Response(json.dumps(responses[request.full_url]).encode("utf-8"))
urllib.request.urlopen = fake
with open(os.environ["FAKE_PROGRAM"], encoding="utf-8") as f:
    program = f.read()
exec(compile(program, "<program>", "exec"), {"__name__": "__main__"})
"""
META = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
TOKEN = "ya29.fake-token"
HOSTILE_NAME = "va\"l'a\\uc $(id) {{$}}"


class Fake:
    """A tmp folder with the fake's files; ``run`` runs one program there."""

    def __init__(self, tmp_path: Path, responses: dict[str, Any] | None = None) -> None:
        self.tmp = tmp_path
        self.log = tmp_path / "requests.jsonl"
        (tmp_path / "responses.json").write_text(
            json.dumps({META: {"access_token": TOKEN}, **(responses or {})}), encoding="utf-8"
        )

    def run(
        self, program: str, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        (self.tmp / "program.py").write_text(program, encoding="utf-8")
        full_env = {
            **os.environ,
            "FAKE_RESPONSES": str(self.tmp / "responses.json"),
            "FAKE_LOG": str(self.log),
            "FAKE_PROGRAM": str(self.tmp / "program.py"),
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-c", WRAPPER, *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


# --- SECRET_RUNNER ------------------------------------------------------------------------

SECRET_VALUE = "s3cr3t 'q' \"x\" \\ $(id)\n☃"
RECORD = (
    "import json, os, sys\n"
    "with open(sys.argv[1], 'w', encoding='utf-8') as f:\n"
    "    json.dump({'argv': sys.argv[2:], 'db': os.environ['DB_URL'],"
    " 'token': os.environ['TOKEN']}, f)\n"
)


def test_secret_runner_exports_each_secret_and_runs_the_command(tmp_path: Path) -> None:
    db = "projects/acme-ml/secrets/db-url/versions/latest"
    odd = "projects/1234/secrets/t\"k'x/versions/2"  # a hostile reference stays data
    api = "https://secretmanager.googleapis.com/v1/"

    def payload(text: str) -> dict[str, Any]:
        return {"name": "x", "payload": {"data": base64.b64encode(text.encode()).decode()}}

    fake = Fake(
        tmp_path, {f"{api}{db}:access": payload(SECRET_VALUE), f"{api}{odd}:access": payload("t")}
    )
    record = tmp_path / "record.json"
    command = [sys.executable, "-c", RECORD, str(record), "$(id)", "--", "a b"]
    done = fake.run(SECRET_RUNNER, [f"DB_URL={db}", f"TOKEN={odd}", "--", *command])
    assert done.returncode == 0, done.stderr
    seen = json.loads(record.read_text(encoding="utf-8"))
    assert seen == {"argv": ["$(id)", "--", "a b"], "db": SECRET_VALUE, "token": "t"}
    assert SECRET_VALUE not in done.stdout + done.stderr and "s3cr3t" not in done.stderr
    requests = fake.requests()
    assert [r["url"] for r in requests] == [META, f"{api}{db}:access", f"{api}{odd}:access"]
    assert requests[0]["headers"] == {"Metadata-flavor": "Google"}
    assert requests[1]["headers"] == {"Authorization": f"Bearer {TOKEN}"}


def test_secret_runner_fails_without_printing_a_secret(tmp_path: Path) -> None:
    fake = Fake(tmp_path)  # Secret Manager answers 404
    done = fake.run(SECRET_RUNNER, ["DB_URL=projects/p/secrets/none", "--", "true"])
    assert done.returncode != 0 and "404" in done.stderr


# --- JOB_RUNNER --------------------------------------------------------------------------

STEP = """\
import json, os, sys
args = dict(a.split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
with open(os.environ["RECORD"], "w", encoding="utf-8") as f:
    json.dump({"argv": sys.argv[1:], "tag": os.environ.get("TAG")}, f)
if "--metrics" in args:
    with open(args["--metrics"], "w", encoding="utf-8") as f:
        json.dump({"val_auc": 0.75, "other": 1}, f)
    with open(os.path.join(args["--model"], "model.bin"), "w") as f:
        f.write("m")
sys.exit(int(os.environ.get("STEP_EXIT", "0")))
"""

TUNE = """
pipespec: 1
name: tuned
steps:
  tune:
    kind: tune
    image: ghcr.io/acme/t:1
    command: [python, step.py, "--lr=${hyperparameters.lr}", "--opt=${hyperparameters.opt}",
              "--model=${outputs.model}", "--metrics=${outputs.metrics}", "it's \\"q\\" $(id)"]
    env: {TAG: "x-${hyperparameters.opt}"}
    outputs: {model: model, metrics: metrics}
    objective: {metric: val_auc, goal: maximize}
    search_space:
      lr: {type: float, min: 0.001, max: 0.1}
      opt: {type: categorical, values: [adam, sgd]}
    max_trials: 4
    parallel_trials: 2
"""


def _trial_env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "AIP_MODEL_DIR": str(tmp_path / "base" / "7" / "model") + "/",
        "CLOUD_ML_HP_METRIC_FILE": str(tmp_path / "hp" / "output.metrics"),
        "CLOUD_ML_TRIAL_ID": "7",
        "RECORD": str(tmp_path / "record.json"),
        **more,
    }


def _trial_command(tmp_path: Path) -> list[str]:
    """The tune step's worker pool command as compiled, with this interpreter for python."""
    doc, _ = compiled(tmp_path, TUNE)
    command: list[str] = pools(doc, "tune")[0]["container_spec"]["command"]
    assert command[:3] == ["python3", "-c", JOB_RUNNER]
    (tmp_path / "step.py").write_text(STEP, encoding="utf-8")
    rest = [sys.executable if part == "python" else part for part in command[3:]]
    return [sys.executable, "-c", JOB_RUNNER, *rest]


def test_trial_runner_puts_trial_values_and_paths_in_the_steps_argv(tmp_path: Path) -> None:
    command = _trial_command(tmp_path)
    appended = ["--lr=0.01", '--opt=ad"am $(id)']
    done = subprocess.run(
        [*command, *appended], env={**os.environ, **_trial_env(tmp_path)}, cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads((tmp_path / "record.json").read_text(encoding="utf-8"))
    trial = tmp_path / "base" / "7"
    assert seen["argv"] == [
        "--lr=0.01",
        '--opt=ad"am $(id)',
        f"--model={trial}/model",
        f"--metrics={trial}/outputs/metrics",
        'it\'s "q" $(id)',
    ]  # an own-command plan: the values are where the command wrote them, not appended
    assert seen["tag"] == 'x-ad"am $(id)'
    (line,) = (tmp_path / "hp" / "output.metrics").read_text().splitlines()
    report = json.loads(line)
    assert report["val_auc"] == "0.75" and report["trial"] == "7"
    assert (trial / "model" / "model.bin").exists()


def test_trial_runner_exits_non_zero_when_the_step_fails(tmp_path: Path) -> None:
    command = _trial_command(tmp_path)
    env = {**os.environ, **_trial_env(tmp_path, STEP_EXIT="3")}
    done = subprocess.run(
        [*command, "--lr=0.01", "--opt=sgd"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3
    assert not (tmp_path / "hp" / "output.metrics").exists()


def test_trial_runner_passes_values_on_for_a_standard_script(tmp_path: Path) -> None:
    """A standard script reads the trial's values as Vertex appends them; the objective is
    read from its metrics file by name, whatever that name holds."""
    program = (
        "import json, sys\n"
        "json.dump(sys.argv[1:], open(sys.argv[1] + '.argv', 'w'))\n"
        f"json.dump({{{HOSTILE_NAME!r}: 0.5}}, open(sys.argv[1], 'w'))\n"
    )
    # The step's argv: python -c PROGRAM <metrics path>, the path filled in by the runner.
    plan = {
        "arguments": {"3": [{"output": "metrics"}]},
        "dimensions": ["lr"],
        "length": 4,
        "metrics": "metrics",
        "objective": HOSTILE_NAME,
        "outputs": ["metrics"],
        "pass_values": True,
    }
    command = [sys.executable, "-c", JOB_RUNNER, json.dumps(plan)]
    command += [sys.executable, "-c", program, ""]
    done = subprocess.run(
        [*command, "--lr=0.2"], env={**os.environ, **_trial_env(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    metrics = tmp_path / "base" / "7" / "outputs" / "metrics"
    assert json.loads(Path(str(metrics) + ".argv").read_text()) == [str(metrics), "--lr=0.2"]
    report = json.loads((tmp_path / "hp" / "output.metrics").read_text())
    assert report[HOSTILE_NAME] == "0.5"


# --- MODEL_PROGRAM ------------------------------------------------------------------------


def _executor(tmp_path: Path, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "inputs": inputs,
        "outputs": {**outputs, "outputFile": str(tmp_path / "out" / "executor_output.json")},
    }


@pytest.mark.parametrize("as_folder", [True, False])
def test_model_program_makes_the_container_model_and_data_uris(
    tmp_path: Path, as_folder: bool
) -> None:
    data = tmp_path / "data"
    if as_folder:
        data.mkdir()
    else:
        data.write_text("a,b\n")
    executor = _executor(
        tmp_path,
        {"artifacts": {
            "model": {"artifacts": [{"name": "m", "uri": "gs://bucket/run/model"}]},
            "data": {"artifacts": [{"name": "d", "uri": str(data)}]},
        }},
        {"artifacts": {"container_model": {"artifacts": [{"name": "projects/p/cm"}]}},
         "parameters": {"data_uris": {"outputFile": str(tmp_path / "x")}}},
    )  # fmt: skip
    image = "europe-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.2-1:latest"
    done = Fake(tmp_path).run(
        MODEL_PROGRAM, [json.dumps(executor)], {"PIPESPEC_SERVING_IMAGE": image}
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "out" / "executor_output.json").read_text())
    assert result["parameterValues"] == {"data_uris": [f"{data}/*" if as_folder else str(data)]}
    assert result["artifacts"]["container_model"] == {"artifacts": [{
        "name": "projects/p/cm",
        "uri": "gs://bucket/run/model",
        "metadata": {"containerSpec": {"imageUri": image}},
    }]}  # fmt: skip


# --- BEST_TRIAL_PROGRAM -------------------------------------------------------------------

JOB_URI = "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/hyperparameterTuningJobs/42"


def _trial(trial_id: str, state: str, value: float | None, metric: str) -> dict[str, Any]:
    found = {"metrics": [{"metricId": metric, "value": value}]} if value is not None else {}
    return {
        "id": trial_id,
        "state": state,
        "parameters": [{"parameterId": "lr", "value": 0.01 * int(trial_id)},
                       {"parameterId": "opt", "value": f"o{trial_id}"}],
        "finalMeasurement": found,
    }  # fmt: skip


def _best(tmp_path: Path, goal: str, trials: list[dict[str, Any]], metric: str) -> Any:
    base = tmp_path / "trials"
    for trial in trials:
        outputs = base / trial["id"] / "outputs"
        outputs.mkdir(parents=True)
        (outputs / "metrics").write_text(json.dumps({metric: trial["id"]}))
    job = {
        "trials": trials,
        "trialJobSpec": {"baseOutputDirectory": {"outputUriPrefix": f"{base}/"}},
    }
    fake = Fake(tmp_path, {JOB_URI: job})
    resources = {"resources": [{"resourceType": "HyperparameterTuningJob", "resourceUri": JOB_URI}]}
    executor = _executor(
        tmp_path,
        {"parameterValues": {"gcp_resources": json.dumps(resources)}},
        {"artifacts": {"model": {"artifacts": [{"name": "projects/p/model"}]}},
         "parameters": {"best_hyperparameters": {"outputFile": "x"},
                        "metrics": {"outputFile": "y"}}},
    )  # fmt: skip
    done = fake.run(
        BEST_TRIAL_PROGRAM,
        [json.dumps(executor)],
        {"PIPESPEC_METRIC": metric, "PIPESPEC_GOAL": goal},
    )
    if done.returncode:
        return done
    assert [r["url"] for r in fake.requests()] == [META, JOB_URI]
    assert fake.requests()[1]["headers"] == {"Authorization": f"Bearer {TOKEN}"}
    return json.loads((tmp_path / "out" / "executor_output.json").read_text()), base


@pytest.mark.parametrize(("goal", "best"), [("maximize", "2"), ("minimize", "5")])
@pytest.mark.parametrize("metric", ["auc", HOSTILE_NAME])
def test_best_trial_program_returns_the_best_succeeded_trial(
    tmp_path: Path, goal: str, best: str, metric: str
) -> None:
    trials = [
        _trial("1", "SUCCEEDED", 0.7, metric),
        _trial("2", "SUCCEEDED", 0.9, metric),
        _trial("3", "FAILED", 0.99, metric),
        _trial("4", "SUCCEEDED", None, metric),
        _trial("5", "SUCCEEDED", 0.6, metric),
        _trial("6", "INFEASIBLE", 0.01, metric),
    ]
    result, base = _best(tmp_path, goal, trials, metric)
    assert result["parameterValues"] == {
        "best_hyperparameters": {"lr": 0.01 * int(best), "opt": f"o{best}"},
        "metrics": {metric: best},
    }
    (model,) = result["artifacts"]["model"]["artifacts"]
    assert model == {"name": "projects/p/model", "uri": f"{base}/{best}/model", "metadata": {}}


def test_best_trial_program_fails_clearly_when_no_trial_succeeded(tmp_path: Path) -> None:
    trials = [_trial("1", "FAILED", 0.9, "auc"), _trial("2", "SUCCEEDED", None, "auc")]
    done = _best(tmp_path, "maximize", trials, "auc")
    assert done.returncode != 0
    assert "no trial of the tuning job succeeded with metric auc" in done.stderr
    assert not (tmp_path / "out" / "executor_output.json").exists()
