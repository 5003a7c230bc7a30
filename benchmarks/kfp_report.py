"""The README's Kubeflow section, from ``bench_kfp.py``'s JSON (``run_all.py`` calls it).

Every number and every verdict in the text (goal met or not, linear or not, where kfp's time
goes) is computed from the results, so a new run rewrites them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

STYLE_LABELS = {"table": "kfp, table-driven", "straight": "kfp, straight-line"}
GOAL_N = "1000"
GOAL_RATIO = 30.0
# Growth of time per step, from one N to the next, that still counts as linear (noise, GC).
LINEAR_SLACK = 1.5


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def _us(seconds: float) -> str:
    """A time per step."""
    return f"{seconds * 1e6:.0f} µs" if seconds < 0.001 else f"{seconds * 1000:.1f} ms"


def _kb(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024:.0f} KB" if n >= 10240 else f"{n / 1024:.1f} KB"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def kfp_total(entry: dict[str, Any], style: str) -> float | None:
    """kfp's median total at one N, None when it timed out."""
    run = entry["kfp"].get(style, {})
    return run["median"]["total"] if "median" in run else None


def ratio(entry: dict[str, Any], style: str) -> float | None:
    total = kfp_total(entry, style)
    return None if total is None else total / entry["pipespec"]["total_s"]


def _x(value: float | None) -> str:
    return "–" if value is None else (f"{value:.0f}×" if value >= 10 else f"{value:.1f}×")


def _kfp_cell(entry: dict[str, Any], style: str) -> str:
    run = entry["kfp"].get(style, {})
    if "timeout_s" in run:
        return f"> {_ms(run['timeout_s'])} (timeout)"
    return _ms(run["median"]["total"]) if "median" in run else "–"


def _samples(entry: dict[str, Any], style: str) -> str:
    run = entry["kfp"].get(style, {})
    return str(len(run["samples"])) if "samples" in run else "0"


def intro(kfp: dict[str, Any]) -> list[str]:
    s = kfp["settings"]
    import_s = [r["import_s"] for e in kfp["sizes"].values() for r in e["kfp"].values()
                if "import_s" in r]  # fmt: skip
    return [
        "Both compile the same spec to a KFP v2 IR file. **(a) pipespec**: `pipespec.api."
        "build([spec], ['kubeflow'], None)`, what `pipespec compile SPEC --target kubeflow` "
        "computes (load, validate, fill, graph, lower, check, render the PipelineSpec + "
        "PlatformSpec YAML and the schedule script) minus writing the files, in process after "
        "one warm-up compile of the N=10 spec, an untimed `gc.collect()` before each sample, "
        f"median of {s['repeats']}; *analyze* (load + validate + fill + graph + lower) and "
        "*render* (`api.render_target`: the backend) come from separate runs with those two "
        "wrapped in a timer. **(b) kfp**: the same pipeline as a kfp DSL program "
        "(`benchmarks/kfp_program.py`: one `@dsl.container_component` per step, "
        "`dsl.If` on the score's float output, `dsl.ParallelFor` over the literal list, "
        "`.after()`, `set_cpu_request`/`set_memory_request`/`set_memory_limit`, "
        "`set_accelerator_type`/`set_accelerator_limit`, `set_retry`, `set_env_variable`, "
        "`kubernetes.set_timeout`/`add_node_selector`/`add_toleration`), written two ways: "
        "*table-driven* (the steps as a JSON table and a loop over it in the pipeline "
        "function, as one builds a big pipeline from a config) and *straight-line* (one block "
        "of statements per task, as kfp's documentation writes pipelines and a code "
        "generator emits them). Timed by `benchmarks/kfp_driver.py` in the `kubeflow` "
        "conformance venv (`tests/conformance/locks/kfp.txt`), a new process per style "
        "and N: executing the components (*components*), the `@dsl.pipeline` decoration, "
        "which traces the function and builds the PipelineSpec (*trace*), and "
        "`compiler.Compiler().compile(pipeline, path)` writing the YAML (*compile*); the "
        "program is loaded as a module with its file (as `python pipeline.py` runs it; see "
        "the CLI control for `kfp dsl compile`), after one warm-up run of the N=10 program and "
        f"an untimed `gc.collect()` before each sample, median of up to {s['repeats']}, no "
        f"new sample once {s['budget']:.0f} s have gone by at a size, each process stopped "
        f"after {s['timeout']:.0f} s. `import kfp` "
        f"({_ms(min(import_s)) if import_s else '–'}) is not counted, as pipespec's imports "
        "are not.",
        "",
    ]


