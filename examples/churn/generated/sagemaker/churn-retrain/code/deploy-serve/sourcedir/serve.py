#!/usr/bin/env python3
"""pipespec standard inference handler: serve a model trained by train.py in a SageMaker
framework container (the scikit-learn or XGBoost inference image), as its user module.

The container imports this file (env SAGEMAKER_PROGRAM, from the sourcedir.tar.gz that
SAGEMAKER_SUBMIT_DIRECTORY names) and calls, per request, the functions the SageMaker
inference toolkits look for. It imports nothing from pipespec: it needs pandas, joblib,
scikit-learn and the model's framework (xgboost or lightgbm for those models).

- model_fn(model_dir): the model.joblib and pipespec-model.json train.py wrote (SageMaker
  unpacks model.tar.gz into model_dir).
- input_fn(body, content_type): text/csv (rows of the model's feature columns; a row
  naming every feature column is a header, and the rows after it are read by name, other
  columns such as an id or the label ignored; rows with no header above them hold exactly
  the feature columns, in training order) or application/json (a list, or
  {"instances": [...]}, of objects by column name or lists in feature order).
- predict_fn(data, model): what batch_predict.py writes per row: `prediction` (the class,
  or the value for regression), then for classifiers `probability_<class>` per class.
- output_fn(prediction, accept): text/csv, one line per input row (a header line where
  the input had one, so a batch transform's output lines stay aligned with its input
  lines), or application/json {"predictions": [{column: value}, ...]}; with no Accept (or
  */*), the request's own type.

A bad request raises UsageError (the container answers with an error).
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import json
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


CSV = "text/csv"
JSON = "application/json"


def model_fn(model_dir: str) -> tuple[dict[str, Any], Any]:
    """The model and its pipespec-model.json, from the folder SageMaker unpacked it to."""
    meta, path = open_model(model_dir)
    return meta, load_model(meta, path)


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def input_fn(body: bytes | str, content_type: str | None) -> dict[str, Any]:
    """The request's text and type; predict_fn reads its rows (it has the model's meta)."""
    kind = _media_type(content_type) or CSV
    if kind not in (CSV, JSON):
        raise UsageError(f"content type {content_type!r}: send {CSV} or {JSON}")
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else str(body)
    return {"type": kind, "text": text}


def csv_parts(meta: dict[str, Any], text: str) -> list[tuple[list[str] | None, list[list[str]]]]:
    """The request's rows in parts: (a header, or None before any, and the rows under it).
    A row naming every feature column is a header; a header with no rows is a part too."""
    columns = set(meta["feature_columns"])
    parts: list[tuple[list[str] | None, list[list[str]]]] = [(None, [])]
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if columns <= {value.strip() for value in row}:
            parts.append(([value.strip() for value in row], []))
        else:
            parts[-1][1].append(row)
    return [part for part in parts if part[0] is not None or part[1]]


def csv_frame(meta: dict[str, Any], header: list[str] | None, rows: list[list[str]]) -> Any:
    """The rows as batch_predict.py reads a CSV file (pandas infers the column types)."""
    import pandas as pd

    names = header if header is not None else list(meta["feature_columns"])
    for row in rows:
        if len(row) != len(names):
            what = "its header's" if header is not None else "the model's feature columns'"
            raise UsageError(
                f"text/csv: a row has {len(row)} values, not {what} {len(names)} "
                f"({', '.join(names)})"
            )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    return pd.read_csv(buffer, header=None, names=names)


def json_frame(meta: dict[str, Any], text: str) -> Any:
    """A list of rows (or {"instances": [...]}): objects by column, lists in feature order."""
    import pandas as pd

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"application/json: not valid JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("instances")
    if not isinstance(data, list):
        raise UsageError('application/json: send a list of rows, or {"instances": [...]}')
    columns = list(meta["feature_columns"])
    records = []
    for item in data:
        row = item if isinstance(item, (dict, list)) else [item]  # a text classifier's text
        if isinstance(row, list):
            if len(row) != len(columns):
                raise UsageError(
                    f"application/json: a row has {len(row)} values, not the model's "
                    f"{len(columns)} feature columns ({', '.join(columns)})"
                )
            row = {name: row[i] for i, name in enumerate(columns)}
        records.append(row)
    return pd.DataFrame.from_records(records) if records else None


def predict_fn(data: dict[str, Any], model: tuple[dict[str, Any], Any]) -> dict[str, Any]:
    """Per part of the request: whether it starts with a header, and its predictions."""
    meta, estimator = model
    if data["type"] == JSON:
        frames = [(False, json_frame(meta, data["text"]))]
    else:
        frames = [
            (header is not None, csv_frame(meta, header, rows) if rows else None)
            for header, rows in csv_parts(meta, data["text"])
        ]
    return {"type": data["type"], "parts": [(h, table(meta, estimator, f)) for h, f in frames]}


def table(meta: dict[str, Any], model: Any, frame: Any) -> Any:
    """batch_predict.py's prediction columns for the frame's rows (no rows for None)."""
    import pandas as pd

    columns = ["prediction"]
    if meta["classes"] is not None:
        columns += [f"probability_{c}" for c in meta["classes"]]
    if frame is None:
        return pd.DataFrame(columns=columns)
    predicted, proba = predict(meta, model, frame, "request")
    out = pd.DataFrame({"prediction": predicted})
    if proba is not None:
        for i, name in enumerate(columns[1:]):
            out[name] = proba[:, i]
    return out


def _native(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def output_fn(prediction: dict[str, Any], accept: str | None) -> tuple[str, str]:
    """The predictions as the accepted type (else the request's), and that type."""
    kinds = [_media_type(a) for a in (accept or "").split(",")]
    kind = next((k for k in kinds if k in (CSV, JSON)), None)
    if kind is None and any(k in ("", "*/*", "text/*", "application/*") for k in kinds):
        kind = prediction["type"]
    if kind is None:
        raise UsageError(f"accept {accept!r}: this model answers {CSV} or {JSON}")
    parts = prediction["parts"]
    if kind == JSON:
        rows = [row for _, out in parts for row in out.to_dict(orient="records")]
        return json.dumps({"predictions": rows}, default=_native), JSON
    text = "".join(out.to_csv(index=False, header=h, lineterminator="\n") for h, out in parts)
    return text, CSV
