"""The README's SageMaker section, from ``bench_sagemaker.py``'s JSON.

Every number and verdict is computed from the results. ``run_all.py`` writes the section into
the README, also alone (``--only-sagemaker``: the other sections stay as they are, and the
section names the run that produced it).
"""

from __future__ import annotations

import itertools
from typing import Any

from benchmarks import kfp_report as kr

TITLE = "# Benchmarks: pipespec's Airflow, Kubeflow, Vertex and SageMaker backends"
HEADING = "## 5. SageMaker: compile time against the sagemaker SDK's definition()"
MEASURED_ITEM = (
    "5. **SageMaker compile**: how long pipespec takes to compile the spec to a SageMaker "
    "pipeline definition, against the sagemaker SDK building the same pipeline and writing "
    "its `definition()`."
)
GOAL_N = "1000"
FILES_ROWS = [
    "| `bench_sagemaker.py` | SageMaker: pipespec's compile against the sagemaker SDK's "
    "`definition()`, equivalence check, controls |",
    "| `sagemaker_program.py` | the spec with a SageMaker target, and the same pipeline as a "
    "sagemaker SDK program (table-driven) |",
    "| `sagemaker_driver.py` | standalone, runs in the sagemaker venv: times a program's steps "
    "and `definition()` offline |",
    "| `sagemaker_report.py` | the SageMaker section of this file |",
]
TEST_SENTENCE = (
    "`tests/conformance/test_bench_sagemaker.py` builds the SDK program in the sagemaker venv "
    "and compares its definition with pipespec's SageMaker definition."
)


def sdk_total(entry: dict[str, Any], part: str = "total", config: str = "none") -> float | None:
    run = entry["sdk"].get(config, {})
    return run["median"][part] if "median" in run else None


def ratio(entry: dict[str, Any], part: str = "total") -> float | None:
    theirs = sdk_total(entry, part)
    return None if theirs is None else theirs / entry["pipespec"]["total_s"]


def _x(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}×" if value < 10 else f"{value:.0f}×"


def _run_lines(sm: dict[str, Any]) -> list[str]:
    run = sm.get("run")
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
    ]


def intro(sm: dict[str, Any]) -> list[str]:
    s = sm["settings"]
    imports = [e["sdk"]["none"]["import_s"] for e in sm["sizes"].values()
               if "import_s" in e["sdk"]["none"]]  # fmt: skip
    return [
        "The specs: the plain specs of sections 1-3 with `targets.sagemaker` (role ARN, "
        "region) in place of `targets.airflow` (`benchmarks/sagemaker_program.py`). pipespec "
        "compiles each container step to a Processing step (a `foreach` step to one per item), "
        "each `when:` to a ConditionStep holding the gated step, the score's `metrics` to a "
        "PropertyFile the condition reads with `JsonGet`.",
        "",
        "**(a) pipespec**: `pipespec.api.build([spec], ['sagemaker'], None)`, what `pipespec "
        "compile SPEC --target sagemaker` computes (load, validate, fill, graph, lower, check, "
        "render the definition and the upsert file) minus writing the files, in process after "
        "a warm-up compile of the N=10 spec, an untimed `gc.collect()` before each sample, "
        f"median of {s['repeats']}; *analyze* and *render* from separate runs as in section 3. "
        "**(b) the SDK**: the same pipeline as a sagemaker 2.x program "
        "(`benchmarks/sagemaker_program.py`, table-driven: the steps as a JSON table and one "
        "loop in `build(session)` making a `Processor`, `Processor.run(...)` as the "
        "`ProcessingStep`'s `step_args`, `ProcessingInput`s from the producers' `properties`, "
        "`ProcessingOutput`s to `Join`ed S3 URIs, a `PropertyFile`, `ConditionStep` + "
        "`JsonGet` + `ConditionGreaterThanOrEqualTo`, `depends_on` for `after:`, two retry "
        "policies), run by `benchmarks/sagemaker_driver.py` in the `sagemaker` conformance venv "
        "(`tests/conformance/locks/sagemaker.txt`: sagemaker "
        f"{sm.get('sagemaker_version') or '?'}), offline (a `PipelineSession` whose every AWS "
        "request and connection is refused and recorded: none were made), a new process per N, "
        f"after a warm-up run of the N=10 program, median of up to {s['repeats']}, no new "
        f"sample once {s['budget']:.0f} s have gone by, each process stopped after "
        f"{s['timeout']:.0f} s. *steps* is executing the program and `build(session)`, "
        "*definition* is `pipeline.definition()`; the SDK's warnings (one per step) are "
        "silenced, not timed. Importing the SDK "
        f"({kr._ms(min(imports)) if imports else '–'}) is not counted.",
        "",
        "**The size limit.** From about 300 steps on the definition is longer than "
        "CreatePipeline's inline `PipelineDefinition` (1,048,576 characters): pipespec's "
        "upsert file then names an S3 location for it (`PipelineDefinitionS3Location`), as "
        "the SDK's `upsert` does. Neither side's timing includes an upload.",
        "",
    ]