def equivalence(kfp: dict[str, Any]) -> list[str]:
    checks = {n: e["equivalence"] for n, e in kfp["sizes"].items()}
    same = all(c.get(style, {}).get("same", True) for c in checks.values() for style in
               STYLE_LABELS) and not any("error" in c for c in checks.values())  # fmt: skip
    identical = [c.get("styles_identical") for c in checks.values()]
    lines = [
        "Equivalence, checked before reporting (both IR files read back with PyYAML in the kfp "
        "venv): at every N that kfp finished, pipespec's IR and kfp's have the same container "
        "tasks, each waiting for the same container tasks (its `dependentTasks` and its "
        "groups'), and the same numbers of components, executors, condition groups, loop "
        f"groups and YAML documents: **{'yes' if same else 'NO'}**"
        + (
            "; the two kfp styles compile to byte-identical files: "
            f"{'yes' if all(identical) else 'NO'}."
            if identical and None not in identical
            else "."
        ),
        "",
        "Not compared, by design (see `benchmarks/kfp_program.py`): names a Python function "
        "cannot spell (kfp's `data_out` output and `run_date`/`item` inputs for pipespec's "
        "`data`, `param-run_date`, `loop-item`), kfp's numbered group names (`condition-1`, "
        "`for-loop-3`), the score's extra float output (kfp's `dsl.If` cannot read a key of "
        "a dict output; pipespec selects it from the STRUCT with "
        '`parseJson(string_value)["auc"]`), and the schedule script pipespec also renders.',
    ]
    for n, check in checks.items():
        for style, result in check.items():
            if isinstance(result, dict) and result.get("differences"):
                lines.append(f"- N={n}, {style}: " + "; ".join(result["differences"]))
    return [*lines, ""]


def times_table(kfp: dict[str, Any]) -> list[str]:
    rows = []
    for n, e in kfp["sizes"].items():
        p = e["pipespec"]
        rows.append(
            [
                n,
                _kb(e["spec_bytes"]),
                _kb(p["ir_bytes"]),
                f"**{_ms(p['total_s'])}**",
                *(_kfp_cell(e, style) for style in STYLE_LABELS),
                " / ".join(_samples(e, style) for style in STYLE_LABELS),
                *(f"**{_x(ratio(e, style))}**" for style in STYLE_LABELS),
            ]
        )
    return _table(
        [
            "N",
            "spec",
            "IR file",
            "(a) pipespec",
            "(b) kfp, table-driven",
            "(b) kfp, straight-line",
            "kfp samples (table / straight)",
            "ratio, table-driven",
            "ratio, straight-line",
        ],
        rows,
    )


def parts_tables(kfp: dict[str, Any]) -> list[str]:
    rows = []
    for n, e in kfp["sizes"].items():
        p, st = e["pipespec"], e["pipespec"]["stages_s"]
        rows.append([n, "(a) pipespec", _ms(p["total_s"]), _us(p["total_s"] / int(n)),
                     f"analyze {_ms(st['analyze'])}, render {_ms(st['render'])}, "
                     f"other {_ms(st['other'])}"])  # fmt: skip
        for style, label in STYLE_LABELS.items():
            run = e["kfp"].get(style, {})
            if "median" not in run:
                rows.append([n, label, _kfp_cell(e, style), "–", "–"])
                continue
            m = run["median"]
            rows.append([n, label, _ms(m["total"]), _us(m["total"] / int(n)),
                         f"components {_ms(m['components'])}, trace {_ms(m['trace'])}, "
                         f"compile {_ms(m['compile'])}"])  # fmt: skip
    return _table(["N", "compiler", "total", "per step", "parts"], rows)


