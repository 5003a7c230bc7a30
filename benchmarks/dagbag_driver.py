#!/usr/bin/env python
"""Time how Airflow 3's DAG processor parses one DAG file; prints one JSON object on stdout.

Standalone script for an *Airflow venv's* interpreter (run by ``bench_dagbag.py``); it imports
nothing from pipespec, and Airflow only through ``importlib`` (so mypy checks it without
Airflow installed).

Usage::

    python dagbag_driver.py DAG_FILE [--forks=R] [--inproc=K] [--preimport=MOD,MOD...]
                            [--profile] [--no-gc-collect]

What it does, mirroring ``airflow.dag_processing`` in Airflow 3.3:

1. imports ``airflow.dag_processing.processor`` (what the DAG processor manager has loaded)
   and runs its ``_pre_import_airflow_modules(DAG_FILE)``, as the manager does before it
   starts a parsing process (``DagFileProcessorProcess.start``; it imports the ``airflow.*``
   modules the file names); then imports the ``--preimport`` modules too (a manager that has
   already parsed other files using those operators has them loaded);
2. **R fork-per-parse samples, twice**: like the manager, forks a child per parse; the child runs
   the three steps of ``processor._parse_file``: ``check_dag_file_stability(file)`` (the
   AST-based "Dag version inflation" check), ``BundleDagBag(dag_folder=file, bundle_path=...,
   bundle_name=..., load_op_links=False)`` (the DagBag parse: executing the file) and
   ``_serialize_dags(bag, log)`` (``DagSerialization.to_dict`` with JSON-schema validation,
   wrapped in ``LazyDeserializedDAG``), timing each with ``perf_counter`` after an untimed
   ``gc.collect()`` (see ``parse_once``), and sends the timings back through a pipe. So
   each sample starts from the same warm parent state: Airflow
   and the file's ``airflow.*`` imports loaded, everything else (e.g. ``dagfactory``, the DAG
   module itself) imported by the child. First without bytecode (the file's ``__pycache__``
   entry is deleted before each fork and none is written: what the first parse after a change
   of the file costs), then with it (one untimed fork writes the ``.pyc``, as the processor's
   import system does by default; later parses of an unchanged file only unmarshal it);
3. **K in-process samples**: then the same three steps K times in this process (a new
   ``BundleDagBag`` each time, which re-executes the file); the first of them also pays for
   any non-``airflow`` import, the others are fully warm.

Output: ``{"airflow_version", "file", "file_bytes", "import_seconds", "pre_import_seconds",
"forks_nopyc": [{"check", "parse", "serialize", "total", "gen2", "wall", "dags", "tasks",
"import_errors", "serialize_errors"}...], "forks": [...], "inproc": [...no wall...],
"profile": null | {"profiled_seconds", "by_cumulative": [{"function", "path", "cumtime"}]}}``
(``--profile``: one more in-process parse under cProfile). Everything Airflow prints
goes to stderr (fd 1 is pointed at fd 2 while it runs).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

JsonDict = dict[str, Any]


def _setup_env(dag_file: Path) -> None:
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dag_file.parent)
    os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "600")
    os.environ.setdefault("AIRFLOW__SECRETS__BACKEND", "")
    # dag-factory: no usage telemetry (it would only be sent on DAG runs, never here).
    os.environ.setdefault("AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "1")


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


class _Parser:
    def __init__(self, dag_file: Path, gc_collect: bool = True) -> None:
        self.file = dag_file
        self.gc_collect = gc_collect
        self.processor = importlib.import_module("airflow.dag_processing.processor")
        structlog = importlib.import_module("structlog")
        self.log = structlog.get_logger(logger_name="bench")

    def pre_import(self, extra: list[str]) -> None:
        self.processor._pre_import_airflow_modules(str(self.file), self.log)
        for module in extra:
            importlib.import_module(module)

    def parse_once(self) -> JsonDict:
        """The three steps of ``processor._parse_file`` (no callbacks), timed.

        An untimed ``gc.collect()`` first: otherwise where the cyclic GC's full collections
        fall (in the check, the parse or the serialization: each costs ~0.1 s at N=1000)
        depends on the allocation counters inherited from the parent, which differ between
        variants for reasons unrelated to the file; the per-step split would then be an
        artifact (the sum is not affected much). ``gen2`` counts the full collections per step.
        """
        proc = self.processor
        if self.gc_collect:
            gc.collect()
        gen2 = [_full_collections()]
        started = time.perf_counter()
        proc.check_dag_file_stability(str(self.file))
        checked = time.perf_counter()
        gen2.append(_full_collections())
        bag = proc.BundleDagBag(
            dag_folder=str(self.file),
            bundle_path=self.file.parent,
            bundle_name="bench",
            load_op_links=False,
        )
        parsed = time.perf_counter()
        gen2.append(_full_collections())
        serialized, errors = proc._serialize_dags(bag, self.log)
        done = time.perf_counter()
        gen2.append(_full_collections())
        return {
            "gen2": {
                "check": gen2[1] - gen2[0],
                "parse": gen2[2] - gen2[1],
                "serialize": gen2[3] - gen2[2],
            },
            "check": checked - started,
            "parse": parsed - checked,
            "serialize": done - parsed,
            "total": done - started,
            "dags": len(bag.dags),
            "serialized_dags": len(serialized),
            "tasks": sum(len(dag.tasks) for dag in bag.dags.values()),
            "import_errors": {str(k): str(v)[-2000:] for k, v in bag.import_errors.items()},
            "serialize_errors": {str(k): str(v)[-2000:] for k, v in errors.items()},
        }

    def parse_in_child(self) -> JsonDict:
        read_fd, write_fd = os.pipe()
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child: parse, report, exit without running parent cleanup
            os.close(read_fd)
            try:
                child_report = self.parse_once()
            except BaseException:
                child_report = {"error": traceback.format_exc()}
            with os.fdopen(write_fd, "w", encoding="utf-8") as pipe:
                pipe.write(json.dumps(child_report))
            os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd, "r", encoding="utf-8") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        wall = time.perf_counter() - started
        if not payload:
            return {"error": f"child exited with status {status} and no report"}
        result: JsonDict = json.loads(payload)
        result["wall"] = wall
        return result


def _open_real_stdout() -> TextIO:
    sys.stdout.flush()
    real = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return real


def _profile_parse(parser: _Parser, top: int = 40) -> JsonDict:
    """cProfile one warm in-process ``BundleDagBag`` parse; top functions by cumulative time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    proc = parser.processor
    profiler.enable()
    proc.BundleDagBag(
        dag_folder=str(parser.file),
        bundle_path=parser.file.parent,
        bundle_name="bench",
        load_op_links=False,
    )
    profiler.disable()
    raw: dict[Any, Any] = getattr(pstats.Stats(profiler), "stats", {})
    entries = [
        {"function": f"{Path(file).name}:{line}({func})", "path": file, "cumtime": cum}
        for (file, line, func), (_cc, _nc, _tt, cum, _callers) in raw.items()
    ]
    total = sum(tt for (_cc, _nc, tt, _cum, _callers) in raw.values())
    entries.sort(key=lambda e: -float(e["cumtime"]))
    return {"profiled_seconds": total, "by_cumulative": entries[:top]}