def equivalence(sm: dict[str, Any]) -> list[str]:
    checks = {n: e.get("equivalence") for n, e in sm["sizes"].items()}
    same = all(c is not None and c["same"] for c in checks.values())
    full = [n for n, c in checks.items() if c and c["normal_form"]]
    rows = []
    for n, c in checks.items():
        if c is None:
            rows.append([n, "–", "–", "–", "–", "not compared (the SDK did not finish)"])
            continue
        counts = c["counts"]
        rows.append([
            n,
            str(counts.get("Processing", 0)),
            str(counts.get("Condition", 0)),
            str(c["edges"]),
            "yes" if c["counts"] == c["sdk_counts"] else "NO",
            ("normal form: " if c["normal_form"] else "graph: ")
            + ("no difference" if c["same"] else "; ".join(c["differences"][:2])),
        ])  # fmt: skip
    return [
        "Equivalence, checked every run: both definitions in the normal form of "
        "`tests/conformance/sagemaker_normal_form.py` (the conformance suite's SDK "
        "equivalence: names and S3 prefixes aside, dependencies as a closed order, lists "
        "keyed by name, the SDK's default fields dropped; every other field compared) have "
        f"no difference at N = {', '.join(full) or '–'}; above that (the closure is "
        "quadratic) the same step names and types and each step's direct dependencies "
        "(`DependsOn`, `Get` references, its ConditionStep's) are compared: "
        f"**{'yes' if same else 'NO'}**.",
        "",
        *kr._table(
            ["N", "Processing steps", "ConditionSteps", "dependencies", "same counts", "result"],
            rows,
        ),
        "",
        "What differs, by design: pipespec writes `DependsOn` for data edges too (the SDK "
        "leaves them to the `Get` in the input), orders keys and lists its own way and writes "
        "its JSON indented (the SDK's `definition()` is compact: see the two sizes below); "
        "the comparison sets these aside.",
        "",
    ]


def times_table(sm: dict[str, Any]) -> list[str]:
    rows = []
    for n, e in sm["sizes"].items():
        p, none = e["pipespec"], e["sdk"]["none"]
        samples = str(len(none["samples"])) if "samples" in none else "0"
        sdk = (
            f"> {none['timeout_s']:.0f} s (timeout)"
            if "timeout_s" in none
            else kr._ms(sdk_total(e))
        )
        rows.append([
            n, kr._kb(e["spec_bytes"]),
            f"{kr._kb(p['definition_chars'])} / {kr._kb(none.get('definition_chars', 0))}",
            f"**{kr._ms(p['total_s'])}**", sdk, kr._ms(sdk_total(e, "steps")),
            kr._ms(sdk_total(e, "definition")), samples,
            f"**{_x(ratio(e))}**", _x(ratio(e, "definition")),
        ])  # fmt: skip
    return kr._table(
        [
            "N", "spec", "definition (pipespec / SDK)", "(a) pipespec", "(b) SDK: steps + "
            "definition()", "SDK steps", "SDK definition()", "SDK samples",
            "ratio (b)/(a)", "ratio definition()/(a)",
        ],
        rows,
    )  # fmt: skip


