"""The Kubeflow backend's own behaviour: spec text reaches the container verbatim (read
back with PyYAML, the loader kfp uses), text that KFP's launcher would read as a
placeholder is refused, and what KFP cannot wire is a diagnostic at the step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipespec import ir
from pipespec.backends.kubeflow import KubeflowBackend
from pipespec.backends.kubeflow.options import KubeflowOptions
from tests.airflow.test_safety import HOSTILE, yaml_quote
from tests.backends.spec_ir import ir_of

# Strings PyYAML (YAML 1.1) would read as something else if written plain.
YAML_11_LOOKALIKES = [
    "no", "on", "off", "y", "Y", "yes", "12:30", "0755", "1e3", ".inf", "~", "null",
    "- x", ": x", "# x", "0x1F", "2024-01-01",
]  # fmt: skip


def _render(pipeline: ir.Pipeline) -> tuple[dict[str, str], list[Any]]:
    result = KubeflowBackend().render(pipeline, KubeflowOptions())
    return result.files, result.diagnostics


def _docs(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    files, diags = _render(ir_of(tmp_path, text))
    assert not diags, [d.message for d in diags]
    (yaml_text,) = [v for k, v in files.items() if k.endswith(".yaml")]
    return list(yaml.safe_load_all(yaml_text))


def _spec(args: list[str], env: dict[str, str] | None = None) -> str:
    argv = ", ".join(yaml_quote(a) for a in args)
    env_block = ", ".join(f"{k}: {yaml_quote(v)}" for k, v in (env or {}).items())
    return f"""
pipespec: 1
name: hostile
params:
  day: {{type: string, default: "no"}}
steps:
  one:
    kind: container
    image: busybox:1
    command: [echo, {argv}, "${{params.day}}"]
    env: {{{env_block}}}
"""


def test_hostile_and_yaml_lookalike_strings_reach_the_command_verbatim(tmp_path: Path) -> None:
    strings = [*HOSTILE, *YAML_11_LOOKALIKES]
    docs = _docs(tmp_path, _spec(strings, {"PLAIN": HOSTILE[0], "LOOK": "off"}))
    container = docs[0]["deploymentSpec"]["executors"]["exec-one"]["container"]
    # `$${` is the spec's escape for a literal `${`: the text the user means arrives.
    meant = [s.replace("$${", "${") for s in strings]
    assert container["command"] == ["echo", *meant, "{{$.inputs.parameters['param-day']}}"]
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "PLAIN": HOSTILE[0],
        "LOOK": "off",
    }
    params = docs[0]["root"]["inputDefinitions"]["parameters"]
    assert params["day"] == {"defaultValue": "no", "isOptional": True, "parameterType": "STRING"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.text(min_size=1, max_size=30).filter(lambda s: "{{$" not in s and "$" not in s),
        min_size=1,
        max_size=4,
    )
)
def test_any_text_without_a_placeholder_start_arrives_verbatim(
    tmp_path: Path, strings: list[str]
) -> None:
    strings = [s for s in strings if "\x00" not in s and s.strip()] or ["x"]
    docs = _docs(tmp_path, _spec(strings))
    command = docs[0]["deploymentSpec"]["executors"]["exec-one"]["container"]["command"]
    assert command[1:-1] == strings


def test_env_with_a_value_is_exported_by_the_fixed_runner(tmp_path: Path) -> None:
    docs = _docs(tmp_path, _spec(["a"], {"DAY": "${params.day}!"}))
    command = docs[0]["deploymentSpec"]["executors"]["exec-one"]["container"]["command"]
    assert command[:5] == [
        "sh",
        "-c",
        command[2],
        "pipespec-env",
        "DAY={{$.inputs.parameters['param-day']}}!",
    ]
    assert command[5:] == ["--", "echo", "a", "{{$.inputs.parameters['param-day']}}"]
    assert "$1" in command[2] and "DAY" not in command[2]  # the program holds no spec text


def test_a_forged_placeholder_in_an_argument_is_refused(tmp_path: Path) -> None:
    forged = "{{$.inputs.parameters['param-day']}}"
    files, diags = _render(ir_of(tmp_path, _spec([forged])))
    assert files == {}
    assert [d.code for d in diags] == ["PS600"]
    assert "{{$" in diags[0].message and diags[0].span.line > 0


def test_a_forged_placeholder_in_plain_env_is_kept_verbatim(tmp_path: Path) -> None:
    forged = "{{$.inputs.parameters['param-day']}} {{$}}"
    docs = _docs(tmp_path, _spec(["a"], {"FORGED": forged}))
    env = docs[0]["deploymentSpec"]["executors"]["exec-one"]["container"]["env"]
    assert env == [{"name": "FORGED", "value": forged}]


def test_reading_outputs_of_two_differently_conditioned_steps_is_an_error(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: two-conditions
params:
  a: {type: bool, default: true}
  b: {type: bool, default: true}
steps:
  left:
    kind: container
    image: busybox:1
    when: "params.a == true"
    command: [make, "${outputs.data}"]
    outputs: {data: dataset}
  right:
    kind: container
    image: busybox:1
    when: "params.b == true"
    command: [make, "${outputs.data}"]
    outputs: {data: dataset}
  both:
    kind: container
    image: busybox:1
    command: [use, "${inputs.l}", "${inputs.r}"]
    inputs: {l: left.data, r: right.data}
"""
    files, diags = _render(ir_of(tmp_path, text))
    assert files == {}
    assert [d.code for d in diags] == ["PS600"]
    assert "different conditions" in diags[0].message


