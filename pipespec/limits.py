"""Resource limits for one run: how big a spec may be, and how much output it may make.

Every limit has a default that fits real use (a 10,000-step spec is about 2.6 MB) and can
be raised by a project: the CLI options ``--max-spec-bytes`` and ``--max-output-bytes``,
or the environment variables ``PIPESPEC_MAX_SPEC_BYTES`` and ``PIPESPEC_MAX_OUTPUT_BYTES``
(the option wins). The other load budgets follow the byte limit, so raising it is enough
to load a bigger spec.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

MIB = 1024 * 1024
ENV_MAX_SPEC_BYTES = "PIPESPEC_MAX_SPEC_BYTES"
ENV_MAX_OUTPUT_BYTES = "PIPESPEC_MAX_OUTPUT_BYTES"
DEFAULT_MAX_SPEC_BYTES = 8 * MIB
DEFAULT_MAX_OUTPUT_BYTES = 64 * MIB
MAX_DEPTH = 64
# A real spec holds one YAML node per 10 bytes or so (benchmarks/generate.py: 262k nodes
# in 2.6 MB); one node per 8 bytes leaves room and still bounds memory when aliases
# multiply nodes without adding bytes.
BYTES_PER_NODE = 8
# Text produced by aliases (each alias repeats its anchor's strings) may add up to
# this many times the byte limit: shared values are fine, a string repeated a million
# times is not.
EXPANSION_FACTOR = 4
# A run may render at most this many times the per-spec output limit in total: the
# outputs of every spec are held in memory until they are all written.
RUN_OUTPUT_FACTOR = 4
RAISE_SPEC_HINT = f"raise the limit with --max-spec-bytes or {ENV_MAX_SPEC_BYTES}"
RAISE_OUTPUT_HINT = f"raise the limit with --max-output-bytes or {ENV_MAX_OUTPUT_BYTES}"


@dataclass(frozen=True)
class LoadLimits:
    """Budgets for reading one spec; ``for_bytes`` derives the others from the byte cap."""

    max_bytes: int = DEFAULT_MAX_SPEC_BYTES
    max_depth: int = MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_SPEC_BYTES // BYTES_PER_NODE  # after alias expansion
    max_expanded_chars: int = EXPANSION_FACTOR * DEFAULT_MAX_SPEC_BYTES

    @classmethod
    def for_bytes(cls, max_bytes: int) -> LoadLimits:
        return cls(
            max_bytes=max_bytes,
            max_nodes=max(1, max_bytes // BYTES_PER_NODE),
            max_expanded_chars=EXPANSION_FACTOR * max_bytes,
        )


@dataclass(frozen=True)
class RunLimits:
    """The two knobs a user sets: spec bytes (input) and output bytes per spec."""

    max_spec_bytes: int = DEFAULT_MAX_SPEC_BYTES
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES

    @property
    def load(self) -> LoadLimits:
        return LoadLimits.for_bytes(self.max_spec_bytes)

    @property
    def max_run_output_bytes(self) -> int:
        return RUN_OUTPUT_FACTOR * self.max_output_bytes


_SIZE = re.compile(r"^\s*(\d+)\s*(|k|kib|m|mib|g|gib)\s*$", re.IGNORECASE)
_UNIT = {"": 1, "k": 1024, "kib": 1024, "m": MIB, "mib": MIB, "g": 1024 * MIB, "gib": 1024 * MIB}


def parse_size(text: str) -> int:
    """``16777216``, ``16MiB``, ``16M``, ``512KiB``: a positive number of bytes."""
    m = _SIZE.match(text)
    if m is None or int(m.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not a size: write a positive number of bytes, "
            "optionally with KiB, MiB or GiB (e.g. 16MiB)"
        )
    return int(m.group(1)) * _UNIT[m.group(2).lower()]


def format_size(n: int) -> str:
    for unit, size in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


_override: ContextVar[RunLimits | None] = ContextVar("pipespec_run_limits", default=None)


def from_env(environ: dict[str, str] | None = None) -> RunLimits:
    """The limits the environment sets (raises ValueError, naming the variable, if bad)."""
    env = os.environ if environ is None else environ
    values: dict[str, int] = {}
    for var, attr in (
        (ENV_MAX_SPEC_BYTES, "max_spec_bytes"),
        (ENV_MAX_OUTPUT_BYTES, "max_output_bytes"),
    ):
        raw = env.get(var, "").strip()
        if raw:
            try:
                values[attr] = parse_size(raw)
            except ValueError as exc:
                raise ValueError(f"{var}: {exc}") from None
    return RunLimits(**values)


def current() -> RunLimits:
    """The limits in force: set by :func:`using` (the CLI), else by the environment."""
    override = _override.get()
    return override if override is not None else from_env()


@contextmanager
def using(limits: RunLimits) -> Iterator[RunLimits]:
    """Run a block under ``limits`` (the CLI wraps each command in this)."""
    token = _override.set(limits)
    try:
        yield limits
    finally:
        _override.reset(token)
