"""Read back what the standard scripts logged to an MLflow store, with the real mlflow, in
the `mlflow` conformance venv (never imported by pytest).

    python -m tests.conformance.mlflow_probe TRACKING_URI EXPERIMENT DATA_CSV [GROUP]

prints one JSON object: the experiment's runs (params, metrics, tags, and the predictions
of the run's logged model, loaded with mlflow.pyfunc.load_model, on the CSV's feature
columns), and, with GROUP, that registered model's versions (tags, source run, aliases)
and the predictions of `models:/GROUP@approved` when the alias exists.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


def _predict(mlflow: Any, uri: str, frame: Any) -> list[Any]:
    model = mlflow.pyfunc.load_model(uri)
    columns = [c["name"] for c in model.metadata.get_input_schema().to_dict()]
    out = model.predict(frame[columns])
    return [v.item() if hasattr(v, "item") else v for v in list(out)]


def _runs(mlflow: Any, client: Any, experiment: str, frame: Any) -> list[dict[str, Any]]:
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return []
    runs = []
    for run in client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"]):
        models = mlflow.search_logged_models(
            experiment_ids=[exp.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'",
            output_format="list",
        )
        runs.append(
            {
                "run_id": run.info.run_id,
                "status": run.info.status,
                "params": dict(run.data.params),
                "metrics": dict(run.data.metrics),
                "tags": {k: v for k, v in run.data.tags.items() if k.startswith("pipespec.")},
                "models": [
                    {
                        "uri": m.model_uri,
                        "flavors": sorted(mlflow.models.get_model_info(m.model_uri).flavors),
                        "predictions": _predict(mlflow, m.model_uri, frame),
                    }
                    for m in models
                ],
            }
        )
    return runs


def _registry(mlflow: Any, client: Any, group: str, frame: Any) -> dict[str, Any]:
    registered = client.get_registered_model(group)
    versions = client.search_model_versions(f"name = '{group}'")
    out: dict[str, Any] = {
        "aliases": dict(registered.aliases),
        "versions": [
            {
                "version": v.version,
                "run_id": v.run_id,
                "tags": dict(v.tags),
                "description": v.description,
                "predictions": _predict(mlflow, f"models:/{group}/{v.version}", frame),
            }
            for v in sorted(versions, key=lambda v: int(v.version))
        ],
    }
    return out


def main(argv: list[str]) -> int:
    # Imported by name: mlflow is in the conformance venv only, never the dev one.
    mlflow = importlib.import_module("mlflow")
    pd = importlib.import_module("pandas")
    uri, experiment, data = argv[:3]
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    frame = pd.read_csv(data).head(8)
    answer: dict[str, Any] = {"runs": _runs(mlflow, client, experiment, frame)}
    if len(argv) > 3:
        answer["registry"] = _registry(mlflow, client, argv[3], frame)
    print(json.dumps(answer, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
