"""Run every benchmark and write ``benchmarks/README.md`` with the results.

Usage (from the repository root, with the dev venv's python)::

    python -m benchmarks.run_all [--n 10 100 1000] [--kfp-n 100 1000 10000]
        [--vertex-n 100 1000 10000] [--sagemaker-n 100 1000 10000] [--pipespec-rev REV]
        [--only-vertex | --only-sagemaker]

Steps, each a subprocess (the commands are printed into the README):

1. ``benchmarks.generate``: the N-step specs, then ``pipespec validate`` on them;
2. ``benchmarks.bench_compile --profile``: compile times in process and through the CLI;
3. ``benchmarks.bench_dagbag``: Airflow 3 parse times of pipespec's DAG, a hand-written DAG
   and dag-factory (building the Airflow venvs first if needed);
4. ``benchmarks.bench_kfp --profile``: pipespec's Kubeflow compile against kfp's DSL build +
   compile of the same pipeline, at the ``--kfp-n`` sizes (building the kfp venv first
   if needed);
5. ``benchmarks.bench_kfp --target vertex --profile``: the same for pipespec's Vertex target
   (the ML variant of the specs) against kfp + Google Cloud Pipeline Components, at the
   ``--vertex-n`` sizes;
6. ``benchmarks.bench_sagemaker --profile``: pipespec's SageMaker compile against the sagemaker
   SDK's ``Pipeline.definition()`` of the same pipeline, at the ``--sagemaker-n`` sizes.

``--only-vertex`` runs step 5 alone and replaces the README's Vertex section, leaving the other
sections as they are (the section then names its own run); ``--only-sagemaker`` does the same
with step 6 and the SageMaker section.
``--pipespec-rev REV`` benchmarks the pipespec package as committed at ``REV`` (``git archive``
into ``~/.cache/pipespec/bench/src/<sha>``, put first on ``PYTHONPATH``) instead of the working
tree, e.g. while uncommitted work is in progress. Raw results go to ``benchmarks/out/``
(git-ignored); work files (specs, DAG folders) to ``~/.cache/pipespec/bench/work``.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import shlex
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import (
    bench_kfp,
    bench_sagemaker,
    generate,
    kfp_report,
    sagemaker_report,
    vertex_report,
)

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
CACHE = Path("~/.cache/pipespec/bench").expanduser()


# --- environment -------------------------------------------------------------------------


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def pipespec_snapshot(rev: str) -> tuple[Path, str]:
    """Extract ``pipespec/`` as committed at ``rev``; returns (directory for PYTHONPATH, sha)."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    target = CACHE / "src" / sha[:12]
    if not (target / "pipespec" / "__init__.py").is_file():
        data = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", sha, "pipespec"],
            capture_output=True,
            check=True,
        ).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(target, filter="data")
    return target, sha


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def spec_stats(n: int) -> dict[str, int]:
    pipeline = generate.make_pipeline(n)
    return {
        "steps": len(pipeline.steps),
        "when": sum(1 for s in pipeline.steps if s.when is not None),
        "foreach": sum(1 for s in pipeline.steps if s.foreach is not None),
        "after": sum(len(s.after) for s in pipeline.steps),
        "fan_in": sum(1 for s in pipeline.steps if len(s.inputs) > 1),
        "gpu": sum(1 for s in pipeline.steps if s.gpu),
        "spec_bytes": len(generate.spec_yaml(pipeline).encode()),
    }


def _run(cmd: Sequence[str], env: dict[str, str], log: list[str], cwd: Path) -> str:
    """Run one step; ``cwd`` is outside the repo so that ``PYTHONPATH`` decides which
    ``pipespec`` is imported (``python -m`` puts the working directory first on sys.path)."""
    shown = " ".join(shlex.quote(c) for c in cmd)
    log.append(shown)
    print(f"[run_all] $ {shown}", file=sys.stderr, flush=True)
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"[run_all] failed ({proc.returncode}): {shown}")
    return proc.stdout


# --- README ----------------------------------------------------------------------------


STAGE_COLUMNS = ("load", "validate", "fill", "graph", "lower", "complete", "render")


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def _kb(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n >= 10240 else f"{n / 1024:.1f} KB"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}×"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _profile_lines(profile: dict[str, Any]) -> tuple[list[str], str]:
    """Top own-time rows, and a sentence naming the dominant pipespec function."""
    total = float(profile["profiled_s"])
    rows = [
        [f"`{e['function']}`", str(e["ncalls"]), _ms(e["tottime"]), f"{e['tottime'] / total:.0%}"]
        for e in profile["by_own_time"][:8]
    ]
    lines = _table(["function (own time)", "calls", "own time", "share"], rows)
    # The deepest pipespec function (not a comprehension) holding at least a quarter.
    heavy = [
        e
        for e in profile["by_cumulative"]
        if e["function"].startswith("pipespec/")
        and "(<" not in e["function"]
        and e["cumtime"] >= total / 4
    ]
    sentence = ""
    if heavy:
        deepest = min(heavy, key=lambda e: e["cumtime"])
        sentence = (
            f"The deepest pipespec function holding at least a quarter of the profiled time is "
            f"`{deepest['function']}` ({deepest['cumtime'] / total:.0%} cumulative; "
            f"calls: {deepest['ncalls']})."
        )
        top = profile["by_own_time"][0]
        if "string_span" in deepest["function"] and "splitlines" in top["function"]:
            sentence += (
                f" Its cost is `str.splitlines()` on the whole spec text, called "
                f"{top['ncalls']} times ({top['tottime'] / total:.0%} of the time): "
                "`compiler/graph.py::string_span` splits the full source once per "
                "`${...}` placeholder (it runs for every placeholder, valid or not, inside "
                "`_Checker._placeholders`), so the graph stage grows with placeholders × spec "
                "size, i.e. quadratically in N. Splitting once per spec (keep the lines on "
                "the checker or the `LoadedSpec`), or computing the span only when a "
                "diagnostic is actually emitted, should make it linear."
            )
    return lines, sentence


