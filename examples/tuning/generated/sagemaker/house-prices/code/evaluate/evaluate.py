#!/usr/bin/env python3
"""pipespec standard script: score a model trained by train.py on labelled CSV data.

Runs inside the step's container and imports nothing from pipespec: it needs pandas, joblib,
scikit-learn and the model's framework (xgboost or lightgbm for those models).

    evaluate.py --model PATH --test PATH --metrics PATH [--label NAME]

--model is the model directory train.py wrote (or a model.tar.gz of it); --test is a CSV
file or a directory of CSV files with the label column (by default the one the model was
trained on). --metrics receives a JSON object of the task's metrics, finite numbers only:

    binary_classification      accuracy, auc, f1, logloss, precision, recall
    multiclass_classification  accuracy, f1_macro, logloss
    regression                 mae, r2, rmse
    text_classification        accuracy, f1_macro, logloss

(for binary classification the positive class is the second of the sorted class names).
When --metrics is a directory, metrics.json is written inside it.

Paths default to the SageMaker environment when it is set (SM_CHANNEL_MODEL or SM_MODEL_DIR,
SM_CHANNEL_TEST, SM_OUTPUT_DATA_DIR). gs:// and s3:// paths need fsspec (with gcsfs or
s3fs).

Exit codes: 0 success; 2 a usage or data error, explained on stderr; 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MODEL_FILE = "model.joblib"
META_FILE = "pipespec-model.json"
MODEL_FORMAT = 1


# >>> shared:io (identical in train.py, evaluate.py and batch_predict.py)
class UsageError(Exception):
    """A problem with the arguments or the data: reported on stderr with exit code 2."""


DATA_SUFFIXES = (".csv", ".csv.gz")


def env_path(*names: str) -> str | None:
    """The first of these environment variables that is set (SageMaker script mode)."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def local_path(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def remote_fs(path: str) -> tuple[Any, str]:
    """The fsspec filesystem for a remote URI and the path inside it."""
    try:
        fsspec = importlib.import_module("fsspec")
    except ImportError:
        raise UsageError(
            f"{path}: remote paths need the fsspec package (with gcsfs for gs://, s3fs for "
            "s3://), which this container does not have; pass a local path instead"
        ) from None
    try:
        fs, inner = fsspec.core.url_to_fs(path)
    except (ImportError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    return fs, str(inner)


def join(path: str, name: str) -> str:
    return path.rstrip("/") + "/" + name if is_remote(path) else str(Path(path) / name)


def is_dir(path: str) -> bool:
    if is_remote(path):
        fs, inner = remote_fs(path)
        return bool(fs.isdir(inner))
    return Path(local_path(path)).is_dir()


def list_data_files(path: str, what: str) -> list[str]:
    """The data files at a path: the file itself, or the files under a directory.

    In a directory, names starting with "." or "_" (such as _SUCCESS) are skipped, and when
    there are CSV files (.csv, .csv.gz) only those are read; all in name order.
    """
    if is_remote(path):
        fs, inner = remote_fs(path)
        if not fs.exists(inner):
            raise UsageError(f"{what}: {path} does not exist")
        if not fs.isdir(inner):
            return [path]
        protocol = path.split("://", 1)[0]
        base = inner.rstrip("/") + "/"
        found = {str(name)[len(base) :]: f"{protocol}://{name}" for name in fs.find(inner)}
    else:
        root = Path(local_path(path))
        if not root.exists():
            raise UsageError(f"{what}: {path} does not exist")
        if root.is_file():
            return [str(root)]
        found = {p.relative_to(root).as_posix(): str(p) for p in root.rglob("*") if p.is_file()}
    visible = sorted(
        rel for rel in found if not any(part.startswith((".", "_")) for part in rel.split("/"))
    )
    data = [rel for rel in visible if rel.lower().endswith(DATA_SUFFIXES)]
    if not (data or visible):
        raise UsageError(f"{what}: {path} is an empty directory")
    return [found[rel] for rel in (data or visible)]


@contextlib.contextmanager
def open_binary(path: str, mode: str = "rb") -> Iterator[IO[bytes]]:
    if is_remote(path):
        fs, inner = remote_fs(path)
        if "w" in mode:
            parent = inner.rsplit("/", 1)[0]
            with contextlib.suppress(OSError):
                fs.makedirs(parent, exist_ok=True)
        with fs.open(inner, mode) as handle:
            yield handle
        return
    target = Path(local_path(path))
    if "w" in mode:
        target.parent.mkdir(parents=True, exist_ok=True)
    with target.open(mode) as handle:
        yield handle


def write_bytes(path: str, data: bytes) -> None:
    """Write a file (atomically when local), creating its directory."""
    if is_remote(path):
        with open_binary(path, "wb") as handle:
            handle.write(data)
        return
    target = Path(local_path(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def output_file(path: str, default_name: str) -> str:
    """A file path for an output: inside the path when it is (or ends like) a directory."""
    if path.endswith(("/", os.sep)) or is_dir(path):
        return join(path, default_name)
    return path


def read_table(path: str, what: str) -> pd.DataFrame:
    """All rows of a CSV file or of a directory of CSV files; errors when there are none."""
    import pandas as pd

    frames: list[pd.DataFrame] = []
    for name in list_data_files(path, what):
        with open_binary(name) as handle:
            try:
                frame = pd.read_csv(
                    handle, compression="gzip" if name.lower().endswith(".gz") else None
                )
            except pd.errors.EmptyDataError:
                continue
            except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
                raise UsageError(f"{what}: {name} is not a readable CSV file ({exc})") from None
        if frames and list(frame.columns) != list(frames[0].columns):
            raise UsageError(
                f"{what}: {name} has columns {list(frame.columns)}, "
                f"unlike the first file's {list(frames[0].columns)}"
            )
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else None
    if table is None and frames:
        table = frames[0]
    if table is None or len(table) == 0:
        raise UsageError(f"{what}: {path} has no data rows")
    return table


def to_float_array(frame: pd.DataFrame, what: str) -> np.ndarray:
    """The frame's values as a float matrix; names the first column that is not numeric."""
    import numpy as np
    import pandas as pd

    for column in frame.columns:
        series = frame[column]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            raise UsageError(
                f"{what}: column {column!r} holds non-numeric values ({series.dtype}), "
                "but the model was trained on numbers"
            )
    return np.asarray(frame.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def run(main: Callable[[Sequence[str] | None], None], argv: Sequence[str] | None) -> int:
    """Call main, turning a UsageError into a message on stderr and exit code 2."""
    try:
        main(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


# <<< shared:io


# >>> shared:predict (identical in train.py, evaluate.py and batch_predict.py)
def predict(
    meta: dict[str, Any], model: Any, frame: pd.DataFrame, what: str
) -> tuple[list[Any], np.ndarray | None]:
    """Predicted labels (or values) and, for classifiers, class probabilities per row."""
    import numpy as np

    columns = list(meta["feature_columns"])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(f"{what}: missing feature columns {missing}")
    if meta["input"] == "text":
        x: Any = frame[columns[0]].fillna("").astype(str)
    elif meta["input"] == "array":
        x = to_float_array(frame[columns], what)
    else:
        x = frame[columns]
    if meta["classes"] is None:
        return [float(v) for v in np.asarray(model.predict(x), dtype=float)], None
    proba = np.asarray(model.predict_proba(x), dtype=float)
    proba = proba / proba.sum(axis=1, keepdims=True)  # float32 rows may not sum to 1
    classes = list(meta["classes"])
    return [classes[i] for i in proba.argmax(axis=1)], proba


# <<< shared:predict


# >>> shared:metrics (identical in train.py and evaluate.py)
METRICS = {
    "binary_classification": ("accuracy", "auc", "f1", "logloss", "precision", "recall"),
    "multiclass_classification": ("accuracy", "f1_macro", "logloss"),
    "regression": ("mae", "r2", "rmse"),
    "text_classification": ("accuracy", "f1_macro", "logloss"),
}


def is_classification(task: str) -> bool:
    return task != "regression"


def label_values(frame: pd.DataFrame, label: str, task: str, what: str) -> pd.Series:
    """The label column, cleaned: class names as strings, or numbers for regression."""
    import pandas as pd

    if label not in frame.columns:
        raise UsageError(
            f"{what}: there is no label column {label!r} (columns: {list(frame.columns)}); "
            "name it with --label"
        )
    series = frame[label]
    if series.isna().all():
        raise UsageError(f"{what}: the label column {label!r} is empty")
    if series.isna().any():
        raise UsageError(
            f"{what}: the label column {label!r} has {int(series.isna().sum())} missing "
            "values; drop or fill those rows first"
        )
    if not is_classification(task):
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            raise UsageError(
                f"{what}: regression needs a numeric label, but {label!r} is {series.dtype}"
            )
        return series.astype(float)
    if pd.api.types.is_float_dtype(series) and bool((series == series.round()).all()):
        series = series.astype("int64")
    return series.astype(str).astype(object)


def check_known_labels(classes: Sequence[str], y_true: Sequence[Any], what: str) -> None:
    unseen = sorted(set(map(str, y_true)) - set(classes))
    if unseen:
        raise UsageError(
            f"{what}: labels {unseen[:10]} were not seen in training (classes: {list(classes)})"
        )


def compute_metrics(
    task: str,
    classes: Sequence[str] | None,
    y_true: Sequence[Any],
    predicted: Sequence[Any],
    proba: np.ndarray | None,
    what: str,
) -> dict[str, float]:
    """The task's metrics (exactly the METRICS names), all finite floats."""
    import numpy as np
    from sklearn import metrics as skm

    values: dict[str, float] = {}
    if not is_classification(task):
        truth = np.asarray(y_true, dtype=float)
        guess = np.asarray(predicted, dtype=float)
        if len(truth) < 2:
            raise UsageError(f"{what}: at least 2 rows are needed to score a regression")
        values["mae"] = float(skm.mean_absolute_error(truth, guess))
        values["rmse"] = math.sqrt(float(skm.mean_squared_error(truth, guess)))
        values["r2"] = float(skm.r2_score(truth, guess))
    else:
        assert classes is not None and proba is not None
        known = list(classes)
        check_known_labels(known, y_true, what)
        truth_s = np.asarray([str(v) for v in y_true], dtype=object)
        guess_s = np.asarray([str(v) for v in predicted], dtype=object)
        values["accuracy"] = float(skm.accuracy_score(truth_s, guess_s))
        values["logloss"] = float(skm.log_loss(truth_s, proba, labels=known))
        if task == "binary_classification":
            positive = known[1]
            present = sorted(set(truth_s.tolist()))
            if len(present) < 2:
                raise UsageError(
                    f"{what}: every row has label {present[0]!r}, so auc is undefined; "
                    "score on data with both classes"
                )
            values["auc"] = float(skm.roc_auc_score(truth_s == positive, proba[:, 1]))
            for name, scorer in (
                ("f1", skm.f1_score),
                ("precision", skm.precision_score),
                ("recall", skm.recall_score),
            ):
                values[name] = float(scorer(truth_s, guess_s, pos_label=positive, zero_division=0))
        else:
            values["f1_macro"] = float(
                skm.f1_score(truth_s, guess_s, labels=known, average="macro", zero_division=0)
            )
    bad = sorted(name for name, value in values.items() if not math.isfinite(value))
    if bad:
        raise UsageError(f"{what}: metrics {bad} are not finite numbers")
    assert sorted(values) == sorted(METRICS[task])
    return dict(sorted(values.items()))


# <<< shared:metrics


# >>> shared:mlflow (identical in train.py and evaluate.py)
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def tracking_mlflow() -> Any:
    """The mlflow module when tracking is configured (MLFLOW_TRACKING_URI) and installed.

    Tracking is best effort: the step's outputs (model, metrics) are what the pipeline
    reads, so a container without mlflow, or a server that fails, costs the MLflow record
    (with a warning on stderr), never the step.
    """
    if not os.environ.get(TRACKING_URI_ENV):
        return None
    try:
        return importlib.import_module("mlflow")
    except ImportError:
        print(
            f"warning: {TRACKING_URI_ENV} is set but this container has no mlflow package "
            "(pip install mlflow-skinny): nothing is logged to MLflow",
            file=sys.stderr,
        )
        return None


def tracking_failed(exc: BaseException) -> None:
    print(
        f"warning: logging to MLflow failed ({type(exc).__name__}: {exc}); "
        "the step's outputs are written all the same",
        file=sys.stderr,
    )


def linked_run(meta: dict[str, Any]) -> str | None:
    """The MLflow run train.py logged this model to, when it is on the current server."""
    record = meta.get("mlflow")
    if not isinstance(record, dict) or not record.get("run_id"):
        return None
    if record.get("tracking_uri") != os.environ.get(TRACKING_URI_ENV):
        return None
    return str(record["run_id"])


def use_experiment(mlflow: Any) -> None:
    """Make MLFLOW_EXPERIMENT_NAME the active experiment, creating it when it is missing."""
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        mlflow.set_experiment(name)


def prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in values.items()}


# <<< shared:mlflow


# >>> shared:bundle (identical in evaluate.py and batch_predict.py)
_UNPACKED: list[tempfile.TemporaryDirectory[str]] = []


def open_model(path: str) -> tuple[dict[str, Any], str]:
    """The pipespec-model.json of a model written by train.py, and its directory.

    The path is the model directory, or a model.tar.gz (as SageMaker packs a model), or a
    directory holding one; an archive is unpacked to a temporary directory first. The model
    itself is loaded by load_model, after the cheap checks.
    """
    path = local_path(path)
    if not is_remote(path):
        if not Path(path).exists():
            raise UsageError(f"model: {path} does not exist")
        path = unpack_if_archive(path)
    try:
        with open_binary(join(path, META_FILE)) as handle:
            meta = json.load(handle)
    except FileNotFoundError:
        raise UsageError(
            f"model: {path} has no {META_FILE}; is it a model written by pipespec's train script?"
        ) from None
    except ValueError as exc:
        raise UsageError(f"model: {META_FILE} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise UsageError(
            f"model: {META_FILE} is not format {MODEL_FORMAT}; retrain with this version "
            "of the standard scripts"
        )
    return meta, path


def load_model(meta: dict[str, Any], path: str) -> Any:
    import joblib

    name = str(meta.get("model_file", MODEL_FILE))
    try:
        with open_binary(join(path, name)) as handle:
            return joblib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"model: {path} has no {name}") from None
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"model: loading a {meta.get('framework')} model needs the {exc.name} package, "
            "which this container does not have"
        ) from None


def check_columns(meta: dict[str, Any], frame: pd.DataFrame, what: str) -> None:
    missing = [c for c in meta["feature_columns"] if c not in frame.columns]
    if missing:
        raise UsageError(f"{what}: missing feature columns {missing}")


def unpack_if_archive(path: str) -> str:
    root = Path(path)
    archive = None
    if root.is_file() and tarfile.is_tarfile(root):
        archive = root
    elif root.is_dir() and not (root / META_FILE).exists() and (root / "model.tar.gz").is_file():
        archive = root / "model.tar.gz"
    if archive is None:
        return path
    target = tempfile.TemporaryDirectory(prefix="pipespec-model-")
    _UNPACKED.append(target)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts:
                raise UsageError(f"model: {archive} has an unsafe member {member.name!r}")
            if not (member.isfile() or member.isdir()):
                raise UsageError(f"model: {archive} has a link or device {member.name!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target.name, filter="data")
        else:  # members were checked above
            tar.extractall(target.name)
    return target.name


# <<< shared:bundle


def evaluate(argv: Sequence[str] | None) -> None:
    parser = argparse.ArgumentParser(
        description="Score a model with pipespec's standard script.", allow_abbrev=False
    )
    parser.add_argument("--model", default=env_path("SM_CHANNEL_MODEL", "SM_MODEL_DIR"))
    parser.add_argument("--test", default=env_path("SM_CHANNEL_TEST"))
    output_dir = env_path("SM_OUTPUT_DATA_DIR")
    parser.add_argument("--metrics", default=output_dir and join(output_dir, "metrics.json"))
    parser.add_argument("--label", default=None, help="default: the model's label column")
    args = parser.parse_args(argv)
    for flag, env in (("model", "SM_MODEL_DIR"), ("test", "SM_CHANNEL_TEST")):
        if not getattr(args, flag):
            raise UsageError(f"--{flag} is required (or set {env})")
    if not args.metrics:
        raise UsageError("--metrics is required (or set SM_OUTPUT_DATA_DIR)")

    meta, model_dir = open_model(args.model)
    task = str(meta["task"])
    label = args.label or str(meta["label"])
    frame = read_table(args.test, "test data")
    y = label_values(frame, label, task, "test data")
    if meta["classes"] is not None:
        check_known_labels(meta["classes"], y.tolist(), "test data")
    check_columns(meta, frame, "test data")
    model = load_model(meta, model_dir)
    predicted, proba = predict(meta, model, frame, "test data")
    values = compute_metrics(task, meta["classes"], y.tolist(), predicted, proba, "test data")
    text = json.dumps(values, indent=2, sort_keys=True) + "\n"
    write_bytes(output_file(args.metrics, "metrics.json"), text.encode("utf-8"))
    for name, value in values.items():
        print(f"[pipespec] test:{name}={value!r}")
    log_evaluation(meta, values)


def log_evaluation(meta: dict[str, Any], values: dict[str, float]) -> None:
    """Log the test metrics to MLflow when tracking is configured: into the run train.py
    logged the model to (when that run is on this server), else into a run of their own."""
    mlflow = tracking_mlflow()
    if mlflow is None:
        return
    run_id = linked_run(meta)
    try:
        use_experiment(mlflow)
        with mlflow.start_run(run_id=run_id) as run:
            if run_id is None:
                mlflow.set_tags({"pipespec.script": "evaluate", "pipespec.task": meta["task"]})
            mlflow.log_metrics(prefixed("test", values))
    except Exception as exc:  # best effort: see tracking_mlflow
        tracking_failed(exc)
        return
    print(f"[pipespec] mlflow: test metrics in run {run.info.run_id}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    return run(evaluate, argv)


if __name__ == "__main__":
    sys.exit(main())
