"""The README's Vertex section, from ``bench_kfp.py --target vertex``'s JSON.

The tables are the Kubeflow section's (:mod:`benchmarks.kfp_report`), relabelled; the text
around them says what differs. Every number and verdict is computed from the results.
``run_all.py`` writes the section into the README, also alone (``--only-vertex``: the other
sections stay as they are), so the section names the run that produced it.
"""

from __future__ import annotations

from typing import Any

from benchmarks import kfp_report as kr

HEADING = "## 4. Vertex AI: compile time against kfp + Google Cloud Pipeline Components"
GOAL_N = "1000"


def _relabel(lines: list[str]) -> list[str]:
    return [line.replace("kfp, ", "kfp+GCPC, ") for line in lines]


def _run_lines(vertex: dict[str, Any]) -> list[str]:
    run = vertex.get("run")
    if not run:
        return []
    return [
        f"This section comes from its own run (pipespec: {run['source']}) on {run['date']} "
        f"({run['duration_s'] / 60:.0f} min; load average {run['loadavg_start']} at the start, "
        f"{run['loadavg_end']} at the end), the other sections from the run in *Machine*:",
        "",
        "```bash",
        run["command"],
        "```",
        "",
        "which ran:",
        "",
        "```bash",
        *run["commands"],
        "```",
        "",
        *([run["note"], ""] if run.get("note") else []),
    ]


def intro(vertex: dict[str, Any]) -> list[str]:
    s = vertex["settings"]
    imports = [r["import_s"] for e in vertex["sizes"].values() for r in e["kfp"].values()
               if "import_s" in r]  # fmt: skip
    return [
        "The specs: the ML variant of the benchmark specs (`python -m benchmarks.generate --ml`, "
        "`bench-ml-n<N>.yaml`): the same pipeline with a `vertex` target, every 8th step "
        "(offset 2) a `kind: train` step (the chain's train command without `--run-date`, also "
        "writing a `model`) "
        "and the last step of each 50-step segment a `kind: deploy` of the segment's last "
        "model to its own endpoint; so per 1000 steps 880 container steps, 100 custom jobs and "
        "20 deploys (each four tasks on Vertex). The plain specs of sections 1–3 are unchanged.",
        "",
        "**(a) pipespec**: `pipespec.api.build([spec], ['vertex'], None)`, what `pipespec "
        "compile SPEC --target vertex` computes (load, validate, fill, graph, lower, check, "
        "render the PipelineSpec and the job file) minus writing the files, timed as in "
        "section 3. **(b) kfp+GCPC**: the same pipeline as a kfp DSL program with GCPC 2.22 "
        "(`benchmarks/vertex_program.py`): container components as in section 3 without "
        "kfp-kubernetes (Vertex runs no pod settings) and with Vertex's accelerator type; "
        "each train step's container component made a custom job with "
        "`create_custom_training_job_from_component` (machine type, timeout, env); each "
        "deploy as a small container component making the model a "
        "`google.UnmanagedContainerModel`, `ModelUploadOp`, `EndpointCreateOp` and "
        "`ModelDeployOp`, named as pipespec names them with `set_display_name`. Table-driven "
        "and straight-line, compiled by `compiler.Compiler()` in the `kfp` conformance venv "
        "(`tests/conformance/locks/kfp.txt`: kfp 2.17.0, google-cloud-pipeline-components "
        f"2.22.0), a new process per style and N, median of up to {s['repeats']}, no new "
        f"sample once {s['budget']:.0f} s have gone by at a size, each process stopped after "
        f"{s['timeout']:.0f} s. *components* includes the `create_custom_training_job_from_"
        "component` calls. Importing kfp and GCPC "
        f"({kr._ms(min(imports)) if imports else '–'}) is not counted.",
        "",
    ]


def equivalence(vertex: dict[str, Any]) -> list[str]:
    checks = {n: e["equivalence"] for n, e in vertex["sizes"].items()}
    results = [c.get(style, {}) for c in checks.values() for style in kr.STYLE_LABELS]
    same = all(r.get("same", True) for r in results) and not any(
        "error" in c for c in checks.values()
    )
    identical = [c.get("styles_identical") for c in checks.values()]
    lines = [
        "Equivalence (both IR files read back in the kfp venv, tasks by their `taskInfo.name`): "
        "at every N that kfp finished, the same tasks (container tasks, custom jobs and the "
        "four tasks of each deploy), each waiting for the same tasks, and the same numbers of "
        f"components, executors, condition and loop groups and YAML documents: "
        f"**{'yes' if same else 'NO'}**"
        + (
            f"; the two kfp+GCPC styles compile to byte-identical files: "
            f"{'yes' if all(identical) else 'NO'}."
            if identical and None not in identical
            else "."
        ),
        "",
        "Not compared: the names of section 3, kfp's task keys for GCPC components "
        "(`model-upload-2`, ...), the helper's program, and the job file pipespec also writes.",
    ]
    for n, check in checks.items():
        for style, result in check.items():
            if isinstance(result, dict) and result.get("differences"):
                lines.append(f"- N={n}, {style}: " + "; ".join(result["differences"]))
    return [*lines, ""]


