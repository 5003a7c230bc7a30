#!/usr/bin/env python3
"""pipespec standard script: a data drift check between a baseline dataset and current data.

Runs inside the step's container and imports nothing from pipespec: it needs pandas, numpy
and scipy (scikit-learn's images have all three).

    drift.py --baseline PATH (--current PATH | --current-log PATH [--window N])
             [--metric psi|ks|jensen_shannon|chi_squared] [--threshold X]
             [--report DIR] [--metrics PATH] [--exclude a,b] [--bins N]
             [--max-rows N] [--fail-on-drift]

Data: --baseline and --current are a CSV file (or .csv.gz, or .parquet with pyarrow), or a
directory of them (read in name order; names starting with "." or "_" are skipped).

Logged predictions (--current-log): a JSON Lines file, or a directory of them (.jsonl,
.jsonl.gz, .json; read in file name order, lines in order; blank lines skipped). Each line
is one request record: a JSON object whose `instances` is a list of rows, each an object by
column name or a list of values in feature order (the baseline's columns, without the
--exclude ones, as pipespec's serving handler takes them); a record without `instances` is
itself one row (an object by column name). Other keys of a record (predictions, ids,
timestamps) are ignored. --window N keeps the newest N rows: the last N in that order.

Per feature (every column of the baseline, without --exclude), numeric or categorical as
the baseline's column type says (numbers are numeric, anything else, booleans too, is
categorical):

- bins: numeric values fall in the bins cut at the baseline's quantiles (--bins, default
  10; tied cuts merge); categorical values in one bin per category (the baseline's
  MAX_CATEGORIES most frequent; the rest share `(other)`); missing values in a bin of their
  own when either side has any.
- psi: population stability index, sum of (c - b) * ln(c / b) over the bins' proportions,
  every empty bin's proportion taken as EPSILON (1e-4).
- jensen_shannon: scipy.spatial.distance.jensenshannon of the bins' proportions, base 2
  (0 same, 1 disjoint).
- ks: scipy.stats.ks_2samp of the non-missing values, two-sided (numeric columns only):
  statistic and p-value.
- chi_squared: scipy.stats.chi2_contingency of the 2 x bins table of counts (bins empty on
  both sides dropped): statistic and p-value.

Verdict (--metric, default psi; --threshold, default the metric's DEFAULT_THRESHOLDS): for
psi, jensen_shannon and ks (its statistic) a feature drifts when its value is above the
threshold; for chi_squared when its p-value is below it (a significance level). A
categorical feature under --metric ks is judged by chi_squared at p < 0.05 (the report
says so in `judged_by`). Columns only in the baseline or only in the current data are
listed, not judged. Either side with more than --max-rows rows (default 200000) is sampled
to that many rows, without replacement, with a fixed seed: the same inputs give the same
report.

Outputs:
- --report DIR: drift.json (the verdict, every feature's statistics, the columns on one
  side only) and drift.md (the same as a Markdown table).
- --metrics PATH: a JSON object of numbers: `drift` (the worst value of the metric: the
  largest, or for chi_squared the smallest p-value), `drifted` (1 or 0),
  `features_drifted`, and `<metric>_<feature>` per judged feature. A `when:` such as
  `monitor.metrics.drifted == 1` gates retraining on it. When PATH is a directory,
  metrics.json is written inside it.

gs:// and s3:// paths need fsspec (with gcsfs or s3fs).

Exit codes: 0 checked (drift or not); 3 drift found and --fail-on-drift given, or the
environment variable PIPESPEC_FAIL_ON_DRIFT=1 (set by a monitor's own scheduled pipeline,
where nothing downstream reads the metrics: a failed run is what the orchestrator alerts on;
the report and metrics are written first); 2 a usage or data error (such as empty current data),
explained on stderr; 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib
import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# The metrics the verdict can use, and the threshold each takes when --threshold is not
# given: the usual rules of thumb (PSI 0.2 "significant shift"; chi-squared at 5%).
DEFAULT_THRESHOLDS = {"psi": 0.2, "ks": 0.1, "jensen_shannon": 0.1, "chi_squared": 0.05}
# The keys --metrics always holds; `<metric>_<feature>` keys come on top, one per feature.
METRIC_KEYS = ("drift", "drifted", "features_drifted")
EPSILON = 1e-4
MAX_CATEGORIES = 50
OTHER = "(other)"
MISSING = "(missing)"
KS_CATEGORICAL_PVALUE = 0.05
DEFAULT_MAX_ROWS = 200_000
SEED = 0
FAIL_EXIT = 3
LOG_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")


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


# --- reading --------------------------------------------------------------------------------


def read_dataset(path: str, what: str) -> pd.DataFrame:
    """A CSV dataset (shared reader), or Parquet when every file found is .parquet."""
    import pandas as pd

    files = list_data_files(path, what)
    if not all(name.lower().endswith(".parquet") for name in files):
        return read_table(path, what)
    frames = []
    for name in files:
        with open_binary(name) as handle:
            try:
                frames.append(pd.read_parquet(io.BytesIO(handle.read())))
            except ImportError as exc:
                raise UsageError(f"{what}: reading Parquet needs pyarrow ({exc})") from None
            except (OSError, ValueError) as exc:
                raise UsageError(f"{what}: {name} is not a readable Parquet file ({exc})") from None
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(table) == 0:
        raise UsageError(f"{what}: {path} has no data rows")
    return table


def log_files(path: str, what: str) -> list[str]:
    files = list_data_files(path, what)
    if len(files) == 1 and not is_dir(path):
        return files
    logs = [name for name in files if name.lower().endswith(LOG_SUFFIXES)]
    if not logs:
        raise UsageError(f"{what}: {path} holds no JSON Lines files ({', '.join(LOG_SUFFIXES)})")
    return logs


def log_lines(name: str) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a JSON Lines file (gzip-compressed when named .gz)."""
    with contextlib.ExitStack() as stack:
        handle: Any = stack.enter_context(open_binary(name))
        if name.lower().endswith(".gz"):
            handle = stack.enter_context(gzip.GzipFile(fileobj=handle))
        for number, line in enumerate(io.TextIOWrapper(handle, encoding="utf-8"), 1):
            if line.strip():
                yield number, line


