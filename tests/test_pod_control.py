"""Pod and run control (issue 10, item 4): requests apart from limits, placement (node
selector, tolerations, service account) per step and in `defaults`, `defaults.secrets`,
`cache`, a bounded `foreach` over mapping items, the fan-in of a foreach step's outputs,
and instance settings from run-time params: validated, carried by the IR, rendered for
Airflow, and listed in the capability table."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipespec import ir
from pipespec.api import analyze_file
from pipespec.backends import k8s
from pipespec.backends.airflow.capabilities import capabilities_for
from pipespec.backends.airflow.options import AirflowOptions
from pipespec.ir.features import features_used
from pipespec.spec import units
from tests.airflow.helpers import VARIANTS, render
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "pod-control" / "pipeline.yaml"
POD_FEATURES = (
    ir.Feature.RESOURCE_LIMITS,
    ir.Feature.NODE_SELECTOR,
    ir.Feature.TOLERATIONS,
    ir.Feature.SERVICE_ACCOUNT,
    ir.Feature.CACHE,
    ir.Feature.FOREACH_PARALLELISM,
    ir.Feature.FOREACH_MAPPING_ITEMS,
    ir.Feature.FOREACH_FAN_IN,
    ir.Feature.INSTANCE_COUNT,
    ir.Feature.INSTANCE_PARAMS,
)


def _pipeline(path: Path) -> ir.Pipeline:
    analysis = analyze_file(path)
    errors = [d for d in analysis.diagnostics if d.severity.value == "error"]
    assert analysis.pipeline is not None and not errors, analysis.diagnostics
    return analysis.pipeline


def test_the_ir_carries_pod_control_merged_with_defaults() -> None:
    p = _pipeline(EXAMPLE)
    score, pick = p.step("score"), p.step("pick")
    assert score.resources.cpu == 2 and score.resources.cpu_limit == 4
    assert score.resources.memory_limit_bytes == 8 * 2**30
    # The step's own node selector wins per label; tolerations add up, defaults first.
    assert dict(score.node_selector) == {"pool": "scoring"}
    assert [t["key"] for t in score.tolerations] == ["dedicated", "spot"]
    assert score.service_account == "pipeline-runner" and pick.service_account == "picker"
    assert score.cache is True and pick.cache is False
    assert score.foreach is not None and score.foreach.parallelism == 2
    assert score.foreach.items is not None
    assert ir.thaw(score.foreach.items[0]) == {"region": "eu-west", "threshold": 0.5}
    # defaults.secrets reach every step, marked as inherited.
    assert [(s.env, s.secret) for s in pick.secrets] == [("WAREHOUSE_TOKEN", "warehouse")]
    assert pick.provenance["secrets.WAREHOUSE_TOKEN"] == "default"
    assert pick.provenance["node_selector.pool"] == "default"
    assert pick.provenance["tolerations"] == "default"
    assert pick.provenance["service_account"] == "user"
    used = features_used(p)
    assert all(f in used for f in POD_FEATURES), set(POD_FEATURES) - set(used)
    assert used[ir.Feature.FOREACH_FAN_IN] == [pick]


def test_a_step_secret_wins_over_the_defaults(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "pipespec: 1\nname: s\nsecrets:\n  a: {kubernetes: {secret: a, key: k}}\n"
        "  b: {kubernetes: {secret: b, key: k}}\n"
        "defaults: {image: busybox, secrets: {TOKEN: a, OTHER: a}}\n"
        "steps:\n  x: {kind: container, command: [x], secrets: {TOKEN: b}}\n"
    )
    (step,) = _pipeline(spec).steps
    assert [(s.env, s.secret) for s in step.secrets] == [("OTHER", "a"), ("TOKEN", "b")]


def test_without_limits_resources_keep_their_meaning() -> None:
    """Memory limited at its request, cpu not limited: what every v1 spec meant."""
    plain = ir.Resources(cpu=1.0, memory_bytes=2**30, gpu=0, accelerator=None)
    req = k8s.requirements(plain)
    assert req is not None
    assert req.requests == {"cpu": "1", "memory": "1Gi"} and req.limits == {"memory": "1Gi"}


@given(
    request=st.integers(min_value=1, max_value=2**40),
    extra=st.integers(min_value=0, max_value=2**40),
)
def test_written_limits_replace_the_default_ones(request: int, extra: int) -> None:
    res = ir.Resources(1.0, request, 0, None, cpu_limit=2.0, memory_limit_bytes=request + extra)
    req = k8s.requirements(res)
    assert req is not None
    assert units.parse_quantity(req.limits["memory"]) == request + extra
    assert units.parse_cpu(req.limits["cpu"]) == 2.0
    assert units.parse_quantity(req.requests["memory"]) == request


def _task_kwargs(text: str, task_id: str) -> dict[str, str]:
    """Keyword arguments (as source text) of the operator call that makes ``task_id``."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            kw = {k.arg: ast.unparse(k.value) for k in node.keywords if k.arg}
            if kw.get("task_id") == repr(task_id):
                return kw
    raise AssertionError(f"no task {task_id}")


