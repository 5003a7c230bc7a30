"""pipespec's Kubeflow compile against kfp's own DSL build + compile of the same pipeline.

For each N (default 100, 1000, 10000), in the same run:

* **pipespec**, in process (this interpreter): :func:`compile_in_process`, i.e.
  ``pipespec.api.build([spec], ["kubeflow"], None)``: what ``pipespec compile SPEC --target
  kubeflow`` computes (load, validate, fill, graph, lower, check, render the KFP IR and the
  schedule script) minus writing the files; after one untimed warm-up compile of the N=10
  spec, each sample after an untimed ``gc.collect()``, median of ``--repeats``. The stage
  split (``analyze``: load + validate + fill + graph + lower; ``render``:
  ``api.render_target``, the backend) comes from separate runs with those two wrapped in a
  timer. CLI: ``python -m pipespec compile SPEC --target kubeflow`` in a new process, median
  of ``--cli-repeats`` (one run above ``--control-max-n``).
* **kfp**, in the ``kfp`` conformance venv, in a subprocess per (style, N) with a
  ``--timeout`` (``benchmarks/kfp_driver.py``): the same pipeline as a kfp DSL program
  (``benchmarks/kfp_program.py``, styles ``table`` and ``straight``), timed as defining the
  components + tracing the pipeline (``@dsl.pipeline``) + ``compiler.Compiler().compile`` to a
  YAML file; after an untimed warm-up run of the N=10 program, median of ``--repeats``, fewer
  when a size has used up ``--budget`` seconds. Controls: the ``table`` program with the
  cyclic GC paused (as pipespec's ``build()`` does), and kfp's CLI (``kfp dsl compile --py
  PROGRAM``, one cold run) up to ``--control-max-n``; ``--profile`` adds a cProfile of one kfp
  run per style at the largest N up to ``--control-max-n``.
* **equivalence**: both IR files are read back (PyYAML, in the kfp venv) and reduced to their
  container tasks and the container tasks each waits for (its ``dependentTasks`` and its
  groups'), plus the numbers of components, executors, condition and loop groups and YAML
  documents; pipespec's and each kfp style's must be equal.

``--target vertex`` runs the same benchmark for pipespec's Vertex target: the ML variant of
the specs (``generate.make_pipeline(n, ml=True)``: train steps as custom jobs, a deploy per
segment) against kfp + Google Cloud Pipeline Components (``benchmarks/vertex_program.py``),
in the same ``kfp`` venv; pipespec also gets a cProfile of one compile at the profile N
(``--profile``). Everything else (timing, budget, timeout, controls, equivalence) is shared.

Usage: ``python -m benchmarks.bench_kfp [--target kubeflow|vertex] [--n 100 1000 10000]
[--json OUT]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import bench_compile, generate, kfp_program, vertex_program

TARGET = "kubeflow"


@dataclass(frozen=True)
class Peer:
    """What differs between the Kubeflow and the Vertex benchmark."""

    target: str  # pipespec's target
    ml: bool  # the spec variant (benchmarks/generate.py)
    program: Callable[[generate.BenchPipeline, kfp_program.Style], kfp_program.KfpProgram]
    imports: tuple[str, ...]  # what the programs import (timed apart by the driver)
    work: str  # work subfolder


PEERS = {
    "kubeflow": Peer(
        "kubeflow", False, kfp_program.program,
        ("kfp", "kfp.dsl", "kfp.compiler", "kfp.kubernetes"), "kfp",
    ),
    "vertex": Peer("vertex", True, vertex_program.program, vertex_program.IMPORTS, "vertex"),
}  # fmt: skip
DEFAULT_SIZES = (100, 1000, 10000)
WARMUP_N = 10
DRIVER = Path(__file__).resolve().parent / "kfp_driver.py"
SUMMARY_TIMEOUT_S = 600


def compile_in_process(spec: Path, target: str = TARGET) -> dict[str, str]:
    """``pipespec compile SPEC --target TARGET`` without writing: the files it would write."""
    from pipespec import api

    result = api.build([spec], [target], None)
    if not result.ok:
        raise RuntimeError(f"{spec} does not compile: {result.diagnostics[:3]}")
    (files,) = result.outputs.values()
    return files


@contextmanager
def _timed_stages(times: dict[str, float]) -> Iterator[None]:
    """Wrap ``api.analyze`` and ``api.render_target`` (``build`` calls them through the module)."""
    from pipespec import api

    originals: dict[str, Any] = {"analyze": api.analyze, "render_target": api.render_target}

    def wrap(stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                times[stage] += time.perf_counter() - started

        return timed

    setattr(api, "analyze", wrap("analyze", originals["analyze"]))  # noqa: B010
    setattr(api, "render_target", wrap("render", originals["render_target"]))  # noqa: B010
    try:
        yield
    finally:
        for name, func in originals.items():
            setattr(api, name, func)


def _timed(func: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def stage_times(spec: Path, target: str = TARGET) -> dict[str, float]:
    """One :func:`compile_in_process` with ``analyze`` and ``render`` timed; ``other`` is the
    rest (``check_complete``, the output budget, the GC pause)."""
    times = {"analyze": 0.0, "render": 0.0}
    with _timed_stages(times):
        total = _timed(lambda: compile_in_process(spec, target))
    times["other"] = total - times["analyze"] - times["render"]
    return times


def _cli(spec: Path, target: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pipespec", "compile", str(spec), "--target", target],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"pipespec compile {spec} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def bench_pipespec(
    spec: Path, repeats: int, cli_repeats: int, ir_out: Path, target: str = TARGET
) -> dict[str, Any]:
    files = compile_in_process(spec, target)
    totals = [_timed(lambda: compile_in_process(spec, target)) for _ in range(repeats)]
    stage_runs = [stage_times(spec, target) for _ in range(repeats)]
    ir_name = f"{target}/{spec.stem}.yaml"
    ir_out.parent.mkdir(parents=True, exist_ok=True)
    ir_out.write_text(files[ir_name], encoding="utf-8")
    # The default layout (generated/ beside the spec), as compile_in_process renders it: the
    # IR's header names the spec relative to the output root.
    out = spec.parent / "generated" / target
    shutil.rmtree(out, ignore_errors=True)
    cli = [_cli(spec, target) for _ in range(cli_repeats)]
    same = all((out.parent / r).read_text(encoding="utf-8") == t for r, t in files.items())
    shutil.rmtree(out, ignore_errors=True)
    return {
        "total_s": statistics.median(totals),
        "total_samples": totals,
        "stages_s": {k: statistics.median(r[k] for r in stage_runs) for k in stage_runs[0]},
        "files": {name: len(text.encode()) for name, text in files.items()},
        "ir_bytes": len(files[ir_name].encode()),
        "cli_s": statistics.median(cli),
        "cli_samples": cli,
        "cli_output_matches_in_process": same,
    }


# --- kfp ---------------------------------------------------------------------------------


def write_program(
    n: int, style: kfp_program.Style, out_dir: Path, peer: Peer = PEERS[TARGET]
) -> Path:
    """The two parts and the whole file of the N-step program; returns the stem."""
    prog = peer.program(generate.make_pipeline(n, peer.ml), style)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{style}_n{n}"
    stem.with_name(stem.name + ".components.py").write_text(prog.components, encoding="utf-8")
    stem.with_name(stem.name + ".pipeline.py").write_text(prog.pipeline, encoding="utf-8")
    stem.with_name(stem.name + ".py").write_text(prog.text, encoding="utf-8")
    return stem


def run_driver(python: Path, args: Sequence[str], timeout: float) -> dict[str, Any]:
    """The driver's JSON; ``{"timeout_s": ...}`` when it did not finish in time."""
    cmd = [str(python), "-I", str(DRIVER), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout}
    if proc.returncode != 0:
        raise RuntimeError(f"kfp driver failed: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def kfp_cli(python: Path, program: Path, out: Path, timeout: float) -> float | None:
    """One cold ``kfp dsl compile --py PROGRAM``; None when it timed out."""
    kfp = python.parent / "kfp"
    cmd = [str(kfp), "dsl", "compile", "--py", str(program), "--output", str(out)]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"kfp dsl compile failed: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    return time.perf_counter() - started


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """pipespec's IR summary against kfp's: the differences (none: equivalent)."""
    diffs: list[str] = []
    for key in ("components", "executors", "conditions", "loops", "documents"):
        if ours[key] != theirs[key]:
            diffs.append(f"{key}: pipespec {ours[key]}, kfp {theirs[key]}")
    only_ours = sorted(set(ours["tasks"]) - set(theirs["tasks"]))
    only_theirs = sorted(set(theirs["tasks"]) - set(ours["tasks"]))
    if only_ours or only_theirs:
        diffs.append(f"tasks only in pipespec {only_ours[:5]}, only in kfp {only_theirs[:5]}")
    edge_diffs = [t for t in ours["edges"] if ours["edges"][t] != theirs["edges"].get(t)]
    if edge_diffs:
        diffs.append(f"{len(edge_diffs)} tasks wait for different tasks, e.g. {edge_diffs[:3]}")
    return {
        "same": not diffs,
        "differences": diffs,
        "tasks": len(ours["tasks"]),
        "edges": sum(len(v) for v in ours["edges"].values()),
    }


def bench_kfp_size(
    python: Path, n: int, work: Path, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Every kfp measurement at one N: per style, the no-GC control, the CLI control."""
    peer: Peer = args.peer
    programs = work / peer.work / "programs"
    out: dict[str, dict[str, Any]] = {}
    runs: list[tuple[str, kfp_program.Style, bool]] = [(s, s, False) for s in kfp_program.STYLES]
    if n <= args.control_max_n:
        runs.append(("table@no-gc", "table", True))
    for key, style, no_gc in runs:
        stem = write_program(n, style, programs, peer)
        warm = write_program(WARMUP_N, style, programs, peer)
        ir = work / peer.work / "ir" / f"kfp-{key}-n{n}.yaml"
        ir.parent.mkdir(parents=True, exist_ok=True)
        ir.unlink(missing_ok=True)
        print(f"[bench_kfp] kfp {key} N={n} ...", file=sys.stderr, flush=True)
        drv = [
            f"--program={stem}",
            f"--warmup={warm}",
            f"--repeats={args.repeats}",
            f"--budget={args.budget}",
            f"--out={ir}",
            "--imports",
            *peer.imports,
            *(["--no-gc"] if no_gc else []),
            *(["--profile"] if args.profile and n == args.profile_n and not no_gc else []),
        ]
        report = run_driver(python, drv, args.timeout)
        report["program_bytes"] = stem.with_name(stem.name + ".py").stat().st_size
        report["ir_file"] = str(ir) if "timeout_s" not in report else None
        out[key] = report
    if n <= args.control_max_n:
        stem = programs / f"table_n{n}.py"
        cli_out = work / peer.work / "cli.yaml"
        out["cli"] = {"table_s": kfp_cli(python, stem, cli_out, args.timeout)}
    return out


def run(sizes: Sequence[int], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import pipespec
    from benchmarks import venvs

    peer: Peer = args.peer
    specs = {n: generate.write_spec(n, work / "specs", peer.ml) for n in sorted({WARMUP_N, *sizes})}
    args.profile_n = max((n for n in sizes if n <= args.control_max_n), default=None)
    python = venvs.python_for(venvs.KFP)
    compile_in_process(specs[WARMUP_N], peer.target)  # warm-up: imports, validators, caches
    results: dict[str, Any] = {
        "target": peer.target,
        "pipespec_version": pipespec.__version__,
        "pipespec_package": str(Path(pipespec.__file__).parent),
        "kfp_python": str(python),
        "settings": {k: getattr(args, k) for k in ("repeats", "budget", "timeout", "cli_repeats",
                                                   "control_max_n", "profile_n")},
        "sizes": {},
    }  # fmt: skip
    for n in sizes:
        print(f"[bench_kfp] pipespec N={n} ...", file=sys.stderr, flush=True)
        ir = work / peer.work / "ir" / f"pipespec-n{n}.yaml"
        cli_repeats = args.cli_repeats if n <= args.control_max_n else 1
        entry: dict[str, Any] = {
            "spec_bytes": specs[n].stat().st_size,
            "pipespec": bench_pipespec(specs[n], args.repeats, cli_repeats, ir, peer.target),
            "kfp": bench_kfp_size(python, n, work, args),
        }
        if args.profile and n == args.profile_n and peer.target != TARGET:
            entry["pipespec"]["profile"] = bench_compile.profile_compile(
                specs[n], compile_spec=lambda spec: compile_in_process(spec, peer.target)
            )
        entry["equivalence"] = _equivalence(python, ir, entry["kfp"])
        results["sizes"][str(n)] = entry
    results["kfp_version"] = next(
        (r["kfp_version"] for e in results["sizes"].values() for r in e["kfp"].values()
         if "kfp_version" in r),
        None,
    )  # fmt: skip
    return results


def _equivalence(python: Path, ours: Path, kfp: dict[str, dict[str, Any]]) -> dict[str, Any]:
    files = {k: Path(r["ir_file"]) for k, r in kfp.items() if r.get("ir_file")}
    report = run_driver(
        python, ["--summary", str(ours), *map(str, files.values())], SUMMARY_TIMEOUT_S
    )
    summaries = report.get("summaries", {})
    if str(ours) not in summaries:
        return {"error": "the IR summaries timed out"}
    found: dict[str, Any] = {
        k: compare(summaries[str(ours)], summaries[str(p)]) for k, p in files.items()
    }
    if all(style in files for style in kfp_program.STYLES):
        texts = {files[style].read_bytes() for style in kfp_program.STYLES}
        found["styles_identical"] = len(texts) == 1  # one pipeline, written two ways
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pipespec vs kfp: compile to KFP IR")
    parser.add_argument("--target", choices=sorted(PEERS), default=TARGET)
    parser.add_argument("--n", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--work", type=Path, default=Path("~/.cache/pipespec/bench/work"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cli-repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=120.0, help="kfp: seconds per N")
    parser.add_argument("--timeout", type=float, default=900.0, help="kfp: seconds per run")
    parser.add_argument(
        "--control-max-n", type=int, default=1000, help="largest N for the kfp controls"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile kfp at the largest control N"
    )
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    work: Path = args.work.expanduser()
    args.peer = PEERS[args.target]
    shutil.rmtree(work / args.peer.work, ignore_errors=True)
    results = run(args.n, work, args)
    text = json.dumps(results, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
