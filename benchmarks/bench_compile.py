"""pipespec compile time for the generated N-step specs: in process (total and per stage) and CLI.

In process (this interpreter, after one untimed warm-up run per spec, so imports, pydantic
validators and the jinja2 template are already built; the median of ``--repeats`` runs):

* ``total``: :func:`compile_in_process`: ``analyze_file`` (load + validate [+ fill] + graph +
  lower) + ``check_complete`` + ``render_dag`` (Airflow), called as ``pipespec compile
  --target airflow`` calls them (``fill=True`` where ``analyze_file`` has it, inside
  ``build()``'s GC policy where pipespec has one), minus writing the file;
* per stage, in separate runs of the same call, each of the functions ``analyze_file`` calls
  wrapped with a timer: ``load`` (``read_spec_file``: ruamel.yaml events + source map),
  ``validate`` (``validate_spec``: pydantic), ``fill`` (``apply_fill``, catalog/lock only:
  a no-op on these complete specs), ``graph`` (``build_graph``: networkx + reference/type
  checks), ``lower`` (IR), then ``complete`` (``check_complete``: JSON Schema per step) and
  ``render`` (``render_dag``).

CLI (a new interpreter each time, so it includes Python start-up and pipespec's imports):
``python -m pipespec compile SPEC --target airflow --out TMP`` and ``python -m pipespec
--help``, median wall time of ``--cli-repeats`` runs.

``--profile`` adds a cProfile of one warm in-process compile of the largest spec (the top
functions by own time and by cumulative time).

Usage: ``python -m benchmarks.bench_compile [--n 10 100 1000] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from benchmarks import generate

STAGES = ("load", "validate", "fill", "graph", "lower", "complete", "render")
# Stages inside ``analyze_file``: (stage, module whose attribute analyze_file calls, name).
# ``api`` (``compiler.driver`` before it) imports ``read_spec_source`` (``read_spec_file``
# before that) at module level; the
# others are imported from their modules when ``analyze_file`` runs, so wrapping the module
# attribute times the real call. A stage a pipespec lacks is skipped.
_INNER_STAGES = (
    ("load", "pipespec.compiler.driver", "read_spec_file"),
    ("load", "pipespec.compiler.driver", "read_spec_source"),
    ("load", "pipespec.api", "read_spec_source"),
    ("validate", "pipespec.spec.validate", "validate_spec"),
    ("fill", "pipespec.fill.engine", "apply_fill"),
    ("graph", "pipespec.compiler.graph", "build_graph"),
    ("lower", "pipespec.compiler.lower", "lower"),
)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def compile_policy() -> dict[str, bool]:
    """How ``pipespec compile`` runs ``analyze_file`` in the pipespec being measured."""
    import inspect

    build = _runner()
    return {
        "fill": "fill" in inspect.signature(build.analyze_file).parameters,
        "gc_paused": hasattr(build, "no_cyclic_gc"),
    }


def _runner() -> Any:
    """The module that runs the stages: ``pipespec.api``, or in an older pipespec
    ``compiler.build`` (``build``, ``no_cyclic_gc``) with ``analyze_file`` from its driver."""
    try:
        return importlib.import_module("pipespec.api")
    except ImportError:
        build = importlib.import_module("pipespec.compiler.build")
        driver = importlib.import_module("pipespec.compiler.driver")
        return type("OldRunner", (), {**vars(build), "analyze_file": driver.analyze_file})


def _gc_policy() -> AbstractContextManager[object]:
    """``build()``'s own GC policy (``no_cyclic_gc``) when this pipespec has one."""
    pause: Callable[[], AbstractContextManager[object]] | None = getattr(
        _runner(), "no_cyclic_gc", None
    )
    return pause() if pause is not None else nullcontext()


def compile_in_process(spec: Path) -> str:
    """What ``pipespec compile --target airflow`` computes for one spec; returns the DAG text.

    ``analyze_file`` (with ``fill=True`` where it has that parameter, as ``compile`` calls
    it), ``check_complete`` and ``render_dag``, under ``build()``'s GC policy; no file written.
    """
    from pipespec.backends.airflow.render import render_dag
    from pipespec.compiler.complete import check_complete

    analyze_file = _runner().analyze_file
    kwargs: dict[str, Any] = {"fill": True} if compile_policy()["fill"] else {}
    with _gc_policy():
        analysis = analyze_file(spec, **kwargs)
        if not analysis.ok or analysis.pipeline is None:
            raise RuntimeError(f"{spec} does not compile: {analysis.diagnostics[:3]}")
        incomplete = check_complete(analysis.pipeline)
        if incomplete:
            raise RuntimeError(f"{spec} has incomplete steps: {incomplete[:3]}")
        result = render_dag(analysis.pipeline)
    if not result.files:
        raise RuntimeError(f"{spec} did not render: {result.diagnostics[:3]}")
    (text,) = result.files.values()
    return text


