#!/usr/bin/env python3
"""pipespec standard script: train a model from CSV data.

Runs inside the step's container and imports nothing from pipespec: it needs pandas, joblib
and scikit-learn, plus xgboost or lightgbm for those frameworks.

    train.py --framework F --task T --train PATH [--validation PATH] --model PATH
             [--label label] [--text-column text] [--hyperparameters JSON]
             [--metrics PATH] [--NAME VALUE ...]

Frameworks: scikit-learn (random forests; TF-IDF + logistic regression for text), xgboost
and lightgbm (their scikit-learn APIs). Tasks: binary_classification,
multiclass_classification, regression, and text_classification (scikit-learn only).

Data: a CSV file, or a directory of CSV files (read in name order). Every column but the
label is a feature (for text_classification, only --text-column is). Non-numeric feature
columns are one-hot encoded; missing numbers are left to the estimator.

The model is written to the --model directory: `model.joblib` (the fitted estimator, or a
scikit-learn Pipeline when encoding is needed; a bare estimator takes a numeric array in
`feature_columns` order, as the Vertex AI prebuilt prediction containers pass it) and
`pipespec-model.json` (framework, task, label, feature columns, classes).

Hyperparameters: --hyperparameters takes a JSON object; extra `--NAME VALUE` or
`--NAME=VALUE` arguments override it (that is how SageMaker script mode and Vertex AI
tuning trials pass values; values are read as JSON when they parse, else as strings).
xgboost also takes its native names (eta, num_round, lambda, alpha, seed, ...); when both a
native name and its scikit-learn name are given, the scikit-learn name wins. For text,
TfidfVectorizer and LogisticRegression parameters are routed by name (`ngram_range` may be
written "1,2").

--metrics writes validation metrics as a JSON object (the names evaluate.py writes). Without
--validation, 20% of the training rows are held out for them. Each metric is also printed
as `[pipespec] validation:NAME=VALUE` (for SageMaker metric definitions) and reported to
Vertex AI hyperparameter tuning when cloudml-hypertune is installed.

Paths default to the SageMaker script-mode environment when it is set (SM_CHANNEL_TRAIN,
SM_CHANNEL_VALIDATION, SM_MODEL_DIR, SM_OUTPUT_DATA_DIR). gs:// and s3:// paths need fsspec
(with gcsfs or s3fs).

Exit codes: 0 success; 2 a usage or data error, explained on stderr; 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FRAMEWORKS = ("lightgbm", "scikit-learn", "xgboost")
FRAMEWORK_ALIASES = {"sklearn": "scikit-learn"}
# Frameworks pipespec knows but these scripts do not train: steps using them bring a command.
WITHOUT_STANDARD_SCRIPTS = ("pytorch", "tensorflow", "transformers")
TASKS = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "text_classification",
)
TEXT_FRAMEWORKS = ("scikit-learn",)
# xgboost native (and SageMaker built-in algorithm) names -> scikit-learn API names.
XGBOOST_ALIASES = {
    "alpha": "reg_alpha",
    "eta": "learning_rate",
    "lambda": "reg_lambda",
    "min_split_loss": "gamma",
    "num_boost_round": "n_estimators",
    "num_round": "n_estimators",
    "seed": "random_state",
}
# Binary objectives used when a multiclass task finds only two classes in the data.
BINARY_OBJECTIVES = {"lightgbm": "binary", "xgboost": "binary:logistic"}
EARLY_STOPPING = ("early_stopping_rounds", "early_stopping_round")
HOLDOUT_FRACTION = 0.2
SEED = 0
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


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_overrides(extra: Sequence[str]) -> dict[str, Any]:
    """`--name value` and `--name=value` pairs, as SageMaker and Vertex AI tuning pass them."""
    values: dict[str, Any] = {}
    i = 0
    while i < len(extra):
        token = extra[i]
        if not token.startswith("--") or token == "--":
            raise UsageError(f"unexpected argument {token!r}")
        name = token[2:]
        if "=" in name:
            name, text = name.split("=", 1)
            i += 1
        elif i + 1 < len(extra) and not extra[i + 1].startswith("--"):
            text = extra[i + 1]
            i += 2
        else:
            raise UsageError(f"hyperparameter --{name} needs a value")
        if not name:
            raise UsageError(f"unexpected argument {token!r}")
        values[name] = parse_value(text)
    return values


def hyperparameters(args: argparse.Namespace, extra: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.hyperparameters:
        try:
            loaded = json.loads(args.hyperparameters)
        except ValueError as exc:
            raise UsageError(f"--hyperparameters is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise UsageError("--hyperparameters must be a JSON object")
        params.update(loaded)
    params.update(parse_overrides(extra))
    return {k: v for k, v in params.items() if not k.startswith("sagemaker_")}


def resolve_framework(name: str) -> str:
    framework = FRAMEWORK_ALIASES.get(name, name)
    if framework in WITHOUT_STANDARD_SCRIPTS:
        raise UsageError(
            f"the standard scripts do not train {framework} models (they support "
            f"{', '.join(FRAMEWORKS)}); give the step a command that runs your own code"
        )
    if framework not in FRAMEWORKS:
        raise UsageError(
            f"unknown framework {name!r}; the standard scripts support {', '.join(FRAMEWORKS)}"
        )
    return framework


def resolve_task(framework: str, task: str) -> str:
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task == "text_classification" and framework not in TEXT_FRAMEWORKS:
        raise UsageError(
            f"text_classification is supported with {', '.join(TEXT_FRAMEWORKS)}, not {framework}"
        )
    return task


def sklearn_estimator(task: str, params: dict[str, Any]) -> Any:
    if task == "text_classification":
        return text_pipeline(params)
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    return set_params(cls(), params, cls.__name__)


def set_params(estimator: Any, params: dict[str, Any], name: str) -> Any:
    valid = set(estimator.get_params())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise UsageError(
            f"unknown hyperparameters {unknown} for {name}; valid: {', '.join(sorted(valid))}"
        )
    try:
        return estimator.set_params(**params)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"hyperparameters for {name}: {exc}") from None


def text_pipeline(params: dict[str, Any]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    vectorizer, classifier = TfidfVectorizer(), LogisticRegression()
    routed: dict[str, dict[str, Any]] = {"tfidf": {}, "clf": {}}
    for key, value in params.items():
        if key.startswith(("tfidf__", "clf__")):
            step, name = key.split("__", 1)
        elif key in vectorizer.get_params():
            step, name = "tfidf", key
        elif key in classifier.get_params():
            step, name = "clf", key
        else:
            raise UsageError(
                f"unknown hyperparameter {key!r} for TfidfVectorizer + LogisticRegression"
            )
        routed[step][name] = ngram_range(value) if name == "ngram_range" else value
    return Pipeline(
        [
            ("tfidf", set_params(vectorizer, routed["tfidf"], "TfidfVectorizer")),
            ("clf", set_params(classifier, routed["clf"], "LogisticRegression")),
        ]
    )


def ngram_range(value: Any) -> tuple[int, int]:
    parts = value.split(",") if isinstance(value, str) else value
    try:
        low, high = (int(p) for p in parts)
    except (TypeError, ValueError):
        raise UsageError(f'ngram_range must be two integers like "1,2", not {value!r}') from None
    return (low, high)


def xgboost_params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        canonical = XGBOOST_ALIASES.get(key, key)
        if canonical != key and canonical in params:
            if params[canonical] != value:
                print(
                    f"note: {key}={value!r} ignored: {canonical}={params[canonical]!r} wins",
                    file=sys.stderr,
                )
            continue
        out[canonical] = value
    out.pop("num_class", None)  # derived from the data
    return out


def boosted_estimator(framework: str, task: str, params: dict[str, Any], n_classes: int) -> Any:
    params = xgboost_params(params) if framework == "xgboost" else dict(params)
    if task != "regression" and n_classes == 2 and "multi" in str(params.get("objective", "")):
        params["objective"] = BINARY_OBJECTIVES[framework]
    if framework == "xgboost":
        import xgboost

        cls: Any = xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier
    else:
        import lightgbm

        cls = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    try:
        return cls(**params)
    except TypeError as exc:
        raise UsageError(f"hyperparameters for {cls.__name__}: {exc}") from None


def preprocessor(frame: pd.DataFrame, columns: list[str]) -> Any:
    """A ColumnTransformer one-hot encoding the non-numeric columns, or None if all are numeric."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    categorical = [
        c
        for c in columns
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if not categorical:
        return None
    encode = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    return ColumnTransformer(
        [("categorical", encode, categorical)], remainder="passthrough", sparse_threshold=0.0
    )