def _dagfactory_profile_shares(profile: dict[str, Any] | None) -> str:
    if not profile:
        return ""
    entries = profile["by_cumulative"]

    def cum(name: str) -> float | None:
        found = [float(e["cumtime"]) for e in entries if f"({name})" in e["function"]]
        return max(found) if found else None

    whole, load, dump = cum("load_yaml_dags"), cum("load_yaml_file"), cum("_serialise_config_md")
    if not whole or load is None or dump is None:
        return ""
    rest = whole - load - dump
    return (
        f"A cProfile of one dag-factory parse at the largest N splits `load_yaml_dags` into "
        f"`load_yaml_file` (PyYAML's pure-Python `FullLoader` + `__type__` casting) "
        f"{load / whole:.0%}, `_serialise_config_md` (a `yaml.dump` of the whole config back "
        f"into the DAG's `doc_md`, on every parse) {dump / whole:.0%}, and building the "
        f"operators and edges {rest / whole:.0%}."
    )


def _kfp_only_sizes(ctx: dict[str, Any]) -> str:
    """A sentence for the sizes only the Kubeflow benchmark compiles (no Airflow columns)."""
    airflow = set(ctx["dagbag"]["checks"])
    only = [n for n in sorted(ctx["specs"], key=int) if n not in airflow]
    if not only:
        return ""
    return f" N={', '.join(only)}: the Kubeflow benchmark only (section 3)."


def _kfp_machine(ctx: dict[str, Any]) -> str:
    kfp = ctx.get("kfp")
    if not kfp:
        return ""
    return (
        f"; kfp {kfp.get('kfp_version') or '?'} (`tests/conformance/locks/kfp.txt`: "
        "kfp-pipeline-spec 2.17.3, kfp-kubernetes 2.17.0)"
    )


