"""Declared columns resolved: a `columns:` mapping as written, or a sample CSV read.

A sample is a small CSV beside the spec: its header row names the columns and its first
rows give their types (int, float, bool, datetime, else string). It must sit inside the
spec's folder (after symlinks), be at most `MAX_SAMPLE_BYTES`, and be UTF-8. `validate`
reports a bad one at the `sample:` value (PS216); fill reads it again when it runs.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from pipespec.diagnostics import Diagnostic
from pipespec.spec import models
from pipespec.spec.loader import LoadedSpec, NodePath

MAX_SAMPLE_BYTES = 64 * 1024
"""A sample only needs a header and a few rows; fill reads it on every run."""
SAMPLE_ROWS = 20
"""Rows read to infer each column's type (the rest of a sample is ignored)."""

_INT = re.compile(r"^[-+]?[0-9]+$")
_BOOLS = frozenset({"true", "false"})


class SampleError(ValueError):
    """A sample file that cannot declare columns; the message says why."""


def declared_columns(
    spec_file: str, declaration: models.DatasetOutput | models.ExternalInput
) -> dict[str, str]:
    """Column name -> type, as written or read from the sample (SampleError when bad)."""
    if declaration.columns is not None:
        return dict(declaration.columns)
    assert declaration.sample is not None
    return read_sample(spec_file, declaration.sample)


def sample_path(spec_file: str, rel: str) -> Path:
    return Path(spec_file).parent / rel


def read_sample(spec_file: str, rel: str) -> dict[str, str]:
    """The columns a sample CSV declares: its header's names, types from its first rows."""
    path = sample_path(spec_file, rel)
    folder = Path(spec_file).parent.resolve()
    if not path.is_file():
        raise SampleError(f"sample {rel} does not exist (looked in {path.parent.as_posix()})")
    if not path.resolve().is_relative_to(folder):
        raise SampleError(f"sample {rel} leads outside the spec's folder (a symlink?)")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SAMPLE_BYTES + 1)
    except OSError as exc:
        raise SampleError(f"sample {rel} cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_SAMPLE_BYTES:
        raise SampleError(
            f"sample {rel} is larger than {MAX_SAMPLE_BYTES // 1024} KiB; keep the header "
            "and a few rows"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SampleError(f"sample {rel} is not UTF-8 (bad byte at offset {exc.start})") from None
    return _parse_sample(rel, text)


def _parse_sample(rel: str, text: str) -> dict[str, str]:
    try:
        rows = list(_first_rows(text))
    except csv.Error as exc:
        raise SampleError(f"sample {rel} is not CSV: {exc}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SampleError(f"sample {rel} has no header row")
    header = rows[0]
    if len(header) > models.MAX_COLUMNS:
        raise SampleError(
            f"sample {rel} has {len(header)} columns; at most {models.MAX_COLUMNS} are declared"
        )
    seen: set[str] = set()
    for name in header:
        problem = models.column_name_problem(name)
        if problem is not None:
            raise SampleError(f"sample {rel}: {problem}")
        if name in seen:
            raise SampleError(f"sample {rel} names the column {name!r} twice")
        seen.add(name)
    return {
        name: infer_type([row[i] for row in rows[1:] if i < len(row)])
        for i, name in enumerate(header)
    }


def _first_rows(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    for number, row in enumerate(reader):
        if number > SAMPLE_ROWS:
            return
        if row:
            yield row


def infer_type(values: list[str]) -> str:
    """The narrowest declared type every non-empty value reads as (string when none)."""
    cells = [v.strip() for v in values if v.strip()]
    if not cells:
        return "string"
    if all(c.lower() in _BOOLS for c in cells):
        return "bool"
    if all(_INT.match(c) for c in cells):
        return "int"
    if all(_is_float(c) for c in cells):
        return "float"
    if all(_is_datetime(c) for c in cells):
        return "datetime"
    return "string"


def _is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _is_datetime(text: str) -> bool:
    if len(text) < 10 or text[4:5] != "-":
        return False  # fromisoformat also takes compact forms such as 20240101
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- validate: every sample a spec names ----------------------------------------------


def declarations(
    steps: Mapping[str, models.StepBase],
) -> Iterator[tuple[NodePath, models.DatasetOutput | models.ExternalInput]]:
    """Every declaration of the spec's steps, with the path of its node."""
    for sid, step in steps.items():
        for name, output in (step.outputs or {}).items():
            if isinstance(output, models.DatasetOutput):
                yield ("steps", sid, "outputs", name), output
        for name, value in (step.inputs or {}).items():
            if isinstance(value, models.ExternalInput):
                yield ("steps", sid, "inputs", name), value


def check_samples(loaded: LoadedSpec, steps: Mapping[str, models.StepBase]) -> list[Diagnostic]:
    """PS216 at each `sample:` that cannot be read as a declaration."""
    out: list[Diagnostic] = []
    for path, declaration in declarations(steps):
        if declaration.sample is None:
            continue
        try:
            read_sample(loaded.file, declaration.sample)
        except SampleError as exc:
            out.append(
                Diagnostic(
                    "PS216",
                    str(exc),
                    loaded.source_map.span((*path, "sample")),
                    "a sample is a CSV file in the spec's folder: a header row and a few "
                    f"rows, at most {MAX_SAMPLE_BYTES // 1024} KiB",
                )
            )
    return out
