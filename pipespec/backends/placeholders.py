"""The placeholder walk: one argument or env value of a step (a tuple of IR segments)
turned into a target's own values, by a per-backend ``Resolver``.

The walk decides *what* each ``${...}`` means (a run-time param, an input fed by a param,
a literal URI, another step's artifact or parameter output, the step's own output, the
current fan-out item); the resolver decides only *how* the target spells it. A new backend
subclasses ``Resolver`` and never re-implements the dispatch.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Generic, TypeVar

from pipespec import ir

T = TypeVar("T")
# A placeholder root the spec language has not: a backend's own task (a native deploy)
# asks for an input artifact's URI rather than its path in the container.
INPUT_URI = "input_uri"


class Resolver(ABC, Generic[T]):
    """How one target spells each kind of segment. ``T`` is what the target builds: a
    string for a templated field, a dict for a data target's reference, ..."""

    @abstractmethod
    def text(self, step: ir.Step, text: str) -> T:
        """Literal text between placeholders (escape it for the target here)."""

    @abstractmethod
    def param(self, step: ir.Step, name: str) -> T:
        """``${params.NAME}``: a run-time pipeline parameter."""

    def input_param(self, step: ir.Step, inp: ir.Input, source: ir.ParamRef) -> T:
        """``${inputs.X}`` where X is fed by a param; by default the param itself."""
        return self.param(step, source.name)

    @abstractmethod
    def input_literal(self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri) -> T:
        """``${inputs.X}`` where X is a literal URI written in the spec."""

    @abstractmethod
    def input_artifact(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> T:
        """``${inputs.X}`` where X is another step's artifact (a file or directory)."""

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> T:
        """``${inputs.X}`` where X is whichever of several steps' outputs was produced
        (exclusive branches). A target whose capability table lists ONE_OF_INPUT overrides
        this; the portability check stops every other target before it renders."""
        raise NotImplementedError(f"step '{step.id}': one_of inputs are not supported")

    def input_uri(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> T:
        """The artifact's URI in the target's store (s3://, gs://), where its path in the
        container is not one: what a service outside the task reads (KServe's
        storageUri). Never written in a spec: a backend's own task asks for it with a
        placeholder of root ``input_uri`` (``INPUT_URI``). By default the artifact's
        reference as ``input_artifact`` spells it (already a URI on Airflow)."""
        return self.input_artifact(step, inp, source)

    @abstractmethod
    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> T:
        """``${inputs.X}`` where X is another step's parameter or metrics output."""

    @abstractmethod
    def output(self, step: ir.Step, output: ir.Output) -> T:
        """``${outputs.NAME}``: where the step writes its own output."""

    def hyperparameter(self, step: ir.Step, name: str) -> T:
        """``${hyperparameters.NAME}``: one trial's value of a tune step's search dimension
        (the target runs the trials and fills it in for each). A target whose capability
        table lists TUNE_TRIAL_VALUES overrides this; the portability check stops every
        other target before it renders."""
        raise NotImplementedError(f"step '{step.id}': trial values are not supported")

    @abstractmethod
    def item(self, step: ir.Step) -> T:
        """``${item}``: the current fan-out item of a ``foreach:`` step."""

    def item_key(self, step: ir.Step, key: str) -> T:
        """``${item.KEY}``: one value of the current mapping item. A target whose
        capability table lists FOREACH_MAPPING_ITEMS overrides this."""
        raise NotImplementedError(f"step '{step.id}': ${{item.{key}}} is not supported")


def resolve(step: ir.Step, seg: ir.Placeholder, resolver: Resolver[T]) -> T:
    """One placeholder of ``step``. Validation guarantees every name it carries exists."""
    if seg.root == "item":
        return resolver.item(step) if seg.name is None else resolver.item_key(step, seg.name)
    name = str(seg.name)
    if seg.root == INPUT_URI:
        inp = step.input(name)
        if inp is None or not isinstance(inp.source, ir.ArtifactRef):
            raise KeyError(f"step '{step.id}' has no artifact input '{name}'")
        return resolver.input_uri(step, inp, inp.source)
    if seg.root == "params":
        return resolver.param(step, name)
    if seg.root == "hyperparameters":
        return resolver.hyperparameter(step, name)
    if seg.root == "outputs":
        return resolver.output(step, next(o for o in step.outputs if o.name == name))
    inp = step.input(name)
    if inp is None:  # the validator reports an unknown input before any backend runs
        raise KeyError(f"step '{step.id}' has no input '{name}'")
    source = inp.source
    if isinstance(source, ir.ParamRef):
        return resolver.input_param(step, inp, source)
    if isinstance(source, ir.LiteralUri):
        return resolver.input_literal(step, inp, source)
    if isinstance(source, ir.OneOf):
        return resolver.input_one_of(step, inp, source)
    if inp.is_parameter:  # a value the producer reports (the IR's one definition)
        return resolver.input_parameter(step, inp, source)
    return resolver.input_artifact(step, inp, source)


def walk(step: ir.Step, segments: Iterable[ir.Segment], resolver: Resolver[T]) -> list[T]:
    """Each segment of one value, resolved in order (the caller joins them)."""
    return [
        resolver.text(step, seg.text) if isinstance(seg, ir.Text) else resolve(step, seg, resolver)
        for seg in segments
    ]


def named_outputs(values: Iterable[Iterable[ir.Segment]]) -> set[str]:
    """The ``${outputs.NAME}`` names that these values (a step's argv and env) mention:
    an output the command never names is one nothing writes."""
    return {
        str(seg.name)
        for value in values
        for seg in value
        if isinstance(seg, ir.Placeholder) and seg.root == "outputs"
    }


_PARAM_VALUE_RE = re.compile(r"^\$\{params\.([a-z_][a-z0-9_]{0,62})\}$")


def param_of(value: object) -> str | None:
    """The param a per-target setting names when it is exactly ``${params.NAME}`` (an
    instance type or count chosen per run)."""
    match = _PARAM_VALUE_RE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None