def render_readme(ctx: dict[str, Any]) -> str:
    comp, bag, machine = ctx["compile"], ctx["dagbag"], ctx["machine"]
    sizes = [str(n) for n in ctx["sizes"]]
    big = sizes[-1]
    out: list[str] = [
        sagemaker_report.TITLE,
        "",
        "Generated by `benchmarks/run_all.py`; every number below comes from the run described "
        "in *Machine* (re-run the command to refresh this file). Timings are medians.",
        "",
        "What is measured:",
        "",
        "1. **compile**: how long pipespec takes to turn an N-step spec into an Airflow DAG file "
        "(in process, per stage, and through the CLI);",
        "2. **DagBag parse**: how long Airflow 3.3's DAG processor takes to parse the result, "
        "compared with (b) a hand-written DAG with the same KubernetesPodOperators, params and "
        "edges and (c) dag-factory building the same DAG from a YAML config;",
        "3. **Kubeflow compile**: how long pipespec takes to compile the spec to a Kubeflow "
        "Pipelines v2 IR file, against kfp's own SDK building and compiling the same pipeline "
        "from a DSL program;",
        "4. **Vertex compile**: the same for Vertex AI Pipelines, on an ML variant of the specs "
        "(custom training jobs, deploys), against kfp with Google Cloud Pipeline Components;",
        sagemaker_report.MEASURED_ITEM,
        "",
        "## Machine",
        "",
    ]
    out += [
        f"- {machine['nproc']} CPUs (`nproc`), {machine['cpu'] or 'unknown CPU'}, "
        f"{machine['memory_gib']} GiB RAM; {machine['platform']}",
        f"- Python {machine['python']} ({machine['implementation']}), for pipespec and for "
        f"the Airflow venvs; Airflow {', '.join(bag['airflow_versions'])} "
        "(`tests/conformance/locks/airflow3.txt`: cncf-kubernetes provider 10.25.0, standard "
        "provider 1.21.0); dag-factory 1.1.0 (`benchmarks/locks/airflow3-dagfactory.txt`)"
        + _kfp_machine(ctx),
        f"- pipespec {comp['pipespec_version']}: {ctx['source']}",
        f"- run on {ctx['date']}, {ctx['duration_s'] / 60:.0f} min in all; load average "
        f"{machine['loadavg_start']} at the start, {ctx['loadavg_end']} at the end (other "
        "processes share this machine; see the spreads below)",
        "",
        "## Commands",
        "",
        "Everything (from the repository root, with the dev venv's python; builds the Airflow "
        "and kfp venvs on first use, ≈30 s each):",
        "",
        "```bash",
        ctx["command"],
        "```",
        "",
        "which ran, in order:",
        "",
        "```bash",
        *ctx["commands"],
        "```",
        "",
        "`python -m benchmarks.venvs` builds only the venvs; each script takes `--help`.",
        "",
        "## The specs",
        "",
        "`benchmarks/generate.py` writes N `container` steps in segments of 50: an ingest step, "
        "a chain of transform steps each reading the previous step's `data` "
        "(`${inputs.data}` → `${outputs.data}`), a two-input join every 5th step (the first "
        "join of a segment also reads the previous segment), and per segment one `score` step "
        "with a `metrics` output, one `when: score_X.metrics.auc >= params.min_auc` step, one "
        "`foreach: [eu, us, apac]` step using `${item}`, `after:` edges, varied resources "
        "(one GPU step per segment) and env with `${params.run_date}`. All validate "
        "(`pipespec validate`) and compile as written (no step needs `fill`).",
        "",
    ]
    checks = bag["checks"]
    rows = []
    for n in sorted(ctx["specs"], key=int):
        st = ctx["specs"][n]
        ck = checks.get(n, {"tasks": "–", "edges": "–"})
        rows.append(
            [
                n,
                str(st["steps"]),
                str(st["when"]),
                str(st["foreach"]),
                str(st["fan_in"]),
                str(st["after"]),
                str(st["gpu"]),
                _kb(st["spec_bytes"]),
                str(ck["tasks"]),
                str(ck["edges"]),
            ]
        )
    out += _table(
        [
            "N",
            "steps",
            "`when:`",
            "`foreach`",
            "fan-in",
            "`after:`",
            "GPU",
            "spec",
            "Airflow tasks",
            "edges",
        ],
        rows,
    )
    out += [
        "",
        "Airflow tasks = steps + one `ShortCircuitOperator` per `when:`; the `foreach` steps "
        "are mapped KubernetesPodOperators." + _kfp_only_sizes(ctx),
        "",
        "## 1. Compile time (`benchmarks/bench_compile.py`)",
        "",
        "In process: `analyze_file` (load + validate + fill + graph + lower) + "
        "`check_complete` + `render_dag` (Airflow), called as `pipespec compile` calls them "
        f"(fill: {'yes' if comp['policy']['fill'] else 'not in this pipespec'}; cyclic GC "
        f"paused by `build()`: {'yes' if comp['policy']['gc_paused'] else 'no'}), after one "
        "warm-up run, median of "
        f"{len(comp['sizes'][big]['total_samples'])}; the stage columns come from separate "
        "runs with each of those functions wrapped in a timer (`fill` is the catalog/lock pass, "
        "a no-op on these complete specs). CLI: `python -m pipespec compile SPEC --target "
        "airflow --out TMP` as a new process "
        f"(interpreter start-up and imports included), median of "
        f"{len(comp['sizes'][big]['cli_compile_samples'])}.",
        "",
    ]
    rows = []
    for n in sizes:
        r = comp["sizes"][n]
        st = r["stages_s"]
        rows.append(
            [
                n,
                _kb(r["dag_bytes"]),
                _ms(r["total_s"]),
                *(_ms(st.get(s)) for s in STAGE_COLUMNS),
                _ms(r["cli_compile_s"]),
            ]
        )
    out += _table(
        [
            "N",
            "DAG file",
            "in process",
            *STAGE_COLUMNS,
            "CLI compile",
        ],
        rows,
    )
    same = all(comp["sizes"][n]["cli_output_matches_in_process"] for n in sizes)
    out += [
        "",
        f"`python -m pipespec --help`: {_ms(comp['cli_help_s'])}. The CLI's file is "
        f"byte-identical to the in-process render: {'yes' if same else 'NO'}.",
        "",
    ]
    prof_lines, prof_sentence = _profile_lines(comp["profile"])
    out += [
        f"### Profile at N={big} (cProfile, one warm in-process compile, "
        f"{_ms(comp['profile']['profiled_s'])} under the profiler)",
        "",
        *prof_lines,
        "",
    ]
    if prof_sentence:
        out += [prof_sentence, ""]

    out += [
        "## 2. DagBag parse time (`benchmarks/bench_dagbag.py`)",
        "",
        "Three files per N, one DAG folder each: **(a) pipespec**'s output; **(b) hand-written**: "
        "plain `KubernetesPodOperator(...)` calls (`.partial().expand(arguments=...)` for the "
        "fan-out), `ShortCircuitOperator` gates calling one small function, `Param`s and one "
        "`a >> b` line per edge (`benchmarks/baselines.py`, no pipespec helper); **(c) "
        "dag-factory**: a 4-line loader calling `load_yaml_dags` on a YAML config with the same "
        "tasks (`__type__` for timedeltas, `V1ResourceRequirements`, `V1Toleration`, `Param`; "
        "`dependencies:`; `expand:`).",
        "",
        "Equivalence, checked before timing with the conformance probe "
        "(`tests/conformance/dagbag_probe.py`): for every N the three DAGs have the same task "
        "ids, edges, operator classes, mapped tasks, params, schedule and timetable, load "
        "without import errors or warnings and survive serialization; at "
        f"N={sizes[0]} every KubernetesPodOperator's rendered template fields and pod spec are "
        f"equal too ({'yes' if checks[sizes[0]]['kpo_render_equal'] else 'NO'}). (The gates "
        "differ inside: pipespec compiles the condition into a function, the baselines pass "
        "`op_kwargs` to a generic one.)",
        "",
        "How it is timed (`benchmarks/dagbag_driver.py`, run by the Airflow venv's python): the "
        "way Airflow 3's DAG processor does it. A parent process imports "
        "`airflow.dag_processing.processor`, runs its `_pre_import_airflow_modules(file)` and "
        "imports the operator modules (`airflow.sdk`, the cncf-kubernetes pod operator, the "
        "standard python operators: a processor that has parsed other DAG files has them), "
        "then **forks one child per parse**; the child runs the three steps of "
        '`processor._parse_file`: the static "Dag version inflation" check '
        "(`check_dag_file_stability`, an AST walk of the file), the DagBag parse "
        "(`BundleDagBag(dag_folder=file, ...)`: executing the file) and serialization "
        "(`_serialize_dags`: `DagSerialization.to_dict` with JSON-schema validation), after an "
        "untimed `gc.collect()`: without it, whether and where the cyclic GC's full "
        "collections fall depends on counters inherited from the parent, which differ "
        "between variants for reasons unrelated to the file (*full GCs* counts them per "
        "step, check/parse/serialize; the no-`gc.collect()` controls below show the effect). "
        "*parse* is the DagBag step alone, *processor* the three together; *no pyc* is the "
        "first parse after the file changed (its `__pycache__` entry deleted, none written), "
        "the other columns reuse the `.pyc` like an unchanged file. *in-process* is a warm "
        f"repeated `BundleDagBag(...)` in the parent. Samples per cell: "
        f"{bag['results'][big]['pipespec']['samples']['forks']} fork parses "
        f"({bag['settings']['rounds']} rounds × {bag['settings']['forks']}, rounds interleaving "
        "all variants and sizes). (a) and (b) run in the `airflow3` conformance venv, (c) in "
        "`airflow3-dagfactory` (the same lock plus dag-factory).",
        "",
    ]
    rows = []
    labels = {
        "pipespec": "(a) pipespec",
        "handwritten": "(b) hand-written",
        "dagfactory": "(c) dag-factory",
    }
    for n in sizes:
        for key, label in labels.items():
            r = bag["results"][n][key]
            spread = r["parse_spread"]
            rows.append(
                [
                    n,
                    label,
                    _kb(r["source_bytes"]),
                    f"**{_ms(r['forks']['parse'])}**",
                    f"{_ms(spread['min'])}–{_ms(spread['max'])}",
                    _ms(r["forks_nopyc"]["parse"]),
                    _ms(r["forks"]["check"]),
                    _ms(r["forks"]["serialize"]),
                    _ms(r["forks"]["total"]),
                    _ms(r["inproc_warm"]["parse"]),
                    "/".join(f"{r['gen2'][k]:g}" for k in ("check", "parse", "serialize")),
                ]
            )
    out += _table(
        [
            "N",
            "DAG",
            "source",
            "parse",
            "parse min–max",
            "parse, no pyc",
            "stability check",
            "serialize",
            "processor",
            "in-process parse",
            "full GCs",
        ],
        rows,
    )
    out += [
        "",
        "Source = bytes Airflow reads (for dag-factory the loader plus the YAML config).",
        "",
        "### Ratios (a)/(b) and (a)/(c), same run",
        "",
        "Below 1 means pipespec's DAG is faster.",
        "",
    ]
    rows = []
    for n in sizes:
        ra = bag["ratios"][n]
        rows.append(
            [
                n,
                _x(ra["pipespec/handwritten:forks.parse"]),
                _x(ra["pipespec/handwritten:forks_nopyc.parse"]),
                _x(ra["pipespec/handwritten:forks.total"]),
                _x(ra["pipespec/dagfactory:forks.parse"]),
                _x(ra["pipespec/dagfactory:forks_nopyc.parse"]),
                _x(ra["pipespec/dagfactory:forks.total"]),
                _x(ra["pipespec/dagfactory:inproc_warm.parse"]),
            ]
        )
    out += _table(
        [
            "N",
            "(a)/(b) parse",
            "(a)/(b) parse, no pyc",
            "(a)/(b) processor",
            "(a)/(c) parse",
            "(a)/(c) parse, no pyc",
            "(a)/(c) processor",
            "(a)/(c) in-process parse",
        ],
        rows,
    )
    control_rows = []
    for n in sizes:
        per = bag["results"][n]
        control_rows.append(
            [
                n,
                _ms(per["pipespec"]["forks"]["parse"]),
                _ms(per["pipespec@dagfactory-venv"]["forks"]["parse"]),
                _ms(per["dagfactory"]["forks"]["parse"]),
                _ms(per["dagfactory@cold-provider"]["forks"]["parse"]),
                _ms(per["pipespec@no-gc-collect"]["forks"]["parse"]),
                _ms(per["pipespec@no-gc-collect"]["forks"]["total"]),
                _ms(per["dagfactory@no-gc-collect"]["forks"]["parse"]),
                _ms(per["dagfactory@no-gc-collect"]["forks"]["total"]),
            ]
        )
    out += [
        "",
        "Controls: pipespec's DAG parsed in the dag-factory venv (the venv does not matter), and "
        "dag-factory when the parent has pre-imported only what its loader file names (the "
        "processor pre-imports `airflow.*` imports found in the file; the loader has none, so "
        "on a processor that parses no other KubernetesPodOperator DAG every dag-factory "
        "parse also imports the cncf-kubernetes provider), and both without the untimed "
        "`gc.collect()` before each sample (parse and whole processor step):",
        "",
        *_table(
            [
                "N",
                "(a) parse",
                "(a) in dag-factory venv",
                "(c) parse",
                "(c), provider not pre-imported",
                "(a) no gc.collect",
                "(a) processor, no gc.collect",
                "(c) no gc.collect",
                "(c) processor, no gc.collect",
            ],
            control_rows,
        ),
        "",
    ]
    if ctx.get("kfp"):
        out += kfp_report.section(ctx["kfp"])
    if ctx.get("vertex"):
        out += vertex_report.section(ctx["vertex"])
    if ctx.get("sagemaker"):
        out += sagemaker_report.section(ctx["sagemaker"])
    out += [
        "## Interpretation",
        "",
    ]
    out += interpretation(ctx)
    if ctx.get("kfp"):
        out += kfp_report.interpretation(ctx["kfp"])
    out += [
        "",
        "## Files",
        "",
        "| file | what |",
        "| --- | --- |",
        "| `generate.py` | the N-step pipeline model and its pipespec spec (`python -m "
        "benchmarks.generate`) |",
        "| `baselines.py` | the same pipeline as a hand-written DAG and as a dag-factory "
        "config + loader |",
        "| `bench_compile.py` | compile times (in process, per stage, CLI) and `--profile` |",
        "| `bench_dagbag.py` | writes the three DAGs per N, checks they are equivalent, runs "
        "the driver in the Airflow venvs |",
        "| `dagbag_driver.py` | standalone, runs in an Airflow venv: fork-per-parse timing "
        "of `processor._parse_file`'s steps |",
        *kfp_report.FILES_ROWS,
        *vertex_report.FILES_ROWS,
        *sagemaker_report.FILES_ROWS,
        "| `venvs.py` | the `airflow3` and `kfp` conformance venvs and the "
        "`airflow3-dagfactory` venv (cache `~/.cache/pipespec/bench/venvs`) |",
        "| `locks/airflow3-dagfactory.txt` | the airflow3 lock plus `dag-factory==1.1.0` |",
        "| `run_all.py` | runs everything and writes this file |",
        "",
        "No test asserts on timings. `tests/test_bench_kfp.py` checks that the kfp programs "
        "have the spec's tasks and edges; `tests/conformance/test_bench_kfp.py` compiles them "
        "with kfp and compares the IR with pipespec's; `tests/conformance/test_bench_vertex.py` "
        "does the same for the kfp + GCPC programs and pipespec's Vertex IR; "
        + sagemaker_report.TEST_SENTENCE,
        "",
    ]
    return "\n".join(out)