def run(
    dag_file: Path,
    forks: int,
    inproc: int,
    preimport: list[str],
    profile_parse: bool = False,
    gc_collect: bool = True,
) -> JsonDict:
    _setup_env(dag_file)
    started = time.perf_counter()
    airflow = importlib.import_module("airflow")
    parser = _Parser(dag_file, gc_collect)
    imported = time.perf_counter()
    parser.pre_import(preimport)
    pre_imported = time.perf_counter()
    pyc = Path(importlib.util.cache_from_source(str(dag_file)))
    sys.dont_write_bytecode = True
    nopyc_samples = []
    for _ in range(forks):
        pyc.unlink(missing_ok=True)
        nopyc_samples.append(parser.parse_in_child())
    sys.dont_write_bytecode = False
    parser.parse_in_child()  # writes the .pyc (untimed warm-up)
    fork_samples = [parser.parse_in_child() for _ in range(forks)]
    inproc_samples = [parser.parse_once() for _ in range(inproc)]
    profile = _profile_parse(parser) if profile_parse else None
    return {
        "airflow_version": str(airflow.__version__),
        "file": str(dag_file),
        "file_bytes": dag_file.stat().st_size,
        "preimport": preimport,
        "gc_collect": gc_collect,
        "import_seconds": imported - started,
        "pre_import_seconds": pre_imported - imported,
        "pyc_written": pyc.is_file(),
        "forks_nopyc": nopyc_samples,
        "forks": fork_samples,
        "inproc": inproc_samples,
        "profile": profile,
    }


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    opts = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in argv if a.startswith("--") and "=" in a}
    if len(args) != 1:
        print(
            "usage: dagbag_driver.py DAG_FILE [--forks=R] [--inproc=K] [--preimport=M,...]",
            file=sys.stderr,
        )
        return 2
    dag_file = Path(args[0]).resolve()
    if not dag_file.is_file():
        print(f"not a file: {dag_file}", file=sys.stderr)
        return 2
    real_stdout = _open_real_stdout()
    try:
        report = run(
            dag_file,
            int(opts.get("--forks", "5")),
            int(opts.get("--inproc", "3")),
            [m for m in opts.get("--preimport", "").split(",") if m],
            "--profile" in argv,
            "--no-gc-collect" not in argv,
        )
    except Exception:
        traceback.print_exc()
        return 1
    real_stdout.write(json.dumps(report) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
