"""The interfaces and launcher containers of the Google Cloud Pipeline Components pipespec's
Vertex backend emits, as the pinned GCPC compiles them: package data for the backend.

Runs in the ``kfp`` conformance venv (google-cloud-pipeline-components 2.22.0, kfp 2.17.0;
``locks/kfp.txt``), never in pipespec's environment::

    python tests/conformance/gcpc_snapshot.py pipespec/backends/vertex/gcpc_components.json
    python -m tests.conformance.gcpc_snapshot -     # the same bytes on stdout

Each component is compiled alone with ``kfp.compiler.Compiler`` (a one-task pipeline whose
only component and executor are the component's own) and the snapshot keeps the component's
``inputDefinitions`` / ``outputDefinitions`` and the executor's ``container`` exactly as
compiled. ``test_gcpc_snapshot.py`` regenerates it and compares bytes, so the committed file
cannot drift from the pinned GCPC. ``vertex_probe.py`` uses :func:`compiled` too, so the probe
and the backend's data come from the same compilation.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Json = dict[str, Any]

# Component -> the GCPC module that exports it (the ones pipespec's Vertex backend emits).
COMPONENTS = {
    "CustomTrainingJobOp": "google_cloud_pipeline_components.v1.custom_job",
    "HyperparameterTuningJobRunOp": "google_cloud_pipeline_components.v1.hyperparameter_tuning_job",
    "ModelUploadOp": "google_cloud_pipeline_components.v1.model",
    "EndpointCreateOp": "google_cloud_pipeline_components.v1.endpoint",
    "ModelDeployOp": "google_cloud_pipeline_components.v1.endpoint",
    "ModelBatchPredictOp": "google_cloud_pipeline_components.v1.batch_predict_job",
}


def compiled(name: str, module: str) -> Json:
    """The component's interface and launcher container, from kfp's compilation of it alone."""
    compiler = importlib.import_module("kfp.compiler")
    yaml = importlib.import_module("yaml")
    component = getattr(importlib.import_module(module), name)
    with tempfile.TemporaryDirectory(prefix="pipespec-gcpc-") as tmp:
        path = Path(tmp) / f"{name}.yaml"
        compiler.Compiler().compile(component, str(path))
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    (comp,) = spec["components"].values()
    executor = spec["deploymentSpec"]["executors"][comp["executorLabel"]]
    return {
        "module": module,
        "inputDefinitions": comp.get("inputDefinitions", {}),
        "outputDefinitions": comp.get("outputDefinitions", {}),
        "container": executor["container"],
    }


def snapshot() -> Json:
    return {
        "gcpc_version": importlib.metadata.version("google-cloud-pipeline-components"),
        "kfp_version": importlib.metadata.version("kfp"),
        "components": {name: compiled(name, module) for name, module in COMPONENTS.items()},
    }


def render(data: Json) -> str:
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python gcpc_snapshot.py OUT.json|-\n")
        return 2
    with contextlib.redirect_stdout(sys.stderr):  # only the snapshot goes to stdout
        text = render(snapshot())
    if argv[0] == "-":
        sys.stdout.write(text)
    else:
        Path(argv[0]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
