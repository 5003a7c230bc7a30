"""DagBag parse time in Airflow 3.3: pipespec's DAG vs a hand-written one vs dag-factory.

For each N, three DAG files describing the same pipeline (:mod:`benchmarks.generate`):

* ``pipespec``: ``pipespec``'s Airflow output for the generated spec (compiled in process);
* ``handwritten``: :func:`benchmarks.baselines.handwritten_dag` (plain operator calls, ``>>``);
* ``dagfactory``: a dag-factory loader file + YAML config (:mod:`benchmarks.baselines`).

Before timing, the conformance probe (``tests/conformance/dagbag_probe.py``) loads each one and
the three reports must agree on tasks, edges, operator classes, mapped tasks, params,
schedule and timetable (and all must survive serialization); for the smallest N the rendered
template fields and pod specs of every KubernetesPodOperator must be equal too.

Timing is done by ``benchmarks/dagbag_driver.py`` in the Airflow venv (see its docstring):
fork-per-parse like Airflow 3's DAG processor, each child running ``processor._parse_file``'s
three steps (stability check, ``BundleDagBag`` parse, serialization); first without the
file's ``.pyc`` (parse after a change), then with it (unchanged file); then a few in-process
repeats. The parent pre-imports the operator modules (:data:`OPERATOR_MODULES`) for every
variant. ``pipespec`` and ``handwritten`` run in the ``airflow3`` conformance venv,
``dagfactory`` in ``airflow3-dagfactory`` (same lock plus dag-factory). Controls: ``pipespec``
once more in that venv, ``dagfactory`` without the operator pre-imports (what a processor
that parses no other KubernetesPodOperator file does), and both without the driver's
``gc.collect()`` before each sample. Rounds interleave all variants and
sizes; the largest dag-factory parse is also profiled once (cProfile).

Usage: ``python -m benchmarks.bench_dagbag [--n 10 100 1000] [--rounds 2] [--forks 5]
[--inproc 3] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import baselines, generate
from benchmarks.bench_compile import compile_in_process
from benchmarks.venvs import AIRFLOW3, DAGFACTORY, python_for
from tests.conformance.runner import PROBE, probe_env

DRIVER = Path(__file__).resolve().parent / "dagbag_driver.py"
STRUCTURE_KEYS = (
    "tasks",
    "edges",
    "operators",
    "mapped_tasks",
    "params",
    "param_schemas",
    "schedule",
    "timetable",
    "catchup",
    "start_date",
)
PARTS = ("check", "parse", "serialize", "total")
TIMEOUT_S = 3600.0


# Imported by the parent ("manager") for every variant, as after parsing other DAG files that
# use these operators: pipespec's and the hand-written file name them (so the processor
# pre-imports them anyway); dag-factory's loader file names none, so without this its
# children would import the cncf-kubernetes provider on every parse.
OPERATOR_MODULES = (
    "airflow.sdk",
    "airflow.providers.cncf.kubernetes.operators.pod",
    "airflow.providers.standard.operators.python",
)


@dataclass(frozen=True)
class Variant:
    key: str  # result key
    kind: str  # pipespec | handwritten | dagfactory
    venv: str
    preimport: tuple[str, ...] = OPERATOR_MODULES
    forks: int | None = None  # None: the run's --forks
    inproc: int | None = None
    gc_collect: bool = True  # the driver's untimed gc.collect() before each sample


VARIANTS = (
    Variant("pipespec", "pipespec", AIRFLOW3),
    Variant("handwritten", "handwritten", AIRFLOW3),
    Variant("dagfactory", "dagfactory", DAGFACTORY),
    # Controls: pipespec in the dag-factory venv (same numbers expected); dag-factory when the
    # manager has pre-imported only what its loader file names (nothing from airflow).
    Variant("pipespec@dagfactory-venv", "pipespec", DAGFACTORY),
    Variant("dagfactory@cold-provider", "dagfactory", DAGFACTORY, (), forks=3, inproc=1),
    # ... and both without the driver's gc.collect() (GC state inherited from the parent).
    Variant("pipespec@no-gc-collect", "pipespec", AIRFLOW3, forks=3, inproc=1, gc_collect=False),
    Variant(
        "dagfactory@no-gc-collect", "dagfactory", DAGFACTORY, forks=3, inproc=1, gc_collect=False
    ),
)


def _env(home: Path) -> dict[str, str]:
    env = probe_env(home)
    env.update(
        AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY="False",
        DO_NOT_TRACK="1",
        SCARF_NO_ANALYTICS="1",
        AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="600",
    )
    return env


def prepare(n: int, work: Path) -> dict[str, Path]:
    """Write the three DAG files for N (one folder each); returns kind -> DAG file."""
    pipeline = generate.make_pipeline(n)
    spec = generate.write_spec(n, work / "specs")
    base = work / f"n{n}"
    if base.exists():
        shutil.rmtree(base)
    files: dict[str, Path] = {}

    folder = base / "pipespec"
    folder.mkdir(parents=True)
    files["pipespec"] = folder / f"{pipeline.name}.py"
    files["pipespec"].write_text(compile_in_process(spec), encoding="utf-8")

    folder = base / "handwritten"
    folder.mkdir(parents=True)
    files["handwritten"] = folder / f"{pipeline.name.replace('-', '_')}.py"
    files["handwritten"].write_text(baselines.handwritten_dag(pipeline), encoding="utf-8")

    folder = base / "dagfactory"
    folder.mkdir(parents=True)
    lib = base / "dagfactory-lib"  # the gate's callable lives outside the DAG folder
    lib.mkdir(parents=True)
    callables = lib / "bench_callables.py"
    callables.write_text(baselines.callables_module(), encoding="utf-8")
    config = folder / f"{pipeline.name}.yml"
    config.write_text(baselines.dagfactory_config(pipeline, callables), encoding="utf-8")
    files["dagfactory"] = folder / f"{pipeline.name.replace('-', '_')}_dagfactory.py"
    files["dagfactory"].write_text(baselines.dagfactory_loader(config.name), encoding="utf-8")
    return files


def source_bytes(kind: str, dag_file: Path) -> int:
    """Bytes Airflow reads for the DAG: the .py, plus the YAML config for dag-factory."""
    total = dag_file.stat().st_size
    if kind == "dagfactory":
        total += sum(p.stat().st_size for p in dag_file.parent.glob("*.yml"))
    return total


def probe(python: Path, folder: Path, *, render: bool = False) -> dict[str, Any]:
    """The conformance probe's report for ``folder``, run with ``python`` (any Airflow venv)."""
    home = Path(tempfile.mkdtemp(prefix="pipespec-bench-home-"))
    cmd = [str(python), "-I", "-B", str(PROBE), str(folder)] + (["--render"] if render else [])
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=_env(home),
            cwd=home,
            timeout=TIMEOUT_S,
            check=False,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"probe failed on {folder}:\n{proc.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def _normalized_render(rendered: Any) -> Any:
    """Rendered fields with the random pod-name suffixes dropped."""
    if isinstance(rendered, list):
        return [_normalized_render(r) for r in rendered]
    if not isinstance(rendered, dict):
        return rendered
    out = dict(rendered)
    pod = out.get("<pod>")
    if isinstance(pod, dict):
        pod = json.loads(json.dumps(pod))
        pod.get("metadata", {}).pop("name", None)
        out["<pod>"] = pod
    return out


