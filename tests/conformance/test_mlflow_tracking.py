"""The standard scripts against the real mlflow (issue 14, item 3): train, evaluate and
register run in the `mlflow` conformance venv (mlflow-skinny, locks/mlflow.txt) with only
the environment `tracking:` gives a pod (MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME), on a
SQLite store in a temp dir; then mlflow_probe.py reads back what is there: a run with the
hyperparameters and metrics, a logged model that mlflow.pyfunc loads and that predicts as
the step's own model does, and a registered version with its tags and alias."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pipespec.fill.catalog as catalog_pkg
from tests.conformance.venv_runner import run_json
from tests.conformance.venvs import ensure_venv

pytestmark = pytest.mark.conformance

SCRIPTS = Path(catalog_pkg.__file__).parent / "scripts"
VENV = "mlflow"
EXPERIMENT = "churn"


def _data(path: Path, rows: int, seed: int, task: str) -> Path:
    """A learnable table: two numeric features, one categorical; the label follows them."""
    rng = random.Random(seed)
    lines = ["tenure,spend,plan,label"]
    for _ in range(rows):
        tenure, spend = rng.uniform(0, 10), rng.uniform(0, 100)
        plan = rng.choice(["basic", "pro"])
        score = tenure / 10 + spend / 100 + (0.5 if plan == "pro" else 0) + rng.gauss(0, 0.1)
        if task == "regression":
            label: Any = round(score * 10, 3)
        elif task == "multiclass_classification":
            label = "low" if score < 0.8 else "mid" if score < 1.4 else "high"
        else:
            label = "yes" if score > 1.1 else "no"
        lines.append(f"{tenure:.3f},{spend:.2f},{plan},{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _numeric(source: Path, target: Path) -> Path:
    """The table without its categorical column: the model is a bare estimator."""
    rows = [line.split(",") for line in source.read_text().splitlines()]
    target.write_text("\n".join(",".join(r[:2] + r[3:]) for r in rows) + "\n")
    return target


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = f"sqlite:///{root / 'mlflow.db'}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "LANG": "C.UTF-8",
            "MLFLOW_TRACKING_URI": self.uri,
            "MLFLOW_EXPERIMENT_NAME": EXPERIMENT,
            **extra,
        }

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(ensure_venv(VENV)), "-s", "-B", str(SCRIPTS / script), *args],
            capture_output=True,
            text=True,
            env=self.env(**env),
            cwd=self.root,  # the store's artifacts go under ./mlruns here
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        return proc

    def probe(self, data: Path, group: str | None = None) -> dict[str, Any]:
        args = [self.uri, EXPERIMENT, str(data), *([group] if group else [])]
        answer: dict[str, Any] = run_json(VENV, "tests.conformance.mlflow_probe", args)
        return answer


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)


def _train(store: Store, framework: str, task: str, data: Path, **hp: Any) -> Path:
    model = store.root / f"model-{framework}"
    store.run(
        "train.py",
        *("--framework", framework, "--task", task, "--train", str(data)),
        *("--model", str(model), "--metrics", str(store.root / f"metrics-{framework}.json")),
        *("--hyperparameters", json.dumps(hp)),
    )
    return model


def _own_predictions(store: Store, model: Path, data: Path) -> list[Any]:
    out = store.root / "predictions.csv"
    store.run(
        "batch_predict.py", "--model", str(model), "--data", str(data), "--predictions", str(out)
    )
    lines = out.read_text().splitlines()
    column = lines[0].split(",").index("prediction")
    return [line.split(",")[column] for line in lines[1:9]]


def test_train_evaluate_register_with_scikit_learn(store: Store) -> None:
    data = _data(store.root / "train.csv", 240, 1, "binary_classification")
    test = _data(store.root / "test.csv", 80, 2, "binary_classification")
    model = _train(
        store, "scikit-learn", "binary_classification", data, n_estimators=25, max_depth=4
    )
    meta = json.loads((model / "pipespec-model.json").read_text())
    assert meta["mlflow"]["tracking_uri"] == store.uri
    store.run(
        "evaluate.py", "--model", str(model), "--test", str(test),
        "--metrics", str(store.root / "test-metrics.json"),
    )  # fmt: skip
    out = store.root / "version.json"
    store.run(
        "register.py", "--model", str(model), "--model-group", "churn-model",
        "--approval", "approved", "--tag", "team=growth", "--description", "weekly",
        "--metrics", str(store.root / "test-metrics.json"), "--model-version", str(out),
    )  # fmt: skip
    assert json.loads(out.read_text()) == "models:/churn-model/1"

    answer = store.probe(test, "churn-model")
    (run,) = answer["runs"]  # evaluate logged into the training run
    assert run["run_id"] == meta["mlflow"]["run_id"] and run["status"] == "FINISHED"
    assert run["params"]["n_estimators"] == "25" and run["params"]["max_depth"] == "4"
    assert run["params"]["framework"] == "scikit-learn"
    validation = json.loads((store.root / "metrics-scikit-learn.json").read_text())
    tested = json.loads((store.root / "test-metrics.json").read_text())
    for name in ("accuracy", "auc", "f1"):
        assert run["metrics"][f"validation_{name}"] == pytest.approx(validation[name])
        assert run["metrics"][f"test_{name}"] == pytest.approx(tested[name])
    assert run["tags"]["pipespec.script"] == "train"
    (logged,) = run["models"]
    assert logged["uri"] == meta["mlflow"]["model_uri"]
    assert "sklearn" in logged["flavors"] and "python_function" in logged["flavors"]
    # The pyfunc model is the step's model: it predicts what batch_predict.py does.
    assert [str(p) for p in logged["predictions"]] == _own_predictions(store, model, test)

    registry = answer["registry"]
    (version,) = registry["versions"]
    assert version["run_id"] == run["run_id"] and version["description"] == "weekly"
    assert version["tags"]["approval_status"] == "approved"
    assert version["tags"]["team"] == "growth"
    assert float(version["tags"]["metric.auc"]) == pytest.approx(tested["auc"])
    assert {k: str(v) for k, v in registry["aliases"].items()} == {"approved": "1"}
    assert version["predictions"] == logged["predictions"]


@pytest.mark.parametrize(
    ("framework", "task", "flavor", "hp"),
    [
        ("xgboost", "multiclass_classification", "xgboost", {"n_estimators": 20, "max_depth": 3}),
        (
            "lightgbm",
            "regression",
            "lightgbm",
            {"n_estimators": 30, "num_leaves": 7, "verbose": -1},
        ),
    ],
)
def test_boosted_models_are_logged_in_their_own_flavor(
    store: Store, framework: str, task: str, flavor: str, hp: dict[str, Any]
) -> None:
    data = _numeric(_data(store.root / "raw.csv", 300, 3, task), store.root / "train.csv")
    model = _train(store, framework, task, data, **hp)
    (run,) = store.probe(data)["runs"]
    assert {k: run["params"][k] for k in hp} == {k: str(v) for k, v in hp.items()}
    assert run["metrics"], "no validation metrics were logged"
    (logged,) = run["models"]
    assert flavor in logged["flavors"]
    own = _own_predictions(store, model, data)
    meta = json.loads((model / "pipespec-model.json").read_text())
    if meta["classes"] is not None:  # xgboost predicts class indices in `classes` order
        assert [meta["classes"][int(i)] for i in logged["predictions"]] == own
    else:
        assert logged["predictions"] == pytest.approx([float(v) for v in own])


def test_without_mlflow_the_step_warns_and_succeeds(store: Store) -> None:
    # A package named mlflow that fails to import: the container "has no mlflow".
    shadow = store.root / "shadow" / "mlflow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no mlflow here')\n")
    data = _data(store.root / "train.csv", 120, 4, "binary_classification")
    model = store.root / "model"
    proc = store.run(
        "train.py", "--framework", "scikit-learn", "--task", "binary_classification",
        "--train", str(data), "--model", str(model), "--metrics", str(store.root / "m.json"),
        PYTHONPATH=str(shadow.parent),
    )  # fmt: skip
    assert "MLFLOW_TRACKING_URI is set but this container has no mlflow package" in proc.stderr
    assert (model / "model.joblib").is_file()
    assert "mlflow" not in json.loads((model / "pipespec-model.json").read_text())
    assert not (store.root / "mlflow.db").exists()
