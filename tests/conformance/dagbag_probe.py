#!/usr/bin/env python
"""Load a DAG folder with Airflow's real ``DagBag`` and report what Airflow sees, as JSON.

Standalone script: it runs under the *conformance venv's* interpreter (Airflow 2.10 or 3.3
installed there), never inside pipespec's own environment, and imports nothing from pipespec.

Usage::

    python dagbag_probe.py DAG_FOLDER [--render]

It prints exactly one JSON object on stdout (everything Airflow or the DAG files print goes to
stderr)::

    {
      "airflow_version": "3.3.2",
      "import_errors": {"relative/file.py": "message"},
      "warnings": {"relative/file.py": "message"},          # Airflow 3 parse-stability warnings
      "dags": {
        "<dag_id>": {
          "tasks": [...], "edges": [[up, down], ...], "params": {name: default},
          "param_schemas": {name: json schema}, "schedule": "@daily" | null,
          "timetable": "CronTriggerTimetable", "catchup": false, "start_date": "...",
          "mapped_tasks": [...], "mapped_args": {task_id: [expanded argument names]},
          "operators": {task_id: class name}, "fileloc": "relative/file.py",
          "serialized": true, "serialize_error": null,
          "rendered": {task_id: {field: value}}          # only with --render
        }
      }
    }

``serialized`` is true when the DAG survives the round trip the DAG processor and scheduler do:

* Airflow 2: ``SerializedDAG.to_dict(dag)`` (validates against the serialized-DAG JSON schema),
  JSON text, ``SerializedDAG.from_dict(...)``.
* Airflow 3: ``DagSerialization.to_dict(dag)`` (validates against the JSON schema), wrapped in
  ``LazyDeserializedDAG`` exactly like ``dag_processing.processor._serialize_dags``; JSON text;
  ``DagSerialization.from_dict(...)`` (what the scheduler does when it reads
  ``SerializedDagModel``).

and the deserialized DAG has the same tasks, edges, mapped tasks and operator classes.

Environment: it sets ``AIRFLOW__CORE__LOAD_EXAMPLES=False``,
``AIRFLOW__CORE__UNIT_TEST_MODE=False`` (unit-test config changes defaults such as cron
timetables) and ``AIRFLOW__CORE__DAGS_FOLDER`` and, if ``AIRFLOW_HOME`` is unset, a throw-away
``AIRFLOW_HOME``. No metadata database is created or needed.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import itertools
import json
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

JsonDict = dict[str, Any]

# The loaded DAG files may import airflow.sdk etc; no pipespec import is allowed here.


def _setup_env(dag_folder: Path) -> Path | None:
    """Set Airflow's env before it is imported; return a temp AIRFLOW_HOME we own, if any."""
    owned_home: Path | None = None
    if not os.environ.get("AIRFLOW_HOME"):
        owned_home = Path(tempfile.mkdtemp(prefix="pipespec-airflow-home-"))
        os.environ["AIRFLOW_HOME"] = str(owned_home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    # Not unit-test mode: its config (e.g. create_cron_data_intervals=True) differs from production.
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dag_folder)
    os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "120")
    # Parsing must not reach a secrets backend (no DB is needed either: nothing opens one).
    os.environ.setdefault("AIRFLOW__SECRETS__BACKEND", "")
    return owned_home