def verify(
    n: int, files: dict[str, Path], pythons: dict[str, Path], render: bool
) -> dict[str, Any]:
    """Load all three with the conformance probe; they must describe the same DAG."""
    venv_of = {"pipespec": AIRFLOW3, "handwritten": AIRFLOW3, "dagfactory": DAGFACTORY}
    reports = {
        kind: probe(pythons[venv_of[kind]], path.parent, render=render)
        for kind, path in files.items()
    }
    problems: list[str] = []
    dag_id = generate.pipeline_name(n)
    dags: dict[str, dict[str, Any]] = {}
    for kind, report in reports.items():
        if report["import_errors"]:
            problems.append(f"{kind}: import errors {report['import_errors']}")
        if report.get("warnings"):
            problems.append(f"{kind}: parse warnings {report['warnings']}")
        dag = report["dags"].get(dag_id)
        if dag is None:
            problems.append(f"{kind}: no DAG {dag_id}")
            continue
        if not dag["serialized"]:
            problems.append(f"{kind}: serialization failed: {dag['serialize_error']}")
        dags[kind] = dag
    reference = dags.get("pipespec")
    rendered_equal: bool | None = None
    if reference is not None:
        for kind, dag in dags.items():
            for key in STRUCTURE_KEYS:
                if dag[key] != reference[key]:
                    problems.append(f"{kind}: {key} differs from pipespec's")
        if render:
            rendered_equal = True
            ref = reference.get("rendered", {})
            for kind, dag in dags.items():
                for task, fields in ref.items():
                    if reference["operators"].get(task) != "KubernetesPodOperator":
                        continue
                    if _normalized_render(fields) != _normalized_render(
                        dag.get("rendered", {}).get(task)
                    ):
                        rendered_equal = False
                        problems.append(f"{kind}: rendered fields of {task} differ")
    first = reference or {}
    return {
        "tasks": len(first.get("tasks", [])),
        "edges": len(first.get("edges", [])),
        "mapped_tasks": len(first.get("mapped_tasks", [])),
        "operators": sorted(set(first.get("operators", {}).values())),
        "kpo_render_equal": rendered_equal,
        "problems": problems,
        "ok": not problems,
    }


def run_driver(
    python: Path,
    dag_file: Path,
    forks: int,
    inproc: int,
    preimport: Sequence[str],
    profile: bool = False,
    gc_collect: bool = True,
) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="pipespec-bench-home-"))
    cmd = [
        str(python),
        "-I",
        str(DRIVER),
        str(dag_file),
        f"--forks={forks}",
        f"--inproc={inproc}",
        f"--preimport={','.join(preimport)}",
    ]
    cmd += ["--profile"] if profile else []
    cmd += [] if gc_collect else ["--no-gc-collect"]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=_env(home),
            cwd=home,
            timeout=TIMEOUT_S,
            check=False,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"driver failed on {dag_file}:\n{proc.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    for sample in report["forks"] + report["forks_nopyc"] + report["inproc"]:
        if "error" in sample or sample.get("import_errors") or sample.get("serialize_errors"):
            raise RuntimeError(f"parse failed for {dag_file}: {json.dumps(sample)[:4000]}")
    return report