def holdout(frame: pd.DataFrame, y: pd.Series, task: str) -> tuple[Any, Any, Any, Any]:
    from sklearn.model_selection import train_test_split

    stratify = None
    if is_classification(task) and int(y.value_counts().min()) >= 2:
        stratify = y
    try:
        parts: list[Any] = train_test_split(
            frame, y, test_size=HOLDOUT_FRACTION, random_state=SEED, stratify=stratify
        )
    except ValueError as exc:
        raise UsageError(f"training data: too few rows to hold out some ({exc})") from None
    return parts[0], parts[1], parts[2], parts[3]


def train(argv: Sequence[str] | None) -> None:
    parser = argparse.ArgumentParser(
        description="Train a model with pipespec's standard script.", allow_abbrev=False
    )
    parser.add_argument("--framework", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--train", default=env_path("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", default=env_path("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--model", default=env_path("SM_MODEL_DIR"))
    parser.add_argument("--label", default="label")
    parser.add_argument("--text-column", "--text_column", dest="text_column", default="text")
    parser.add_argument("--hyperparameters", default=None)
    parser.add_argument("--metrics", default=None)
    args, extra = parser.parse_known_args(argv)

    framework = resolve_framework(args.framework)
    task = resolve_task(framework, args.task)
    params = hyperparameters(args, extra)
    if not args.train:
        raise UsageError("--train is required (or set SM_CHANNEL_TRAIN)")
    if not args.model:
        raise UsageError("--model is required (or set SM_MODEL_DIR)")
    metrics_path = args.metrics
    output_dir = env_path("SM_OUTPUT_DATA_DIR")
    if metrics_path is None and args.validation and output_dir:
        metrics_path = join(output_dir, "metrics.json")

    frame = read_table(args.train, "training data")
    y = label_values(frame, args.label, task, "training data")
    if task == "text_classification":
        if args.text_column not in frame.columns:
            raise UsageError(
                f"training data: there is no text column {args.text_column!r} "
                f"(columns: {list(frame.columns)}); name it with --text-column"
            )
        columns = [args.text_column]
    else:
        columns = [str(c) for c in frame.columns if c != args.label]
        if not columns:
            raise UsageError(f"training data: there are no feature columns besides {args.label!r}")

    validation_source = None
    if args.validation:
        validation = read_table(args.validation, "validation data")
        y_val = label_values(validation, args.label, task, "validation data")
        validation_source = "validation"
    elif metrics_path:
        frame, validation, y, y_val = holdout(frame, y, task)
        validation_source = "holdout"
        print(
            f"note: no validation data; holding out {HOLDOUT_FRACTION:.0%} of the training rows",
            file=sys.stderr,
        )
    else:
        validation, y_val = None, None

    classes: list[str] | None = None
    if is_classification(task):
        classes = sorted(set(y.tolist()))
        if len(classes) < 2:
            raise UsageError(f"training data: only one class ({classes[0]!r}) in {args.label!r}")
        if task == "binary_classification" and len(classes) != 2:
            raise UsageError(
                f"training data: binary_classification needs exactly 2 classes, found "
                f"{len(classes)}: {classes[:10]}"
            )
    if validation is not None and y_val is not None:  # fail before training, not after
        missing = [c for c in columns if c not in validation.columns]
        if missing:
            raise UsageError(f"validation data: missing feature columns {missing}")
        if classes is not None:
            check_known_labels(classes, y_val.tolist(), "validation data")

    model, input_kind = fit(framework, task, params, frame, y, columns, classes, validation, y_val)

    meta: dict[str, Any] = {
        "classes": classes,
        "feature_columns": columns,
        "format": MODEL_FORMAT,
        "framework": framework,
        "framework_version": framework_version(framework),
        "hyperparameters": params,
        "input": input_kind,
        "label": args.label,
        "model_file": MODEL_FILE,
        "python_version": platform.python_version(),
        "sklearn_version": framework_version("scikit-learn"),
        "task": task,
        "text_column": args.text_column if task == "text_classification" else None,
        "validation": validation_source,
    }
    save_model(args.model, model, meta)

    values: dict[str, float] = {}
    if validation is not None and y_val is not None:
        predicted, proba = predict(meta, model, validation, "validation data")
        values = compute_metrics(task, classes, y_val.tolist(), predicted, proba, "validation data")
        for name, value in values.items():
            print(f"[pipespec] validation:{name}={value!r}")
        report_hypertune(values)
        if metrics_path:
            text = json.dumps(values, indent=2, sort_keys=True) + "\n"
            write_bytes(output_file(metrics_path, "metrics.json"), text.encode("utf-8"))

    record = log_training(meta, model, values, frame[columns].head(5))
    if record is not None:
        # Later steps (evaluate, register) find the run and the logged model from here.
        meta["mlflow"] = record
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        write_bytes(join(args.model, META_FILE), text.encode("utf-8"))


def fit(
    framework: str,
    task: str,
    params: dict[str, Any],
    frame: pd.DataFrame,
    y: pd.Series,
    columns: list[str],
    classes: list[str] | None,
    validation: pd.DataFrame | None,
    y_val: pd.Series | None,
) -> tuple[Any, str]:
    """The fitted model and the input it takes: "text", "array" or "dataframe"."""
    if task == "text_classification":
        model = sklearn_estimator(task, params)
        texts = frame[columns[0]].fillna("").astype(str)
        fit_or_explain(model, texts, y.to_numpy(dtype=object), {})
        return model, "text"

    pre = preprocessor(frame, columns)
    if pre is None:
        x_train: Any = to_float_array(frame[columns], "training data")
    else:
        x_train = pre.fit_transform(frame[columns])

    if framework == "scikit-learn":
        estimator = sklearn_estimator(task, params)
        target: Any = y.to_numpy()
        fit_or_explain(estimator, x_train, target, {})
    else:
        params = dict(params)
        rounds = None
        for key in EARLY_STOPPING:
            if key in params:
                rounds = params.pop(key)
        estimator = boosted_estimator(framework, task, params, len(classes or ()))
        target = y.to_numpy()
        encode = None
        if framework == "xgboost" and classes is not None:
            index = {c: i for i, c in enumerate(classes)}
            encode = index.__getitem__
            target = [encode(v) for v in target]
        kwargs: dict[str, Any] = {}
        if rounds is not None and validation is not None and y_val is not None:
            x_val = (
                to_float_array(validation[columns], "validation data")
                if pre is None
                else pre.transform(validation[columns])
            )
            val_target: Any = y_val.to_numpy()
            if encode is not None:
                val_target = [encode(v) for v in val_target]
            if framework == "xgboost":
                estimator.set_params(early_stopping_rounds=int(rounds))
                kwargs.update(eval_set=[(x_val, val_target)], verbose=False)
            else:
                import lightgbm

                kwargs["callbacks"] = [lightgbm.early_stopping(int(rounds), verbose=False)]
                if "eval_X" in inspect.signature(estimator.fit).parameters:  # lightgbm >= 4.7
                    kwargs.update(eval_X=(x_val,), eval_y=(val_target,))
                else:
                    kwargs["eval_set"] = [(x_val, val_target)]
        elif rounds is not None:
            print("note: early stopping needs validation data; ignored", file=sys.stderr)
        fit_or_explain(estimator, x_train, target, kwargs)

    if pre is None:
        return estimator, "array"
    from sklearn.pipeline import Pipeline

    return Pipeline([("preprocess", pre), ("model", estimator)]), "dataframe"


def fit_or_explain(estimator: Any, x: Any, y: Any, kwargs: dict[str, Any]) -> None:
    """Fit; an error raised by the library (bad hyperparameters or data) is a usage error."""
    try:
        estimator.fit(x, y, **kwargs)
    except Exception as exc:
        library_error = type(exc).__name__ in ("XGBoostError", "LightGBMError")
        if not (library_error or isinstance(exc, (TypeError, ValueError))):
            raise
        raise UsageError(f"{type(estimator).__name__}: {exc}") from None


def framework_version(framework: str) -> str | None:
    module = {"scikit-learn": "sklearn"}.get(framework, framework)
    try:
        return str(importlib.import_module(module).__version__)
    except ImportError:
        return None


def save_model(path: str, model: Any, meta: dict[str, Any]) -> None:
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    write_bytes(join(path, MODEL_FILE), buffer.getvalue())
    text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
    write_bytes(join(path, META_FILE), text.encode("utf-8"))


def log_training(
    meta: dict[str, Any], model: Any, values: dict[str, float], example: pd.DataFrame
) -> dict[str, str] | None:
    """Log the hyperparameters, validation metrics and model to an MLflow run when tracking
    is configured (MLFLOW_TRACKING_URI; the experiment from MLFLOW_EXPERIMENT_NAME, as
    mlflow reads them). Returns where the run and model are, or None."""
    mlflow = tracking_mlflow()
    if mlflow is None:
        return None
    try:
        use_experiment(mlflow)
        with mlflow.start_run() as run:
            mlflow.set_tags({"pipespec.script": "train", "pipespec.task": meta["task"]})
            mlflow.log_params(mlflow_params(meta["hyperparameters"]))
            mlflow.log_params({"framework": meta["framework"], "label": meta["label"]})
            if values:
                mlflow.log_metrics(prefixed("validation", values))
            model_uri = log_model(mlflow, meta, model, example)
        record = {
            "experiment_id": str(run.info.experiment_id),
            "model_uri": model_uri,
            "run_id": str(run.info.run_id),
            "tracking_uri": os.environ[TRACKING_URI_ENV],
        }
    except Exception as exc:  # best effort: see tracking_mlflow
        tracking_failed(exc)
        return None
    print(f"[pipespec] mlflow: run {record['run_id']}, model {model_uri}", file=sys.stderr)
    return record


def mlflow_params(params: dict[str, Any]) -> dict[str, str]:
    """Hyperparameters as MLflow params: text (JSON for other values), within MLflow's
    key and value lengths."""
    return {
        str(key)[:250]: (value if isinstance(value, str) else json.dumps(value))[:6000]
        for key, value in params.items()
    }


def log_model(mlflow: Any, meta: dict[str, Any], model: Any, example: pd.DataFrame) -> str:
    """Log the model in its framework's MLflow flavor; returns its model URI.

    A bare xgboost or lightgbm estimator goes in that library's flavor; anything else
    (scikit-learn, or a Pipeline that encodes columns first) in the scikit-learn one. What
    MLflow pickles, it pickles with cloudpickle, as model.joblib already is (skops, MLflow
    3's default, would need the skops package and a list of trusted types). An xgboost
    classifier predicts class indices: the names are the model's `classes` metadata, in
    that order.
    """
    framework, bare = meta["framework"], meta["input"] == "array"
    kwargs: dict[str, Any] = {
        "metadata": {"pipespec": {k: meta[k] for k in ("classes", "feature_columns", "task")}}
    }
    if meta["input"] != "text":  # a text model reads a column of strings, not a frame
        kwargs["input_example"] = example
    native = bare and framework in ("xgboost", "lightgbm")
    flavor = importlib.import_module(f"mlflow.{framework if native else 'sklearn'}")
    accepted = inspect.signature(flavor.log_model).parameters
    if "serialization_format" in accepted:  # scikit-learn, and lightgbm's sklearn API
        kwargs["serialization_format"] = "cloudpickle"
    # mlflow 3 names a logged model `name`; mlflow 2 named its folder `artifact_path`.
    where = "name" if "name" in accepted else "artifact_path"
    info = flavor.log_model(model, **{where: "model"}, **kwargs)
    return str(info.model_uri)


def report_hypertune(values: dict[str, float]) -> None:
    """Report the tuning metric to Vertex AI when running a tuning trial there."""
    tag = os.environ.get("CLOUD_ML_HP_METRIC_TAG")
    if not tag or tag not in values:
        return
    try:
        hypertune = importlib.import_module("hypertune")
    except ImportError:
        return
    hypertune.HyperTune().report_hyperparameter_tuning_metric(
        hyperparameter_metric_tag=tag, metric_value=values[tag]
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run(train, argv)


if __name__ == "__main__":
    sys.exit(main())
