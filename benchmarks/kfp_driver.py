"""Standalone: runs in a kfp venv's python and times kfp's DSL build + compile of one program.

It imports nothing from pipespec, and kfp and PyYAML only through ``importlib`` (so mypy
checks it without them). ``benchmarks/bench_kfp.py`` writes the
programs (``benchmarks/kfp_program.py``: ``<name>.components.py`` and ``<name>.pipeline.py``)
and runs this once per N, in a new process each time, with a timeout.

One process: ``import kfp`` (and ``--imports``, the program's libraries: timed once, reported
apart), then one untimed warm-up run of
the ``--warmup`` program (a small one: kfp's lazily imported code and caches are ready after
it, as pipespec's are after its warm-up), then ``--repeats`` timed runs of ``--program``,
each in fresh modules after an untimed ``gc.collect()`` (no repeat is started once
``--budget`` seconds have gone by, so a slow N gets fewer samples):

* ``components``: executing the components part (every ``@dsl.container_component``
  decoration builds its ComponentSpec);
* ``trace``: executing the pipeline part (the ``@dsl.pipeline`` decoration calls the pipeline
  function: every task, ``dsl.If``, ``dsl.ParallelFor``, ``.after`` and setter is traced
  into the GraphComponent);
* ``compile``: ``compiler.Compiler().compile(pipeline, path)``: PipelineSpec (and the
  kfp-kubernetes PlatformSpec), YAML written to ``path``.

The Python source is compiled to code objects once, untimed (like an imported module's
``.pyc``); ``bytecode_s`` reports that cost. ``--no-gc`` pauses the cyclic garbage collector
during each timed run (a control: pipespec's ``build()`` does that for its own compile).

``--profile`` adds a cProfile of one more run (top functions by own time and cumulative).

``--summary`` files (IR YAML, kfp's or pipespec's) are read back and reduced to their
container tasks and the container tasks each one waits for, for the equivalence check.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import io
import json
import pstats
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

PARTS = ("components", "trace", "compile", "total")


MODULES = ("bench_kfp_components", "bench_kfp_pipeline")


def _fresh_module(name: str, code: Any) -> types.ModuleType:
    """An empty module for one part of the program, in ``sys.modules`` with its ``__file__``,
    as when a user runs or imports their pipeline file. That matters: kfp's task setters call
    ``inspect.stack()``, whose ``inspect.getmodule`` finds a frame's module through its file
    and scans every loaded module each time that file belongs to none (a plain ``exec`` into
    a dict made tracing several times slower than ``python pipeline.py``)."""
    module = types.ModuleType(name)
    module.__file__ = code.co_filename
    sys.modules[name] = module
    return module


def _code(path: Path) -> Any:
    # dont_inherit: not this module's ``from __future__ import annotations`` (kfp reads the
    # component functions' annotations as objects, not strings)
    return compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)


def _programs(stem: Path) -> tuple[Path, Path]:
    return stem.with_name(stem.name + ".components.py"), stem.with_name(stem.name + ".pipeline.py")


def run_once(codes: tuple[Any, Any], out: Path, no_gc: bool) -> dict[str, float]:
    compiler = importlib.import_module("kfp.compiler")
    gc.collect()
    paused = no_gc and gc.isenabled()
    if paused:
        gc.disable()
    try:
        parts = [_fresh_module(name, code) for name, code in zip(MODULES, codes, strict=True)]
        t0 = time.perf_counter()
        exec(codes[0], parts[0].__dict__)
        t1 = time.perf_counter()
        # the pipeline part sees the components as if it were the rest of the same file
        parts[1].__dict__.update({k: v for k, v in vars(parts[0]).items() if k[0] != "_"})
        exec(codes[1], parts[1].__dict__)
        t2 = time.perf_counter()
        pipeline = parts[1].__dict__["pipeline"]
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(out))
        t3 = time.perf_counter()
    finally:
        if paused:
            gc.enable()
        for name in MODULES:
            sys.modules.pop(name, None)
    return {"components": t1 - t0, "trace": t2 - t1, "compile": t3 - t2, "total": t3 - t0}


def _load_yaml(path: Path) -> list[Any]:
    yaml = importlib.import_module("yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as f:
        return [d for d in yaml.load_all(f, Loader=loader) if d is not None]


def summarize(path: Path) -> dict[str, Any]:
    """Container tasks -> the container tasks they wait for (their own ``dependentTasks``
    and those of every group around them, groups replaced by the containers inside), and
    counts of components, executors, condition and loop groups."""
    docs = _load_yaml(path)
    spec = docs[0]
    components = spec["components"]
    containers: dict[str, set[str]] = {}  # task -> upstream names (tasks or groups)
    inside: dict[str, set[str]] = {}  # group task name -> container tasks inside it
    groups = {"condition": 0, "loop": 0}
    shown: dict[str, str] = {}  # task key -> its display name (taskInfo.name)

    def walk(dag: dict[str, Any], around: set[str]) -> set[str]:
        found: set[str] = set()
        for name, task in dag.get("tasks", {}).items():
            shown[name] = task.get("taskInfo", {}).get("name", name)
            deps = set(task.get("dependentTasks", [])) | around
            ref = components[task["componentRef"]["name"]]
            if "dag" in ref:
                if "parameterIterator" in task:
                    groups["loop"] += 1
                elif "triggerPolicy" in task:
                    groups["condition"] += 1
                inner = walk(ref["dag"], deps)
                inside[name] = inner
                found |= inner
            else:
                containers[name] = deps
                found.add(name)
        return found

    walk(spec["root"]["dag"], set())

    def expand(names: set[str]) -> set[str]:
        out: set[str] = set()
        for n in names:
            out |= inside.get(n, {n})
        return out

    # By display name: kfp keys GCPC tasks by component (model-upload-2, ...), and a program
    # names them as pipespec does with set_display_name; both default to the key.
    edges = {
        shown[task]: sorted({shown[d] for d in expand(deps) - {task}})
        for task, deps in containers.items()
    }
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    return {
        "tasks": sorted(shown[t] for t in containers),
        "edges": edges,
        "components": len(components),
        "executors": len(executors),
        "conditions": groups["condition"],
        "loops": groups["loop"],
        "bytes": path.stat().st_size,
        "documents": len(docs),
    }


def time_program(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    t0 = time.perf_counter()
    for module in args.imports:  # the programs'
        importlib.import_module(module)
    result["import_s"] = time.perf_counter() - t0
    result["kfp_version"] = importlib.import_module("kfp").__version__
    if args.warmup is not None:
        small = _programs(args.warmup)
        run_once((_code(small[0]), _code(small[1])), args.out, args.no_gc)
    paths = _programs(args.program)
    t0 = time.perf_counter()
    codes = (_code(paths[0]), _code(paths[1]))
    result["bytecode_s"] = time.perf_counter() - t0
    samples: list[dict[str, float]] = []
    started = time.perf_counter()
    while len(samples) < args.repeats:
        samples.append(run_once(codes, args.out, args.no_gc))
        if args.budget is not None and time.perf_counter() - started >= args.budget:
            break  # enough time spent at this N: fewer samples, said in the output
    result["samples"] = samples
    result["median"] = {k: statistics.median(s[k] for s in samples) for k in PARTS}
    result["ir_bytes"] = args.out.stat().st_size
    result["no_gc"] = args.no_gc
    if args.profile:
        result["profile"] = profile_once(codes, args.out)
    return result


def profile_once(codes: tuple[Any, Any], out: Path, top: int = 10) -> dict[str, Any]:
    """cProfile one more run: the top functions by own time, and the calls and cumulative
    time of every function (so the report can name where the time goes)."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_once(codes, out, no_gc=False)
    profiler.disable()
    raw: dict[Any, Any] = getattr(pstats.Stats(profiler, stream=io.StringIO()), "stats", {})
    entries = [
        {
            "function": f"{_short(filename)}:{line}({func})",
            "ncalls": ncalls,
            "tottime": tottime,
            "cumtime": cumtime,
        }
        for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items()
    ]
    return {
        "profiled_s": sum(e["tottime"] for e in entries),
        "by_own_time": sorted(entries, key=lambda e: -e["tottime"])[:top],
        "by_cumulative": sorted(entries, key=lambda e: -e["cumtime"])[: top * 6],
    }


def _short(filename: str) -> str:
    """The path inside site-packages, or the stdlib module's file name."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if "/lib/python3" in filename:
        return filename.split("/lib/python3", 1)[1].split("/", 1)[1]
    return Path(filename).name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time kfp DSL build + compile of one program")
    parser.add_argument("--program", type=Path, help="stem: STEM.components.py, STEM.pipeline.py")
    parser.add_argument("--warmup", type=Path, help="stem of a small program for the warm-up")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, help="where the compiled YAML goes")
    parser.add_argument(
        "--budget", type=float, default=None, help="no further repeat after this many seconds"
    )
    parser.add_argument("--no-gc", action="store_true")
    parser.add_argument(
        "--imports",
        nargs="+",
        default=["kfp", "kfp.dsl", "kfp.compiler", "kfp.kubernetes"],
        help="the modules the programs import (timed once, before the runs)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one more run")
    parser.add_argument("--summary", type=Path, nargs="*", default=[])
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"python": sys.version.split()[0]}
    if args.program is not None:
        result.update(time_program(args))
    result["summaries"] = {str(p): summarize(p) for p in args.summary}
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
