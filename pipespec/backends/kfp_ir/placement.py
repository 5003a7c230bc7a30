"""Which group holds each step's task: the nesting a kfp DSL author would write.

A step reading a conditioned step's output runs inside that step's ``dsl.If`` (KFP passes
a value out of a condition only through ``dsl.OneOf``; outside, the value would not exist
when the condition was false, which is also what Airflow does: the reader is skipped). A
step with a ``when:`` gets a condition group of its own inside that; ``else_of`` steps and
the step they are the else of share one if/else branches group; a ``foreach`` step (and a
tuned step's trials) runs in a loop group.
"""

from __future__ import annotations

from pipespec import ir
from pipespec.backends.kfp_ir.state import Build, StepPlace
from pipespec.backends.kfp_ir.wiring import Group
from pipespec.ir.features import runs_own_trials, runs_standard_tuning


def natively_tuned(step: ir.Step) -> bool:
    return runs_standard_tuning(step) or runs_own_trials(step)


def _is_ancestor(anc: Group, group: Group) -> bool:
    node: Group | None = group
    while node is not None:
        if node is anc:
            return True
        node = node.parent
    return False


def _visible_group(build: Build, step_id: str) -> Group:
    """The deepest group in which another step can read ``step_id``'s outputs."""
    task = build.outward_task(step_id)
    return build.wiring.holder[task]


def _one_of_sources(step: ir.Step) -> set[str]:
    return {
        ref.step
        for inp in step.inputs
        if isinstance(inp.source, ir.OneOf)
        for ref in inp.source.sources
    }


def _direct_reads(step: ir.Step) -> set[str]:
    """Steps whose outputs ``step`` reads other than through one_of (data, condition,
    foreach)."""
    found = {inp.source.step for inp in step.inputs if isinstance(inp.source, ir.ArtifactRef)}
    if step.condition is not None:
        found |= {r.step for r in ir.condition_refs(step.condition) if r.step is not None}
    if step.foreach is not None and step.foreach.ref is not None:
        found.add(step.foreach.ref.step)
    return found


def _base(build: Build, step: ir.Step) -> Group | None:
    """The deepest group every value ``step`` reads is visible in; None (after an error)
    when two of them sit in groups neither of which holds the other."""
    needed: list[Group] = [build.wiring.root]
    needed += [_visible_group(build, sid) for sid in sorted(_direct_reads(step))]
    for sid in sorted(_one_of_sources(step)):
        needed.append(build.branches_of(sid).parent or build.wiring.root)
    deepest = max(needed, key=lambda g: g.depth)
    for group in needed:
        if not _is_ancestor(group, deepest):
            build.error(
                step,
                f"step '{step.id}' reads outputs of steps under different conditions: KFP "
                "passes a conditioned step's output only to steps under the same dsl.If",
                "read them through one_of from the branches of one if/else, or give the "
                "steps one condition",
            )
            return None
    return deepest


def _branches_for(build: Build, step: ir.Step, base: Group) -> Group | None:
    """The if/else group of ``step`` (an if with else steps, or an else), made by the
    first of them placed."""
    head = step.else_of or step.id
    group = build.branches.get(head)
    if group is None:
        head_task = build.task_names[head]
        group = build.wiring.add_group(
            base, build.namer.take(f"condition-branches-{head_task}"), "branches"
        )
        build.branches[head] = group
    elif group.parent is None or not _is_ancestor(base, group.parent):
        build.error(
            step,
            f"step '{step.id}' and the other branches of '{head}' read values from "
            "different conditions: KFP's dsl.If/dsl.Else needs them in one place",
        )
        return None
    return group


def place_step(build: Build, step: ir.Step, has_else: bool) -> None:
    """Makes the groups around ``step`` and records where its task goes."""
    task = build.task_names[step.id]
    base = _base(build, step) or build.wiring.root
    group, condition = base, None
    if step.condition is not None:
        if step.else_of is not None or has_else:
            group = _branches_for(build, step, base) or base
        condition = build.wiring.add_group(
            group, build.namer.take(f"condition-{task}"), "condition"
        )
        group = condition
    place = StepPlace(task=task, home=group, condition=condition)
    if build.flavour.runs_trial_loop(step):
        place.trials_task = build.namer.take(f"{task}-trials")
    if build.flavour.picks_best_trial(step):
        place.best_task = build.namer.take(f"{task}-best")
    if place.trials_task is not None:
        build.wiring.add_task(group, place.trials_task, {})
    if place.best_task is not None:
        build.wiring.add_task(group, place.best_task, {})
    if step.foreach is not None or place.trials_task is not None:
        place.loop = build.wiring.add_group(group, build.namer.take(f"for-loop-{task}"), "loop")
        place.home = place.loop
    build.wiring.add_task(place.home, task, {})
    build.places[step.id] = place


def place_all(build: Build) -> None:
    """Step task names first (in pipeline order, so a step keeps its own name), then the
    groups of each step in pipeline order (producers before readers)."""
    for step in build.pipeline.steps:
        build.task_names[step.id] = build.namer.take(step.id)
    with_else = {s.else_of for s in build.pipeline.steps if s.else_of is not None}
    for step in build.pipeline.steps:
        place_step(build, step, step.id in with_else)
