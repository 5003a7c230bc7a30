"""Run-time text in a training job's command travels by file, not through the job's JSON
spec (which Vertex fills in unescaped): `<task>-values` writes it, JOB_RUNNER puts it in
the step's argv when the job starts. Both programs run here for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipespec.backends.vertex.programs import JOB_RUNNER, VALUES_PROGRAM
from tests.vertex.vspec import compiled, pools

HOSTILE = 'x", "service_account": "root@evil.iam.gserviceaccount.com'
SPEC = """
pipespec: 1
name: valued
params:
  day: {type: string, default: "2024-01-01"}
  size: {type: int, default: 3}
  mode: {type: string, default: fast, enum: [fast, slow]}
steps:
  stats:
    kind: container
    image: busybox:1
    command: [sh, -c, "echo {} > $0", "${outputs.stats}"]
    outputs: {stats: dict}
  fit:
    kind: train
    image: ghcr.io/acme/t:1
    command: [python, fit.py, "--day=${params.day}", "--size=${params.size}",
              "--mode=${params.mode}", "--stats", "${inputs.stats}", "${outputs.model}"]
    inputs: {stats: stats.stats}
    outputs: {model: model}
"""


def test_only_unsafe_values_take_the_file(tmp_path: Path) -> None:
    doc, _ = compiled(tmp_path, SPEC)
    command = pools(doc, "fit")[0]["container_spec"]["command"]
    assert command[:3] == ["python3", "-c", JOB_RUNNER]
    plan = json.loads(command[3])
    argv = command[5:]
    # An int and an enum of plain words are safe as placeholders; a free string and
    # another step's dict are not.
    assert argv[3] == "--size={{$.inputs.parameters['param-size']}}"
    assert argv[4] == "--mode={{$.inputs.parameters['param-mode']}}"
    assert plan["arguments"] == {"2": ["--day=", {"value": "param-day"}], "6": [{"value": "stats"}]}
    helper = doc["components"]["comp-fit-values"]["inputDefinitions"]["parameters"]
    assert sorted(helper) == ["param-day", "stats"]
    task = doc["root"]["dag"]["tasks"]["fit"]
    assert "fit-values" in task["dependentTasks"]
    assert task["inputs"]["artifacts"]["pipespec-values"]["taskOutputArtifact"] == {
        "outputArtifactKey": "values",
        "producerTask": "fit-values",
    }


def test_the_values_reach_the_step_verbatim(tmp_path: Path) -> None:
    doc, _ = compiled(tmp_path, SPEC)
    command = pools(doc, "fit")[0]["container_spec"]["command"]
    values_file = tmp_path / "values" / "values.json"
    executor = {"inputs": {"parameterValues": {"param-day": HOSTILE, "stats": {"n": 1}}}}
    done = subprocess.run(
        [sys.executable, "-c", VALUES_PROGRAM, json.dumps(executor), str(values_file)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = tmp_path / "argv.json"
    fit = tmp_path / "fit.py"
    fit.write_text(f"import json, sys; json.dump(sys.argv[1:], open({str(record)!r}, 'w'))")
    # The compiled argv, with this interpreter and a fit.py that records what it gets.
    argv = [sys.executable, str(fit), *command[7:]]
    run = [sys.executable, "-c", JOB_RUNNER, command[3], str(values_file), *argv]
    done = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(record.read_text(encoding="utf-8"))
    assert seen[0] == f"--day={HOSTILE}"
    assert seen[4] == '{"n":1}'
