"""The IR rewrites SageMaker needs before steps are built, since it has no loop and no join
of exclusive branches:

* a ``foreach`` step becomes one step per item, ``<id>-<index>``, its ``${item}`` and
  ``${item.KEY}`` written in as text. Items written in the spec are unrolled as they are; a
  list param is unrolled over its default (a run's own value of the param does not change
  the fan-out: the portability report says so); a list another step outputs is known only
  at run time: an error.
* a step with a ``one_of`` input becomes one step per alternative, ``<id>-<producer>``, each
  reading that producer's output: SageMaker runs a step only when every step it depends on
  ran, so the copy after the branch that did not run does not run either (the portability
  report says so). A step that others depend on cannot be split so: an error.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context


def item_text(value: Any) -> str:
    """An item as text in a command: a string as itself, anything else as compact JSON."""
    value = ir.thaw(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _fill_items(values: tuple[tuple[ir.Segment, ...], ...], item: Any) -> Any:
    return tuple(_fill_value(v, item) for v in values)


def _fill_value(value: tuple[ir.Segment, ...], item: Any) -> tuple[ir.Segment, ...]:
    found: list[ir.Segment] = []
    for seg in value:
        if isinstance(seg, ir.Placeholder) and seg.root == "item":
            chosen = item if seg.name is None else item[seg.name]
            found.append(ir.Text(item_text(chosen)))
        else:
            found.append(seg)
    return tuple(found)


def _items(ctx: Context, step: ir.Step, foreach: ir.Foreach) -> tuple[Any, ...] | None:
    if foreach.items is not None:
        return foreach.items
    if foreach.param is not None:
        param = next(p for p in ctx.pipeline.params if p.name == foreach.param)
        return tuple(param.default or ())
    ctx.error(step, (
        "foreach over another step's output is known only at run time: SageMaker has no "
        "loop to run it (fan out over items or a list param instead)"
    ))  # fmt: skip
    return None


def _copies(ctx: Context, step: ir.Step) -> list[ir.Step]:
    assert step.foreach is not None
    items = _items(ctx, step, step.foreach)
    if items is None:
        return []
    copies = [
        dataclasses.replace(
            step,
            id=f"{step.id}-{index}",
            foreach=None,
            command=_fill_items(step.command, item),
            args=_fill_items(step.args, item),
            env=tuple((name, _fill_value(value, item)) for name, value in step.env),
        )
        for index, item in enumerate(items)
    ]
    ctx.copies[step.id] = [c.id for c in copies]
    ctx.origin.update((c.id, step.id) for c in copies)
    return copies


def _alternatives(ctx: Context, step: ir.Step, readers: set[str]) -> list[ir.Step]:
    """One copy of ``step`` per producer of its ``one_of`` input."""
    choice = next(i for i in step.inputs if isinstance(i.source, ir.OneOf))
    assert isinstance(choice.source, ir.OneOf)
    if step.id in readers:
        ctx.error(step, (
            f"input '{choice.name}' is one_of and other steps depend on this step: "
            "SageMaker cannot rejoin exclusive branches (it runs a step only when every "
            "step it depends on ran)"
        ))  # fmt: skip
        return []
    producers = {s.step for s in choice.source.sources}
    found: list[ir.Step] = []
    for source in choice.source.sources:
        inputs = tuple(
            dataclasses.replace(i, source=source) if i is choice else i for i in step.inputs
        )
        skip = producers - {source.step}
        found.append(dataclasses.replace(
            step,
            id=f"{step.id}-{source.step}",
            inputs=inputs,
            deps=tuple(d for d in step.deps if d.source not in skip),
            upstream=tuple(u for u in step.upstream if u not in skip),
        ))  # fmt: skip
    ctx.origin.update((c.id, step.id) for c in found)
    return found


def unrolled(ctx: Context) -> list[ir.Step]:
    """The pipeline's steps as SageMaker runs them, in topological order."""
    readers = {dep for s in ctx.pipeline.steps for dep in s.upstream}
    found: list[ir.Step] = []
    for step in ctx.pipeline.steps:
        if step.foreach is not None:
            found.extend(_copies(ctx, step))
        elif any(isinstance(i.source, ir.OneOf) for i in step.inputs):
            found.extend(_alternatives(ctx, step, readers))
        else:
            found.append(step)
    return found
