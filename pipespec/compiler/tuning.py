"""Checks of `kind: tune` steps: a search space to draw trials from, and, for a step that
runs its own command, the way each trial gets its values (``${hyperparameters.NAME}``)
and reports its objective (its ``metrics`` output).

A tune step gets the catalog's search space only when it runs the catalog's train script
(whose arguments pipespec writes); a user's own command takes whatever arguments it takes,
so a search space from elsewhere would be a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipespec.compiler.facts import Edge, StepFacts
from pipespec.diagnostics import Diagnostic, Severity
from pipespec.spec import models
from pipespec.spec.references import Placeholder, Segment
from pipespec.spec.source_map import SourceMap
from pipespec.spec.validate import ValidatedSpec

STANDARD_TRAIN_SCRIPT = "pipespec:train"


def trial_names(values: Iterable[tuple[Segment, ...]]) -> list[str]:
    """The ``${hyperparameters.NAME}`` names these values use, first use first."""
    names = [
        str(seg.name)
        for value in values
        for seg in value
        if isinstance(seg, Placeholder) and seg.root == "hyperparameters"
    ]
    return list(dict.fromkeys(names))


def _fact_values(facts: StepFacts) -> list[tuple[Segment, ...]]:
    return [*facts.command, *facts.args, *(value for _, value in facts.env)]


def _catalog_space(step: models.TuneStep) -> bool:
    """The step runs (or fill will make it run) the catalog's train script, and the catalog
    has a search space for its framework and task."""
    from pipespec.fill.catalog import load_catalog

    framework, task = step.framework, step.task
    unwritten = step.command is None and step.script is None
    if framework is None or task is None:
        return False
    if not (step.script == STANDARD_TRAIN_SCRIPT or unwritten):
        return False
    catalog = load_catalog()
    try:
        return catalog.has_standard_scripts(framework) and bool(
            catalog.search_space(framework, task)
        )
    except KeyError:  # the catalog has no entry for this framework or task
        return False


def tune_problems(
    vspec: ValidatedSpec, facts: Mapping[str, StepFacts], edges: Iterable[Edge]
) -> list[Diagnostic]:
    """PS240-PS244 for every tune step, and for reads of a tune's best_hyperparameters."""
    smap = vspec.loaded.source_map
    raw_steps = vspec.loaded.data.get("steps")
    raw: Mapping[str, Any] = raw_steps if isinstance(raw_steps, dict) else {}
    diags: list[Diagnostic] = []
    runs_trials: set[str] = set()
    for sid, step in vspec.steps.items():
        if not isinstance(step, models.TuneStep) or sid not in facts:
            continue
        written = raw.get(sid)
        # The user's own text: fill may have added a search space the user never wrote.
        own_space = isinstance(written, dict) and bool(written.get("search_space"))
        if not own_space and not _catalog_space(step):
            diags.append(_no_search_space(sid, step, smap))
            continue
        if step.script == STANDARD_TRAIN_SCRIPT or (step.command is None and step.script is None):
            runs_trials.add(sid)  # the catalog's train script (once fill has run)
            continue
        used = trial_names(_fact_values(facts[sid]))
        if used:
            runs_trials.add(sid)
            diags.extend(_own_command_problems(sid, step, facts[sid], used, smap))
    diags.extend(_best_hyperparameter_reads(vspec, edges, runs_trials))
    return diags


def _no_search_space(sid: str, step: models.TuneStep, smap: SourceMap) -> Diagnostic:
    own = step.command is not None or (
        step.script is not None and not step.script.startswith("pipespec:")
    )
    why = (
        "it runs its own command, so the catalog's search space (written for its train "
        "script's arguments) does not apply"
        if own
        else "the catalog has no search space for its framework and task"
    )
    return Diagnostic(
        "PS240",
        f"tune step '{sid}' has no `search_space`: {why}",
        smap.key_span(("steps", sid)),
        "add `search_space:` with the dimensions to search, e.g. "
        "`lr: {type: float, min: 0.0001, max: 0.1, scale: log}`, and pass each to the "
        "command as ${hyperparameters.lr}",
    )


def _own_command_problems(
    sid: str, step: models.TuneStep, facts: StepFacts, used: list[str], smap: SourceMap
) -> list[Diagnostic]:
    """A tune step running its own command with ${hyperparameters.X}: the target runs its
    trials, so it needs what picks the best one, and every dimension should reach it."""
    diags: list[Diagnostic] = []
    base = ("steps", sid)
    missing = [name for name in ("objective", "max_trials") if getattr(step, name) is None]
    if missing:
        diags.append(
            Diagnostic(
                "PS241",
                f"tune step '{sid}' runs its own trials but has no "
                + " or ".join(f"`{m}`" for m in missing),
                smap.key_span(base),
                "add `objective: {metric: <key its metrics output writes>, goal: maximize}` "
                "and `max_trials: N`",
            )
        )
    if "metrics" not in facts.named_outputs:
        where = "args" if facts.script is not None else "command"
        diags.append(
            Diagnostic(
                "PS242",
                f"tune step '{sid}' never names ${{outputs.metrics}} in its {where} or env, "
                "so no trial reports the objective the best trial is picked by",
                smap.key_span((*base, where)),
                "pass ${outputs.metrics} to the command and have it write a JSON object "
                "with the objective's metric key there",
            )
        )
    for name in step.search_space or {}:
        if name not in used:
            diags.append(
                Diagnostic(
                    "PS243",
                    f"search dimension '{name}' of '{sid}' never reaches the command: every "
                    "trial runs with the same value of it",
                    smap.key_span((*base, "search_space", name)),
                    f"pass ${{hyperparameters.{name}}} to the command, or remove it",
                    severity=Severity.WARNING,
                )
            )
    return diags


def _best_hyperparameter_reads(
    vspec: ValidatedSpec, edges: Iterable[Edge], runs_trials: set[str]
) -> list[Diagnostic]:
    """A read of best_hyperparameters of a tune step whose trials no target runs (it
    passes no trial values to its command, so it runs once and nothing picks a best)."""
    diags: list[Diagnostic] = []
    for edge in edges:
        producer = vspec.steps.get(edge.upstream)
        if (
            isinstance(producer, models.TuneStep)
            and edge.output == "best_hyperparameters"
            and edge.upstream not in runs_trials
        ):
            diags.append(
                Diagnostic(
                    "PS244",
                    f"'{edge.upstream}' passes no ${{hyperparameters.NAME}} to its command, so "
                    "it runs once and has no best trial whose hyperparameters to read",
                    edge.span,
                    f"pass each search dimension to the command of '{edge.upstream}' as "
                    "${hyperparameters.NAME}",
                )
            )
    return diags