def pipespec_profile(vertex: dict[str, Any]) -> list[str]:
    n = vertex["settings"].get("profile_n")
    profile = vertex["sizes"].get(str(n), {}).get("pipespec", {}).get("profile")
    if not profile:
        return []
    total = float(profile["profiled_s"])
    rows = [[f"`{e['function']}`", str(e["ncalls"]), kr._ms(e["tottime"]),
             f"{e['tottime'] / total:.0%}"] for e in profile["by_own_time"][:10]]  # fmt: skip
    heavy = [
        e
        for e in profile["by_cumulative"]
        if e["function"].startswith("pipespec/backends/") and "(<" not in e["function"]
    ]
    cum = [f"`{e['function']}` {e['cumtime'] / total:.0%}" for e in heavy[:6]]
    return [
        f"### Profile of pipespec's Vertex compile at N={n} (cProfile, one warm compile, "
        f"{kr._ms(total)} under the profiler)",
        "",
        *kr._table(["function (own time)", "calls", "own time", "share"], rows),
        "",
        "The backend's functions by cumulative time: " + ", ".join(cum) + "." if cum else "",
        "",
    ]


def interpretation(vertex: dict[str, Any]) -> list[str]:
    goal = vertex["sizes"].get(GOAL_N)
    lines = []
    if goal is not None:
        p = goal["pipespec"]
        lines.append(
            f"- **Vertex at {GOAL_N} steps.** pipespec compiles the {GOAL_N}-step ML spec in "
            f"{kr._ms(p['total_s'])} in process and {kr._ms(p['cli_s'])} through the CLI; "
            + "; ".join(
                f"{kr._x(kr.ratio(goal, style))} faster than {label.replace('kfp', 'kfp+GCPC')}"
                for style, label in kr.STYLE_LABELS.items()
                if kr.ratio(goal, style) is not None
            )
            + "."
        )
    sizes = list(vertex["sizes"])
    per_step = [vertex["sizes"][n]["pipespec"]["total_s"] / int(n) for n in sizes]
    lines.append(
        "- **Vertex growth.** pipespec's time per step: "
        + ", ".join(f"{kr._us(t)} at N={n}" for t, n in zip(per_step, sizes, strict=True))
        + ". kfp+GCPC's compiler is kfp's, with the costs of section 3 (its time per task "
        "grows with N); `create_custom_training_job_from_component` adds a fixed cost per "
        "train step (the *components* column)."
    )
    return lines


def section(vertex: dict[str, Any]) -> list[str]:
    table, _ = kr.growth(vertex)
    return [
        HEADING + " (`benchmarks/bench_kfp.py --target vertex`)",
        "",
        *_run_lines(vertex),
        *intro(vertex),
        *equivalence(vertex),
        "Medians; ratio = kfp+GCPC's time / pipespec's (above 1: pipespec is faster).",
        "",
        *_relabel(kr.times_table(vertex)),
        "",
        "Where the time goes:",
        "",
        *_relabel(kr.parts_tables(vertex)),
        "",
        "Growth from one N to the next:",
        "",
        *_relabel(table),
        "",
        "Controls (as in section 3):",
        "",
        *_relabel(kr.controls_table(vertex)),
        "",
        *_relabel(kr.profile_lines(vertex)),
        *pipespec_profile(vertex),
        "### Vertex: what the numbers say",
        "",
        *interpretation(vertex),
        "",
    ]


def splice(readme: str, vertex: dict[str, Any]) -> str:
    """``readme`` with its Vertex section replaced (or put before *Interpretation*)."""
    text = "\n".join(section(vertex))
    start = readme.find(HEADING)
    end = readme.find("\n## Interpretation")
    if end < 0:
        raise ValueError("the README has no Interpretation section")
    if start < 0:
        start = end + 1
    return readme[:start] + text + "\n" + readme[end + 1 :]


FILES_ROWS = [
    "| `vertex_program.py` | the ML pipeline as a kfp + GCPC program (table-driven and "
    "straight-line) |",
    "| `vertex_report.py` | the Vertex section of this file |",
]
