"""The standard scripts, run for real on tiny generated data sets.

Each framework x task trains with the catalog's hyperparameters (as fill passes them), then
evaluate.py and batch_predict.py run on the model. Each pipeline runs its three scripts as
programs (`__main__`, own argv) in one `python` subprocess; the SageMaker-style pipeline and
every error case run each script as its own process. The pipelines are independent, so they
go through a thread pool once per module; the tests then check what each wrote.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import os
import random
import subprocess
import sys
import tarfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import pipespec.fill.catalog as catalog_pkg
from pipespec.fill.catalog import load_catalog

for _module in ("pandas", "sklearn", "joblib", "xgboost", "lightgbm"):
    pytest.importorskip(_module)

SCRIPTS = Path(catalog_pkg.__file__).parent / "scripts"
KINDS = {
    "binary_classification": "binary",
    "multiclass_classification": "multi",
    "regression": "reg",
    "text_classification": "text",
}
COMBOS = [
    (fw, task)
    for fw in ("scikit-learn", "xgboost", "lightgbm")
    for task in ("binary_classification", "multiclass_classification", "regression")
] + [("scikit-learn", "text_classification")]
ROWS = {"train": 64, "validation": 24, "test": 30}
POSITIVE = ["great value", "love it", "works perfectly", "excellent quality", "very happy"]
NEGATIVE = ["broken on arrival", "waste of money", "stopped working", "poor quality", "refund"]
FILLER = ["the", "box", "item", "today", "again", "order"]


# --- data -------------------------------------------------------------------------------


def rows(kind: str, n: int, rng: random.Random) -> tuple[list[str], list[list[Any]]]:
    body: list[list[Any]] = []
    if kind == "text":
        for _ in range(n):
            good = rng.random() < 0.5
            words = [rng.choice(POSITIVE if good else NEGATIVE), *rng.sample(FILLER, 2)]
            rng.shuffle(words)
            body.append([" ".join(words), "pos" if good else "neg"])
        return ["text", "label"], body
    for _ in range(n):
        x1, x2 = rng.gauss(0, 1), rng.gauss(0, 1)
        color = rng.choice(["red", "green", "blue", ""])  # "" reads as missing
        if kind == "binary":
            label: Any = "yes" if x1 + 0.5 * x2 > 0 else "no"
        elif kind == "multi":
            label = 0 if x1 < -0.45 else (1 if x1 < 0.45 else 2)
        else:
            label = round(3 * x1 - 2 * x2 + (1.0 if color == "red" else 0.0) + rng.gauss(0, 0.1), 4)
        body.append([round(x1, 4), round(x2, 4), color, rng.randint(0, 9), label])
    return ["x1", "x2", "color", "count", "label"], body


def write_csv(path: Path, header: list[str], body: list[list[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)
    return path


def make_data(root: Path) -> dict[tuple[str, str], Path]:
    rng = random.Random(20261124)
    paths = {}
    for kind in KINDS.values():
        for split, n in ROWS.items():
            header, body = rows(kind, n, rng)
            paths[kind, split] = write_csv(root / kind / f"{split}.csv", header, body)
    # A dataset directory as ingest steps and Spark jobs write them: parts plus a marker.
    header, body = rows("binary", 60, rng)
    parts = root / "binary-parts"
    write_csv(parts / "part-0001.csv", header, body[:25])
    write_csv(parts / "part-0000.csv", header, body[25:])
    (parts / "_SUCCESS").write_text("", encoding="utf-8")
    paths["binary", "parts"] = parts
    return paths


# --- running ----------------------------------------------------------------------------


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "CLOUD_ML_"))}
    full.update(env or {}, PYTHONHASHSEED="0", OMP_NUM_THREADS="1")
    return full


def script(name: str, *args: str | Path, env: dict[str, str] | None = None) -> Run:
    """One script as its own process, as a container runs it."""
    argv = [sys.executable, str(SCRIPTS / f"{name}.py"), *map(str, args)]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=clean_env(env), timeout=120, check=False
    )
    return Run(argv, proc.returncode, proc.stdout, proc.stderr)


# Runs scripts one after another in one interpreter, each as __main__ with its own argv
# (runpy), stopping at the first failure; results go to a JSON file, not stdout, because the
# libraries also write to the process's stdout. One process per pipeline instead of three
# saves the ~1 s import of pandas + scikit-learn per script; the SageMaker pipeline and the
# error cases still run each script as its own process.
SEQUENCE_DRIVER = """
import contextlib, io, json, runpy, sys, traceback
spec, results = json.load(sys.stdin), []
for job in spec["jobs"]:
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = job
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(job[0], run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
    results.append([code, out.getvalue(), err.getvalue()])
    if code:
        break
with open(spec["results"], "w") as handle:
    json.dump(results, handle)
"""


def sequence(jobs: list[tuple[str, list[str | Path]]], results_file: Path) -> dict[str, Run]:
    """Scripts in order in one `python` process (see SEQUENCE_DRIVER)."""
    argvs = [[str(SCRIPTS / f"{name}.py"), *map(str, args)] for name, args in jobs]
    proc = subprocess.run(
        [sys.executable, "-c", SEQUENCE_DRIVER],
        input=json.dumps({"jobs": argvs, "results": str(results_file)}),
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    done = json.loads(results_file.read_text())
    return {
        name: Run([sys.executable, *argv], rc, stdout, stderr)
        for (name, _), argv, (rc, stdout, stderr) in zip(jobs, argvs, done, strict=False)
    }


def ok(run: Run) -> Run:
    assert run.returncode == 0, f"{run.args}\n{run.stderr}"
    return run


@dataclass
class Result:
    out: Path
    runs: dict[str, Run] = field(default_factory=dict)


def searched_values(fw: str, task: str) -> list[str]:
    """A tuning trial's arguments: each search-space dimension's midpoint as --name value."""
    extra: list[str] = []
    for name, dim in sorted(load_catalog().search_space(fw, task).items()):
        if dim["type"] == "categorical":
            value: Any = dim["values"][0]
        elif dim["scale"] == "log":
            value = math.sqrt(dim["min"] * dim["max"])
        else:
            value = (dim["min"] + dim["max"]) / 2
        extra += [f"--{name}", json.dumps(round(value) if dim["type"] == "int" else value)]
    return extra


def pipeline(fw: str, task: str, data: dict[tuple[str, str], Path], out: Path) -> Result:
    """train -> evaluate -> batch_predict, wired as fill wires them, with one variation each:

    - binary tasks run as a tuning trial: catalog defaults in --hyperparameters, then every
      search-space name as an extra `--name value` (as SageMaker and Vertex AI pass trial
      values), training on a dataset directory of CSV parts;
    - text_classification has no validation set, so train holds out 20% for its metrics;
    - xgboost regression runs as a SageMaker job: paths from SM_* variables, hyperparameters
      as `--name value` arguments, and the model read back from a model.tar.gz;
    - the others pass every path as an argument, with a validation set.
    """
    kind = KINDS[task]
    result = Result(out)
    hyper = load_catalog().hyperparameters(fw, task)
    if (fw, task) == ("xgboost", "regression"):
        return sagemaker_pipeline(hyper, data, out)
    train: list[str | Path] = [
        "--train",
        data[kind, "train"],
        "--validation",
        data[kind, "validation"],
    ]
    extra: list[str] = []
    if kind == "binary":
        train = ["--train", data["binary", "parts"], "--validation", data[kind, "validation"]]
        extra = searched_values(fw, task)
    elif kind == "text":
        train = ["--train", data[kind, "train"]]
    keep = ["count"] if kind != "text" else []
    jobs: list[tuple[str, list[str | Path]]] = [
        (
            "train",
            [
                *("--framework", fw, "--task", task, *train),
                *("--model", out / "model", "--metrics", out / "train-metrics.json"),
                *("--hyperparameters", json.dumps(hyper, sort_keys=True), *extra),
            ],
        ),
        (
            "evaluate",
            [
                *("--model", out / "model", "--test", data[kind, "test"]),
                *("--metrics", f"{out / 'metrics'}{os.sep}"),  # a directory: metrics.json inside
            ],
        ),
        (
            "batch_predict",
            [
                *("--model", out / "model", "--data", data[kind, "test"]),
                *("--predictions", out / "predictions.csv", "--keep-columns", ",".join(keep)),
            ],
        ),
    ]
    out.mkdir(parents=True, exist_ok=True)
    result.runs = sequence(jobs, out / "runs.json")
    return result


def sagemaker_pipeline(
    hyper: dict[str, Any], data: dict[tuple[str, str], Path], out: Path
) -> Result:
    result = Result(out)
    env = {
        "SM_CHANNEL_TRAIN": str(data["reg", "train"]),
        "SM_CHANNEL_VALIDATION": str(data["reg", "validation"]),
        "SM_MODEL_DIR": str(out / "opt-ml-model"),
        "SM_OUTPUT_DATA_DIR": str(out / "train-output"),
    }
    args = ["--framework", "xgboost", "--task", "regression"]
    for name, value in sorted(hyper.items()):  # SageMaker passes str(value) per name
        args += [f"--{name}", value if isinstance(value, str) else json.dumps(value)]
    result.runs["train"] = script("train", *args, env=env)
    if result.runs["train"].returncode != 0:
        return result
    (out / "model").mkdir()
    with tarfile.open(out / "model" / "model.tar.gz", "w:gz") as tar:
        for item in sorted((out / "opt-ml-model").iterdir()):
            tar.add(item, arcname=item.name)
    result.runs["evaluate"] = script(
        "evaluate",
        env={
            "SM_CHANNEL_MODEL": str(out / "model"),
            "SM_CHANNEL_TEST": str(data["reg", "test"]),
            "SM_OUTPUT_DATA_DIR": str(out / "metrics"),
        },
    )
    result.runs["batch_predict"] = script(
        "batch_predict",
        *("--model", out / "model" / "model.tar.gz", "--data", data["reg", "test"]),
        *("--predictions", out / "predictions.csv", "--keep-columns", "count"),
    )
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    return make_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def results(
    data: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Result]:
    root = tmp_path_factory.mktemp("runs")
    jobs: dict[str, Callable[[], Result]] = {}
    for fw, task in COMBOS:
        out = root / f"{fw}-{task}"
        jobs[f"{fw}/{task}"] = functools.partial(pipeline, fw, task, data, out)
    workers = max(2, min(6, (os.cpu_count() or 2) * 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {key: pool.submit(job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def plausible(task: str, metrics: dict[str, float]) -> None:
    assert all(isinstance(v, float) and math.isfinite(v) for v in metrics.values()), metrics
    if task == "regression":
        assert metrics["r2"] > 0.5 and 0 < metrics["mae"] <= metrics["rmse"] < 3, metrics
        return
    assert 0.7 <= metrics["accuracy"] <= 1.0, metrics
    assert 0 <= metrics["logloss"] < 0.7, metrics
    for name in ("auc", "f1", "f1_macro", "precision", "recall"):
        if name in metrics:
            assert 0.6 <= metrics[name] <= 1.0, (name, metrics)
    if "auc" in metrics:
        assert metrics["auc"] >= 0.8, metrics


# --- the pipelines ----------------------------------------------------------------------


@pytest.mark.parametrize(("framework", "task"), COMBOS)
def test_train_evaluate_batch_predict(
    framework: str, task: str, results: dict[str, Result], data: dict[tuple[str, str], Path]
) -> None:
    result = results[f"{framework}/{task}"]
    for run in result.runs.values():
        ok(run)
    assert set(result.runs) == {"train", "evaluate", "batch_predict"}
    cat = load_catalog()
    names = cat.metrics(task)
    kind = KINDS[task]

    model_dir = result.out / (
        "opt-ml-model" if framework == "xgboost" and kind == "reg" else "model"
    )
    meta = json.loads((model_dir / "pipespec-model.json").read_text())
    assert (model_dir / "model.joblib").is_file()
    assert meta["framework"] == framework and meta["task"] == task and meta["label"] == "label"
    if kind == "text":
        assert meta["feature_columns"] == ["text"] and meta["classes"] == ["neg", "pos"]
    else:
        assert meta["feature_columns"] == ["x1", "x2", "color", "count"]
        expected_classes = {"binary": ["no", "yes"], "multi": ["0", "1", "2"], "reg": None}
        assert meta["classes"] == expected_classes[kind]
        assert meta["input"] == "dataframe"  # "color" is one-hot encoded in the pipeline

    train_output = result.out / "train-output" / "metrics.json"  # SageMaker's place
    if not train_output.exists():
        train_output = result.out / "train-metrics.json"
    train_metrics = json.loads(train_output.read_text())
    assert list(train_metrics) == names
    plausible(task, train_metrics)
    logged = [line for line in result.runs["train"].stdout.splitlines() if "validation:" in line]
    assert len(logged) == len(names)

    metrics = json.loads((result.out / "metrics" / "metrics.json").read_text())
    assert list(metrics) == names
    plausible(task, metrics)

    inputs = read_csv(data[kind, "test"])
    predictions = read_csv(result.out / "predictions.csv")
    assert len(predictions) == len(inputs) == ROWS["test"]
    classes = meta["classes"]
    keep = ["count"] if kind != "text" else []
    if classes is None:
        assert list(predictions[0]) == ["count", "prediction"]
        assert all(math.isfinite(float(row["prediction"])) for row in predictions)
    else:
        probs = [f"probability_{c}" for c in classes]
        assert list(predictions[0]) == [*keep, "prediction", *probs]
        for row in predictions:
            assert row["prediction"] in classes
            assert math.isclose(sum(float(row[p]) for p in probs), 1.0, abs_tol=1e-6)
            best = max(probs, key=lambda p: float(row[p]))
            assert row["prediction"] == best.removeprefix("probability_")
    if keep:
        assert [r["count"] for r in predictions] == [r["count"] for r in inputs]
    else:
        assert [r["label"] for r in inputs]  # the text rows carried their labels, unused


@pytest.mark.parametrize("framework", ["scikit-learn", "xgboost", "lightgbm"])
def test_a_tuning_trial_takes_the_search_space_names(
    framework: str, results: dict[str, Result]
) -> None:
    result = results[f"{framework}/binary_classification"]
    ok(result.runs["train"])
    meta = json.loads((result.out / "model" / "pipespec-model.json").read_text())
    space = load_catalog().search_space(framework, "binary_classification")
    trial = searched_values(framework, "binary_classification")
    for name in space:  # the trial's value won over the catalog default
        assert meta["hyperparameters"][name] == json.loads(trial[trial.index(f"--{name}") + 1])
    assert meta["validation"] == "validation"
    assert "[pipespec] validation:auc=" in result.runs["train"].stdout


def test_without_validation_data_train_holds_out_rows(results: dict[str, Result]) -> None:
    result = results["scikit-learn/text_classification"]
    assert "holding out 20%" in ok(result.runs["train"]).stderr
    meta = json.loads((result.out / "model" / "pipespec-model.json").read_text())
    assert meta["validation"] == "holdout"


def test_sagemaker_environment_and_model_archive(results: dict[str, Result]) -> None:
    result = results["xgboost/regression"]
    for run in result.runs.values():
        ok(run)
    assert sorted(p.name for p in (result.out / "opt-ml-model").iterdir()) == [
        "model.joblib",
        "pipespec-model.json",
    ]
    meta = json.loads((result.out / "opt-ml-model" / "pipespec-model.json").read_text())
    assert meta["hyperparameters"] == load_catalog().hyperparameters("xgboost", "regression")
    names = load_catalog().metrics("regression")
    assert list(json.loads((result.out / "train-output" / "metrics.json").read_text())) == names


# --- errors -----------------------------------------------------------------------------


def expect_usage_error(run: Run, *needles: str) -> None:
    assert run.returncode == 2, f"{run.args}\n{run.stderr}"
    assert "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith("error: "), run.stderr
    for needle in needles:
        assert needle in run.stderr, run.stderr


def train_args(data: dict[tuple[str, str], Path], tmp_path: Path, *extra: str | Path) -> list[str]:
    return [
        *("--framework", "xgboost", "--task", "binary_classification"),
        *("--train", str(data["binary", "train"]), "--model", str(tmp_path / "model")),
        *map(str, extra),
    ]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--framework", "catboost", "--task", "regression"], ["unknown framework 'catboost'"]),
        (["--framework", "pytorch", "--task", "regression"], ["do not train pytorch", "command"]),
        (["--framework", "transformers", "--task", "text_classification"], ["transformers"]),
        (["--framework", "xgboost", "--task", "ranking"], ["unknown task 'ranking'"]),
        (["--framework", "lightgbm", "--task", "text_classification"], ["scikit-learn"]),
    ],
)
def test_unknown_or_unsupported_framework_and_task(args: list[str], needles: list[str]) -> None:
    expect_usage_error(script("train", *args, "--train", "x.csv", "--model", "m"), *needles)


def test_missing_label_column(data: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    run = script("train", *train_args(data, tmp_path, "--label", "churned"))
    expect_usage_error(run, "no label column 'churned'", "x1")


def test_empty_data(tmp_path: Path, data: dict[tuple[str, str], Path]) -> None:
    header_only = write_csv(tmp_path / "empty.csv", ["x1", "label"], [])
    run = script("train", *train_args(data, tmp_path, "--train", header_only))
    expect_usage_error(run, "no data rows")
    (tmp_path / "empty-dir").mkdir()
    run = script("train", *train_args(data, tmp_path, "--train", tmp_path / "empty-dir"))
    expect_usage_error(run, "empty directory")
    run = script("train", *train_args(data, tmp_path, "--train", tmp_path / "missing.csv"))
    expect_usage_error(run, "does not exist")


def test_bad_hyperparameters(data: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    base: list[str | Path] = [
        "--task",
        "regression",
        "--train",
        data["reg", "train"],
        "--model",
        tmp_path / "m",
    ]
    run = script("train", "--framework", "scikit-learn", *base, "--n_estimatorz", "5")
    expect_usage_error(run, "unknown hyperparameters ['n_estimatorz']", "n_estimators")
    run = script("train", "--framework", "xgboost", *base, "--hyperparameters", "[1]")
    expect_usage_error(run, "JSON object")
    run = script("train", "--framework", "xgboost", *base, "--eta")
    expect_usage_error(run, "--eta needs a value")


def test_binary_task_with_three_classes(data: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    run = script("train", *train_args(data, tmp_path, "--train", data["multi", "train"]))
    expect_usage_error(run, "exactly 2 classes", "'0', '1', '2'")


def test_remote_paths_need_fsspec(data: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    if importlib_find("fsspec"):
        pytest.skip("fsspec is installed here")
    run = script("train", *train_args(data, tmp_path, "--train", "gs://bucket/train.csv"))
    expect_usage_error(run, "gs://bucket/train.csv", "fsspec")


def importlib_find(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_scoring_errors(
    results: dict[str, Result], data: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    model = results["xgboost/binary_classification"].out / "model"
    metrics = tmp_path / "metrics.json"
    run = script(
        "evaluate", "--model", tmp_path, "--test", data["binary", "test"], "--metrics", metrics
    )
    expect_usage_error(run, "pipespec-model.json")
    run = script("evaluate", "--model", model, "--test", data["reg", "test"], "--metrics", metrics)
    expect_usage_error(run, "not seen in training")
    few = write_csv(tmp_path / "few.csv", ["x1", "label"], [[1.0, "yes"], [-1.0, "no"]])
    run = script("evaluate", "--model", model, "--test", few, "--metrics", metrics)
    expect_usage_error(run, "missing feature columns ['x2', 'color', 'count']")
    no_label = write_csv(
        tmp_path / "nolabel.csv", ["x1", "x2", "color", "count"], [[1, 2, "red", 3]]
    )
    run = script("evaluate", "--model", model, "--test", no_label, "--metrics", metrics)
    expect_usage_error(run, "no label column 'label'")
    assert not metrics.exists()
    run = script(
        "batch_predict", "--model", model, "--data", data["text", "test"], "--predictions", metrics
    )
    expect_usage_error(run, "missing feature columns ['x1', 'x2', 'color', 'count']")
    run = script("batch_predict", "--model", model, "--data", no_label)
    expect_usage_error(run, "--predictions is required")