def _gc_sentence(bag: dict[str, Any], sizes: Sequence[str]) -> str:
    """How much the whole processor step grows without the driver's gc.collect()."""

    def worst(kind: str) -> tuple[float, str]:
        growth = {
            n: bag["results"][n][f"{kind}@no-gc-collect"]["forks"]["total"]
            / bag["results"][n][kind]["forks"]["total"]
            for n in sizes
        }
        n = max(growth, key=lambda k: growth[k])
        return growth[n] - 1, n

    (c_pct, c_n), (a_pct, a_n) = worst("dagfactory"), worst("pipespec")
    return (
        " Without the untimed `gc.collect()` before each sample (the collector's state as the "
        f"parent left it), the whole processor step takes up to {c_pct:.0%} longer for "
        f"dag-factory (N={c_n}) and up to {a_pct:.0%} longer for pipespec (N={a_n}); PyYAML "
        "allocates many objects, so dag-factory's cost depends more on when the cyclic GC "
        "runs (and without it the check/parse split moves with the collections: compare "
        "totals there)."
    )


def interpretation(ctx: dict[str, Any]) -> list[str]:
    comp, bag = ctx["compile"], ctx["dagbag"]
    sizes = [str(n) for n in ctx["sizes"]]
    small, big = sizes[0], sizes[-1]
    c_big = comp["sizes"][big]
    stages = c_big["stages_s"]
    main_stage = max(stages, key=lambda s: stages[s])
    lines: list[str] = []
    scale = ""
    if len(sizes) >= 2:
        prev = sizes[-2]
        factor = int(big) / int(prev)
        grew = c_big["total_s"] / comp["sizes"][prev]["total_s"]
        before = comp["sizes"][prev]["stages_s"]
        growth = {k: v / before[k] for k, v in stages.items() if before.get(k, 0) > 1e-4}
        fastest = max(growth, key=lambda k: growth[k])
        scale = (
            f" From N={prev} to N={big} ({factor:.0f}× the steps) the in-process time grows "
            f"{grew:.0f}×; the fastest-growing stage is {fastest} ({growth[fastest]:.0f}×"
            + (
                ", superlinear: see the profile above)."
                if growth[fastest] > 2 * factor
                else "): no stage is superlinear."
            )
        )
    lines.append(
        f"- **Compile.** pipespec compiles the {big}-step spec in {_ms(c_big['total_s'])} in "
        f"process and {_ms(c_big['cli_compile_s'])} through the CLI (a {_kb(c_big['dag_bytes'])} "
        f"DAG file); at N={small} the CLI's {_ms(comp['sizes'][small]['cli_compile_s'])} is "
        "almost all start-up: the interpreter, the compile path's imports (pydantic, "
        "networkx, jsonschema, jinja2: `--help`, which imports none of them, takes "
        f"{_ms(comp['cli_help_s'])}) and first-use setup such as building the pydantic "
        f"validators, against {_ms(comp['sizes'][small]['total_s'])} for a warm in-process "
        f"compile. The largest stage at N={big} is **{main_stage}** "
        f"({stages[main_stage] / sum(stages.values()):.0%} of the stage sum).{scale}"
    )
    ab = [bag["ratios"][n]["pipespec/handwritten:forks.parse"] for n in sizes]
    ab_total = [bag["ratios"][n]["pipespec/handwritten:forks.total"] for n in sizes]
    same = all(0.9 <= r <= 1.1 for r in ab + ab_total)
    verdict = (
        "all within 10% of 1: the generated file costs Airflow what the hand-written one "
        "does. That is expected: it is the same operator calls with the same literal "
        "arguments; pipespec's extra code (a few helper functions, a compiled condition per "
        "gate, `expand_kwargs` with one dict per item) is defined once and is small next to "
        "constructing the operators."
        if same
        else "so the generated file and the hand-written one do not cost the same here: "
        "compare the parse and min–max columns above before drawing conclusions."
    )
    lines.append(
        f"- **pipespec vs hand-written.** Parse ratios (a)/(b) of {min(ab):.2f}–{max(ab):.2f} and "
        f"processor ratios of {min(ab_total):.2f}–{max(ab_total):.2f} across N, {verdict}"
    )
    ac = bag["ratios"][big]["pipespec/dagfactory:forks.parse"]
    ac_total = bag["ratios"][big]["pipespec/dagfactory:forks.total"]
    ac_small = bag["ratios"][small]["pipespec/dagfactory:forks.parse"]
    df_big = bag["results"][big]["dagfactory"]
    pp_big = bag["results"][big]["pipespec"]
    lines.append(
        f"- **pipespec vs dag-factory.** dag-factory's parse is {1 / ac:.1f}× slower at N={big} "
        f"({_ms(df_big['forks']['parse'])} vs {_ms(pp_big['forks']['parse'])}) "
        f"and {1 / ac_small:.1f}× at N={small}; for the whole processor step the factor is "
        f"{1 / ac_total:.1f}× at N={big}, because serialization costs the same for all three. "
        + _dagfactory_profile_shares(bag.get("profiles", {}).get(f"dagfactory:{big}"))
        + _gc_sentence(bag, sizes)
        + " dag-factory re-reads and re-dumps the YAML on every parse (the DAG processor "
        "re-parses each file every `min_file_process_interval`, 30 s by default), whereas "
        "pipespec does its YAML work once, at compile time, and the DAG processor only "
        "executes plain Python."
    )
    pp = bag["results"][big]["pipespec"]["forks"]
    nopyc = bag["results"][big]["pipespec"]["forks_nopyc"]["parse"]
    pyc_saving = (nopyc - pp["parse"]) / nopyc
    cold = bag["results"][small]["dagfactory@cold-provider"]["forks"]["parse"]
    warm = bag["results"][small]["dagfactory"]["forks"]["parse"]
    lines.append(
        f"- **Where the DAG processor's time goes.** For pipespec's N={big} file the processor "
        f"step is {_ms(pp['total'])}: serialization {pp['serialize'] / pp['total']:.0%}, parse "
        f"{pp['parse'] / pp['total']:.0%}, stability check {pp['check'] / pp['total']:.0%}. The "
        "check walks the file's AST, so it grows with the file; dag-factory's tiny loader "
        "avoids it, the one part of the processor where a 4-line file wins. The `.pyc` saves "
        f"{pyc_saving:.0%} of pipespec's parse at N={big} (the `no pyc` column): executing the "
        "module, i.e. building the operators, is the cost, more than compiling it. If the "
        "processor has not already imported the "
        f"cncf-kubernetes provider, each dag-factory parse pays for that import too "
        f"({_ms(cold)} instead of {_ms(warm)} at N={small})."
    )
    lines.append(
        "- **Caveats.** A 2-core machine shared with other work: spreads are shown, ratios "
        "between runs of the same session are more reliable than absolute numbers. One "
        "synthetic pipeline shape (KubernetesPodOperator only, one DAG per file); dag-factory "
        "was written with explicit per-task arguments like the other two (with `default_args` "
        "its YAML would be smaller; not measured), and its per-parse `yaml.dump` into "
        "`doc_md` is dag-factory's own behaviour. Memory was not measured."
    )
    return lines


