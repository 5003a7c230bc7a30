"""pipespec's SageMaker compile against the sagemaker SDK's ``Pipeline.definition()`` of the
same pipeline.

For each N (default 100, 1000, 10000), in the same run:

* **pipespec**, in process: ``pipespec.api.build([spec], ["sagemaker"], None)`` on the plain
  benchmark spec with a SageMaker target (``sagemaker_program.write_spec``), what ``pipespec
  compile SPEC --target sagemaker`` computes (load, validate, fill, graph, lower, check,
  render the definition and the upsert file) minus writing the files; timed as in
  ``bench_kfp.py`` (warm-up on N=10, an untimed ``gc.collect()`` before each sample, median
  of ``--repeats``; *analyze* / *render* from separate runs). CLI control: ``python -m
  pipespec compile`` in a new process, median of ``--cli-repeats`` up to
  ``--control-max-n``.
* **the SDK**, in the ``sagemaker`` conformance venv (``tests/conformance/locks/
  sagemaker.txt``: sagemaker 2.257.7), a new process per N with a ``--timeout``
  (``benchmarks/sagemaker_driver.py``): the table-driven program of
  ``sagemaker_program.py``, offline, timed as *steps* (executing the program and
  ``build(session)``) and *definition* (``pipeline.definition()``), after a warm-up run of
  the N=10 program, median of ``--repeats``, fewer once ``--budget`` seconds have gone by.
  Controls: the cyclic GC paused during each run (as pipespec's ``build()`` does) up to
  ``--control-max-n``, a non-empty SDK defaults config up to ``--sdk-config-max-n``.
* **equivalence**: both definitions in ``tests.conformance.sagemaker_normal_form``'s normal
  form (names and S3 prefixes aside, dependencies as a closed order, SDK defaults dropped)
  must have no difference, up to ``--compare-max-n`` (the closure is quadratic); above it,
  the same step names and types and each step's direct dependencies (``DependsOn``, the
  steps its ``Get`` paths name, its ConditionStep's) are compared.

From about 300 steps on the definition is over CreatePipeline's inline limit (1,048,576
characters): pipespec then names an S3 location for it in the upsert file
(``PipelineDefinitionS3Location``), as the SDK's ``upsert`` does; neither side's timing
includes an upload.

Usage: ``python -m benchmarks.bench_sagemaker [--n 100 1000 10000] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import bench_compile, bench_kfp, generate
from benchmarks import sagemaker_program as sp

TARGET = "sagemaker"
DEFAULT_SIZES = (100, 1000, 10000)
WARMUP_N = 10
DRIVER = Path(__file__).resolve().parent / "sagemaker_driver.py"
# A step name in a Get path (SageMaker's step names allow underscores: ingest_000).
STEP_GET = re.compile(r"^Steps\.(?P<name>[A-Za-z0-9_-]+)(?P<rest>\..*|\[.*)?$")


def _cli(spec: Path) -> float:
    cmd = [sys.executable, "-m", "pipespec", "compile", str(spec), "--target", TARGET]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"pipespec compile {spec} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def bench_pipespec(spec: Path, repeats: int, cli_repeats: int, out: Path) -> dict[str, Any]:
    files = bench_kfp.compile_in_process(spec, TARGET)
    totals = [
        bench_kfp._timed(lambda: bench_kfp.compile_in_process(spec, TARGET)) for _ in range(repeats)
    ]
    stage_runs = [bench_kfp.stage_times(spec, TARGET) for _ in range(repeats)]
    text = files[f"{TARGET}/{spec.stem}.json"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    cli = [_cli(spec) for _ in range(cli_repeats)]
    shutil.rmtree(spec.parent / "generated", ignore_errors=True)
    return {
        "total_s": statistics.median(totals),
        "total_samples": totals,
        "stages_s": {k: statistics.median(r[k] for r in stage_runs) for k in stage_runs[0]},
        "files": {name: len(body.encode()) for name, body in files.items()},
        "definition_chars": len(text),
        "definition_file": str(out),
        "cli_s": statistics.median(cli) if cli else None,
        "cli_samples": cli,
    }


# --- the SDK -----------------------------------------------------------------------------


def write_program(n: int, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"table_n{n}.py"
    path.write_text(sp.program(generate.make_pipeline(n)), encoding="utf-8")
    return path


def run_driver(python: Path, args: list[str], timeout: float) -> dict[str, Any]:
    """The driver's JSON; ``{"timeout_s": ...}`` when it did not finish in time."""
    cmd = [str(python), "-I", str(DRIVER), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout}
    if proc.returncode != 0:
        raise RuntimeError(f"sagemaker driver failed: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def bench_sdk(python: Path, n: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    programs = work / "programs"
    program = write_program(n, programs)
    warm = write_program(WARMUP_N, programs)
    out: dict[str, Any] = {}
    runs = [("none", "none", False)]  # (key, SDK config, GC paused)
    if n <= args.control_max_n:
        runs.append(("no-gc", "none", True))
    if n <= args.sdk_config_max_n:
        runs.append(("optout", "optout", False))
    for key, config, no_gc in runs:
        definition = work / "definitions" / f"sdk-{key}-n{n}.json"
        definition.parent.mkdir(parents=True, exist_ok=True)
        definition.unlink(missing_ok=True)
        print(f"[bench_sagemaker] SDK ({key}) N={n} ...", file=sys.stderr, flush=True)
        profile = args.profile and n == args.profile_n and key == "none"
        drv = [
            f"--program={program}",
            f"--warmup={warm}",
            f"--repeats={1 if key == 'optout' else args.repeats}",
            f"--budget={args.budget}",
            f"--out={definition}",
            f"--sdk-config={config}",
            "--imports",
            *sp.IMPORTS,
            *(["--no-gc"] if no_gc else []),
            *(["--profile"] if profile else []),
        ]
        report = run_driver(python, drv, args.timeout)
        report["program_bytes"] = program.stat().st_size
        report["definition_file"] = str(definition) if "timeout_s" not in report else None
        out[key] = report
    return out


# --- equivalence -------------------------------------------------------------------------


def _entries(steps: list[Any], condition: str | None = None) -> Iterator[tuple[Any, str | None]]:
    for entry in steps:
        yield entry, condition
        if entry.get("Type") == "Condition":
            for side in ("IfSteps", "ElseSteps"):
                yield from _entries(entry["Arguments"].get(side, []), entry["Name"])


def _refs(value: Any) -> set[str]:
    if isinstance(value, list):
        return {r for v in value for r in _refs(v)}
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Get"} and isinstance(value["Get"], str):
        found = STEP_GET.match(value["Get"])
        return {found["name"]} if found else set()
    return {r for v in value.values() for r in _refs(v)}


def summary(definition: dict[str, Any]) -> dict[str, Any]:
    """Step name -> type, and each step's direct dependencies with its ConditionStep's (a
    step in a branch waits for what the condition waits for)."""
    types: dict[str, str] = {}
    direct: dict[str, set[str]] = {}
    inside: dict[str, str] = {}
    for entry, condition in _entries(definition["Steps"]):
        name = entry["Name"]
        types[name] = entry["Type"]
        args = dict(entry.get("Arguments", {}))
        args.pop("IfSteps", None)
        args.pop("ElseSteps", None)
        direct[name] = set(entry.get("DependsOn", [])) | _refs(args)
        direct[name] |= _refs(entry.get("PropertyFiles", []))
        if condition is not None:
            inside[name] = condition
            direct[name].add(condition)
    deps = {
        name: sorted(found | direct.get(inside.get(name, ""), set()))
        for name, found in direct.items()
    }
    counts = {t: sum(1 for v in types.values() if v == t) for t in sorted(set(types.values()))}
    return {"types": types, "deps": deps, "counts": counts}


def _normal_form_differences(sdk: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    from tests.conformance import sagemaker_normal_form as nf

    return [str(d) for d in nf.compare(sdk, ours)]


def equivalence(ours_file: Path, sdk_file: Path, full: bool) -> dict[str, Any]:
    ours = json.loads(ours_file.read_text(encoding="utf-8"))
    sdk = json.loads(sdk_file.read_text(encoding="utf-8"))
    a, b = summary(ours), summary(sdk)
    diffs: list[str] = []
    if a["types"] != b["types"]:
        only = sorted(set(a["types"]) ^ set(b["types"]))
        diffs.append(f"step names or types differ, e.g. {only[:5]}")
    edge_diffs = [s for s in a["deps"] if a["deps"][s] != b["deps"].get(s)]
    if edge_diffs:
        diffs.append(f"{len(edge_diffs)} steps wait for different steps, e.g. {edge_diffs[:3]}")
    result: dict[str, Any] = {
        "counts": a["counts"],
        "sdk_counts": b["counts"],
        "edges": sum(len(v) for v in a["deps"].values()),
        "normal_form": full,
    }
    if full:
        found = _normal_form_differences(sdk, ours)
        result["normal_form_differences"] = len(found)
        diffs += found[:5]
    result["differences"] = diffs
    result["same"] = not diffs
    return result


# --- run ---------------------------------------------------------------------------------


def run(sizes: list[int], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import pipespec
    from benchmarks import venvs

    specs = {n: sp.write_spec(n, work / "specs") for n in sorted({WARMUP_N, *sizes})}
    args.profile_n = max((n for n in sizes if n <= args.control_max_n), default=None)
    python = venvs.python_for(venvs.SAGEMAKER)
    results: dict[str, Any] = {
        "target": TARGET,
        "pipespec_version": pipespec.__version__,
        "pipespec_package": str(Path(pipespec.__file__).parent),
        "sagemaker_python": str(python),
        "settings": {k: getattr(args, k) for k in ("repeats", "budget", "timeout", "cli_repeats",
                                                   "control_max_n", "sdk_config_max_n",
                                                   "compare_max_n", "profile_n")},
        "sizes": {},
    }  # fmt: skip
    bench_kfp.compile_in_process(specs[WARMUP_N], TARGET)  # warm-up
    for n in sizes:
        print(f"[bench_sagemaker] pipespec N={n} ...", file=sys.stderr, flush=True)
        cli_repeats = args.cli_repeats if n <= args.control_max_n else 0
        ours = work / "definitions" / f"pipespec-n{n}.json"
        entry: dict[str, Any] = {
            "spec_bytes": specs[n].stat().st_size,
            "pipespec": bench_pipespec(specs[n], args.repeats, cli_repeats, ours),
            "sdk": bench_sdk(python, n, work, args),
        }
        if args.profile and n == args.profile_n:
            entry["pipespec"]["profile"] = bench_compile.profile_compile(
                specs[n], compile_spec=lambda s: bench_kfp.compile_in_process(s, TARGET)
            )
        sdk_file = entry["sdk"]["none"].get("definition_file")
        if sdk_file:
            entry["equivalence"] = equivalence(ours, Path(sdk_file), n <= args.compare_max_n)
        results["sizes"][str(n)] = entry
    results["sagemaker_version"] = next(
        (e["sdk"]["none"]["sagemaker_version"] for e in results["sizes"].values()
         if "sagemaker_version" in e["sdk"]["none"]),
        None,
    )  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pipespec vs the sagemaker SDK's definition()")
    parser.add_argument("--n", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--work", type=Path, default=Path("~/.cache/pipespec/bench/work"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cli-repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=120.0, help="SDK: seconds per N")
    parser.add_argument("--timeout", type=float, default=900.0, help="SDK: seconds per run")
    parser.add_argument(
        "--control-max-n", type=int, default=1000, help="largest N for the CLI and no-GC controls"
    )
    parser.add_argument(
        "--sdk-config-max-n", type=int, default=100, help="largest N for the SDK-config control"
    )
    parser.add_argument(
        "--compare-max-n", type=int, default=1000, help="largest N for the normal-form compare"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile both at the CLI max N")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    work: Path = args.work.expanduser() / TARGET
    shutil.rmtree(work, ignore_errors=True)
    results = run(args.n, work, args)
    text = json.dumps(results, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
