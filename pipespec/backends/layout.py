"""Where generated files go, in one place: ``generated/<target>/<pipeline name>.<ext>``
beside the spec (``--out DIR`` replaces ``generated/``).

Backends name their files with ``output_path`` (relative to the output root); the compile
driver picks the root with ``output_root`` and records what each target owns there (so
``check`` and stale-file cleanup know which files are pipespec's) with ``output_stem``.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path, PurePosixPath

GENERATED_DIR = "generated"


def output_root(spec: Path, out: Path | None) -> Path:
    """Default layout: ``generated/`` beside the spec; ``--out DIR`` replaces it."""
    return out if out is not None else spec.parent / GENERATED_DIR


def spec_from_root(spec: Path, root: Path) -> str:
    """The spec's path relative to the output root: what generated files name as their
    source. It depends on where the two are, never on the working directory."""
    return Path(os.path.relpath(spec.resolve(), root.resolve())).as_posix()


def output_stem(target: str, pipeline_name: str) -> str:
    """``<target>/<pipeline name>``, relative to the output root (POSIX): every file of one
    pipeline for one target starts with it."""
    return str(PurePosixPath(target) / pipeline_name)


def output_path(target: str, pipeline_name: str, ext: str) -> str:
    """``<target>/<pipeline name>.<ext>``: the main file a target writes for a pipeline."""
    return f"{output_stem(target, pipeline_name)}.{ext.lstrip('.')}"


def spec_relative_to(path: str, source_file: str) -> str:
    """The spec's path as seen from the generated file at ``path``, given ``source_file``,
    the spec's path relative to the output root: a generated file names its source
    relative to itself, the same from any working directory."""
    up = [".."] * len(PurePosixPath(path).parent.parts)
    return posixpath.normpath(posixpath.join(*up, source_file))