@contextmanager
def _timed_inner_stages(times: dict[str, float]) -> Iterator[None]:
    """Wrap the functions ``analyze_file`` calls so that each adds its time to ``times``."""
    patched: list[tuple[Any, str, Any]] = []
    for stage, module_name, attr in _INNER_STAGES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an older pipespec without this stage
            continue
        original = getattr(module, attr, None)
        if original is None:
            continue

        def timed(*args: Any, _f: Any = original, _stage: str = stage, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return _f(*args, **kw)
            finally:
                times[_stage] += time.perf_counter() - started

        setattr(module, attr, timed)
        patched.append((module, attr, original))
    try:
        yield
    finally:
        for module, attr, original in patched:
            setattr(module, attr, original)


def stage_times(spec: Path) -> dict[str, float]:
    """One :func:`compile_in_process`, timed stage by stage (``fill`` is 0 without it)."""
    from pipespec.backends.airflow import render
    from pipespec.compiler import complete

    times = dict.fromkeys(STAGES, 0.0)
    with _timed_inner_stages(times):
        originals = (complete.check_complete, render.render_dag)

        def check(pipeline: Any, runs_natively: Any = None) -> Any:
            started = time.perf_counter()
            try:
                if runs_natively is None:
                    return originals[0](pipeline)
                return originals[0](pipeline, runs_natively)
            finally:
                times["complete"] += time.perf_counter() - started

        def rend(pipeline: Any, settings: Any = None) -> Any:
            started = time.perf_counter()
            try:
                return originals[1](pipeline, settings)
            finally:
                times["render"] += time.perf_counter() - started

        complete.check_complete, render.render_dag = check, rend
        try:
            compile_in_process(spec)
        finally:
            complete.check_complete, render.render_dag = originals
    return times


def _timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def pipespec_command() -> list[str]:
    """``python -m pipespec``: the same as the ``pipespec`` script (new interpreter, imports,
    click), and it runs whichever pipespec package is importable (``--pipespec-rev``)."""
    return [sys.executable, "-m", "pipespec"]


def _run_cli(args: Sequence[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([*pipespec_command(), *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"pipespec {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def bench_spec(spec: Path, repeats: int, cli_repeats: int) -> dict[str, Any]:
    text = compile_in_process(spec)  # warm-up (imports, validators, template)
    totals = [_timed(lambda: compile_in_process(spec)) for _ in range(repeats)]
    stages = [stage_times(spec) for _ in range(repeats)]
    # The default layout (generated/ beside the spec), as compile_in_process renders it: the
    # DAG names its spec relative to itself, so another --out would change that line.
    out = spec.parent / "generated"
    shutil.rmtree(out, ignore_errors=True)
    args = ["compile", str(spec), "--target", "airflow"]
    cli = [_run_cli(args) for _ in range(cli_repeats)]
    written = sorted(out.rglob("*.py"))
    same = len(written) == 1 and written[0].read_text(encoding="utf-8") == text
    return {
        "spec": str(spec),
        "spec_bytes": spec.stat().st_size,
        "dag_bytes": len(text.encode()),
        "dag_lines": text.count("\n"),
        "total_s": _median(totals),
        "total_samples": totals,
        "stages_s": {name: _median([s[name] for s in stages]) for name in STAGES},
        "cli_compile_s": _median(cli),
        "cli_compile_samples": cli,
        "cli_output_matches_in_process": same,
    }


def profile_compile(
    spec: Path, top: int = 12, compile_spec: Callable[[Path], object] | None = None
) -> dict[str, Any]:
    """cProfile one warm compile (``compile_spec``: another target's, default Airflow's);
    the top functions by own time and by cumulative time."""
    run = compile_spec or compile_in_process
    run(spec)
    profiler = cProfile.Profile()
    profiler.enable()
    run(spec)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    entries: list[dict[str, Any]] = []
    raw: dict[Any, Any] = getattr(stats, "stats", {})
    import pipespec

    root = str(Path(pipespec.__file__).resolve().parent.parent) + "/"
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
        entries.append(
            {
                "function": f"{_short(filename, root)}:{line}({func})",
                "ncalls": ncalls,
                "tottime": tottime,
                "cumtime": cumtime,
            }
        )
    total = sum(e["tottime"] for e in entries)
    by_own = sorted(entries, key=lambda e: -e["tottime"])[:top]
    by_cum = sorted(entries, key=lambda e: -e["cumtime"])[: top * 3]
    return {"spec": str(spec), "profiled_s": total, "by_own_time": by_own, "by_cumulative": by_cum}


def _short(filename: str, root: str) -> str:
    """``pipespec/...`` for pipespec's files, the path inside site-packages or the stdlib else."""
    if filename.startswith(root):
        return filename[len(root) :]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3" else tail
    return filename


def run(sizes: Sequence[int], work: Path, repeats: int, cli_repeats: int) -> dict[str, Any]:
    specs = {n: generate.write_spec(n, work / "specs") for n in sizes}
    import pipespec

    results: dict[str, Any] = {
        "pipespec_version": pipespec.__version__,
        "pipespec_package": str(Path(pipespec.__file__).parent),
        "policy": compile_policy(),
        "sizes": {},
    }
    for n, spec in specs.items():
        print(f"[bench_compile] N={n} ...", file=sys.stderr, flush=True)
        results["sizes"][str(n)] = bench_spec(spec, repeats, cli_repeats)
    results["cli_help_s"] = _median([_run_cli(["--help"]) for _ in range(cli_repeats)])
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pipespec compile-time benchmark")
    parser.add_argument("--n", type=int, nargs="+", default=list(generate.DEFAULT_SIZES))
    parser.add_argument("--work", type=Path, default=Path("~/.cache/pipespec/bench/work"))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cli-repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile the largest N")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    work: Path = args.work.expanduser()
    results = run(args.n, work, args.repeats, args.cli_repeats)
    if args.profile:
        largest = max(args.n)
        spec = work / "specs" / f"{generate.pipeline_name(largest)}.yaml"
        results["profile"] = profile_compile(spec)
    text = json.dumps(results, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
