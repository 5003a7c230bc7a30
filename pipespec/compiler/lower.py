"""Lowering: a checked spec and its graph become the frozen, ordered IR.

Defaults are applied here, field by field (a step's `resources: {gpu: 1}` keeps the
default cpu and memory; `env` merges, the step's keys winning), and every value records
where it came from.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath
from typing import Any

from pipespec import ir
from pipespec.compiler.facts import StepFacts
from pipespec.compiler.graph import PipelineGraph
from pipespec.compiler.lower_catalog import (
    serving_code,
    serving_images,
    target_images,
    target_requirements,
)
from pipespec.compiler.lower_pod import limits, merged_secrets, pod_fields
from pipespec.compiler.tracking import lower_tracking
from pipespec.compiler.tuning import trial_names
from pipespec.fill.info import FillInfo
from pipespec.spec import models, units
from pipespec.spec.references import ArtifactRef, ParamRef, split_placeholders
from pipespec.spec.semantics import step_kind
from pipespec.spec.serving import RUNS_IN_SERVING_IMAGE, serving_image
from pipespec.spec.validate import ValidatedSpec


def topological_order(pgraph: PipelineGraph) -> list[str]:
    import networkx as nx

    rank = {sid: i for i, sid in enumerate(pgraph.order)}
    return list(nx.lexicographical_topological_sort(pgraph.graph, key=rank.__getitem__))


def lower(vspec: ValidatedSpec, pgraph: PipelineGraph, fill: FillInfo | None = None) -> ir.Pipeline:
    fill = fill or FillInfo()
    spec = vspec.spec
    assert spec is not None, "lower() needs a fully valid spec"
    defaults = spec.defaults or models.Defaults()
    order = topological_order(pgraph)
    deps = dependencies(pgraph, {sid: i for i, sid in enumerate(order)})
    steps = tuple(
        _lower_step(
            sid, spec.steps[sid], defaults, pgraph.facts[sid], deps.get(sid, ()), vspec, fill
        )
        for sid in order
    )
    params = tuple(
        ir.Param(
            name,
            p.type,
            ir.freeze(p.default),
            p.description,
            None if p.enum is None else tuple(ir.freeze(v) for v in p.enum),
            p.pattern,
        )
        for name, p in (spec.params or {}).items()
    )
    secrets = tuple(
        ir.SecretRef(
            name,
            ir.FrozenMap(s.model_dump(exclude_none=True, exclude={"description"})),
        )
        for name, s in sorted((spec.secrets or {}).items())
    )
    # A null value means "not set", as everywhere in a spec: `airflow:` alone sets nothing.
    # Each block as written (its backend checked it against its options model).
    targets = ir.FrozenMap(
        {
            name: {key: value for key, value in block.items() if value is not None}
            for name, block in (spec.targets or {}).items()
            if block is not None
        }
    )
    return ir.Pipeline(
        name=spec.name,
        description=spec.description,
        schedule=spec.schedule,
        params=params,
        secrets=secrets,
        steps=steps,
        targets=targets,
        # As the default layout places it; `build` corrects it for `--out`.
        source_file="../" + PurePath(vspec.loaded.file).name,
        source_digest=hashlib.sha256(vspec.loaded.text.encode()).hexdigest(),
    )


def _lower_step(
    sid: str,
    step: models.StepBase,
    defaults: models.Defaults,
    facts: StepFacts,
    deps: tuple[ir.Dep, ...],
    vspec: ValidatedSpec,
    fill: FillInfo,
) -> ir.Step:
    provenance: dict[str, str] = {}

    def pick(name: str, own: Any, default: Any) -> Any:
        if own is not None:
            provenance[name] = "user"
            return own
        if default is not None:
            provenance[name] = "default"
            return default
        return None

    resources = _merge_resources(step.resources, defaults.resources, provenance)
    images = target_images(sid, fill, gpu=bool(resources.gpu or resources.accelerator))
    image = _image(sid, step, defaults, vspec, fill, images, provenance)
    retries = pick("retries", step.retries, defaults.retries)
    retry_delay = pick("retry_delay", step.retry_delay, defaults.retry_delay)
    timeout = pick("timeout", step.timeout, defaults.timeout)
    env = _merge_env(step, defaults, facts, provenance)
    for name in ("command", "script", "args", "description"):
        if getattr(step, name) is not None:
            provenance[name] = "user"
    details = lower_details(step)
    for name in details:
        provenance[name] = "user"
    provenance.update(fill.provenance.get(sid, {}))
    # Before the Step is built: these record their provenance too.
    pod = pod_fields(step, defaults, provenance)
    secrets = merged_secrets(step, defaults, provenance)
    env, secrets = lower_tracking(step, defaults, env, secrets, provenance)
    return ir.Step(
        id=sid,
        kind=step_kind(step),
        description=step.description,
        image=image,
        command=facts.command,
        script=facts.script,
        args=facts.args,
        env=env,
        secrets=secrets,
        inputs=tuple(
            ir.Input(name, source, facts.input_types.get(name, "artifact"))
            for name, source in facts.inputs.items()
        ),
        outputs=tuple(ir.Output(name, t) for name, t in facts.outputs.items()),
        upstream=tuple(dep.source for dep in deps),
        deps=deps,
        after=tuple(step.after or ()),
        condition=facts.condition,
        condition_text=_condition_text(step, vspec),
        foreach=_foreach(facts, step.parallelism),
        resources=resources,
        retries=retries if retries is not None else 0,
        retry_delay_s=units.parse_duration(retry_delay) if retry_delay else None,
        timeout_s=units.parse_duration(timeout) if timeout else None,
        details=details,
        target_images=ir.FrozenMap(images),
        target_requirements=ir.FrozenMap(target_requirements(sid, fill)),
        serving_images=ir.FrozenMap(serving_images(vspec, step)),
        serving_code=ir.FrozenMap(serving_code(vspec, step)),
        target_overrides=ir.FrozenMap(target_overrides(step)),
        provenance=ir.FrozenMap(dict(sorted(provenance.items()))),
        span=vspec.loaded.source_map.key_span(("steps", sid)),
        **pod,
        trigger=step.trigger or "all_success",
        else_of=step.else_of,
    )


def target_overrides(step: models.StepBase) -> dict[str, Any]:
    """The step's per-target settings as written (a setting left at its default, such as
    ``spot: false``, is not one), durations in seconds: ``max_wait`` becomes
    ``max_wait_s``, as ``timeout`` becomes ``timeout_s``."""
    if step.targets is None:
        return {}
    found: dict[str, Any] = step.targets.model_dump(exclude_none=True, exclude_defaults=True)
    for block in found.values():
        if "max_wait" in block:
            block["max_wait_s"] = units.parse_duration(block.pop("max_wait"))
    return found


def _condition_text(step: models.StepBase, vspec: ValidatedSpec) -> str | None:
    """The `when:` as written; an else step's is its branch's, negated (as its condition)."""
    if step.else_of is None:
        return step.when
    return f"not ({vspec.steps[step.else_of].when})"


def _image(
    sid: str,
    step: models.StepBase,
    defaults: models.Defaults,
    vspec: ValidatedSpec,
    fill: FillInfo,
    images: dict[str, str],
    provenance: dict[str, str],
) -> str | None:
    """The step's image: its own, the catalog's for a standard script, the serving image
    for a step that runs in it, else the default; its source goes into ``provenance``."""
    if step.image is not None:
        provenance["image"] = "user"
        return step.image
    image = _catalog_image(step, images) or defaults.image
    if image is not None:
        provenance["image"] = "default"
        if image != defaults.image:
            provenance["image"] = fill.provenance.get(sid, {}).get("image.kubernetes", "catalog")
    served = serving_image(step, vspec.steps) if step_kind(step) in RUNS_IN_SERVING_IMAGE else None
    if served is not None:
        # The serving image is the step's own choice: it wins over `defaults.image`.
        image, provenance["image"] = served, "serving_image"
    return image


def _catalog_image(step: models.StepBase, images: dict[str, str]) -> str | None:
    """The catalog's image for a step that runs a standard script, over `defaults.image`.

    pipespec wrote that code for the catalog's image (its framework's libraries); a team's
    default image is for the team's own code. A lock filled before this rule still records
    the catalog's image per target, so it applies without refilling.
    """
    if step.command is not None or not (step.script or "").startswith("pipespec:"):
        return None
    return images.get("kubernetes")


def _merge_env(
    step: models.StepBase,
    defaults: models.Defaults,
    facts: StepFacts,
    provenance: dict[str, str],
) -> tuple[tuple[str, tuple[ir.Segment, ...]], ...]:
    """`defaults.env` under the step's own `env`, the step's keys winning."""
    for key in {**(defaults.env or {}), **(step.env or {})}:
        provenance[f"env.{key}"] = "user" if key in (step.env or {}) else "default"
    env_facts = dict(facts.env)
    # Default env values were not placeholder-checked per step; split them here.
    for key, value in (defaults.env or {}).items():
        if key not in env_facts:
            env_facts[key] = tuple(split_placeholders(value)[0])
    return tuple(sorted(env_facts.items()))


def _foreach(facts: StepFacts, parallelism: int | None) -> ir.Foreach | None:
    if isinstance(facts.foreach, tuple):
        return ir.Foreach(items=ir.freeze(facts.foreach), parallelism=parallelism)
    if isinstance(facts.foreach, ParamRef):
        return ir.Foreach(param=facts.foreach.name, parallelism=parallelism)
    if isinstance(facts.foreach, ArtifactRef):
        return ir.Foreach(ref=facts.foreach, parallelism=parallelism)
    return None


def dependencies(pgraph: PipelineGraph, rank: dict[str, int]) -> dict[str, tuple[ir.Dep, ...]]:
    """Each step's incoming edges with their kinds, sources in pipeline order."""
    incoming: dict[str, list[ir.Dep]] = {}
    for (source, target), kinds in pgraph.edge_kinds().items():
        incoming.setdefault(target, []).append(ir.Dep(source, target, kinds))
    return {
        target: tuple(sorted(deps, key=lambda d: rank[d.source]))
        for target, deps in incoming.items()
    }


