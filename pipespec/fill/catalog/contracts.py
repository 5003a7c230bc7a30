"""The standard scripts' contracts: the one machine-readable source for what each takes and writes.

`docs/catalog.md` is rendered from `CONTRACTS` (`render_markdown`), the compiler checks
steps that run a standard script against it (pipespec.compiler.contracts), and a test keeps
it equal to the scripts' own argparse definitions and METRICS tables, so the three cannot
drift apart.

To add a script: add its file under `scripts/`, its name to `fill/scripts.py`'s
STANDARD_SCRIPTS and a `ScriptContract` row to `CONTRACTS` below, then regenerate the doc:

    python -c 'from pipespec.fill.catalog.contracts import write_doc; write_doc()'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CONTRACTS",
    "TASK_METRICS",
    "Argument",
    "ScriptContract",
    "contract",
    "render_markdown",
    "write_doc",
]

# The metric keys train.py (with validation data) and evaluate.py write, per task: the
# scripts' own METRICS table, which the test compares with this one.
TASK_METRICS: Mapping[str, tuple[str, ...]] = {
    "binary_classification": ("accuracy", "auc", "f1", "logloss", "precision", "recall"),
    "multiclass_classification": ("accuracy", "f1_macro", "logloss"),
    "regression": ("mae", "r2", "rmse"),
    "text_classification": ("accuracy", "f1_macro", "logloss"),
}


@dataclass(frozen=True)
class Argument:
    """One command-line argument of a standard script."""

    flag: str  # the canonical spelling, e.g. "--train"
    help: str
    # Required: the script stops with a usage error without it (argparse's `required=True`,
    # or a check after parsing; SageMaker's environment may supply it, pipespec's targets
    # other than SageMaker do not).
    required: bool = False
    aliases: tuple[str, ...] = ()  # other spellings argparse accepts
    default: str | None = None  # as the doc shows it
    repeatable: bool = False

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.flag, *self.aliases)


@dataclass(frozen=True)
class ScriptContract:
    """What a standard script (`script: pipespec:<name>`) takes and writes."""

    name: str  # as a step names it after `pipespec:`
    file: str  # under pipespec/fill/catalog/scripts/
    summary: str
    arguments: tuple[Argument, ...]
    # The argument whose file receives a JSON object of metrics, and the keys per task.
    metrics_flag: str | None = None
    metrics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # How the label column is chosen ("" when the script reads no label).
    label: str = ""
    # The argument that names the task, when the keys written depend on it.
    task_flag: str | None = None
    accepts_extra: bool = False  # unknown `--name value` pairs are taken (as hyperparameters)
    # Keys written to `metrics_flag` whatever the task (the script's METRIC_KEYS), and what
    # the docs say of any keys named from the data on top of them.
    metric_keys: tuple[str, ...] = ()
    metric_note: str = ""

    def argument(self, spelling: str) -> Argument | None:
        for arg in self.arguments:
            if spelling in arg.spellings:
                return arg
        return None

    @property
    def required(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.required)


CONTRACTS: dict[str, ScriptContract] = {
    "train": ScriptContract(
        name="train",
        file="train.py",
        summary="Train a scikit-learn, xgboost or lightgbm model on a labelled CSV dataset.",
        arguments=(
            Argument("--framework", "scikit-learn, xgboost or lightgbm", required=True),
            Argument("--task", "one of the tasks below", required=True),
            Argument("--train", "training CSV file or directory", required=True),
            Argument("--validation", "validation CSV; without it, metrics hold out 20%"),
            Argument("--model", "model directory to write", required=True),
            Argument("--label", "the label column", default="label"),
            Argument(
                "--text-column",
                "the text column (text_classification)",
                aliases=("--text_column",),
                default="text",
            ),
            Argument("--hyperparameters", "a JSON object of the estimator's parameters"),
            Argument("--metrics", "JSON file (or directory) for the validation metrics"),
        ),
        metrics_flag="--metrics",
        metrics=TASK_METRICS,
        label="`--label` (default `label`); other columns are features",
        task_flag="--task",
        accepts_extra=True,
    ),
    "evaluate": ScriptContract(
        name="evaluate",
        file="evaluate.py",
        summary="Score a model written by `pipespec:train` on labelled CSV data.",
        arguments=(
            Argument("--model", "model directory (or model.tar.gz) train wrote", required=True),
            Argument("--test", "labelled CSV file or directory", required=True),
            Argument("--metrics", "JSON file (or directory) for the metrics", required=True),
            Argument("--label", "the label column", default="the model's"),
        ),
        metrics_flag="--metrics",
        metrics=TASK_METRICS,
        label="`--label`, by default the column the model was trained on",
    ),
    "batch_predict": ScriptContract(
        name="batch_predict",
        file="batch_predict.py",
        summary="Predict with a model written by `pipespec:train`, writing a CSV.",
        arguments=(
            Argument("--model", "model directory (or model.tar.gz) train wrote", required=True),
            Argument("--data", "CSV file or directory with the feature columns", required=True),
            Argument("--predictions", "CSV file (or directory) to write", required=True),
            Argument(
                "--keep-columns",
                "comma-separated input columns copied to the output",
                aliases=("--keep_columns",),
            ),
        ),
    ),
    "register": ScriptContract(
        name="register",
        file="register.py",
        summary=(
            "Register a model directory as a new version in the MLflow Model Registry "
            "(needs the `mlflow` package; server from `--tracking-uri` or MLFLOW_TRACKING_URI)."
        ),
        arguments=(
            Argument("--model", "model directory (any files) to log and register", required=True),
            Argument("--model-group", "the registered model the version joins", required=True),
            Argument(
                "--model-version",
                "file for the new version's URI, a JSON string `models:/<group>/<n>`",
                required=True,
            ),
            Argument(
                "--approval",
                "pending, approved or rejected: the version's `approval_status` tag "
                "(approved also moves the `approved` alias to it)",
                default="pending",
            ),
            Argument("--metrics", "a JSON object of numbers (or a file holding one)"),
            Argument("--description", "the version's description"),
            Argument("--parent-model", "recorded as the `parent_model` tag"),
            Argument("--tag", "KEY=VALUE tag on the version", repeatable=True),
            Argument("--serving-image", "recorded as the `serving_image` tag"),
            Argument("--tracking-uri", "the MLflow server", default="$MLFLOW_TRACKING_URI"),
            Argument(
                "--experiment",
                "the run's experiment",
                default="$MLFLOW_EXPERIMENT_NAME, else the model group",
            ),
        ),
    ),
    "drift": ScriptContract(
        name="drift",
        file="drift.py",
        summary=(
            "Compare current data (a dataset, or logged prediction requests) with a baseline "
            "dataset per feature: PSI, Kolmogorov-Smirnov, Jensen-Shannon and chi-squared "
            "(needs pandas, numpy and scipy; see [the drift check](#the-drift-check))."
        ),
        arguments=(
            Argument(
                "--baseline", "baseline dataset: CSV (or Parquet) file or directory", required=True
            ),
            Argument("--current", "current dataset: CSV (or Parquet) file or directory"),
            Argument(
                "--current-log",
                "instead of --current: JSON Lines request logs, a file or directory",
                aliases=("--current_log",),
            ),
            Argument("--window", "with --current-log: keep the newest N logged rows"),
            Argument(
                "--metric",
                "psi, ks, jensen_shannon or chi_squared: what judges drift",
                default="psi",
            ),
            Argument(
                "--threshold",
                "drift above it (for chi_squared: a p-value below it)",
                default="psi 0.2, ks 0.1, jensen_shannon 0.1, chi_squared 0.05",
            ),
            Argument("--report", "directory for drift.json and drift.md"),
            Argument("--metrics", "JSON file (or directory) for the verdict's numbers"),
            Argument("--exclude", "comma-separated columns not to check (a label, an id)"),
            Argument("--bins", "quantile bins per numeric feature (2-100)", default="10"),
            Argument(
                "--max-rows",
                "rows per side beyond which a seeded sample is taken",
                aliases=("--max_rows",),
                default="200000",
            ),
            Argument(
                "--fail-on-drift",
                "exit 3 when drift is found (after writing the outputs)",
                aliases=("--fail_on_drift",),
            ),
        ),
        metrics_flag="--metrics",
        metric_keys=("drift", "drifted", "features_drifted"),
        metric_note="and `<metric>_<feature>` per feature the chosen metric judged",
    ),
    "ingest_sql": ScriptContract(
        name="ingest_sql",
        file="ingest_sql.py",
        summary="Run a SQL query (connection URL from the environment) and write a CSV.",
        arguments=(
            Argument("--query", "SQL, with :name parameters", required=True),
            Argument("--out", "output dataset directory (data.csv inside)", required=True),
            Argument("--param", "name=value for a :name parameter", repeatable=True),
            Argument(
                "--url-env",
                "environment variable holding the connection URL",
                default="PIPESPEC_DATABASE_URL",
            ),
        ),
    ),
}


def contract(script: str) -> ScriptContract | None:
    """The contract of a step's `script:` (`pipespec:<name>`), or None for other scripts."""
    if not script.startswith("pipespec:"):
        return None
    return CONTRACTS.get(script.removeprefix("pipespec:"))


