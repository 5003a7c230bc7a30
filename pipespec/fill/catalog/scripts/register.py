#!/usr/bin/env python3
"""pipespec standard script: register a model as a new version in the MLflow Model Registry.

Runs inside the step's container and imports nothing from pipespec: it needs the `mlflow`
package (mlflow-skinny is enough) and a tracking server that has a model registry.

    register.py --model PATH --model-group NAME --model-version PATH
        [--approval pending|approved|rejected] [--metrics JSON_OR_PATH]
        [--description TEXT] [--parent-model NAME] [--tag KEY=VALUE ...]
        [--serving-image IMAGE] [--tracking-uri URI] [--experiment NAME]

--model is a model directory (any files: the standard train script's, or your own). When
the standard train script logged it to MLflow on this same server (its pipespec-model.json
records the run and the logged model), that logged model, in its framework's MLflow flavor,
becomes the new version, linked to the training run. Otherwise the directory is logged as
the artifacts of a new run in --experiment, and that run's `model` folder becomes the new
version. Either way the version joins the registered model --model-group (created when
it does not exist).

MLflow has no approval status: --approval becomes the version's `approval_status` tag, and
an approved version also gets the registered model's `approved` alias (aliases replaced
the deprecated stages; `models:/<group>@approved` loads the latest approved version).
--metrics (a JSON object of numbers, or a file holding one) is logged on the run and as
`metric.<name>` tags on the version; --tag adds tags; --parent-model and --serving-image
are recorded as the `parent_model` and `serving_image` tags. --model-version receives
the new version's URI as a JSON string, `"models:/<group>/<version>"`.

The tracking server is --tracking-uri, else the MLFLOW_TRACKING_URI environment variable;
the experiment --experiment, else MLFLOW_EXPERIMENT_NAME, else the model group's name.

Exit codes: 0 success; 2 a usage or data error, explained on stderr; 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APPROVALS = ("pending", "approved", "rejected")
APPROVED_ALIAS = "approved"
META_FILE = "pipespec-model.json"


class UsageError(Exception):
    """A problem with the arguments or the data: reported on stderr with exit code 2."""


@dataclass
class Plan:
    """Everything the registry call needs, assembled (and checked) before any network."""

    model_dir: str
    model_group: str
    experiment: str
    tracking_uri: str | None
    description: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    approved: bool = False
    # The model train.py logged to MLflow on this server, and its run: registered as is.
    logged_model: str | None = None
    run_id: str | None = None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Register a model version with pipespec's standard script.",
        allow_abbrev=False,
    )
    parser.add_argument("--model", required=True)
    parser.add_argument("--model-group", required=True)
    parser.add_argument("--model-version", required=True)
    parser.add_argument("--approval", default="pending", choices=APPROVALS)
    parser.add_argument("--metrics")
    parser.add_argument("--description")
    parser.add_argument("--parent-model")
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--serving-image")
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    parser.add_argument("--experiment", default=os.environ.get("MLFLOW_EXPERIMENT_NAME"))
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed why; keep the documented exit code
        raise UsageError("bad arguments (see above)") from exc


def read_metrics(value: str | None) -> dict[str, float]:
    """A JSON object of numbers, given inline or as a file; other values are skipped."""
    if not value:
        return {}
    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"--metrics: {value} is neither a JSON object nor a file ({exc})"
            ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--metrics is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError("--metrics must be a JSON object of metric names to numbers")
    return {
        str(k): float(v)
        for k, v in data.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


def build_plan(args: argparse.Namespace) -> Plan:
    if not Path(args.model).is_dir():
        raise UsageError(f"--model: {args.model} is not a directory")
    tags = {"approval_status": args.approval}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {item!r} is not KEY=VALUE")
        tags[key] = value
    if args.parent_model:
        tags["parent_model"] = args.parent_model
    if args.serving_image:
        tags["serving_image"] = args.serving_image
    metrics = read_metrics(args.metrics)
    tags.update({f"metric.{k}": repr(v) for k, v in metrics.items()})
    logged = logged_by_train(Path(args.model), args.tracking_uri)
    return Plan(
        model_dir=args.model,
        model_group=args.model_group,
        experiment=args.experiment or args.model_group,
        tracking_uri=args.tracking_uri,
        description=args.description,
        metrics=metrics,
        tags=tags,
        approved=args.approval == "approved",
        logged_model=logged[0] if logged else None,
        run_id=logged[1] if logged else None,
    )


def logged_by_train(model_dir: Path, tracking_uri: str | None) -> tuple[str, str] | None:
    """(model URI, run id) when train.py logged this model to the same tracking server."""
    try:
        meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not the standard script's model: its files are logged as they are
    record = meta.get("mlflow") if isinstance(meta, dict) else None
    if not isinstance(record, dict) or not tracking_uri:
        return None
    if record.get("tracking_uri") != tracking_uri:
        return None
    uri, run_id = record.get("model_uri"), record.get("run_id")
    if not (isinstance(uri, str) and isinstance(run_id, str)):
        return None
    return uri, run_id


def register_with_mlflow(plan: Plan) -> str:
    """Register the model as a new version; returns models:/<group>/<n>."""
    try:
        tracking = importlib.import_module("mlflow.tracking")
        errors = importlib.import_module("mlflow.exceptions")
    except ImportError:
        raise UsageError(
            "registering needs the mlflow package (pip install mlflow-skinny), which this "
            "container does not have; give the step an image with it"
        ) from None
    client: Any = tracking.MlflowClient(tracking_uri=plan.tracking_uri)
    if plan.logged_model is not None:
        version = register_logged(plan, client)
    else:
        version = register_directory(plan, client, errors)
    if plan.approved:
        client.set_registered_model_alias(plan.model_group, APPROVED_ALIAS, version)
    return f"models:/{plan.model_group}/{version}"


def register_logged(plan: Plan, client: Any) -> str:
    """The model train.py logged becomes the version (mlflow.register_model resolves a
    logged model's URI, as mlflow 3 writes it, or a runs:/ one, as mlflow 2 does)."""
    mlflow = importlib.import_module("mlflow")
    mlflow.set_tracking_uri(plan.tracking_uri)
    for name, value in plan.metrics.items():
        client.log_metric(plan.run_id, name, value)
    found = mlflow.register_model(plan.logged_model, plan.model_group, tags=plan.tags)
    if plan.description:
        client.update_model_version(plan.model_group, found.version, plan.description)
    return str(found.version)


def register_directory(plan: Plan, client: Any, errors: Any) -> str:
    """Log the directory as a new run's artifacts and register its `model` folder."""
    experiment = client.get_experiment_by_name(plan.experiment)
    exp_id = experiment.experiment_id if experiment else client.create_experiment(plan.experiment)
    run = client.create_run(exp_id, tags={"pipespec.model_group": plan.model_group})
    run_id = run.info.run_id
    client.log_artifacts(run_id, plan.model_dir, "model")
    for name, value in plan.metrics.items():
        client.log_metric(run_id, name, value)
    client.set_terminated(run_id)
    try:
        client.create_registered_model(plan.model_group)
    except errors.MlflowException as exc:
        if getattr(exc, "error_code", None) != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(
        plan.model_group,
        f"{run.info.artifact_uri}/model",
        run_id=run_id,
        tags=plan.tags,
        description=plan.description,
    )
    return str(version.version)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        plan = build_plan(args)
        uri = register_with_mlflow(plan)
        out = Path(args.model_version)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(uri), encoding="utf-8")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"[pipespec] registered {uri} ({plan.tags['approval_status']})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