# --- the kinds' own fields, typed -------------------------------------------------------


def lower_details(step: models.StepBase) -> ir.Details:
    """The step kind's own fields as the IR's typed record (unset fields are None): what
    the spec set, nothing inherited (a model's serving image is resolved where it is used)."""
    if isinstance(step, (models.TrainStep, models.TuneStep)):
        return _train_details(step)
    if isinstance(step, (models.RegisterStep, models.BatchPredictStep)):
        return _registry_details(step)
    if isinstance(step, models.EvaluateStep):
        return ir.EvaluateDetails(
            task=step.task, metrics=tuple(step.metrics) if step.metrics is not None else None
        )
    if isinstance(step, models.IngestStep):
        src = step.source
        return ir.IngestDetails(
            None
            if src is None
            else ir.IngestSource(src.type, src.connection, src.query, src.uri, src.format)
        )
    if isinstance(step, models.DeployStep):
        end = step.endpoint
        return ir.DeployDetails(
            None
            if end is None
            else ir.Endpoint(
                end.name,
                end.instance_type,
                end.min_replicas,
                end.max_replicas,
                end.canary_traffic_percent,
            ),
            step.serving_image,
        )
    if isinstance(step, models.MonitorStep):
        drift = None if step.drift is None else ir.Drift(step.drift.metric, step.drift.threshold)
        return ir.MonitorDetails(drift, step.schedule)
    if isinstance(step, models.TransformStep):
        return ir.TransformDetails()
    if isinstance(step, models.FailStep):
        return ir.FailDetails(step.message)
    assert isinstance(step, models.ContainerStep), f"no details for {step_kind(step)} steps"
    return ir.ContainerDetails()


