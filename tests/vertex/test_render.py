"""The Vertex backend's own behaviour with hostile text: spec strings reach the container,
the custom job's worker pool and the job file verbatim (read back with PyYAML and json),
text Vertex would read as a KFP placeholder is refused, and spec text that GCPC's launchers
splice into a JSON payload cannot change that payload."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipespec.backends.vertex.programs import JOB_RUNNER
from tests.airflow.test_safety import HOSTILE, yaml_quote
from tests.kubeflow.test_render import YAML_11_LOOKALIKES
from tests.vertex.vspec import build, compiled, constants, pools, refused, splice

STRINGS = [*HOSTILE, *YAML_11_LOOKALIKES, "ünïcødé ☃ 𝄞", "{{ x }}", "$(id)"]
# `$${` is the spec's escape for a literal `${`: the text the user means arrives.
MEANT = [s.replace("$${", "${") for s in STRINGS]


def _flow(items: list[str]) -> str:
    return ", ".join(yaml_quote(s) for s in items)


def _env(values: dict[str, str]) -> str:
    return ", ".join(f"{k}: {yaml_quote(v)}" for k, v in values.items())


def _container_spec(args: list[str], env: dict[str, str], kind: str = "container") -> str:
    outputs = "\n    outputs: {model: model}" if kind == "train" else ""
    model = ', "${outputs.model}"' if kind == "train" else ""
    return f"""
pipespec: 1
name: hostile
description: {yaml_quote(HOSTILE[1])}
params:
  day: {{type: string, default: "no", description: {yaml_quote(HOSTILE[5])}}}
  mode: {{type: string, default: {yaml_quote(HOSTILE[0])}}}
steps:
  one:
    kind: {kind}
    image: busybox:1
    description: {yaml_quote(HOSTILE[2])}
    command: [echo, {_flow(args)}, "${{params.day}}"{model}]
    env: {{{_env(env)}}}{outputs}
"""


def test_hostile_text_reaches_a_container_task_verbatim(tmp_path: Path) -> None:
    env = {"PLAIN": HOSTILE[0], "LOOK": "off", "OCT": "0755", "NL": HOSTILE[5]}
    doc, job = compiled(tmp_path, _container_spec(STRINGS, env))
    container = doc["deploymentSpec"]["executors"]["exec-one"]["container"]
    assert container["command"] == ["echo", *MEANT, "{{$.inputs.parameters['param-day']}}"]
    assert {e["name"]: e["value"] for e in container["env"]} == env
    params = doc["root"]["inputDefinitions"]["parameters"]
    assert params["day"]["defaultValue"] == "no"
    assert params["mode"]["defaultValue"] == HOSTILE[0]
    assert job["pipeline_job"]["parameter_values"] == {"day": "no", "mode": HOSTILE[0]}


def test_hostile_text_reaches_the_custom_job_worker_pool_verbatim(tmp_path: Path) -> None:
    env = {"PLAIN": HOSTILE[1], "LOOK": "on", "EXP": "1e3", "UNI": "\u2028 ☃"}
    doc, _ = compiled(tmp_path, _container_spec(STRINGS, env, kind="train"))
    (pool,) = pools(doc, "one")
    spec = pool["container_spec"]
    # The string param is run-time text: it reaches the job through `one-values`' file,
    # never as a placeholder in the job's JSON spec (Vertex would not escape it there).
    assert spec["command"][:3] == ["python3", "-c", JOB_RUNNER]
    plan = json.loads(spec["command"][3])
    assert spec["command"][4] == "{{$.inputs.artifacts['pipespec-values'].path}}"
    assert spec["command"][5:] == [
        "echo", *MEANT, "", "{{$.outputs.artifacts['model'].path}}",
    ]  # fmt: skip
    assert plan["arguments"] == {str(len(MEANT) + 1): [{"value": "param-day"}]}
    helper = doc["components"]["comp-one-values"]["inputDefinitions"]["parameters"]
    assert list(helper) == ["param-day"]
    assert {e["name"]: e["value"] for e in spec["env"]} == env
    assert spec["image_uri"] == "busybox:1"
    # The worker pools reach the launcher as one JSON value: it survives a round trip.
    assert json.loads(json.dumps(pool)) == pool


def test_a_script_with_hostile_text_ships_verbatim(tmp_path: Path) -> None:
    source = "print(" + repr("\n".join(HOSTILE[:6])) + ")\n# {{ no }} $(id) 'q' \"q\"\n"
    (tmp_path / "step.py").write_text(source, encoding="utf-8")
    text = """
pipespec: 1
name: scripted
steps:
  one:
    kind: container
    image: python:3.12
    script: step.py
    args: ["on", "0755"]