def log_rows(record: Any, columns: Sequence[str], where: str) -> list[dict[str, Any]]:
    """The rows of one logged request: its `instances`, or the record itself."""
    if not isinstance(record, dict):
        raise UsageError(f"{where}: a record must be a JSON object, not {type(record).__name__}")
    if "instances" not in record:
        return [record]
    items = record["instances"]
    if not isinstance(items, list):
        raise UsageError(f"{where}: `instances` must be a list of rows")
    rows = []
    for item in items:
        row = item
        if isinstance(item, list):
            if len(item) != len(columns):
                raise UsageError(
                    f"{where}: a row has {len(item)} values, but the baseline has "
                    f"{len(columns)} feature columns ({', '.join(columns)}); name the others "
                    "with --exclude"
                )
            row = dict(zip(columns, item, strict=True))
        elif not isinstance(item, dict):
            raise UsageError(f"{where}: a row must be an object or a list of values")
        rows.append(row)
    return rows


def read_log(path: str, columns: Sequence[str], window: int | None) -> pd.DataFrame:
    """The logged rows, in file name then line order; only the newest `window` are kept."""
    import collections

    import pandas as pd

    what = "current log"
    kept: collections.deque[dict[str, Any]] = collections.deque(maxlen=window)
    for name in log_files(path, what):
        try:
            for number, line in log_lines(name):
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    raise UsageError(f"{what}: {name}:{number} is not JSON ({exc})") from None
                kept.extend(log_rows(record, columns, f"{what}: {name}:{number}"))
        except (OSError, UnicodeDecodeError, EOFError) as exc:
            raise UsageError(f"{what}: {name} cannot be read ({exc})") from None
    if not kept:
        raise UsageError(f"{what}: {path} has no logged rows")
    return pd.DataFrame.from_records(list(kept))


def bounded(frame: pd.DataFrame, cap: int) -> pd.DataFrame:
    """At most `cap` rows, sampled without replacement with a fixed seed (row order kept)."""
    import numpy as np

    if len(frame) <= cap:
        return frame
    picked = np.sort(np.random.default_rng(SEED).choice(len(frame), size=cap, replace=False))
    return frame.iloc[picked].reset_index(drop=True)