def _jsonable(value: Any) -> Any:
    """Best-effort conversion to something ``json.dumps`` accepts, keeping structure."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    to_dict: Callable[[], Any] | None = getattr(value, "to_dict", None)
    if callable(to_dict):
        try:
            return _jsonable(to_dict())
        except Exception:
            return repr(value)
    return repr(value)


def _is_mapped(task: Any) -> bool:
    if getattr(task, "_is_mapped", False) is True:
        return True
    return any(
        cls.__name__ in {"MappedOperator", "SerializedMappedOperator"} for cls in type(task).__mro__
    )


def _operator_name(task: Any) -> str:
    name = getattr(task, "task_type", None)
    if isinstance(name, str) and name:
        return name
    return type(task).__name__


def _mapped_arg_names(task: Any) -> list[str]:
    expand_input = getattr(task, "expand_input", None)
    value = getattr(expand_input, "value", None)
    if isinstance(value, dict):
        return sorted(str(k) for k in value)
    return []


def _structure(dag: Any) -> JsonDict:
    """The parts of a DAG that must survive serialization unchanged."""
    tasks: list[Any] = list(dag.tasks)
    edges = sorted(
        [t.task_id, down] for t in tasks for down in getattr(t, "downstream_task_ids", ())
    )
    return {
        "tasks": sorted(t.task_id for t in tasks),
        "edges": edges,
        "mapped_tasks": sorted(t.task_id for t in tasks if _is_mapped(t)),
        "operators": {t.task_id: _operator_name(t) for t in sorted(tasks, key=lambda t: t.task_id)},
        # A TriggerRule is a str enum; its value is the name a spec writes.
        "trigger_rules": {
            t.task_id: str(getattr(t.trigger_rule, "value", t.trigger_rule)) for t in tasks
        },
    }


def _params(dag: Any) -> tuple[JsonDict, JsonDict]:
    params = getattr(dag, "params", None) or {}
    defaults: JsonDict = {}
    schemas: JsonDict = {}
    for name in sorted(params):
        get_param: Callable[[str], Any] | None = getattr(params, "get_param", None)
        param = get_param(name) if get_param is not None else params[name]
        if hasattr(param, "has_value"):
            defaults[name] = _jsonable(param.value) if param.has_value else None
            schemas[name] = _jsonable(getattr(param, "schema", {}))
        else:
            defaults[name] = _jsonable(param)
            schemas[name] = {}
    return defaults, schemas


def _schedule(dag: Any) -> str | None:
    # Airflow 3: DAG.schedule is the raw argument; Airflow 2: DAG.schedule_interval.
    raw = getattr(dag, "schedule", None) if hasattr(dag, "schedule") else None
    if raw is None and hasattr(dag, "schedule_interval"):
        raw = dag.schedule_interval
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    timetable = getattr(dag, "timetable", None)
    summary = getattr(timetable, "summary", None)
    if isinstance(summary, str):
        return None if type(timetable).__name__ == "NullTimetable" else summary
    return str(raw)


def _relative(path: str | None, folder: Path) -> str | None:
    if not path:
        return path
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    try:
        return str(p.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(p)


def _round_trip(dag: Any, major: int) -> Any:
    """Serialize like the DAG processor, deserialize like the scheduler; return the new DAG."""
    so = importlib.import_module("airflow.serialization.serialized_objects")
    if major >= 3:
        data = so.DagSerialization.to_dict(dag)  # validates the JSON schema
        lazy = so.LazyDeserializedDAG(data=json.loads(json.dumps(data)))
        # Touch what update_dag_parsing_results_in_db reads without a DB.
        _ = (lazy.dag_id, lazy.timetable, lazy.has_task_concurrency_limits, lazy.owner)
        return so.DagSerialization.from_dict(lazy.data)
    data = so.SerializedDAG.to_dict(dag)  # validates the JSON schema
    return so.SerializedDAG.from_dict(json.loads(json.dumps(data)))


_MAX_MAP_RENDER = 16


class _OfflineHook:
    """Stands in for KubernetesHook when building a pod spec without a cluster (Airflow 2)."""

    is_in_cluster = False

    @staticmethod
    def get_namespace() -> None:
        return None

    @staticmethod
    def get_xcom_sidecar_container_image() -> None:
        return None

    @staticmethod
    def get_xcom_sidecar_container_resources() -> None:
        return None


def _pod_spec(op: Any, context: JsonDict) -> Any:
    """The V1Pod a KubernetesPodOperator would submit, as a JSON-able dict (no cluster needed)."""
    build: Callable[..., Any] = op.build_pod_request_obj
    if "dry_run" in inspect.signature(build).parameters:
        pod = build(None, dry_run=True)
    else:  # provider < 10.2x: reads hook.is_in_cluster for a label, which needs a kube config
        op.__dict__["hook"] = _OfflineHook()
        pod = build(None)
    client = importlib.import_module("kubernetes.client")
    return client.ApiClient().sanitize_for_serialization(pod)


def _render_op(op: Any, context: JsonDict, env: Any) -> JsonDict:
    """Render a (non-mapped) operator in place through the real code path; report its fields."""
    fields: JsonDict = {}
    try:
        op.render_template_fields(context, env)
    except Exception as exc:  # e.g. an undefined variable under StrictUndefined
        return {"<error>": f"{type(exc).__name__}: {exc}"}
    for name in getattr(op, "template_fields", ()):
        fields[name] = _jsonable(getattr(op, name, None))
    if hasattr(op, "build_pod_request_obj"):
        try:
            fields["<pod>"] = _pod_spec(op, context)
        except Exception as exc:
            fields["<pod>"] = f"<error: {type(exc).__name__}: {exc}>"
    return fields


RUN_ID = "manual__2024-01-01T00:00:00+00:00"


class _FakeTaskInstance:
    """Enough of a TaskInstance for templates: ``{{ ti.xcom_pull(...) }}`` renders a marker."""

    def __init__(self, dag_id: str, task_id: str, map_index: int) -> None:
        self.dag_id = dag_id
        self.task_id = task_id
        self.map_index = map_index
        self.run_id = RUN_ID
        self.try_number = 1

    def xcom_pull(
        self, task_ids: Any = None, key: str = "return_value", map_indexes: Any = None, **_: Any
    ) -> Any:
        if map_indexes is not None and not isinstance(map_indexes, int):
            # Several map indexes: a list, one marker per index (as Airflow returns).
            return [_FakeXCom(f"<xcom {task_ids}:{key}:{i}>") for i in map_indexes]
        return _FakeXCom(f"<xcom {task_ids}:{key}>")


class _FakeXCom(str):
    """A marker for a pulled XCom that also answers `value['key']` with a marker."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return _FakeXCom(f"{self}[{key}]")
        return str.__getitem__(self, key)


