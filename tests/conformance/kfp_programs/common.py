"""What the DSL programs share: pipespec's fixed helper programs (drawing a tune step's
trials, picking the best trial, failing a run, applying a KServe InferenceService), the
scripts steps ship inline, and the two shell wrappers pipespec runs them with.

The helper programs are pipespec's own constants, not a mapping choice, so they are read
from ``pipespec/backends/kfp_ir/helpers.py``, ``pipespec/backends/trials.py`` and
``pipespec/backends/serving_k8s/`` (read, not imported: pipespec is not installed in the
kfp venv) rather than copied; the scripts are the files the examples pin
(``examples/*/scripts``) and the catalog's standard scripts.
"""

import ast
import hashlib
import json
import runpy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
HELPER_IMAGE = "python:3.11-slim"

# A script ships inline, as the argument after `sh -c RUNNER` ($0); its args follow.
SCRIPT_RUNNER = (
    'program_path=$(mktemp -d) && printf "%s" "$0" > "$program_path/step.py" && '
    'exec python3 "$program_path/step.py" "$@"'
)
# KFP fills placeholders in command and args only: an env value that names an input
# travels as a NAME=value argument up to `--`, exported before the step's own argv.
ENV_RUNNER = 'while [ "$1" != "--" ]; do export "$1"; shift; done; shift; exec "$@"'


def _constants(*parts: str) -> dict[str, str]:
    """The module-level string constants of ``pipespec/backends/<parts>``."""
    path = ROOT.joinpath("pipespec", "backends", *parts)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


_CONSTANTS = _constants("kfp_ir", "helpers.py")
# The trial sampler is shared with Airflow's DAG files: pipespec/backends/trials.py, a
# module that imports nothing, run here where pipespec is not installed.
TRIALS_PROGRAM = str(
    runpy.run_path(str(ROOT / "pipespec" / "backends" / "trials.py"))["TRIALS_PROGRAM"]
)
BEST_PROGRAM = _CONSTANTS["BEST_PROGRAM"]
FAIL_PROGRAM = _CONSTANTS["FAIL_PROGRAM"]
# A deploy with no command of its own: pipespec's applier applies the serving resource
# (JSON in PIPESPEC_MANIFEST, the model's URI where the marker stands) and waits for it.
APPLIER_PROGRAM = _constants("serving_k8s", "applier.py")["APPLIER_PROGRAM"]
MODEL_URI_MARKER = _constants("serving_k8s", "common.py")["MODEL_URI_MARKER"]


def example_script(example: str, name: str) -> str:
    """A script an example pins beside its spec (``examples/<example>/scripts/<name>``)."""
    return (ROOT / "examples" / example / "scripts" / name).read_text(encoding="utf-8")


def standard_script(name: str) -> str:
    """One of the catalog's standard scripts (``pipespec:<name>``)."""
    path = ROOT / "pipespec" / "fill" / "catalog" / "scripts" / f"{name}.py"
    return path.read_text(encoding="utf-8")


def trials_env(pipeline: str, step: str, space: dict[str, Any], trials: int) -> dict[str, str]:
    """The trials helper's env: the search space, how many, and the seed every run (and
    Airflow's `<step>.trials`) draws the same trials with."""
    seed = int(hashlib.sha256(f"{pipeline}/{step}".encode()).hexdigest()[:8], 16)
    return {
        "PIPESPEC_SEARCH_SPACE": json.dumps(space, sort_keys=True),
        "PIPESPEC_TRIALS": str(trials),
        "PIPESPEC_SEED": str(seed),
    }


def inference_service(step: str, name: str, predictor: dict[str, Any]) -> dict[str, str]:
    """The deploy task's env: the KServe InferenceService the applier applies, labelled
    and annotated as pipespec's own (which step it serves)."""
    resource = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "pipespec"},
            "annotations": {"pipespec.dev/step": step},
        },
        "spec": {"predictor": predictor},
    }
    return {"PIPESPEC_MANIFEST": json.dumps(resource)}


def set_env(task: Any, env: dict[str, str]) -> Any:
    for name, value in env.items():
        task.set_env_variable(name, value)
    return task