"""
    doc, _ = compiled(tmp_path, text)
    command = doc["deploymentSpec"]["executors"]["exec-one"]["container"]["command"]
    assert source in command
    assert doc["deploymentSpec"]["executors"]["exec-one"]["container"]["args"] == ["on", "0755"]


def test_a_forged_placeholder_in_a_train_command_is_refused(tmp_path: Path) -> None:
    forged = "{{$.inputs.parameters['project']}}"
    found = refused(tmp_path, _container_spec([forged], {}, kind="train"))
    assert [d.code for d in found] == ["PS600"]
    assert "{{$" in found[0].message
    assert found[0].span is not None and found[0].span.line > 0


def test_a_forged_placeholder_in_a_train_env_is_refused(tmp_path: Path) -> None:
    """In a container task KFP passes env to the pod unchanged, but a training job's env is
    inside worker_pool_specs, whose placeholders Vertex resolves (that is how the step's
    own inputs reach it): there, `{{$` in an env value would be replaced too."""
    forged = "{{$.inputs.parameters['project']}}"
    found = refused(tmp_path, _container_spec(["a"], {"FORGED": forged}, kind="train"))
    assert [d.code for d in found] == ["PS600"]
    assert "{{$" in found[0].message
    # In a container task the same env is passed to the pod as it is.
    doc, _ = compiled(tmp_path, _container_spec(["a"], {"FORGED": forged}))
    env = doc["deploymentSpec"]["executors"]["exec-one"]["container"]["env"]
    assert env == [{"name": "FORGED", "value": forged}]


def test_a_forged_placeholder_as_instance_type_is_refused(tmp_path: Path) -> None:
    text = _container_spec(["a"], {}, kind="train") + (
        "    targets: {vertex: {instance_type: \"{{$.inputs.parameters['project']}}\"}}\n"
    )
    found = refused(tmp_path, text)
    assert [d.code for d in found] == ["PS600"]
    spaced = _container_spec(["a"], {}, kind="train")
    spaced += '    targets: {vertex: {instance_type: "n1 standard 4"}}\n'
    assert [d.code for d in refused(tmp_path, spaced)] == ["PS600"]


def _model_steps(description: str, key: str) -> str:
    return f"""
  mk:
    kind: container
    image: busybox:1
    command: [mk, "${{outputs.data}}"]
    outputs: {{data: dataset}}
  train:
    kind: train
    framework: xgboost
    task: binary_classification
    inputs: {{train: mk.data}}
    serving_image: ghcr.io/acme/serve:1
  register:
    kind: register
    description: {yaml_quote(description)}
    inputs: {{model: train.model}}
    model_group: churn
    approval: pending
  predict:
    kind: batch_predict
    inputs: {{model: train.model, data: mk.data}}
    keep_columns: [{yaml_quote(key)}]
"""


def _model_spec(description: str, key: str) -> str:
    return "pipespec: 1\nname: models\nsteps:" + _model_steps(description, key)


def test_register_description_and_key_field_cannot_break_gcpc_payloads(tmp_path: Path) -> None:
    """ModelUploadOp's launcher splices `description` into its JSON payload, and
    ModelBatchPredictOp's splices `key_field`, without escaping: whatever the spec's text,
    the payload each launcher parses must carry exactly that text in that field."""
    description = 'say "hi", \\ back\nnew ☃ }, "labels": {"x": "y"'
    key = 'id", "excluded_fields": ["a'
    doc, _ = compiled(tmp_path, _model_spec(description, key))
    upload = splice(doc, "register")
    assert upload["description"] == description
    assert upload["display_name"] == "churn"
    assert upload["labels"] == {"pipespec-approval": "pending"}
    predict = splice(doc, "predict")
    assert predict["instance_config"]["key_field"] == key
    assert "excluded_fields" not in predict["instance_config"]
    assert predict["display_name"] == "predict"


def test_plain_description_and_key_field_are_passed_as_written(tmp_path: Path) -> None:
    doc, _ = compiled(tmp_path, _model_spec("Weekly churn model", "customer_id"))
    assert constants(doc, "register")["description"] == "Weekly churn model"
    assert constants(doc, "predict")["key_field"] == "customer_id"


def test_a_forged_placeholder_in_gcpc_payload_text_is_refused(tmp_path: Path) -> None:
    forged = "{{$.inputs.parameters['project']}}"
    found = refused(tmp_path, _model_spec(f"see {forged}", "id"))
    assert [d.code for d in found] == ["PS600"] and "description" in found[0].message
    found = refused(tmp_path, _model_spec("fine", forged))
    assert [d.code for d in found] == ["PS600"] and "keep_columns" in found[0].message


def test_job_parameter_values_are_the_defaults_with_their_types(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: typed
params:
  s: {type: string, default: "0755"}
  y: {type: string, default: "yes"}
  i: {type: int, default: 3}
  f: {type: float, default: 1.0}
  b: {type: bool, default: false}
  l: {type: list, default: [1, "on", 2.5]}
  d: {type: dict, default: {a: "no", b: [1]}}
  none: {type: string}
steps:
  one:
    kind: container
    image: busybox:1
    command: [echo, "${params.s}", "${params.y}", "${params.i}", "${params.f}", "${params.b}",
              "${params.l}", "${params.d}", "${params.none}"]
"""
    _, job = compiled(tmp_path, text)
    values = job["pipeline_job"]["parameter_values"]
    assert values == {
        "s": "0755", "y": "yes", "i": 3, "f": 1.0, "b": False,
        "l": [1, "on", 2.5], "d": {"a": "no", "b": [1]},
    }  # fmt: skip
    assert [type(values[k]) for k in ("s", "i", "f", "b")] == [str, int, float, bool]
    assert job["pipeline_job"]["display_name"] == "typed"
    assert job["template"] == "typed.yaml"


