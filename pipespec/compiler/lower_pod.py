"""Lowering of pod and run control: placement (node selector, tolerations, service
account), caching, secrets and resource limits, each merged with `defaults` (the step's own
value wins; a node selector and secrets merge per key, tolerations add up)."""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.spec import models, units


def pod_fields(
    step: models.StepBase, defaults: models.Defaults, provenance: dict[str, str]
) -> dict[str, Any]:
    """The ir.Step keyword arguments of pod and run control, with their provenance."""
    selector = {**(defaults.node_selector or {}), **(step.node_selector or {})}
    for key in selector:
        own = key in (step.node_selector or {})
        provenance[f"node_selector.{key}"] = "user" if own else "default"
    tolerations = [*(defaults.tolerations or ()), *(step.tolerations or ())]
    if tolerations:
        provenance["tolerations"] = "user" if step.tolerations else "default"
    out: dict[str, Any] = {
        "node_selector": ir.FrozenMap(selector),
        # Toleration fields as written (unset ones left out), in the model's field order.
        "tolerations": tuple(ir.FrozenMap(t.model_dump(exclude_none=True)) for t in tolerations),
    }
    for name in ("service_account", "cache"):
        own, default = getattr(step, name), getattr(defaults, name)
        if own is not None or default is not None:
            provenance[name] = "user" if own is not None else "default"
        out[name] = own if own is not None else default
    return out


def merged_secrets(
    step: models.StepBase, defaults: models.Defaults, provenance: dict[str, str]
) -> tuple[ir.SecretUse, ...]:
    """`defaults.secrets` under the step's own `secrets`, the step's variables winning."""
    merged = {**(defaults.secrets or {}), **(step.secrets or {})}
    # Only inherited ones are marked: a step's own secrets never had a provenance entry.
    for env in merged:
        if env not in (step.secrets or {}):
            provenance[f"secrets.{env}"] = "default"
    return tuple(ir.SecretUse(env, secret) for env, secret in sorted(merged.items()))


def limits(own: models.Resources | None, default: models.Resources | None) -> dict[str, Any]:
    """`resources.limits` merged field by field, as numbers (ir.Resources keywords)."""
    mine = own.limits if own is not None else None
    theirs = default.limits if default is not None else None
    cpu = next((x.cpu for x in (mine, theirs) if x is not None and x.cpu is not None), None)
    memory = next(
        (x.memory for x in (mine, theirs) if x is not None and x.memory is not None), None
    )
    return {
        "cpu_limit": units.parse_cpu(cpu) if cpu is not None else None,
        "memory_limit_bytes": units.parse_quantity(memory) if memory is not None else None,
    }