def _growth_cell(ea: dict[str, Any], eb: dict[str, Any], style: str) -> tuple[float | None, str]:
    """kfp's growth factor from one size to the next, and how to write it."""
    ta, tb = kfp_total(ea, style), kfp_total(eb, style)
    if ta and tb:
        return tb / ta, f"×{tb / ta:.1f}"
    timeout = eb["kfp"].get(style, {}).get("timeout_s")
    if timeout and ta:
        return None, f"> ×{timeout / ta:.0f} (timeout)"
    return None, "–"


def growth(kfp: dict[str, Any]) -> tuple[list[str], dict[str, list[str]]]:
    """A table of how each time grows from one N to the next, and its cells per compiler."""
    sizes = list(kfp["sizes"])
    cells: dict[str, list[str]] = {"pipespec": [], **{s: [] for s in STYLE_LABELS}}
    rows = []
    for a, b in itertools.pairwise(sizes):
        ea, eb = kfp["sizes"][a], kfp["sizes"][b]
        cells["pipespec"].append(f"×{eb['pipespec']['total_s'] / ea['pipespec']['total_s']:.1f}")
        for style in STYLE_LABELS:
            cells[style].append(_growth_cell(ea, eb, style)[1])
        rows.append([f"{a} → {b}", f"×{int(b) / int(a):.0f}", *(cells[k][-1] for k in cells)])
    header = ["N", "steps", "(a) pipespec", *(f"(b) {v}" for v in STYLE_LABELS.values())]
    return _table(header, rows), cells


def controls_table(kfp: dict[str, Any]) -> list[str]:
    rows = []
    for n, e in kfp["sizes"].items():
        cli = e["kfp"].get("cli", {}).get("table_s")
        nogc = kfp_total(e, "table@no-gc")
        p_cli = e["pipespec"]["cli_s"]
        rows.append([n, _ms(kfp_total(e, "table")), _ms(nogc), _ms(p_cli), _ms(cli),
                     _x(cli / p_cli if cli and p_cli else None)])  # fmt: skip
    return _table(
        [
            "N",
            "kfp, table-driven",
            "same, cyclic GC paused",
            "(a) `pipespec compile` CLI",
            "(b) `kfp dsl compile --py` CLI, table-driven",
            "CLI ratio",
        ],
        rows,
    )


def _cum(profile: dict[str, Any], suffix: str) -> dict[str, Any] | None:
    found = [e for e in profile["by_cumulative"] if e["function"].endswith(suffix)]
    return max(found, key=lambda e: e["cumtime"]) if found else None


def profile_lines(kfp: dict[str, Any]) -> list[str]:
    n = kfp["settings"].get("profile_n")
    entry = kfp["sizes"].get(str(n)) if n is not None else None
    if entry is None:
        return []
    out: list[str] = []
    for style, label in STYLE_LABELS.items():
        profile = entry["kfp"].get(style, {}).get("profile")
        if not profile:
            continue
        total = float(profile["profiled_s"])
        rows = [[f"`{e['function']}`", str(e["ncalls"]), _ms(e["tottime"]),
                 f"{e['tottime'] / total:.0%}"] for e in profile["by_own_time"][:8]]  # fmt: skip
        out += [
            f"### Profile of {label} at N={n} (cProfile, one run, {_ms(total)} under the profiler)",
            "",
            *_table(["function (own time)", "calls", "own time", "share"], rows),
            "",
        ]
        sentence = _profile_sentence(profile, int(n))
        if sentence:
            out += [sentence, ""]
    return out


def _profile_sentence(profile: dict[str, Any], n: int) -> str:
    total = float(profile["profiled_s"])
    stack = _cum(profile, "(_ensure_container_spec_exists)")
    names = _cum(profile, "(sanitize_task_name)")
    parts = []
    if stack:
        parts.append(
            f"`inspect.stack()`, which every task setter calls (`PipelineTask."
            f"_ensure_container_spec_exists`, {stack['ncalls']} calls), takes "
            f"{stack['cumtime'] / total:.0%} of the run"
        )
    if names:
        parts.append(
            f"`utils.sanitize_task_name` runs {names['ncalls']:,} times for {n} tasks "
            f"({names['ncalls'] / n:.0f} per task, {names['cumtime'] / total:.0%} of the run)"
        )
    return ("In this profile, " + "; ".join(parts) + ".") if parts else ""