def summarize(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over all rounds' samples, per phase and per part."""
    samples: dict[str, list[dict[str, Any]]] = {
        "forks": [s for r in reports for s in r["forks"]],
        "forks_nopyc": [s for r in reports for s in r["forks_nopyc"]],
        "inproc_warm": [s for r in reports for s in r["inproc"][1:]] or [],
    }
    out: dict[str, Any] = {
        phase: {
            part: statistics.median(s[part] for s in items) if items else None for part in PARTS
        }
        for phase, items in samples.items()
    }
    out["samples"] = {phase: len(items) for phase, items in samples.items()}
    out["inproc_first_parse"] = statistics.median(r["inproc"][0]["parse"] for r in reports)
    out["airflow_import_s"] = statistics.median(r["import_seconds"] for r in reports)
    out["pre_import_s"] = statistics.median(r["pre_import_seconds"] for r in reports)
    out["tasks"] = reports[0]["forks"][0]["tasks"]
    out["gen2"] = {  # full GC collections per step, median over the fork samples
        step: statistics.median(s["gen2"][step] for s in samples["forks"])
        for step in ("check", "parse", "serialize")
    }
    out["parse_spread"] = {
        "min": min(s["parse"] for s in samples["forks"]),
        "max": max(s["parse"] for s in samples["forks"]),
    }
    return out


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, per in results.items():
        row: dict[str, float] = {}
        for base in ("handwritten", "dagfactory"):
            for phase, part in (
                ("forks", "parse"),
                ("forks_nopyc", "parse"),
                ("forks", "total"),
                ("inproc_warm", "parse"),
            ):
                a = per["pipespec"][phase][part]
                b = per[base][phase][part]
                row[f"pipespec/{base}:{phase}.{part}"] = a / b
        out[n] = row
    return out


def run(sizes: Sequence[int], work: Path, rounds: int, forks: int, inproc: int) -> dict[str, Any]:
    pythons = {AIRFLOW3: python_for(AIRFLOW3), DAGFACTORY: python_for(DAGFACTORY)}
    files = {n: prepare(n, work) for n in sizes}
    checks: dict[str, Any] = {}
    for n in sizes:
        print(f"[bench_dagbag] checking N={n} with the conformance probe ...", file=sys.stderr)
        checks[str(n)] = verify(n, files[n], pythons, render=n == min(sizes))
        if not checks[str(n)]["ok"]:
            raise RuntimeError(f"N={n}: the three DAGs differ: {checks[str(n)]['problems']}")
    raw: dict[tuple[int, str], list[dict[str, Any]]] = {}
    profiles: dict[str, Any] = {}
    started = time.monotonic()
    for rnd in range(rounds):
        for n in sizes:
            for variant in VARIANTS:
                print(
                    f"[bench_dagbag] round {rnd + 1}/{rounds} N={n} {variant.key} ...",
                    file=sys.stderr,
                    flush=True,
                )
                report = run_driver(
                    pythons[variant.venv],
                    files[n][variant.kind],
                    variant.forks or forks,
                    variant.inproc or inproc,
                    variant.preimport,
                    profile=rnd == 0 and n == max(sizes) and variant.key == "dagfactory",
                    gc_collect=variant.gc_collect,
                )
                if report.get("profile"):
                    profiles[f"dagfactory:{n}"] = report["profile"]
                raw.setdefault((n, variant.key), []).append(report)
    results: dict[str, Any] = {}
    for n in sizes:
        per: dict[str, Any] = {}
        for variant in VARIANTS:
            summary = summarize(raw[(n, variant.key)])
            summary["source_bytes"] = source_bytes(variant.kind, files[n][variant.kind])
            summary["venv"] = variant.venv
            per[variant.key] = summary
        results[str(n)] = per
    versions = {r["airflow_version"] for reports in raw.values() for r in reports}
    import pipespec

    return {
        "pipespec_package": str(Path(pipespec.__file__).parent),
        "airflow_versions": sorted(versions),
        "pythons": {k: str(v) for k, v in pythons.items()},
        "settings": {"rounds": rounds, "forks": forks, "inproc": inproc},
        "checks": checks,
        "results": results,
        "ratios": ratios(results),
        "profiles": profiles,
        "measure_seconds": round(time.monotonic() - started, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DagBag parse-time benchmark (Airflow 3)")
    parser.add_argument("--n", type=int, nargs="+", default=list(generate.DEFAULT_SIZES))
    parser.add_argument("--work", type=Path, default=Path("~/.cache/pipespec/bench/work"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--forks", type=int, default=5, help="fork-per-parse samples per run")
    parser.add_argument("--inproc", type=int, default=3, help="in-process parses per run")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    results = run(args.n, args.work.expanduser(), args.rounds, args.forks, args.inproc)
    text = json.dumps(results, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