# --- docs/catalog.md ----------------------------------------------------------------------

BEGIN = "<!-- contracts:begin (generated from pipespec/fill/catalog/contracts.py) -->"
END = "<!-- contracts:end -->"


def render_markdown() -> str:
    """The generated part of docs/catalog.md, between BEGIN and END."""
    out = [BEGIN, ""]
    for c in CONTRACTS.values():
        out += [f"### `pipespec:{c.name}` ({c.file})", "", c.summary, ""]
        out += ["| argument | required | default | what |", "|---|---|---|---|"]
        for a in c.arguments:
            spelled = " / ".join(f"`{s}`" for s in a.spellings)
            if a.repeatable:
                spelled += " (repeatable)"
            default = f"`{a.default}`" if a.default else ""
            out.append(f"| {spelled} | {'yes' if a.required else 'no'} | {default} | {a.help} |")
        out.append("")
        if c.accepts_extra:
            out += ["Other `--name value` pairs are taken as hyperparameters.", ""]
        out.append(f"Label column: {c.label}." if c.label else "Label column: none is read.")
        out.append("")
        if c.metric_keys:
            keys = ", ".join(f"`{k}`" for k in c.metric_keys)
            note = f" {c.metric_note}" if c.metric_note else ""
            out.append(f"Metric keys written to `{c.metrics_flag}`: {keys}{note}.")
        elif c.metrics_flag:
            out += [f"Metric keys written to `{c.metrics_flag}`, per task:", ""]
            out += ["| task | keys |", "|---|---|"]
            out += [f"| {task} | {', '.join(keys)} |" for task, keys in c.metrics.items()]
        else:
            out.append("Metrics: none written.")
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def doc_path() -> Path:
    return Path(__file__).resolve().parents[3] / "docs" / "catalog.md"


def write_doc(path: Path | None = None) -> None:
    """Replace the generated part of docs/catalog.md with `render_markdown()`."""
    path = path or doc_path()
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(head + render_markdown().rstrip("\n") + tail, encoding="utf-8")