def section(kfp: dict[str, Any]) -> list[str]:
    table, _ = growth(kfp)
    return [
        "## 3. Kubeflow: compile time against kfp's own compiler (`benchmarks/bench_kfp.py`)",
        "",
        *intro(kfp),
        *equivalence(kfp),
        "Medians; ratio = kfp's time / pipespec's (above 1: pipespec is faster). IR file = "
        "pipespec's (kfp's differs by the names above).",
        "",
        *times_table(kfp),
        "",
        "Where the time goes (*other*: `check_complete`, the output budget):",
        "",
        *parts_tables(kfp),
        "",
        "Growth from one N to the next (linear: the same factor as the steps):",
        "",
        *table,
        "",
        "Controls: kfp with the cyclic GC paused during each run (pipespec's `build()` pauses "
        "it), and both CLIs from a new process (interpreter start-up and imports included; "
        f"pipespec median of {kfp['settings']['cli_repeats']}, kfp one run, where kfp's CLI "
        "imports the program with `__import__`):",
        "",
        *controls_table(kfp),
        "",
        *profile_lines(kfp),
    ]


def interpretation(kfp: dict[str, Any]) -> list[str]:
    return [
        *_goal_line(kfp),
        _growth_line(kfp),
        _why_kfp_grows(kfp),
        _cli_line(kfp),
        "- **Kubeflow caveats.** A 2-core machine shared with other work (load averages "
        "in *Machine*); ratios within one run are more reliable than absolute times. One "
        "synthetic pipeline shape, with one component per step in the kfp programs as in "
        "pipespec's IR (a hand-written kfp program might share one component between the "
        "steps of a role; not measured). kfp's time is for Python "
        f"{_kfp_python(kfp)}: its `inspect.stack()` cost depends on the interpreter. Memory "
        "was not measured.",
    ]


def _goal_line(kfp: dict[str, Any]) -> list[str]:
    goal = kfp["sizes"].get(GOAL_N)
    if goal is None:
        return []
    verdicts = []
    for style, label in STYLE_LABELS.items():
        r = ratio(goal, style)
        met = r is not None and r >= GOAL_RATIO
        verdicts.append(f"{_x(r)} against {label} ({'met' if met else 'NOT met'})")
    big = list(kfp["sizes"])[-1]
    at_big = ""
    if big != GOAL_N:
        at_big = f" At N={big}: " + "; ".join(
            f"{_x(ratio(kfp['sizes'][big], style))} against {label}"
            if ratio(kfp["sizes"][big], style) is not None
            else f"{label} {_kfp_cell(kfp['sizes'][big], style)}"
            for style, label in STYLE_LABELS.items()
        )
        at_big += "."
    return [
        f"- **Kubeflow goal: at least {GOAL_RATIO:.0f}× faster at {GOAL_N} steps.** pipespec "
        f"compiles the {GOAL_N}-step spec in {_ms(goal['pipespec']['total_s'])}: "
        + "; ".join(verdicts)
        + ". The table-driven program is the faster way to write a large pipeline for kfp, "
        "so its ratio is the one to judge the goal by; the ratio grows with N." + at_big
    ]


def _growth_line(kfp: dict[str, Any]) -> str:
    sizes = list(kfp["sizes"])
    _, cells = growth(kfp)
    per_step = [kfp["sizes"][n]["pipespec"]["total_s"] / int(n) for n in sizes]
    linear = all(
        float(cell.lstrip("×")) <= LINEAR_SLACK * int(b) / int(a)
        for cell, (a, b) in zip(cells["pipespec"], itertools.pairwise(sizes), strict=True)
    )
    return (
        "- **Kubeflow growth.** pipespec's time per step is "
        + ", ".join(f"{_us(t)} at N={n}" for t, n in zip(per_step, sizes, strict=True))
        + (
            f" (each ×10 in steps: {', '.join(cells['pipespec'])} in time): linear."
            if linear
            else ": NOT linear, see the growth table."
        )
        + " kfp's time grows faster than its number of tasks: "
        + "; ".join(
            f"{', '.join(cells[style])} for the {label.split(', ')[1]} program"
            for style, label in STYLE_LABELS.items()
        )
        + "."
    )


def _kfp_python(kfp: dict[str, Any]) -> str:
    for e in kfp["sizes"].values():
        for run in e["kfp"].values():
            if "python" in run:
                return str(run["python"])
    return "?"