class _FakeDagRun:
    def __init__(self, dag_id: str) -> None:
        self.dag_id = dag_id
        self.run_id = RUN_ID
        self.conf: JsonDict = {}
        self.logical_date = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def _context(dag: Any, task: Any, map_index: int) -> JsonDict:
    defaults, _ = _params(dag)
    ti = _FakeTaskInstance(dag.dag_id, task.task_id, map_index)
    logical_date = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return {
        "params": defaults,
        "ds": "2024-01-01",
        "ds_nodash": "20240101",
        "ts": logical_date.isoformat(),
        "logical_date": logical_date,
        "run_id": RUN_ID,
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "dag_run": _FakeDagRun(dag.dag_id),
        "map_index": map_index,
    }


def _kwargs_list(dag: Any, expand: Any) -> list[Any] | None:
    """The per-index kwargs of an ``expand_kwargs()`` input, or None for ``expand()``.

    A literal list of dicts is used as it is. An ``XComArg(...).map(fn)`` over the return
    value of a PythonOperator is resolved the way it would be at run time: the upstream
    callable runs with its ``op_kwargs`` and the fake context (pipespec's upstream is a tiny
    ``_param_items`` reading a param), then each ``fn`` is applied to every item.
    """
    if isinstance(expand, (list, tuple)) and all(isinstance(v, dict) for v in expand):
        return list(expand)
    arg = getattr(expand, "arg", None)
    callables = getattr(expand, "callables", None)
    upstream = getattr(arg, "operator", None)
    func = getattr(upstream, "python_callable", None)
    if arg is None or callables is None or func is None:
        return None
    items = func(**dict(getattr(upstream, "op_kwargs", {}) or {}), **_context(dag, upstream, -1))
    out = []
    for item in items:
        value = item
        for fn in callables:
            value = fn(value)
        out.append(value)
    return out