def _train_details(step: models.TrainStep | models.TuneStep) -> ir.Details:
    hyperparameters = None if step.hyperparameters is None else ir.FrozenMap(step.hyperparameters)
    if isinstance(step, models.TrainStep):
        return ir.TrainDetails(step.framework, step.task, hyperparameters, step.serving_image)
    objective = step.objective
    space = step.search_space
    return ir.TuneDetails(
        framework=step.framework,
        task=step.task,
        hyperparameters=hyperparameters,
        objective=None if objective is None else ir.Objective(objective.metric, objective.goal),
        search_space=None
        if space is None
        else ir.FrozenMap(
            {
                name: ir.SearchDimension(
                    d.type, d.min, d.max, None if d.values is None else tuple(d.values), d.scale
                )
                for name, d in space.items()
            }
        ),
        max_trials=step.max_trials,
        parallel_trials=step.parallel_trials,
        serving_image=step.serving_image,
        trial_values=_trial_values(step),
    )


def _trial_values(step: models.TuneStep) -> tuple[str, ...] | None:
    """The ${hyperparameters.NAME} names the step's command, args and env use, or None."""
    values = [*(step.command or ()), *(step.args or ()), *(step.env or {}).values()]
    names = trial_names(tuple(split_placeholders(v)[0]) for v in values)
    return tuple(names) or None


def _registry_details(step: models.RegisterStep | models.BatchPredictStep) -> ir.Details:
    if isinstance(step, models.BatchPredictStep):
        keep = None if step.keep_columns is None else tuple(step.keep_columns)
        return ir.BatchPredictDetails(keep, step.serving_image)
    return ir.RegisterDetails(
        model_group=step.model_group,
        approval=step.approval,
        parent_model=step.parent_model,
        tags=None if step.tags is None else ir.FrozenMap(step.tags),
        serving_image=step.serving_image,
    )


def _merge_resources(
    own: models.Resources | None,
    default: models.Resources | None,
    provenance: dict[str, str],
) -> ir.Resources:
    values: dict[str, Any] = {}
    for name in ("cpu", "memory", "gpu", "accelerator"):
        mine = getattr(own, name) if own is not None else None
        theirs = getattr(default, name) if default is not None else None
        if mine is not None:
            values[name], provenance[f"resources.{name}"] = mine, "user"
        elif theirs is not None:
            values[name], provenance[f"resources.{name}"] = theirs, "default"
    cpu = values.get("cpu")
    memory = values.get("memory")
    return ir.Resources(
        cpu=units.parse_cpu(cpu) if cpu is not None else None,
        memory_bytes=units.parse_quantity(memory) if memory is not None else None,
        gpu=int(values.get("gpu") or 0),
        accelerator=values.get("accelerator"),
        **limits(own, default),
    )
