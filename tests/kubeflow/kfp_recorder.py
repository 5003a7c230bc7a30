"""Run a generated schedule script against a recording stand-in for ``kfp.Client``.

For the kubeflow conformance venv's python (real ``kfp`` installed), never pipespec's own
environment; it imports nothing from pipespec::

    python -I -B kfp_recorder.py SCENARIO_JSON REPORT_JSON SCRIPT [SCRIPT ARGS...]

The script runs as ``__main__`` with ``kfp.Client`` replaced by ``Recorder``: every call is
bound to the real ``kfp.Client`` method's signature first (a call kfp would reject with a
TypeError fails here too), recorded with its arguments by name, and answered with a real
``kfp_server_api`` model. ``SCENARIO_JSON`` says what the server holds:
``{"pipeline_exists": bool, "existing_runs": int}``. The report is
``{"exit": code, "calls": [[method, {argument: value}], ...]}``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import runpy
import sys
from collections.abc import Callable
from typing import Any, ClassVar

kfp = importlib.import_module("kfp")
api = importlib.import_module("kfp_server_api")
REAL = kfp.Client

# Fixed ids the answers carry, so a test can follow them from call to call.
PIPELINE_ID = "pipeline-1"
NEW_PIPELINE_ID = "pipeline-new"
VERSION_ID = "version-2"
EXPERIMENT_ID = "experiment-1"
RUN_ID = "recurring-run-1"


def _answers(scenario: dict[str, Any]) -> dict[str, Callable[[dict[str, Any]], Any]]:
    existing = [
        api.V2beta1RecurringRun(recurring_run_id=f"old-{i}")
        for i in range(int(scenario.get("existing_runs", 0)))
    ]
    found = [api.V2beta1Pipeline(pipeline_id=PIPELINE_ID)] if scenario["pipeline_exists"] else None
    return {
        "__init__": lambda a: None,
        "list_pipelines": lambda a: api.V2beta1ListPipelinesResponse(pipelines=found),
        "upload_pipeline": lambda a: api.V2beta1Pipeline(pipeline_id=NEW_PIPELINE_ID),
        "upload_pipeline_version": lambda a: api.V2beta1PipelineVersion(
            pipeline_id=a["pipeline_id"], pipeline_version_id=VERSION_ID
        ),
        "create_experiment": lambda a: api.V2beta1Experiment(
            experiment_id=EXPERIMENT_ID, display_name=a["name"]
        ),
        "list_recurring_runs": lambda a: api.V2beta1ListRecurringRunsResponse(
            recurring_runs=existing or None
        ),
        "delete_recurring_run": lambda a: {},
        "create_recurring_run": lambda a: api.V2beta1RecurringRun(recurring_run_id=RUN_ID),
    }


class Recorder:
    calls: ClassVar[list[list[Any]]] = []
    answers: ClassVar[dict[str, Callable[[dict[str, Any]], Any]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._call("__init__", args, kwargs)

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        bound = inspect.signature(getattr(REAL, name)).bind(self, *args, **kwargs)
        arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
        Recorder.calls.append([name, arguments])
        if name not in Recorder.answers:
            raise AssertionError(f"the recorder has no answer for kfp.Client.{name}")
        return Recorder.answers[name](arguments)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if not callable(getattr(REAL, name, None)):
            raise AttributeError(f"kfp.Client has no method {name!r}")
        return lambda *args, **kwargs: self._call(name, args, kwargs)


def main(argv: list[str]) -> int:
    scenario_json, report_path, script, *script_args = argv
    Recorder.answers = _answers(json.loads(scenario_json))
    setattr(kfp, "Client", Recorder)  # noqa: B010 (the module is only known at run time)
    sys.argv = [script, *script_args]
    code: Any = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump({"exit": code, "calls": Recorder.calls}, out, default=repr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