def _no_storage() -> None:
    """The probe has no artifact storage and no run: every artifact path "exists", so a
    one_of macro (which checks which branch wrote its artifact) renders its first source."""

    class _AnyPath(str):
        # No storage provider either (Airflow 2 refuses s3:// without the amazon one).
        def exists(self) -> bool:
            return True

    for module in ("airflow.sdk", "airflow.io.path"):
        try:
            imported = importlib.import_module(module)
        except ImportError:
            continue
        imported.ObjectStoragePath = _AnyPath  # type: ignore[attr-defined]


def _render(dag: Any) -> JsonDict:
    """Render every task's template fields with a fake, DB-free context.

    The context has ``params`` (defaults), ``ds``, ``ts``, ``logical_date`` (2024-01-01),
    ``run_id``, ``dag``, ``task``, ``dag_run`` (empty ``conf``) and a fake ``ti`` whose
    ``xcom_pull`` returns ``"<xcom TASK_IDS:KEY>"`` and whose ``map_index`` is the map index
    (-1 when not mapped). Other context keys are undefined (Airflow's StrictUndefined raises).

    Non-mapped task: ``{field: rendered value, "<pod>": pod spec (KPO only)}`` via the real
    ``task.render_template_fields``. Mapped task with literal ``expand`` lists: a list of such
    dicts, one per map index (capped), from ``task.unmap(kwargs)`` like Airflow does at run
    time (literal expand values are rendered, XCom-fed ones would not be). A failure is
    reported as ``{"<error>": "..."}``. Rendering happens after the serialization check, in
    place, on the already-loaded DAG.
    """
    env = dag.get_template_env()
    _no_storage()
    out: JsonDict = {}
    for task in sorted(dag.tasks, key=lambda t: t.task_id):
        if not _is_mapped(task):
            out[task.task_id] = _render_op(task, _context(dag, task, -1), env)
            continue
        expand = getattr(getattr(task, "expand_input", None), "value", None)
        kwargs_list = _kwargs_list(dag, expand)
        if kwargs_list is not None:
            per_kwargs: list[JsonDict] = []
            for index, kwargs in enumerate(kwargs_list[:_MAX_MAP_RENDER]):
                try:
                    op = task.unmap(dict(kwargs))
                except Exception as exc:
                    per_kwargs.append({"<error>": f"unmap: {type(exc).__name__}: {exc}"})
                    continue
                per_kwargs.append(_render_op(op, _context(dag, op, index), env))
            out[task.task_id] = per_kwargs
            continue
        if not isinstance(expand, dict) or not all(
            isinstance(v, (list, tuple)) for v in expand.values()
        ):
            out[task.task_id] = {"<error>": "expand input is not literal lists; not rendered"}
            continue
        keys = list(expand)
        per_index: list[JsonDict] = []
        combos = itertools.product(*(expand[k] for k in keys))
        for index, combo in enumerate(itertools.islice(combos, _MAX_MAP_RENDER)):
            try:
                op = task.unmap(dict(zip(keys, combo, strict=True)))
            except Exception as exc:
                per_index.append({"<error>": f"unmap: {type(exc).__name__}: {exc}"})
                continue
            per_index.append(_render_op(op, _context(dag, op, index), env))
        out[task.task_id] = per_index
    return out


def _stability_warnings(folder: Path, files: Iterable[str]) -> JsonDict:
    try:
        checker = importlib.import_module("airflow.utils.dag_version_inflation_checker")
    except ImportError:
        return {}
    found: JsonDict = {}
    for file in files:
        result = checker.check_dag_file_stability(file)
        text = result.format_warnings()
        if text:
            found[_relative(file, folder) or file] = text
    return found