def parts_table(sm: dict[str, Any]) -> list[str]:
    rows = []
    for n, e in sm["sizes"].items():
        p = e["pipespec"]
        st = p["stages_s"]
        rows.append([n, "(a) pipespec", kr._ms(p["total_s"]), kr._us(p["total_s"] / int(n)),
                     f"analyze {kr._ms(st['analyze'])}, render {kr._ms(st['render'])}, "
                     f"other {kr._ms(st['other'])}"])  # fmt: skip
        total = sdk_total(e)
        if total is not None:
            rows.append([n, "(b) SDK", kr._ms(total), kr._us(total / int(n)),
                         f"steps {kr._ms(sdk_total(e, 'steps'))}, definition() "
                         f"{kr._ms(sdk_total(e, 'definition'))}"])  # fmt: skip
    return kr._table(["N", "compiler", "total", "per step", "parts"], rows)


def growth_table(sm: dict[str, Any]) -> list[str]:
    sizes = list(sm["sizes"])
    rows = []
    for a, b in itertools.pairwise(sizes):
        ea, eb = sm["sizes"][a], sm["sizes"][b]
        ours = eb["pipespec"]["total_s"] / ea["pipespec"]["total_s"]
        ta, tb = sdk_total(ea), sdk_total(eb)
        theirs = f"×{tb / ta:.1f}" if ta and tb else "–"
        rows.append([f"{a} → {b}", f"×{int(b) // int(a)}", f"×{ours:.1f}", theirs])
    return kr._table(["N", "steps", "(a) pipespec", "(b) SDK"], rows)


def _control_cell(run: dict[str, Any] | None) -> str:
    if run is None:
        return "–"
    if "timeout_s" in run:
        return f"> {run['timeout_s']:.0f} s (timeout)"
    return kr._ms(run["median"]["total"])


def controls_table(sm: dict[str, Any]) -> list[str]:
    rows = []
    for n, e in sm["sizes"].items():
        no_gc = e["sdk"].get("no-gc")
        gc_ratio = (
            _x(no_gc["median"]["total"] / e["pipespec"]["total_s"])
            if no_gc and "median" in no_gc
            else "–"
        )
        rows.append([n, kr._ms(sdk_total(e)), _control_cell(no_gc), gc_ratio,
                     _control_cell(e["sdk"].get("optout")),
                     kr._ms(e["pipespec"]["cli_s"])])  # fmt: skip
    return kr._table(
        ["N", "(b) SDK", "(b) SDK, cyclic GC paused", "ratio, GC paused",
         "(b) SDK with an SDK config (one run)", "(a) `pipespec compile` CLI"],
        rows,
    )  # fmt: skip


def _profile_rows(profile: dict[str, Any], top: int) -> list[str]:
    total = float(profile["profiled_s"])
    rows = [[f"`{e['function']}`", str(e["ncalls"]), kr._ms(e["tottime"]),
             f"{e['tottime'] / total:.0%}"] for e in profile["by_own_time"][:top]]  # fmt: skip
    return kr._table(["function (own time)", "calls", "own time", "share"], rows)


def _cumulative(profile: dict[str, Any], prefix: str, count: int) -> str:
    total = float(profile["profiled_s"])
    heavy = [
        e
        for e in profile["by_cumulative"]
        if e["function"].startswith(prefix) and "(<" not in e["function"]
    ]
    return ", ".join(f"`{e['function']}` {e['cumtime'] / total:.0%}" for e in heavy[:count])


def profiles(sm: dict[str, Any]) -> list[str]:
    n = sm["settings"].get("profile_n")
    entry = sm["sizes"].get(str(n), {})
    out: list[str] = []
    ours = entry.get("pipespec", {}).get("profile")
    if ours:
        out += [
            f"### Profile of pipespec's SageMaker compile at N={n} (cProfile, one warm compile, "
            f"{kr._ms(ours['profiled_s'])} under the profiler)",
            "",
            *_profile_rows(ours, 10),
            "",
            "The backend's functions by cumulative time: "
            + _cumulative(ours, "pipespec/backends/", 8)
            + ".",
            "",
        ]
    theirs = entry.get("sdk", {}).get("none", {}).get("profile")
    if theirs:
        out += [
            f"### Profile of the SDK at N={n} (cProfile, one run, "
            f"{kr._ms(theirs['profiled_s'])} under the profiler)",
            "",
            *_profile_rows(theirs, 8),
            "",
            "By cumulative time: " + _cumulative(theirs, "sagemaker/", 8) + ".",
            "",
        ]
    return out