# --- main --------------------------------------------------------------------------------


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _portable(text: str) -> str:
    """The repository as ``<repo>`` and the home directory as ``~``: true on any checkout."""
    return text.replace(str(REPO), "<repo>").replace(str(Path.home()), "~")


def _shown_command(argv: Sequence[str] | None) -> str:
    flags = list(argv if argv is not None else sys.argv[1:])
    return _portable(
        " ".join(
            ["cd", shlex.quote(str(REPO)), "&&", sys.executable, "-m", "benchmarks.run_all"]
            + [shlex.quote(f) for f in flags]
        )
    )


def _shown_commands(work: Path, env: dict[str, str], commands: Sequence[str]) -> list[str]:
    lines = [f"cd {work}", *(f"PYTHONPATH={env['PYTHONPATH']} {c}" for c in commands)]
    return [_portable(line) for line in lines]


def run_vertex(
    args: argparse.Namespace, env: dict[str, str], log: list[str], work: Path, out_dir: Path
) -> dict[str, Any]:
    """``bench_kfp --target vertex``; its JSON."""
    vertex_json = out_dir / "vertex.json"
    _run(
        [
            sys.executable, "-m", "benchmarks.bench_kfp", "--target", "vertex",
            "--n", *map(str, args.vertex_n), "--work", str(work),
            "--repeats", str(args.vertex_repeats), "--cli-repeats", str(min(args.cli_repeats, 3)),
            "--budget", str(args.vertex_budget), "--timeout", str(args.vertex_timeout),
            "--profile", "--json", str(vertex_json),
        ],
        env,
        log,
        work,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(vertex_json.read_text())
    expected = Path(env["PYTHONPATH"].split(os.pathsep)[0]) / "pipespec"
    if Path(result["pipespec_package"]).resolve() != expected.resolve():
        raise SystemExit(f"[run_all] measured {result['pipespec_package']}, expected {expected}")
    return result


def run_sagemaker(
    args: argparse.Namespace, env: dict[str, str], log: list[str], work: Path, out_dir: Path
) -> dict[str, Any]:
    """``bench_sagemaker``; its JSON."""
    sagemaker_json = out_dir / "sagemaker.json"
    _run(
        [
            sys.executable, "-m", "benchmarks.bench_sagemaker",
            "--n", *map(str, args.sagemaker_n), "--work", str(work),
            "--repeats", str(args.sagemaker_repeats),
            "--cli-repeats", str(min(args.cli_repeats, 3)),
            "--budget", str(args.sagemaker_budget), "--timeout", str(args.sagemaker_timeout),
            "--profile", "--json", str(sagemaker_json),
        ],
        env,
        log,
        work,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(sagemaker_json.read_text())
    expected = Path(env["PYTHONPATH"].split(os.pathsep)[0]) / "pipespec"
    if Path(result["pipespec_package"]).resolve() != expected.resolve():
        raise SystemExit(f"[run_all] measured {result['pipespec_package']}, expected {expected}")
    return result


def _own_run(
    result: dict[str, Any], started: float, machine: dict[str, Any], argv: Sequence[str] | None
) -> dict[str, Any]:
    """What a section run alone (``--only-...``) says about its run."""
    return {
        "date": _now(),
        "duration_s": time.monotonic() - started,
        "loadavg_start": machine["loadavg_start"],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "command": _shown_command(argv),
        **result,
    }


def _add_sagemaker_args(parser: argparse.ArgumentParser) -> None:
    sizes = list(bench_sagemaker.DEFAULT_SIZES)
    parser.add_argument("--sagemaker-n", type=int, nargs="+", default=sizes)
    parser.add_argument("--sagemaker-repeats", type=int, default=5)
    parser.add_argument("--sagemaker-budget", type=float, default=120.0, help="SDK: s per N")
    parser.add_argument("--sagemaker-timeout", type=float, default=900.0, help="SDK: s per run")
    parser.add_argument(
        "--only-sagemaker",
        action="store_true",
        help="run only the SageMaker benchmark and replace the README's SageMaker section",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run all pipespec benchmarks, write README")
    parser.add_argument("--n", type=int, nargs="+", default=list(generate.DEFAULT_SIZES))
    parser.add_argument("--pipespec-rev", default=None, help="benchmark pipespec as of REV")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--forks", type=int, default=5)
    parser.add_argument("--inproc", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cli-repeats", type=int, default=5)
    parser.add_argument("--kfp-n", type=int, nargs="+", default=list(bench_kfp.DEFAULT_SIZES))
    parser.add_argument("--kfp-repeats", type=int, default=5)
    parser.add_argument("--kfp-budget", type=float, default=120.0, help="kfp: seconds per N")
    parser.add_argument("--kfp-timeout", type=float, default=900.0, help="kfp: seconds per run")
    parser.add_argument("--vertex-n", type=int, nargs="+", default=list(bench_kfp.DEFAULT_SIZES))
    parser.add_argument("--vertex-repeats", type=int, default=5)
    parser.add_argument(
        "--vertex-budget", type=float, default=120.0, help="kfp+GCPC: seconds per N"
    )
    parser.add_argument(
        "--vertex-timeout", type=float, default=900.0, help="kfp+GCPC: seconds per run"
    )
    parser.add_argument(
        "--only-vertex",
        action="store_true",
        help="run only the Vertex benchmark and replace the README's Vertex section",
    )
    _add_sagemaker_args(parser)
    parser.add_argument("--readme", type=Path, default=BENCH / "README.md")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the README from benchmarks/out/run.json (the last run; with --only-vertex "
        "its Vertex section from vertex-run.json, with --only-sagemaker its SageMaker section "
        "from sagemaker-run.json) without measuring",
    )
    args = parser.parse_args(argv)
    if args.render_only and args.only_sagemaker:
        saved_sm: dict[str, Any] = json.loads((BENCH / "out" / "sagemaker-run.json").read_text())
        text = sagemaker_report.splice(args.readme.read_text(encoding="utf-8"), saved_sm)
        args.readme.write_text(text, encoding="utf-8")
        return 0
    if args.render_only and args.only_vertex:
        vertex: dict[str, Any] = json.loads((BENCH / "out" / "vertex-run.json").read_text())
        text = vertex_report.splice(args.readme.read_text(encoding="utf-8"), vertex)
        args.readme.write_text(text, encoding="utf-8")
        return 0
    if args.render_only:
        saved: dict[str, Any] = json.loads((BENCH / "out" / "run.json").read_text())
        args.readme.write_text(render_readme(saved), encoding="utf-8")
        return 0

    started = time.monotonic()
    machine = machine_info()
    sizes = [str(n) for n in args.n]
    work = CACHE / "work"
    out_dir = BENCH / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    paths = [str(REPO)]
    head = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--", "pipespec"))
    if args.pipespec_rev:
        snap, sha = pipespec_snapshot(args.pipespec_rev)
        paths.insert(0, str(snap))
        source = f"`pipespec/` as committed at `{sha[:12]}` (`--pipespec-rev {args.pipespec_rev}`)"
        if dirty:
            source += "; the working tree had uncommitted changes under `pipespec/`, not measured"
    else:
        source = f"the working tree at `{head[:12]}`" + (
            " with uncommitted changes under `pipespec/`" if dirty else ""
        )
    env["PYTHONPATH"] = os.pathsep.join(paths)
    expected_package = Path(paths[0]) / "pipespec"
    work.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    commands: list[str] = []
    n_args = [str(n) for n in args.n]
    all_sizes = sorted({*args.n, *args.kfp_n})
    specs_dir = work / "specs"
    if args.only_sagemaker:
        sagemaker = run_sagemaker(args, env, commands, work, out_dir)
        sagemaker["run"] = _own_run(
            {"source": source, "commands": _shown_commands(work, env, commands)},
            started,
            machine,
            argv,
        )
        (out_dir / "sagemaker-run.json").write_text(json.dumps(sagemaker, indent=2) + "\n")
        text = sagemaker_report.splice(args.readme.read_text(encoding="utf-8"), sagemaker)
        args.readme.write_text(text, encoding="utf-8")
        print(f"[run_all] wrote the SageMaker section of {args.readme}", file=sys.stderr)
        return 0
    if args.only_vertex:
        vertex = run_vertex(args, env, commands, work, out_dir)
        vertex["run"] = {
            "source": source,
            "date": _now(),
            "duration_s": time.monotonic() - started,
            "loadavg_start": machine["loadavg_start"],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "command": _shown_command(argv),
            "commands": _shown_commands(work, env, commands),
        }
        (out_dir / "vertex-run.json").write_text(json.dumps(vertex, indent=2) + "\n")
        text = vertex_report.splice(args.readme.read_text(encoding="utf-8"), vertex)
        args.readme.write_text(text, encoding="utf-8")
        print(f"[run_all] wrote the Vertex section of {args.readme}", file=sys.stderr)
        return 0

    _run(
        [python, "-m", "benchmarks.generate", "--n", *map(str, all_sizes), "--out",
         str(specs_dir)],
        env,
        commands,
        work,
    )  # fmt: skip
    spec_files = [str(specs_dir / f"{generate.pipeline_name(n)}.yaml") for n in all_sizes]
    _run([python, "-m", "pipespec", "validate", *spec_files], env, commands, work)
    compile_json = out_dir / "compile.json"
    _run(
        [
            python, "-m", "benchmarks.bench_compile", "--n", *n_args, "--work", str(work),
            "--repeats", str(args.repeats), "--cli-repeats", str(args.cli_repeats),
            "--profile", "--json", str(compile_json),
        ],
        env,
        commands,
        work,
    )  # fmt: skip
    measured = Path(json.loads(compile_json.read_text())["pipespec_package"])
    if measured.resolve() != expected_package.resolve():
        raise SystemExit(f"[run_all] measured {measured}, expected {expected_package}")
    dagbag_json = out_dir / "dagbag.json"
    _run(
        [
            python, "-m", "benchmarks.bench_dagbag", "--n", *n_args, "--work", str(work),
            "--rounds", str(args.rounds), "--forks", str(args.forks),
            "--inproc", str(args.inproc), "--json", str(dagbag_json),
        ],
        env,
        commands,
        work,
    )  # fmt: skip
    kfp_json = out_dir / "kfp.json"
    _run(
        [
            python, "-m", "benchmarks.bench_kfp", "--n", *map(str, args.kfp_n), "--work",
            str(work), "--repeats", str(args.kfp_repeats), "--cli-repeats",
            str(min(args.cli_repeats, 3)), "--budget", str(args.kfp_budget), "--timeout",
            str(args.kfp_timeout), "--profile", "--json", str(kfp_json),
        ],
        env,
        commands,
        work,
    )  # fmt: skip

    vertex = run_vertex(args, env, commands, work, out_dir)
    sagemaker = run_sagemaker(args, env, commands, work, out_dir)
    ctx: dict[str, Any] = {
        "sizes": sizes,
        "machine": machine,
        "source": source,
        "date": _now(),
        "duration_s": time.monotonic() - started,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "command": _shown_command(argv),
        "commands": _shown_commands(work, env, commands),
        "specs": {str(n): spec_stats(n) for n in all_sizes},
        "compile": json.loads(compile_json.read_text()),
        "dagbag": json.loads(dagbag_json.read_text()),
        "kfp": json.loads(kfp_json.read_text()),
        "vertex": vertex,
        "sagemaker": sagemaker,
    }
    (out_dir / "run.json").write_text(json.dumps(ctx, indent=2) + "\n", encoding="utf-8")
    args.readme.write_text(render_readme(ctx), encoding="utf-8")
    print(f"[run_all] wrote {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