@pytest.mark.parametrize(("version", "operator"), VARIANTS)
def test_airflow_renders_pod_control(version: str, operator: str) -> None:
    text = render(_pipeline(EXAMPLE), version, operator)
    score, pick = _task_kwargs(text, "score"), _task_kwargs(text, "pick")
    assert score["max_active_tis_per_dagrun"] == "2"
    # The fan-in: every item's value in item order, as one JSON list, on both operators.
    key = "return_value" if operator == "kubernetes" else "score"
    pull = f"ti.xcom_pull(task_ids='score', key='{key}', map_indexes=range(3)) | list | tojson"
    assert pull in text
    # Each literal mapping item's values are its own argv entries.
    assert "'eu-west', '0.5'" in text and "'ap-south', '0.6'" in text
    if operator == "local":
        # The worker has no pods: placement is not rendered (the capability table says so).
        assert "node_selector" not in text and "service_account_name" not in text
        return
    assert score["node_selector"] == "{'pool': 'scoring'}"
    assert "key='spot', operator='Exists'" in score["tolerations"]
    assert score["service_account_name"] == "'pipeline-runner'"
    assert pick["service_account_name"] == "'picker'"
    assert "limits={'cpu': '4', 'memory': '8Gi'}" in score["container_resources"]


def test_a_gpu_step_merges_its_node_selector_and_tolerations(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "pipespec: 1\nname: g\ndefaults: {image: busybox}\nsteps:\n"
        "  x:\n    kind: container\n    command: [x]\n"
        "    resources: {accelerator: nvidia-t4}\n"
        "    node_selector: {pool: gpu}\n"
        "    tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule},"
        " {key: team, operator: Equal, value: ml}]\n"
    )
    (step,) = _pipeline(spec).steps
    assert k8s.node_selector(step) == {"nvidia.com/gpu.product": "Tesla-T4", "pool": "gpu"}
    # The GPU toleration the step repeats is listed once.
    assert k8s.tolerations(step) == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "team", "operator": "Equal", "value": "ml"},
    ]


def test_run_time_mapping_items_fill_their_keys(tmp_path: Path) -> None:
    """Items from a list param are read by key at run time (not checkable when compiling)."""
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "pipespec: 1\nname: m\nparams:\n  regions: {type: list, default: [{region: eu}]}\n"
        "defaults: {image: busybox}\nsteps:\n"
        "  x: {kind: container, command: [x, '${item.region}'], foreach: params.regions,"
        " parallelism: 3}\n"
    )
    pipeline = _pipeline(spec)
    assert ir.Feature.FOREACH_MAPPING_ITEMS in features_used(pipeline)
    text = render(pipeline, "3", "kubernetes")
    assert '{"key": "region"}' in json.dumps(text) or "{'key': 'region'}" in text
    assert "max_active_tis_per_dagrun=3" in text


@pytest.mark.parametrize("operator", ["kubernetes", "local"])
def test_every_pod_feature_has_an_airflow_row(operator: str) -> None:
    table = capabilities_for(AirflowOptions.model_validate({"operator": operator}))
    for feature in POD_FEATURES:
        assert feature in table and table[feature].how
    assert table[ir.Feature.CACHE].support.value != "native"


def test_the_docs_worked_example_compiles(tmp_path: Path) -> None:
    """docs/spec-language.md's pod control example, as shown, with a header added."""
    doc = (ROOT / "docs" / "spec-language.md").read_text()
    section = doc.split("## Pod and run control", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = tmp_path / "p.yaml"
    spec.write_text("pipespec: 1\nname: doc-example\n" + block)
    pipeline = _pipeline(spec)
    assert pipeline.step("pick").input("scores") is not None
    assert features_used(pipeline)[ir.Feature.FOREACH_FAN_IN] == [pipeline.step("pick")]