def _why_kfp_grows(kfp: dict[str, Any]) -> str:
    n = kfp["settings"].get("profile_n")
    entry = kfp["sizes"].get(str(n)) if n is not None else None
    profiles = {s: (entry or {}).get("kfp", {}).get(s, {}).get("profile") for s in STYLE_LABELS}
    if not all(profiles.values()):
        return "- **Why kfp grows faster.** Not profiled in this run (`--profile`)."
    table, straight = profiles["table"], profiles["straight"]
    assert table is not None and straight is not None
    names = _cum(table, "(sanitize_task_name)")
    struct = _cum(table, "(_SetStructValue)")
    stack_t = _cum(table, "(_ensure_container_spec_exists)")
    stack_s = _cum(straight, "(_ensure_container_spec_exists)")
    if not (names and struct and stack_t and stack_s):
        return "- **Why kfp grows faster.** The profile does not show the expected functions."
    return (
        "- **Why kfp grows faster.** Two steps of kfp's compiler do work proportional to N "
        f"for each task or group, so N² in all (profiles above, N={n}): (1) for every task "
        "in a DAG, `pipeline_spec_builder.build_spec_by_group` rebuilds the list of the "
        "sanitized names of all tasks in that DAG (`tasks_in_current_dag`), and these "
        f"pipelines have most of their tasks in the root DAG: {names['ncalls']:,} "
        f"`sanitize_task_name` calls for {n} tasks; (2) after each group (the root, and every "
        "condition and loop group: two per 50 steps here) it converts the whole deployment "
        "config gathered so far and merges it into the PipelineSpec again "
        "(`deployment_spec.update(json_format.MessageToDict(deployment_config))`): "
        f"{struct['ncalls']:,} protobuf Struct value sets. A third cost hits the straight-line "
        "style: every task setter (`set_cpu_request`, `set_env_variable`, ...) calls "
        "`inspect.stack()`, which on Python 3.11+ finds each frame's position by walking "
        "its code object's positions up to the current instruction, so its cost grows with "
        "the size of the calling function; the straight-line pipeline function grows with "
        "N, the table-driven one does not. That is "
        f"{stack_s['cumtime'] / float(straight['profiled_s']):.0%} of the straight-line run "
        f"and {stack_t['cumtime'] / float(table['profiled_s']):.0%} of the table-driven one. "
        "pipespec builds the IR as plain dicts in one pass over the steps."
    )


def _cli_line(kfp: dict[str, Any]) -> str:
    rows = [
        (n, e["kfp"]["cli"]["table_s"], e["kfp"]["table"], e["pipespec"]["cli_s"])
        for n, e in kfp["sizes"].items()
        if e["kfp"].get("cli", {}).get("table_s") and "median" in e["kfp"].get("table", {})
    ]
    if not rows:
        return "- **Kubeflow CLI.** Not measured in this run."
    n, cli, run, p_cli = rows[-1]
    in_process = run["import_s"] + run["bytecode_s"] + run["median"]["total"]
    return (
        f"- **Kubeflow CLI.** From a new process at N={n}: `pipespec compile` {_ms(p_cli)}, "
        f"`kfp dsl compile --py` {_ms(cli)} ({_x(cli / p_cli)}). kfp's CLI takes "
        f"{cli / in_process:.1f}× its in-process time plus `import kfp` and byte-compiling "
        f"the program ({_ms(in_process)}): it loads the program with `__import__`, and with "
        "importlib's frozen frames on the stack each `inspect.stack()` in a task setter "
        "also scans every loaded module (`inspect.getmodule` finds no module for those "
        "frames' file names), a cost `python pipeline.py` does not pay."
    )


FILES_ROWS = [
    "| `bench_kfp.py` | Kubeflow: pipespec's compile against kfp's DSL build + compile, "
    "equivalence check, controls |",
    "| `kfp_program.py` | the same pipeline as a kfp DSL program (table-driven and "
    "straight-line) |",
    "| `kfp_driver.py` | standalone, runs in the kfp venv: times a program's components, "
    "tracing and compile; reads IR files back for the equivalence check |",
    "| `kfp_report.py` | the Kubeflow section of this file |",
]
