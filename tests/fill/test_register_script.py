"""pipespec:register (scripts/register.py): arguments and metadata, then the MLflow calls.

mlflow is not a dependency of pipespec, so the registry calls run against a fake
`mlflow.tracking.MlflowClient` that records them; the script keeps every call to mlflow in
one function (`register_with_mlflow`). (The script was also run by hand against a real
file-based MLflow 3 store: see docs/catalog.md.)
"""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest

import pipespec.fill.catalog as catalog_pkg

SCRIPT = Path(catalog_pkg.__file__).parent / "scripts" / "register.py"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("pipespec_register_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


class _AlreadyExists(Exception):
    error_code = "RESOURCE_ALREADY_EXISTS"


class FakeClient:
    calls: ClassVar[list[tuple[str, Any]]] = []
    groups: ClassVar[set[str]] = set()

    def __init__(self, tracking_uri: str | None = None) -> None:
        self.calls.append(("client", tracking_uri))

    def get_experiment_by_name(self, name: str) -> None:
        return None

    def create_experiment(self, name: str) -> str:
        self.calls.append(("experiment", name))
        return "7"

    def create_run(self, exp_id: str, tags: dict[str, str]) -> Any:
        info = types.SimpleNamespace(run_id="r1", artifact_uri="file:///store/7/r1/artifacts")
        return types.SimpleNamespace(info=info)

    def log_artifacts(self, run_id: str, path: str, artifact_path: str) -> None:
        self.calls.append(("artifacts", (run_id, artifact_path)))

    def log_metric(self, run_id: str, name: str, value: float) -> None:
        self.calls.append(("metric", (name, value)))

    def set_terminated(self, run_id: str) -> None:
        self.calls.append(("terminated", run_id))

    def create_registered_model(self, name: str) -> None:
        if name in self.groups:
            raise _AlreadyExists(name)
        self.groups.add(name)

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self.calls.append(("alias", (name, alias, version)))

    def create_model_version(self, name: str, source: str, **kw: Any) -> Any:
        self.calls.append(("version", (name, source, kw)))
        return types.SimpleNamespace(version=len([c for c in self.calls if c[0] == "version"]))


@pytest.fixture
def fake_mlflow(monkeypatch: pytest.MonkeyPatch) -> type[FakeClient]:
    FakeClient.calls = []
    FakeClient.groups = set()
    tracking = types.ModuleType("mlflow.tracking")
    tracking.MlflowClient = FakeClient  # type: ignore[attr-defined]
    errors = types.ModuleType("mlflow.exceptions")
    errors.MlflowException = _AlreadyExists  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlflow", types.ModuleType("mlflow"))
    monkeypatch.setitem(sys.modules, "mlflow.tracking", tracking)
    monkeypatch.setitem(sys.modules, "mlflow.exceptions", errors)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.test:5000")
    return FakeClient


def _argv(tmp_path: Path, *extra: str) -> list[str]:
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "model.joblib").write_bytes(b"x")
    out = tmp_path / "out" / "version.json"
    return ["--model", str(model), "--model-group", "churn", "--model-version", str(out), *extra]


def test_registers_a_version_with_its_metadata(
    tmp_path: Path, fake_mlflow: type[FakeClient]
) -> None:
    script = _load()
    argv = _argv(
        tmp_path,
        *("--approval", "approved", "--metrics", '{"auc": 0.9, "flag": true, "name": "x"}'),
        *("--tag", "team=growth", "--parent-model", "m/1", "--serving-image", "img:1"),
        *("--description", "weekly"),
    )
    assert script.main(argv) == 0
    assert json.loads((tmp_path / "out" / "version.json").read_text()) == "models:/churn/1"
    calls = dict(fake_mlflow.calls)
    assert calls["client"] == "http://mlflow.test:5000"  # from MLFLOW_TRACKING_URI
    assert calls["experiment"] == "churn"
    assert calls["metric"] == ("auc", 0.9)  # numbers only
    assert calls["alias"] == ("churn", "approved", "1")  # approval: the `approved` alias
    name, source, kw = calls["version"]
    assert (name, source) == ("churn", "file:///store/7/r1/artifacts/model")
    assert kw["description"] == "weekly"
    assert kw["tags"] == {
        "approval_status": "approved",
        "team": "growth",
        "parent_model": "m/1",
        "serving_image": "img:1",
        "metric.auc": "0.9",
    }


def test_a_second_version_joins_the_existing_group(
    tmp_path: Path, fake_mlflow: type[FakeClient]
) -> None:
    script = _load()
    assert script.main(_argv(tmp_path)) == 0
    assert script.main(_argv(tmp_path, "--tracking-uri", "http://other:1")) == 0
    out = json.loads((tmp_path / "out" / "version.json").read_text())
    assert out == "models:/churn/2"
    assert ("client", "http://other:1") in fake_mlflow.calls
    assert not any(c[0] == "alias" for c in fake_mlflow.calls)  # pending: no alias


def test_metrics_from_a_file(tmp_path: Path) -> None:
    script = _load()
    path = tmp_path / "m.json"
    path.write_text('{"rmse": 3}')
    assert script.read_metrics(str(path)) == {"rmse": 3.0}
    assert script.read_metrics(None) == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--tag", "novalue"), "is not KEY=VALUE"),
        (("--metrics", "[1, 2]"), "neither a JSON object nor a file"),
        (("--metrics", "{oops"), "not valid JSON"),
        (("--approval", "maybe"), "bad arguments"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    tmp_path: Path,
    fake_mlflow: type[FakeClient],
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    message: str,
) -> None:
    script = _load()
    assert script.main(_argv(tmp_path, *extra)) == 2
    assert message in capsys.readouterr().err
    assert not any(c[0] == "version" for c in fake_mlflow.calls)


def test_without_mlflow_it_says_what_the_image_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # an import of it fails
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    script = _load()
    assert script.main(_argv(tmp_path)) == 2
    assert "needs the mlflow package" in capsys.readouterr().err