def interpretation(sm: dict[str, Any]) -> list[str]:
    lines = []
    goal = sm["sizes"].get(GOAL_N)
    if goal is not None and ratio(goal) is not None:
        r, p = ratio(goal), goal["pipespec"]
        assert r is not None
        verdict = "faster" if r > 1 else "slower"
        no_gc = goal["sdk"].get("no-gc", {})
        paused = (
            f"; with the SDK's cyclic GC paused as pipespec's is, "
            f"{_x(no_gc['median']['total'] / p['total_s'])}"
            if "median" in no_gc
            else ""
        )
        lines.append(
            f"- **SageMaker at {GOAL_N} steps.** pipespec compiles the {GOAL_N}-step spec to "
            f"a SageMaker definition in {kr._ms(p['total_s'])} in process"
            + (f" and {kr._ms(p['cli_s'])} through the CLI" if p.get("cli_s") else "")
            + f"; the SDK builds the same pipeline and writes its definition in "
            f"{kr._ms(sdk_total(goal))} (`definition()` alone: "
            f"{kr._ms(sdk_total(goal, 'definition'))}): ratio **{_x(r)}**, pipespec "
            f"{verdict}{paused}. The gap is small next to sections 3 and 4: the SDK does "
            "little work per step (no tracing, no component specs, no protobuf, no YAML; it "
            "keeps the step objects and serialises their requests once), while pipespec also "
            "reads, validates and checks a YAML spec (*analyze*) before it renders."
        )
        lines += _profile_lines(sm)
    sizes = list(sm["sizes"])
    per = [
        f"{kr._us(sm['sizes'][n]['pipespec']['total_s'] / int(n))} / "
        + (kr._us(t / int(n)) if (t := sdk_total(sm["sizes"][n])) else "–")
        + f" at N={n}"
        for n in sizes
    ]
    lines.append("- **Time per step** (pipespec / SDK): " + ", ".join(per) + "." + _growth(sm))
    opt = [
        (n, e["sdk"]["optout"])
        for n, e in sm["sizes"].items()
        if "median" in e["sdk"].get("optout", {})
    ]
    if opt:
        n, run = opt[-1]
        t = sdk_total(sm["sizes"][n])
        lines.append(
            f"- **An SDK config file.** With any SDK defaults config (a config file, or the "
            f"`sagemaker_config=` the conformance programs pass to opt out of telemetry), the "
            f"SDK takes {kr._ms(run['median']['total'])} at N={n} instead of {kr._ms(t)}: "
            "each of the dozen defaults it looks up per step first validates the whole "
            "config against the SDK's JSON schema (`sagemaker.config.validate_sagemaker_config`"
            ", `jsonschema.validate`, which checks the schema itself each time)."
        )
    return lines


def _growth(sm: dict[str, Any]) -> str:
    """A sentence on pipespec's stage growing faster than the steps, if one does."""
    sizes = list(sm["sizes"])
    found = []
    for a, b in itertools.pairwise(sizes):
        before = sm["sizes"][a]["pipespec"]["stages_s"]
        after = sm["sizes"][b]["pipespec"]["stages_s"]
        factor = int(b) / int(a)
        for stage, t in after.items():
            if before.get(stage, 0) > 1e-3 and t / before[stage] > kr.LINEAR_SLACK * factor:
                found.append(f"*{stage}* ×{t / before[stage]:.1f} from N={a} to N={b}")
    if not found:
        return " pipespec's stages grow with the steps."
    return (
        " pipespec grows faster than the steps in "
        + ", ".join(found)
        + " (the steps grow ×10 each time): superlinear; see *Growth* above."
    )


def _share(profile: dict[str, Any], name: str) -> float | None:
    found = [e["cumtime"] for e in profile["by_cumulative"] if e["function"].endswith(name)]
    return max(found) / float(profile["profiled_s"]) if found else None


