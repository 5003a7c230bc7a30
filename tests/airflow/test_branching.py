"""Branches and joins in the generated DAG: the branch operator, trigger rules, the fail
task and the one_of macro, rendered and then run (the generated helpers, executed with a
fake task instance and fake Airflow modules, as tests/airflow/test_runtime_helpers.py does).
"""

from __future__ import annotations

import ast
import json
import sys
import types
from typing import Any

import pytest

from tests.airflow.helpers import example_spec, pipeline_of, render
from tests.conftest import ROOT


def _text(version: str, operator: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(ROOT)
    return render(pipeline_of(example_spec("branching")), version, operator)


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("operator", ["kubernetes", "local"])
def test_branch_join_and_fail_render_as_airflow_constructs(
    version: str, operator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _text(version, operator, monkeypatch)
    assert "t2_promote_branch = BranchPythonOperator(" in text
    assert "task_id='promote.branch'" in text
    # The else step hangs off the branch, not off a ShortCircuitOperator of its own.
    assert "t2_promote_branch >> t2_promote" in text
    assert "t2_promote_branch >> t3_retrain" in text
    assert "retrain.when" not in text and "promote.when" not in text
    # The join waits for both branches and runs after whichever ran.
    assert "t2_promote >> t4_publish" in text and "t3_retrain >> t4_publish" in text
    publish = text[text.index("t4_publish = ") : text.index("t5_stop_when = ")]
    assert "trigger_rule='none_failed'" in publish
    assert "pipespec_one_of(ti, run_id, 'publish.model')" in publish
    assert "user_defined_macros={'pipespec_one_of': _one_of}" in text
    # A when-only step keeps its ShortCircuitOperator; the fail step raises.
    assert "t5_stop_when = ShortCircuitOperator(" in text
    stop = text[text.index("t5_stop = ") :]
    assert "python_callable=_fail" in stop
    ast.parse(text)


def _helpers(text: str, names: set[str], extra: dict[str, Any]) -> dict[str, Any]:
    tree = ast.parse(text)
    nodes: list[ast.stmt] = [
        n
        for n in tree.body
        if (isinstance(n, ast.FunctionDef) and n.name in names)
        or (isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) in names)
    ]
    namespace: dict[str, Any] = {"json": json, **extra}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), "<dag helpers>", "exec"), namespace)
    return namespace


class FakeTI:
    def __init__(self, xcoms: dict[tuple[str, str], Any]) -> None:
        self.xcoms = xcoms

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_ids, key))


@pytest.mark.parametrize(
    ("auc", "follow"), [(0.9, ["promote"]), (0.8, ["promote"]), (0.3, ["retrain"])]
)
def test_branch_callable_follows_the_condition_either_way(
    auc: float, follow: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _text("3", "kubernetes", monkeypatch)
    ns = _helpers(text, {"_branch_t2_promote", "_xcom_value"}, {})
    ti = FakeTI({("evaluate", "return_value"): {"auc": auc}})
    context = {"ti": ti, "params": {"min_auc": 0.8, "floor": 0.5}}
    assert ns["_branch_t2_promote"](**context) == follow


def _fake_airflow(monkeypatch: pytest.MonkeyPatch, existing: set[str]) -> type[Exception]:
    class AirflowFailException(Exception):
        pass

    class ObjectStoragePath:
        def __init__(self, path: str) -> None:
            self.path = path

        def exists(self) -> bool:
            return self.path in existing

    airflow = types.ModuleType("airflow")
    modules: dict[str, dict[str, Any]] = {
        "airflow.sdk": {"ObjectStoragePath": ObjectStoragePath},
        "airflow.io.path": {"ObjectStoragePath": ObjectStoragePath},
        "airflow.exceptions": {"AirflowFailException": AirflowFailException},
    }
    for name, attrs in modules.items():
        module = types.ModuleType(name)
        for attr, value in attrs.items():
            setattr(module, attr, value)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setitem(sys.modules, "airflow", airflow)
    monkeypatch.setitem(sys.modules, "airflow.io", types.ModuleType("airflow.io"))
    return AirflowFailException


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("branch", ["promote", "retrain"])
def test_one_of_macro_reads_the_artifact_of_the_branch_that_ran(
    version: str, branch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"s3://acme-ml/branching/branching/run-1/{branch}/model"
    _fake_airflow(monkeypatch, {uri})
    text = _text(version, "kubernetes", monkeypatch)
    ns = _helpers(text, {"_one_of", "_ONE_OF"}, {})
    assert ns["_one_of"](FakeTI({}), "run-1", "publish.model") == uri


def test_one_of_macro_reads_xcoms_and_fails_when_no_branch_ran(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_airflow(monkeypatch, set())
    text = _text("3", "kubernetes", monkeypatch)
    ns = _helpers(text, {"_one_of", "_ONE_OF"}, {})
    ns["_ONE_OF"]["j.x"] = [
        {"xcom": ["a", "return_value", None], "json": True},
        {"xcom": ["b.best", "return_value", "score"], "json": True},
    ]
    assert ns["_one_of"](FakeTI({("b.best", "return_value"): {"score": 3}}), "r", "j.x") == "3"
    assert ns["_one_of"](FakeTI({("a", "return_value"): {"k": 1}}), "r", "j.x") == '{"k": 1}'
    with pytest.raises(ValueError, match="no branch produced"):
        ns["_one_of"](FakeTI({}), "r", "publish.model")


def test_fail_task_raises_airflow_fail_exception_with_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = _fake_airflow(monkeypatch, set())
    text = _text("3", "local", monkeypatch)
    ns = _helpers(text, {"_fail"}, {})
    message = "AUC is below the floor: the data is probably broken, not the model"
    assert f"op_kwargs={{'message': {message!r}}}" in text
    with pytest.raises(error, match="below the floor"):
        ns["_fail"](message)
