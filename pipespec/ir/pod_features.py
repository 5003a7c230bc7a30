"""Which steps use pod and run control (issue 10, item 4): the rules of those features,
keyed by the `Feature` member's name (features.py imports this module, so it cannot import
the enum back)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pipespec.spec.references import ArtifactRef, Placeholder

if TYPE_CHECKING:
    from pipespec.ir import Pipeline, Step


def _mapping_items(step: Step) -> bool:
    """Mapping items, or ${item.KEY} (items from a list param or output, read by key)."""
    fe = step.foreach
    if fe is None:
        return False
    if fe.items is not None and any(hasattr(item, "keys") for item in fe.items):
        return True
    argv = step.args if step.script is not None else step.command
    values = (*argv, *(value for _, value in step.env))
    return any(
        isinstance(seg, Placeholder) and seg.root == "item" and seg.name
        for value in values
        for seg in value
    )


def fans_in(step: Step, pipeline: Pipeline) -> bool:
    """The step reads an output of a `foreach` step: it receives every item's."""
    return any(
        isinstance(put.source, ArtifactRef) and pipeline.step(put.source.step).foreach is not None
        for put in step.inputs
    )


def _instance_param(step: Step, target: str | None) -> bool:
    names = [target] if target is not None else list(step.target_overrides)
    return any(
        isinstance(value, str) and value.startswith("${params.")
        for name in names
        for key, value in (step.target_overrides.get(name) or {}).items()
        if key in ("instance_type", "instance_count")
    )


def _instance_count(step: Step, target: str | None) -> bool:
    names = [target] if target is not None else list(step.target_overrides)
    return any((step.target_overrides.get(n) or {}).get("instance_count") for n in names)


def pod_rules(pipeline: Pipeline, target: str | None) -> dict[str, Callable[[Step], bool]]:
    """Feature member name -> whether a step uses it."""
    return {
        "RESOURCE_LIMITS": lambda s: (
            s.resources.cpu_limit is not None or s.resources.memory_limit_bytes is not None
        ),
        "NODE_SELECTOR": lambda s: bool(s.node_selector),
        "TOLERATIONS": lambda s: bool(s.tolerations),
        "SERVICE_ACCOUNT": lambda s: s.service_account is not None,
        # `cache: false` is what a target without caching does anyway.
        "CACHE": lambda s: s.cache is True,
        "FOREACH_PARALLELISM": lambda s: (
            s.foreach is not None and s.foreach.parallelism is not None
        ),
        "FOREACH_MAPPING_ITEMS": _mapping_items,
        "FOREACH_FAN_IN": lambda s: fans_in(s, pipeline),
        "INSTANCE_COUNT": lambda s: _instance_count(s, target),
        "INSTANCE_PARAMS": lambda s: _instance_param(s, target),
    }