def _profile_lines(sm: dict[str, Any]) -> list[str]:
    """Where pipespec's own time goes, from its profile, and the definition's size."""
    n = sm["settings"].get("profile_n")
    entry = sm["sizes"].get(str(n), {})
    profile = entry.get("pipespec", {}).get("profile")
    out = []
    if profile:
        to_json, check = _share(profile, "(to_json)"), _share(profile, "(_check)")
        analyze = _share(profile, "(analyze)")
        if to_json is not None:
            out.append(
                f"- **Where pipespec's time goes** (profile at N={n}): writing the JSON, "
                f"`backends/emit.py:to_json`, {to_json:.0%} of the compile"
                + (f" (its `_check` walk of the document {check:.0%})" if check else "")
                + (f"; *analyze* (load, validate, graph, lower) {analyze:.0%}" if analyze else "")
                + ". `to_json` writes indented JSON (`indent=2`), for which the standard "
                "library uses its pure-Python encoder (`_iterencode_dict`/`_iterencode_list` "
                "above; the C encoder serves only `indent=None`), after `_check` has built a "
                "path string for every value of the document."
            )
    sdk = entry.get("sdk", {}).get("none", {})
    if sdk.get("definition_chars") and entry.get("pipespec"):
        ours = entry["pipespec"]["definition_chars"]
        per_ours, per_sdk = ours / int(n), sdk["definition_chars"] / int(n)
        limit = 1_048_576
        out.append(
            f"- **The definition's size.** pipespec's definition is "
            f"{ours / sdk['definition_chars']:.1f}× the SDK's ({per_ours:,.0f} against "
            f"{per_sdk:,.0f} characters per step), mostly its indentation. CreatePipeline's inline "
            f"limit is reached at about {limit / per_ours:,.0f} steps with pipespec's JSON and "
            f"{limit / per_sdk:,.0f} with compact JSON; beyond that both pass the definition "
            "through S3 (the SDK's `upsert`; pipespec's upsert file)."
        )
    return out


def section(sm: dict[str, Any]) -> list[str]:
    return [
        HEADING + " (`benchmarks/bench_sagemaker.py`)",
        "",
        *_run_lines(sm),
        *intro(sm),
        *equivalence(sm),
        "Medians; ratio = the SDK's time / pipespec's (above 1: pipespec is faster). "
        "Definition sizes in characters of each one's JSON.",
        "",
        *times_table(sm),
        "",
        "Where the time goes (*other*: `check_complete`, the output budget):",
        "",
        *parts_table(sm),
        "",
        "Growth from one N to the next:",
        "",
        *growth_table(sm),
        "",
        "Controls: the SDK with the cyclic GC paused during each run (pipespec's `build()` "
        "pauses it), the SDK with a non-empty SDK defaults config (the conformance programs' "
        "`TelemetryOptOut`), and pipespec's CLI from a new process (interpreter start-up and "
        "imports included; median of "
        f"{sm['settings']['cli_repeats']}):",
        "",
        *controls_table(sm),
        "",
        *profiles(sm),
        "### SageMaker: what the numbers say",
        "",
        *interpretation(sm),
        "",
    ]


def _ensure_line(text: str, anchor: str, line: str) -> str:
    """``line`` after the line starting with ``anchor``, unless ``text`` has it already."""
    if line in text or anchor not in text:
        return text
    start = text.index(anchor)
    end = text.index("\n", start)
    return text[: end + 1] + line + "\n" + text[end + 1 :]


def splice(readme: str, sm: dict[str, Any]) -> str:
    """``readme`` with its SageMaker section replaced (or put before *Interpretation*), and
    the title, the list of what is measured and the files table naming it."""
    text = "\n".join(section(sm))
    start = readme.find(HEADING)
    end = readme.find("\n## Interpretation")
    if end < 0:
        raise ValueError("the README has no Interpretation section")
    if start < 0:
        start = end + 1
    out = readme[:start] + text + "\n" + readme[end + 1 :]
    first, _, rest = out.partition("\n")
    if first.startswith("# Benchmarks"):
        out = TITLE + "\n" + rest
    out = out.replace(
        "against kfp with Google Cloud Pipeline Components.\n",
        "against kfp with Google Cloud Pipeline Components;\n",
    )
    out = _ensure_line(out, "4. **Vertex compile**", MEASURED_ITEM)
    for row in reversed(FILES_ROWS):
        out = _ensure_line(out, "| `vertex_report.py`", row)
    if TEST_SENTENCE not in out:
        out = out.replace(
            "pipespec's Vertex IR.\n", "pipespec's Vertex IR; " + TEST_SENTENCE + "\n", 1
        )
    return out