def _load_dagbag(folder: Path, major: int) -> Any:
    dagbag_cls: Any = None
    kwargs: JsonDict = {}
    if major >= 3:
        mod = importlib.import_module("airflow.dag_processing.dagbag")
        # What the Airflow 3 DAG processor instantiates (processor._parse_file).
        dagbag_cls = getattr(mod, "BundleDagBag", None) or mod.DagBag
        if dagbag_cls is not mod.DagBag:
            kwargs.update(bundle_path=folder, bundle_name="pipespec-probe")
    else:
        dagbag_cls = importlib.import_module("airflow.models.dagbag").DagBag
    params = inspect.signature(dagbag_cls.__init__).parameters
    if "include_examples" in params:
        kwargs["include_examples"] = False
    if "load_op_links" in params:
        kwargs["load_op_links"] = False
    return dagbag_cls(dag_folder=str(folder), **kwargs)


def probe(folder: Path, *, render: bool = False) -> JsonDict:
    airflow = importlib.import_module("airflow")
    version = str(airflow.__version__)
    major = int(version.split(".", 1)[0])
    dagbag = _load_dagbag(folder, major)

    import_errors = {
        _relative(str(path), folder) or str(path): str(msg)
        for path, msg in sorted(dagbag.import_errors.items())
    }
    py_files = sorted(str(p) for p in folder.rglob("*.py"))
    dags: JsonDict = {}
    for dag_id in sorted(dagbag.dags):
        dag = dagbag.dags[dag_id]
        params, schemas = _params(dag)
        info: JsonDict = dict(_structure(dag))
        mapped_args = {t.task_id: _mapped_arg_names(t) for t in dag.tasks if _is_mapped(t)}
        info.update(
            params=params,
            param_schemas=schemas,
            schedule=_schedule(dag),
            timetable=type(getattr(dag, "timetable", None)).__name__,
            catchup=getattr(dag, "catchup", None),
            start_date=_jsonable(getattr(dag, "start_date", None)),
            mapped_args=dict(sorted(mapped_args.items())),
            fileloc=_relative(getattr(dag, "fileloc", None), folder),
        )
        try:
            restored = _round_trip(dag, major)
            before, after = _structure(dag), _structure(restored)
            diff = sorted(k for k in before if before[k] != after[k])
            if diff:
                info["serialized"] = False
                info["serialize_error"] = "round trip changed " + ", ".join(
                    f"{k}: {before[k]!r} -> {after[k]!r}" for k in diff
                )
            else:
                info["serialized"] = True
                info["serialize_error"] = None
        except Exception:
            info["serialized"] = False
            info["serialize_error"] = traceback.format_exc(limit=-8)
        if render:
            try:
                info["rendered"] = _render(dag)
            except Exception:
                info["rendered"] = {"<error>": traceback.format_exc(limit=-8)}
        dags[dag_id] = info

    return {
        "airflow_version": version,
        "import_errors": import_errors,
        "warnings": _stability_warnings(folder, py_files) if major >= 3 else {},
        "dags": dags,
    }


def _open_real_stdout() -> TextIO:
    """Keep the real stdout for the JSON; point fd 1 (and sys.stdout) at stderr."""
    sys.stdout.flush()
    real = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return real


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    render = "--render" in argv
    if len(args) != 1:
        print("usage: dagbag_probe.py DAG_FOLDER [--render]", file=sys.stderr)
        return 2
    folder = Path(args[0]).resolve()
    if not folder.is_dir():
        print(f"not a directory: {folder}", file=sys.stderr)
        return 2
    real_stdout = _open_real_stdout()
    owned_home = _setup_env(folder)
    try:
        result = probe(folder, render=render)
        real_stdout.write(json.dumps(result, sort_keys=True, default=repr))
        real_stdout.write("\n")
        real_stdout.flush()
    finally:
        if owned_home is not None:
            shutil.rmtree(owned_home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