# --- statistics ---------------------------------------------------------------------------


def is_numeric(series: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def as_numbers(series: pd.Series) -> tuple[np.ndarray, int]:
    """The values as floats (NaN for missing), and how many present values were no number."""
    import numpy as np
    import pandas as pd

    if is_numeric(series):
        return series.to_numpy(dtype=float, na_value=np.nan), 0
    plain = series.map(
        lambda v: v if isinstance(v, (int, float, str)) and not isinstance(v, bool) else None
    )
    numbers = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return numbers, int(series.notna().sum() - np.count_nonzero(~np.isnan(numbers)))


def numeric_bins(
    base: np.ndarray, cur: np.ndarray, bins: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Bin labels and counts per side: cuts at the baseline's quantiles, then missing."""
    import numpy as np

    b, c = base[~np.isnan(base)], cur[~np.isnan(cur)]
    cuts = np.unique(np.quantile(b, np.linspace(0, 1, bins + 1))[1:-1]) if len(b) else b[:0]
    size = len(cuts) + 1
    b_counts = np.bincount(np.searchsorted(cuts, b, side="right"), minlength=size)
    c_counts = np.bincount(np.searchsorted(cuts, c, side="right"), minlength=size)
    edges = ["-inf", *(f"{v:.6g}" for v in cuts), "inf"]
    labels = [f"[{edges[i]}, {edges[i + 1]})" for i in range(size)]
    return with_missing(labels, b_counts, c_counts, len(base) - len(b), len(cur) - len(c))


def with_missing(
    labels: list[str], b: np.ndarray, c: np.ndarray, b_missing: int, c_missing: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    import numpy as np

    if not (b_missing or c_missing):
        return labels, b, c
    return [*labels, MISSING], np.append(b, b_missing), np.append(c, c_missing)


def categorical_bins(
    base: pd.Series, cur: pd.Series
) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Bin labels and counts per side by category, and the categories new in `cur`."""
    import numpy as np

    b, c = base.dropna().astype(str), cur.dropna().astype(str)
    ranked = sorted(b.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))
    labels = [str(name) for name, _ in ranked[:MAX_CATEGORIES]]
    index = {name: i for i, name in enumerate(labels)}
    seen = set(b.unique())
    new = sorted(set(c.unique()) - seen)
    other = len(labels)
    b_counts = np.bincount([index.get(v, other) for v in b], minlength=other + 1)
    c_counts = np.bincount([index.get(v, other) for v in c], minlength=other + 1)
    if b_counts[other] or c_counts[other]:
        labels.append(OTHER)
    else:
        b_counts, c_counts = b_counts[:other], c_counts[:other]
    missing = with_missing(labels, b_counts, c_counts, len(base) - len(b), len(cur) - len(c))
    return (*missing, new)


def distances(b_counts: np.ndarray, c_counts: np.ndarray) -> dict[str, float]:
    """PSI, Jensen-Shannon distance and the chi-squared test of the two bin counts."""
    import numpy as np
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    pb, pc = b_counts / b_counts.sum(), c_counts / c_counts.sum()
    qb, qc = np.where(pb == 0, EPSILON, pb), np.where(pc == 0, EPSILON, pc)
    js = float(jensenshannon(pb, pc, base=2))
    table = np.vstack([b_counts, c_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        chi2, pvalue = 0.0, 1.0
    else:
        chi2, pvalue, _, _ = chi2_contingency(table)
    return {
        "psi": float(np.sum((qc - qb) * np.log(qc / qb))),
        "jensen_shannon": js if math.isfinite(js) else 0.0,
        "chi_squared_statistic": float(chi2),
        "chi_squared_pvalue": float(pvalue),
    }


def feature_stats(base: pd.Series, cur: pd.Series, bins: int) -> dict[str, Any]:
    """Every statistic of one feature, its bins and notes (no verdict yet)."""
    import numpy as np
    from scipy.stats import ks_2samp

    notes: list[str] = []
    out: dict[str, Any] = {}
    if is_numeric(base):
        b, _ = as_numbers(base)
        c, unparsed = as_numbers(cur)
        if unparsed:
            notes.append(f"{unparsed} current values are not numbers: counted as missing")
        labels, b_counts, c_counts = numeric_bins(b, c, bins)
        bv, cv = b[~np.isnan(b)], c[~np.isnan(c)]
        out["type"] = "numeric"
        if len(bv) and len(cv):
            ks = ks_2samp(bv, cv)
            out["ks_statistic"], out["ks_pvalue"] = float(ks.statistic), float(ks.pvalue)
        else:
            out["ks_statistic"] = out["ks_pvalue"] = None
            notes.append("no values on one side: no KS test")
    else:
        labels, b_counts, c_counts, new = categorical_bins(base, cur)
        out.update(type="categorical", ks_statistic=None, ks_pvalue=None)
        if new:
            out["new_categories"] = new[:20]
            notes.append(f"{len(new)} categories the baseline never had (counted as {OTHER})")
    out.update(distances(b_counts, c_counts))
    out["missing"] = {"baseline": int(base.isna().sum()), "current": int(cur.isna().sum())}
    out["bins"] = [
        {"bin": label, "baseline": int(bc), "current": int(cc)}
        for label, bc, cc in zip(labels, b_counts, c_counts, strict=True)
    ]
    out["notes"] = notes
    return out


def judge(stats: dict[str, Any], metric: str, threshold: float) -> None:
    """Add the verdict to a feature's statistics: what judged it, its value, drifted."""
    by, limit = metric, threshold
    if metric == "ks" and stats["ks_statistic"] is None:
        by, limit = "chi_squared", KS_CATEGORICAL_PVALUE
    key = {"ks": "ks_statistic", "chi_squared": "chi_squared_pvalue"}.get(by, by)
    value = float(stats[key])
    drifted = value < limit if by == "chi_squared" else value > limit
    stats.update(judged_by=by, value=value, threshold=limit, drifted=bool(drifted))


# --- outputs --------------------------------------------------------------------------------


def metric_values(report: dict[str, Any]) -> dict[str, float | int]:
    """The --metrics object: the verdict's numbers and the chosen metric per feature."""
    metric = report["metric"]
    values: dict[str, float | int] = {
        "drift": report["drift"],
        "drifted": int(report["drifted"]),
        "features_drifted": report["features_drifted"],
    }
    for name, stats in report["features"].items():
        if stats["judged_by"] == metric:
            values[f"{metric}_{name}"] = stats["value"]
    return values


def cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(report: dict[str, Any]) -> str:
    verdict = "**drift**" if report["drifted"] else "no drift"
    lines = [
        "# Drift report",
        "",
        f"{verdict}: {report['features_drifted']} of {len(report['features'])} features over "
        f"the threshold ({report['metric']} {report['threshold']:g}); worst value "
        f"{cell(report['drift'])}. Rows: baseline {report['rows']['baseline']}, current "
        f"{report['rows']['current']} ({report['current_source']}).",
        "",
        "| feature | type | psi | ks | ks p-value | jensen-shannon | chi-squared p-value "
        "| judged by | drifted |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in report["features"].items():
        row = [name, s["type"], s["psi"], s["ks_statistic"], s["ks_pvalue"], s["jensen_shannon"]]
        row += [s["chi_squared_pvalue"], s["judged_by"], "yes" if s["drifted"] else "no"]
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    for side in ("baseline", "current"):
        only = report[f"only_in_{side}"]
        if only:
            lines += ["", f"Only in the {side} data (not judged): " + ", ".join(map(cell, only))]
    notes = [f"{cell(n)}: {note}" for n, s in report["features"].items() for note in s["notes"]]
    if notes:
        lines += ["", "Notes:", "", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def write_json(path: str, value: Any) -> None:
    write_bytes(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8"))


# --- the check ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Check data drift with pipespec's standard script.", allow_abbrev=False
    )
    parser.add_argument("--baseline", required=True)
    current = parser.add_mutually_exclusive_group()
    current.add_argument("--current")
    current.add_argument("--current-log", "--current_log", dest="current_log")
    parser.add_argument("--window", type=int, default=None)
    parser.add_argument("--metric", choices=sorted(DEFAULT_THRESHOLDS), default="psi")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--report", default=None)
    parser.add_argument("--metrics", default=None)
    parser.add_argument("--exclude", default="")
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument(
        "--max-rows", "--max_rows", dest="max_rows", type=int, default=DEFAULT_MAX_ROWS
    )
    parser.add_argument(
        "--fail-on-drift", "--fail_on_drift", dest="fail_on_drift", action="store_true"
    )
    args = parser.parse_args(argv)
    if not (args.current or args.current_log):
        raise UsageError("give the current data: --current PATH or --current-log PATH")
    if args.window is not None and (args.window < 1 or not args.current_log):
        raise UsageError("--window takes a positive number of rows, with --current-log")
    if not 2 <= args.bins <= 100:
        raise UsageError("--bins must be between 2 and 100")
    if args.max_rows < 1:
        raise UsageError("--max-rows must be positive")
    if args.threshold is None:
        args.threshold = DEFAULT_THRESHOLDS[args.metric]
    elif not (math.isfinite(args.threshold) and args.threshold > 0):
        raise UsageError("--threshold must be a positive number")
    return args


def build_report(args: argparse.Namespace) -> dict[str, Any]:
    exclude = {c.strip() for c in args.exclude.split(",") if c.strip()}
    baseline = read_dataset(args.baseline, "baseline")
    features = [str(c) for c in baseline.columns if str(c) not in exclude]
    baseline.columns = [str(c) for c in baseline.columns]
    if args.current_log:
        current, source = read_log(args.current_log, features, args.window), "logged predictions"
    else:
        current, source = read_dataset(args.current, "current data"), "dataset"
    current.columns = [str(c) for c in current.columns]
    rows = {"baseline": len(baseline), "current": len(current)}
    baseline, current = bounded(baseline, args.max_rows), bounded(current, args.max_rows)
    shared = [c for c in features if c in current.columns]
    if not shared:
        raise UsageError(
            f"the current data has none of the baseline's feature columns ({', '.join(features)})"
        )
    stats: dict[str, dict[str, Any]] = {}
    for name in shared:
        stats[name] = feature_stats(baseline[name], current[name], args.bins)
        judge(stats[name], args.metric, args.threshold)
    judged = [s["value"] for s in stats.values() if s["judged_by"] == args.metric]
    worst = min if args.metric == "chi_squared" else max
    empty = 1.0 if args.metric == "chi_squared" else 0.0
    return {
        "metric": args.metric,
        "threshold": args.threshold,
        "drift": float(worst(judged)) if judged else empty,
        "drifted": any(s["drifted"] for s in stats.values()),
        "features_drifted": sum(1 for s in stats.values() if s["drifted"]),
        "rows": {**rows, "baseline_used": len(baseline), "current_used": len(current)},
        "current_source": source,
        "only_in_baseline": [c for c in features if c not in current.columns],
        "only_in_current": [
            str(c) for c in current.columns if c not in baseline.columns and c not in exclude
        ],
        "features": stats,
    }


def check(argv: Sequence[str] | None) -> bool:
    """Run the check and write its outputs; True when the caller should exit FAIL_EXIT."""
    args = parse_args(argv)
    report = build_report(args)
    if args.report:
        write_json(join(args.report, "drift.json"), report)
        write_bytes(join(args.report, "drift.md"), markdown(report).encode("utf-8"))
    if args.metrics:
        write_json(output_file(args.metrics, "metrics.json"), metric_values(report))
    print(
        f"[pipespec] drift: {report['features_drifted']} of {len(report['features'])} features "
        f"drifted ({report['metric']} worst {report['drift']:.6g}, threshold "
        f"{report['threshold']:g})",
        file=sys.stderr,
    )
    fail_on_drift = args.fail_on_drift or os.environ.get("PIPESPEC_FAIL_ON_DRIFT") == "1"
    return bool(report["drifted"] and fail_on_drift)


def main(argv: Sequence[str] | None = None) -> int:
    failed: list[bool] = []
    code = run(lambda a: failed.append(check(a)), argv)
    return FAIL_EXIT if code == 0 and failed[0] else code


if __name__ == "__main__":
    sys.exit(main())
