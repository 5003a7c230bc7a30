"""The columns of a prose step's data: what its inputs hold and what its outputs must hold.

An input that reads `<step>.<output>` takes the columns the producer declares for that
output; a declared external input (`{uri, columns}`) its own; a `one_of` input those its
sources all declare alike. An input or output that declares nothing maps to None, and a
sample that cannot be read counts as declaring nothing (`validate` reported it, PS216).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipespec.spec import models
from pipespec.spec.columns import SampleError, declared_columns
from pipespec.spec.references import ArtifactRef, BadReference, parse_input
from pipespec.spec.semantics import effective_outputs

Columns = dict[str, str]  # column name -> declared type, in the order declared


@dataclass(frozen=True)
class DataShape:
    """Declared columns per dataset input and output of one step (None: not declared)."""

    inputs: dict[str, Columns | None] = field(default_factory=dict)
    outputs: dict[str, Columns | None] = field(default_factory=dict)

    @property
    def declared(self) -> bool:
        """Whether anything is declared at all."""
        return any(c is not None for c in (*self.inputs.values(), *self.outputs.values()))

    def to_json(self) -> dict[str, Any]:
        """The declared part, for the prompt and the lock's hash."""
        return {
            "inputs": {n: c for n, c in sorted(self.inputs.items()) if c is not None},
            "outputs": {n: c for n, c in sorted(self.outputs.items()) if c is not None},
        }


def step_shape(
    spec_file: str,
    step: models.StepBase,
    steps: Mapping[str, models.StepBase],
    dataset_inputs: tuple[str, ...],
    dataset_outputs: tuple[str, ...],
) -> DataShape:
    """The declared columns of the step's dataset inputs and outputs."""
    written = step.inputs or {}
    declared_outputs = step.outputs or {}
    return DataShape(
        inputs={n: _input_columns(spec_file, written.get(n), steps) for n in dataset_inputs},
        outputs={n: _own(spec_file, declared_outputs.get(n)) for n in dataset_outputs},
    )


def dataset_names(step: models.StepBase) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The step's inputs and dataset outputs as a prose step's script reads and writes them
    (every input but a param is a dataset to the script)."""
    inputs = sorted(
        n
        for n, ref in (step.inputs or {}).items()
        if not (isinstance(ref, str) and ref.startswith("params."))
    )
    outputs = sorted(n for n, t in effective_outputs(step).items() if t == "dataset")
    return tuple(inputs), tuple(outputs)


def _own(spec_file: str, value: object) -> Columns | None:
    if not isinstance(value, (models.DatasetOutput, models.ExternalInput)):
        return None
    try:
        return declared_columns(spec_file, value)
    except SampleError:
        return None


def _input_columns(
    spec_file: str, value: object, steps: Mapping[str, models.StepBase]
) -> Columns | None:
    if isinstance(value, models.ExternalInput):
        return _own(spec_file, value)
    if isinstance(value, models.OneOf):
        found = [_produced(spec_file, source, steps) for source in value.one_of]
        first = found[0] if found else None
        return first if first is not None and all(c == first for c in found) else None
    if isinstance(value, str):
        return _produced(spec_file, value, steps)
    return None


def _produced(
    spec_file: str, reference: str, steps: Mapping[str, models.StepBase]
) -> Columns | None:
    """The columns the producer declares for `<step>.<output>` (None for anything else)."""
    try:
        source = parse_input(reference)
    except BadReference:
        return None
    if not isinstance(source, ArtifactRef) or source.step not in steps:
        return None
    return _own(spec_file, (steps[source.step].outputs or {}).get(source.output))
