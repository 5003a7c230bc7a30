"""Checks of pod and run control: resource limits against requests, `parallelism` without a
fan-out, `${item.KEY}` against literal mapping items, secrets named in `defaults`, and an
instance type or count chosen by a run-time param.

Each check runs on the validated models plus the source map, so every fault is reported at
the key the user wrote (`file:line:col`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pipespec.compiler.spot import spot_problems
from pipespec.compiler.tracking import tracking_problems
from pipespec.diagnostics import Diagnostic, did_you_mean
from pipespec.spec import models, units
from pipespec.spec.loader import NodePath, SourceMap

_PARAM_ONLY = re.compile(r"^\$\{params\.([a-z_][a-z0-9_]*)\}$")


def _merged(
    own: Any, default: Any, name: str, own_path: NodePath, default_path: NodePath
) -> tuple[Any, NodePath] | None:
    """A resources field after the `defaults` merge, with where it was written."""
    if own is not None and getattr(own, name) is not None:
        return getattr(own, name), own_path
    if default is not None and getattr(default, name) is not None:
        return getattr(default, name), default_path
    return None


def limit_problems(
    sid: str, step: models.StepBase, defaults: models.Defaults, smap: SourceMap
) -> list[Diagnostic]:
    """PS245: a cpu or memory limit below its request (Kubernetes rejects such a pod when it
    is created, at run time), after `defaults.resources` merged in field by field."""
    own, theirs = step.resources, defaults.resources
    out: list[Diagnostic] = []
    parse = {"cpu": units.parse_cpu, "memory": units.parse_quantity}
    for name, to_number in parse.items():
        request = _merged(
            own, theirs, name, ("steps", sid, "resources", name), ("defaults", "resources", name)
        )
        limit = _merged(
            own.limits if own else None,
            theirs.limits if theirs else None,
            name,
            ("steps", sid, "resources", "limits", name),
            ("defaults", "resources", "limits", name),
        )
        if request is None or limit is None:
            continue
        if to_number(limit[0]) < to_number(request[0]):
            out.append(
                Diagnostic(
                    "PS245",
                    f"step '{sid}': {name} limit {limit[0]} is below its request {request[0]}",
                    smap.span(limit[1]),
                    f"raise the limit to at least {request[0]}, or lower the request",
                    related=((smap.span(request[1]), "the request"),),
                )
            )
    return out


def parallelism_problem(sid: str, step: models.StepBase, smap: SourceMap) -> Diagnostic | None:
    """PS430: `parallelism` bounds a fan-out; without `foreach` it would silently mean
    nothing."""
    if step.parallelism is None or step.foreach is not None:
        return None
    return Diagnostic(
        "PS430",
        f"step '{sid}' sets `parallelism` but has no `foreach`",
        smap.key_span(("steps", sid, "parallelism")),
        "add `foreach:` or remove `parallelism` (a tune step uses `parallel_trials`)",
    )


def item_key_problem(foreach: Any, key: str | None) -> tuple[str, str] | None:
    """(message, hint) when ``${item.KEY}`` (or ``${item}``) cannot be read from literal
    items; None when it can, or when the items are known only at run time (a list param
    or output: their keys cannot be checked when compiling)."""
    if key is None or not isinstance(foreach, list):
        return None
    if not all(isinstance(item, dict) for item in foreach):
        return (
            f"${{item.{key}}} reads a key of a mapping item, but the foreach items are not "
            "mappings",
            "write ${item}, or make each item a mapping such as {region: eu}",
        )
    missing = [i for i, item in enumerate(foreach) if key not in item]
    if not missing:
        return None
    keys = sorted({k for item in foreach for k in item})
    if key in keys:
        hint = f"give every item a '{key}'"
    else:
        near = did_you_mean(key, keys)
        hint = near.replace("'", "'${item.", 1).replace("'?", "}'?") if near else ""
        hint = hint or f"the items have keys: {', '.join(keys)}"
    return (f"foreach item {missing[0] + 1} has no key '{key}'", hint)


def defaults_secret_problems(
    defaults: models.Defaults, secrets: Iterable[str], smap: SourceMap
) -> list[Diagnostic]:
    """PS211 for `defaults.secrets` naming no spec-level secret (as a step's own would)."""
    known = list(secrets)
    return [
        Diagnostic(
            "PS211",
            f"unknown secret '{secret}'",
            smap.span(("defaults", "secrets", env)),
            did_you_mean(secret, known) or "declare it under `secrets:`",
        )
        for env, secret in (defaults.secrets or {}).items()
        if secret not in known
    ]


def instance_problems(
    sid: str, step: models.StepBase, params: Mapping[str, str], smap: SourceMap
) -> list[Diagnostic]:
    """PS432: `instance_type`/`instance_count` of a per-target block that is a param
    placeholder must name a param of the right type; a count written as text must be one."""
    out: list[Diagnostic] = []
    for target, block in (step.targets.model_dump() if step.targets else {}).items():
        for field, wanted in (("instance_type", ("string",)), ("instance_count", ("int",))):
            value = (block or {}).get(field)
            if not isinstance(value, str):
                continue
            path: NodePath = ("steps", sid, "targets", target, field)
            m = _PARAM_ONLY.match(value)
            if m is None:
                if field == "instance_count":
                    out.append(_instance(path, smap, f"instance_count {value!r} is not a number"))
                continue
            ptype = params.get(m.group(1))
            if ptype is None:
                hint = did_you_mean(m.group(1), params) or "declare it under `params:`"
                out.append(_instance(path, smap, f"unknown param '{m.group(1)}'", hint))
            elif ptype not in wanted:
                out.append(
                    _instance(
                        path,
                        smap,
                        f"{field} reads params.{m.group(1)}, which is a {ptype}, not {wanted[0]}",
                        f"declare it as `{m.group(1)}: {{type: {wanted[0]}, ...}}`",
                    )
                )
    return out


def _instance(path: NodePath, smap: SourceMap, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(
        "PS432",
        message,
        smap.span(path),
        hint or 'write a number, or "${params.NAME}" of an int param',
    )


def written_defaults(data: Mapping[str, Any]) -> models.Defaults | None:
    """`defaults` as a model even when a step is invalid (and the whole spec is not a
    model): its faults were reported by validation."""
    from pydantic import ValidationError

    try:
        return models.Defaults.model_validate(data.get("defaults") or {})
    except ValidationError:
        return None


def pod_problems(
    steps: Mapping[str, models.StepBase],
    defaults: models.Defaults | None,
    secrets: Iterable[str],
    params: Mapping[str, str],
    smap: SourceMap,
) -> list[Diagnostic]:
    """Every pod and run control problem of the pipeline, in authoring order."""
    defaults = defaults or models.Defaults()
    secrets = list(secrets)
    out = defaults_secret_problems(defaults, secrets, smap)
    out.extend(tracking_problems(steps, defaults, secrets, smap))
    for sid, step in steps.items():
        out.extend(limit_problems(sid, step, defaults, smap))
        problem = parallelism_problem(sid, step, smap)
        if problem is not None:
            out.append(problem)
        out.extend(instance_problems(sid, step, params, smap))
        out.extend(spot_problems(sid, step, defaults, smap))
    return out