def test_a_step_reading_a_conditioned_output_runs_inside_its_condition(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: nested
params:
  go: {type: bool, default: true}
steps:
  make:
    kind: container
    image: busybox:1
    when: "params.go == true"
    command: [make, "${outputs.data}"]
    outputs: {data: dataset}
  use:
    kind: container
    image: busybox:1
    command: [use, "${inputs.d}"]
    inputs: {d: make.data}
"""
    spec = _docs(tmp_path, text)[0]
    condition = spec["components"]["comp-condition-make"]["dag"]["tasks"]
    assert set(condition) == {"make", "use"}
    assert condition["use"]["dependentTasks"] == ["make"]
    trigger = spec["root"]["dag"]["tasks"]["condition-make"]["triggerPolicy"]["condition"]
    assert trigger == "inputs.parameter_values['pipelinechannel--go'] == true"


def test_string_literals_in_a_condition_are_escaped_for_cel(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: quoted
params:
  mode: {type: string, default: "x"}
steps:
  one:
    kind: container
    image: busybox:1
    when: >-
      params.mode == 'it\\'s \\\\ "q" \\n'
    command: [go]
"""
    spec = _docs(tmp_path, text)[0]
    trigger = spec["root"]["dag"]["tasks"]["condition-one"]["triggerPolicy"]["condition"]
    # A CEL double-quoted literal with JSON's escapes (CEL reads them the same way).
    assert trigger == (
        "inputs.parameter_values['pipelinechannel--mode'] == " + json.dumps('it\'s \\ "q" \n')
    )


def test_artifact_fan_in_is_an_error_parameters_are_collected(tmp_path: Path) -> None:
    base = """
pipespec: 1
name: fan
steps:
  each:
    kind: container
    image: busybox:1
    foreach: [a, b]
    command: [make, "${item}", "${outputs.data}", "${outputs.count}"]
    outputs: {data: dataset, count: int}
  sum:
    kind: container
    image: busybox:1
    command: [sum, "${inputs.c}"]
    inputs: {c: each.count}
"""
    spec = _docs(tmp_path, base)[0]
    loop = spec["components"]["comp-for-loop-each"]
    assert loop["outputDefinitions"]["parameters"]["pipelinechannel--each-count"] == {
        "parameterType": "LIST"
    }
    assert spec["components"]["comp-sum"]["inputDefinitions"]["parameters"]["c"] == {
        "parameterType": "LIST"
    }
    raw = spec["root"]["dag"]["tasks"]["for-loop-each"]["parameterIterator"]["items"]["raw"]
    assert raw == '["a", "b"]'
    artifact = base.replace("{c: each.count}", "{c: each.data}")
    files, diags = _render(ir_of(tmp_path, artifact))
    assert files == {} and "first artifact" in diags[0].message


def test_a_secret_without_a_kubernetes_mapping_is_an_error(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: secretive
secrets:
  db: {airflow: {conn_id: db}}
steps:
  one:
    kind: container
    image: busybox:1
    command: [go]
    secrets: {DB_URL: db}
"""
    files, diags = _render(ir_of(tmp_path, text))
    assert files == {} and "kubernetes" in diags[0].message


def test_a_schedule_kfp_cannot_run_is_a_diagnostic_not_a_crash(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: last-day
schedule: "0 3 L * *"
steps:
  one:
    kind: container
    image: busybox:1
    command: [go]
"""
    files, diags = _render(ir_of(tmp_path, text))
    assert files == {}
    assert [d.code for d in diags] == ["PS600"] and "schedule" in diags[0].message
    files, diags = _render(ir_of(tmp_path, text.replace("0 3 L * *", "0 3 * * 1")))
    assert not diags and "kubeflow/last-day.schedule.py" in files


def test_a_helper_image_that_could_be_a_placeholder_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        KubeflowOptions(helper_image="{{$.inputs.parameters['x']}}")
    assert KubeflowOptions(helper_image="ghcr.io/acme/py:3.11").helper_image.endswith("3.11")
