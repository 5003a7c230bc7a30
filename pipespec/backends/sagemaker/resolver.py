"""How a SageMaker job spells a step's placeholders and finds its inputs: shared by
Processing and Training steps, which differ only in the folders SageMaker mounts.

An input ``x`` is a folder ``<root>/x`` (``/<index>`` below it per copy of an unrolled
foreach producer); a value another step reported is the JSON file in that folder, read by
the launcher when the job starts; a value SageMaker resolves itself (a model package ARN)
is its ``Get``, with no folder at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipespec import ir
from pipespec.backends.placeholders import Resolver
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.launch import ValueFile
from pipespec.backends.sagemaker.parameters import param_ref


def sources(ctx: Context, source: ir.ArtifactRef) -> list[tuple[str, Ref]]:
    """The producer entries behind one reference: one, or one per copy of an unrolled
    foreach step (a fan-in), as (suffix of the local folder, reference)."""
    copies = ctx.copies.get(source.step)
    if copies is None:
        return [("", ctx.ref(source.step, source.output))]
    return [(f"/{i}", ctx.ref(c, source.output)) for i, c in enumerate(copies)]


def is_direct(ref: Ref) -> bool:
    """A value output SageMaker resolves as it is (``Get Steps.<id>.ModelPackageArn``),
    rather than a JSON file in an output folder."""
    return ref.property_file is None and not isinstance(ref.uri, str) and "Get" in ref.uri


def mounted_inputs(ctx: Context, step: ir.Step) -> Iterator[tuple[ir.Input, str, Ref]]:
    """Each input the job reads from S3, as (input, folder suffix, reference): literal
    URIs and other steps' outputs; not params (arguments) nor direct values."""
    for inp in step.inputs:
        source = inp.source
        if isinstance(source, ir.LiteralUri):
            yield inp, "", Ref(source.uri)
        elif isinstance(source, ir.ArtifactRef):
            for sub, ref in sources(ctx, source):
                if not (inp.is_parameter and is_direct(ref)):
                    yield inp, sub, ref


class JobResolver(Resolver[Any]):
    """How a job spells each ``${...}``: a folder under ``root``, a value file the launcher
    reads, a parameter's ``Get``; ``output`` is the job type's own."""

    what = "job"  # in messages: what has no trials

    def __init__(self, ctx: Context, root: str) -> None:
        self.ctx, self.root = ctx, root

    def text(self, step: ir.Step, text: str) -> Any:
        return text

    def param(self, step: ir.Step, name: str) -> Any:
        return param_ref(name)

    def input_literal(self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri) -> Any:
        return f"{self.root}/{inp.name}"

    def input_artifact(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> Any:
        return f"{self.root}/{inp.name}"

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> Any:
        found = sources(self.ctx, source)
        if len(found) == 1 and is_direct(found[0][1]):
            return found[0][1].uri  # a value SageMaker resolves itself (a model package ARN)
        files = [f"{self.root}/{inp.name}{sub}/{source.output}.json" for sub, _ in found]
        return ValueFile(tuple(files), fan_in=source.step in self.ctx.copies)

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> Any:
        self.ctx.error(step, f"input '{inp.name}' is one_of: it is split before steps are built")
        return ""

    def output(self, step: ir.Step, output: ir.Output) -> Any:
        raise NotImplementedError

    def item(self, step: ir.Step) -> Any:
        self.ctx.error(step, "foreach is unrolled before steps are built")
        return ""

    def hyperparameter(self, step: ir.Step, name: str) -> Any:
        self.ctx.error(step, f"a {self.what} has no trials")
        return ""
