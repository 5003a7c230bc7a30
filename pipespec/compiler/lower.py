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
from pipespec.compiler.graph import PipelineGraph
from pipespec.fill.info import FillInfo
from pipespec.fill.scripts import load_script
from pipespec.spec import models, units
from pipespec.spec.references import ArtifactRef, ParamRef
from pipespec.spec.semantics import step_kind
from pipespec.spec.validate import ValidatedSpec

_COMMON_FIELDS = set(models.StepBase.model_fields) | {"kind"}


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
    rank = {sid: i for i, sid in enumerate(order)}
    steps = tuple(
        _lower_step(sid, spec.steps[sid], defaults, pgraph, vspec, rank, fill) for sid in order
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
    targets = ir.FrozenMap(
        spec.targets.model_dump(exclude_unset=True, exclude_none=True)
        if spec.targets is not None
        else {}
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
    pgraph: PipelineGraph,
    vspec: ValidatedSpec,
    rank: dict[str, int],
    fill: FillInfo,
) -> ir.Step:
    facts = pgraph.facts[sid]
    provenance: dict[str, str] = {}

    def pick(name: str, own: Any, default: Any) -> Any:
        if own is not None:
            provenance[name] = "user"
            return own
        if default is not None:
            provenance[name] = "default"
            return default
        return None

    image = pick("image", step.image, defaults.image)
    retries = pick("retries", step.retries, defaults.retries)
    retry_delay = pick("retry_delay", step.retry_delay, defaults.retry_delay)
    timeout = pick("timeout", step.timeout, defaults.timeout)
    resources = _merge_resources(step.resources, defaults.resources, provenance)
    env_values = {**(defaults.env or {}), **(step.env or {})}
    for key in env_values:
        provenance[f"env.{key}"] = "user" if key in (step.env or {}) else "default"
    env_facts = dict(facts.env)
    if defaults.env:
        # Default env values were not placeholder-checked per step; split them here.
        from pipespec.spec.references import split_placeholders

        for key, value in defaults.env.items():
            if key not in env_facts:
                env_facts[key] = tuple(split_placeholders(value)[0])
    for name in ("command", "script", "args", "description"):
        if getattr(step, name) is not None:
            provenance[name] = "user"
    script = load_script(vspec.loaded.file, step.script) if step.script else None

    inputs = tuple(
        ir.Input(name, source, facts.input_types.get(name, "artifact"))
        for name, source in facts.inputs.items()
    )
    outputs = tuple(ir.Output(name, t) for name, t in facts.outputs.items())
    upstream = sorted(pgraph.graph.predecessors(sid), key=rank.__getitem__)

    foreach: ir.Foreach | None = None
    if isinstance(facts.foreach, tuple):
        foreach = ir.Foreach(items=ir.freeze(facts.foreach))
    elif isinstance(facts.foreach, ParamRef):
        foreach = ir.Foreach(param=facts.foreach.name)
    elif isinstance(facts.foreach, ArtifactRef):
        foreach = ir.Foreach(ref=facts.foreach)

    details = {
        name: value
        for name, value in step.model_dump(exclude_none=True).items()
        if name not in _COMMON_FIELDS
    }
    for name in details:
        provenance[name] = "user"
    provenance.update(fill.provenance.get(sid, {}))

    return ir.Step(
        id=sid,
        kind=step_kind(step),
        description=step.description,
        image=image,
        command=facts.command,
        script=script,
        args=facts.args,
        env=tuple(sorted(env_facts.items())),
        secrets=tuple(ir.SecretUse(env, s) for env, s in sorted((step.secrets or {}).items())),
        inputs=inputs,
        outputs=outputs,
        upstream=tuple(upstream),
        after=tuple(step.after or ()),
        condition=facts.condition,
        condition_text=step.when,
        foreach=foreach,
        resources=resources,
        retries=retries if retries is not None else 0,
        retry_delay_s=units.parse_duration(retry_delay) if retry_delay else None,
        timeout_s=units.parse_duration(timeout) if timeout else None,
        details=ir.FrozenMap(details),
        target_images=ir.FrozenMap(fill.target_images.get(sid, {})),
        target_overrides=ir.FrozenMap(
            step.targets.model_dump(exclude_none=True) if step.targets else {}
        ),
        provenance=ir.FrozenMap(dict(sorted(provenance.items()))),
        span=vspec.loaded.source_map.key_span(("steps", sid)),
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
    )