def _compile_in_subprocess(spec: Path, out: Path, seed: str) -> dict[str, bytes]:
    # Not CI=true: there, compile reads only lock files, and this spec is filled in memory.
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env |= {"PYTHONHASHSEED": seed, "PIPESPEC_TODAY": "2025-07-01"}
    cmd = [sys.executable, "-m", "pipespec", "compile", str(spec), "--target", "vertex"]
    subprocess.run([*cmd, "--out", str(out)], check=True, env=env, capture_output=True)
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_output_is_byte_identical_across_runs_and_hash_seeds(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    text = (
        _model_spec('Weekly "churn" model', "id")
        + """
  tuned:
    kind: tune
    framework: xgboost
    task: binary_classification
    inputs: {train: mk.data}
    objective: {metric: auc, goal: maximize}
    search_space:
      eta: {type: float, min: 0.01, max: 0.3, scale: log}
      depth: {type: int, min: 2, max: 8}
      booster: {type: categorical, values: [gbtree, dart]}
    max_trials: 4
schedule: "@weekly"
targets:
  vertex: {labels: {team: ml, env: prod}, project: acme-ml-prod}
"""
    )
    spec.write_text(text, encoding="utf-8")
    first = _compile_in_subprocess(spec, tmp_path / "a", "1")
    second = _compile_in_subprocess(spec, tmp_path / "b", "2")
    third = _compile_in_subprocess(spec, tmp_path / "c", "1")
    assert any(name.endswith(".job.json") for name in first)
    assert first == second == third
    files, _ = build(tmp_path, text)
    again, _ = build(tmp_path, text)
    assert files == again and files


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.text(min_size=1, max_size=30).filter(lambda s: "$" not in s and "\x00" not in s),
        min_size=1,
        max_size=3,
    ),
    st.text(min_size=1, max_size=40).filter(lambda s: "$" not in s and "\x00" not in s),
)
def test_any_text_arrives_verbatim_and_adds_no_placeholder(
    tmp_path: Path, strings: list[str], description: str
) -> None:
    strings = [s if s.strip() else "x" for s in strings]
    description = description if description.strip() else "x"
    env = {f"E{i}": s for i, s in enumerate(strings)}

    def spec(args: list[str], env: dict[str, str], description: str) -> str:
        return _container_spec(args, env, kind="train") + _model_steps(description, args[0])

    doc, _ = compiled(tmp_path, spec(strings, env, description))
    container = pools(doc, "one")[0]["container_spec"]
    assert container["command"][:3] == ["python3", "-c", JOB_RUNNER]  # `day` comes by file
    assert container["command"][6:-2] == strings
    assert {e["name"]: e["value"] for e in container["env"]} == env
    assert splice(doc, "register")["description"] == description
    assert splice(doc, "predict")["instance_config"]["key_field"] == strings[0]
    # The same spec with plain text has exactly the same placeholders.
    plain = ["x"] * len(strings)
    files = build(tmp_path, spec(strings, env, description))[0]
    benign = build(tmp_path, spec(plain, dict.fromkeys(env, "x"), "x"))[0]
    assert _placeholders(files) == _placeholders(benign)


def _placeholders(files: dict[str, str]) -> list[str]:
    return sorted(re.findall(r"\{\{\$[^}]*\}\}", "\n".join(files.values())))


def _tune_spec(values: list[str]) -> str:
    return f"""
pipespec: 1
name: tuned
steps:
  tune:
    kind: tune
    image: ghcr.io/acme/t:1
    command: [python, fit.py, "--opt=${{hyperparameters.opt}}", "--model=${{outputs.model}}",
              "--metrics=${{outputs.metrics}}"]
    outputs: {{model: model, metrics: metrics}}
    objective: {{metric: auc, goal: maximize}}
    search_space:
      opt: {{type: categorical, values: [{_flow(values)}]}}
    max_trials: 4
    parallel_trials: 2
"""


def test_categorical_values_reach_the_study_spec_verbatim(tmp_path: Path) -> None:
    values = [HOSTILE[0], HOSTILE[4], "no", "0755", "☃"]
    doc, _ = compiled(tmp_path, _tune_spec(values))
    params = doc["components"]["comp-tune"]["inputDefinitions"]["parameters"]
    (spec,) = params["study_spec_parameters"]["defaultValue"]
    assert spec["categorical_value_spec"] == {"values": values}


def test_a_forged_placeholder_in_a_categorical_value_is_refused(tmp_path: Path) -> None:
    """study_spec_parameters is a GCPC input: Vertex substitutes its placeholders."""
    found = refused(tmp_path, _tune_spec(["adam", "{{$.inputs.parameters['project']}}"]))
    assert [d.code for d in found] == ["PS600"] and "'opt'" in found[0].message
