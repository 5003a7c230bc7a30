"""The CLI's limit options: ``--max-spec-bytes`` and ``--max-output-bytes``.

Each command that loads specs takes them; an option overrides its environment variable
(``PIPESPEC_MAX_SPEC_BYTES``, ``PIPESPEC_MAX_OUTPUT_BYTES``), which overrides the default.
The values reach every loader and the compile's output budget through
:func:`pipespec.limits.using`, entered for the command's lifetime.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pipespec import limits

F = TypeVar("F", bound=Callable[..., Any])
_META = "pipespec.limits"


def _apply(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    given: dict[str, int] = ctx.meta.setdefault(_META, {})
    if value is not None and param.name is not None:
        given[param.name] = value
    try:
        base = limits.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc), ctx) from None
    # Entered once per option; the last one entered holds every value given so far.
    ctx.with_resource(limits.using(dataclasses.replace(base, **given)))


def _option(name: str, env: str, default: int, what: str) -> Callable[[F], F]:
    return click.option(
        name,
        type=limits.parse_size,  # click turns its ValueError into a usage error
        metavar="SIZE",
        default=None,
        expose_value=False,
        callback=_apply,
        help=f"{what} (default {limits.format_size(default)}, or ${env}); "
        "a number of bytes, or with KiB, MiB, GiB.",
    )


SPEC_LIMIT_OPTION = _option(
    "--max-spec-bytes",
    limits.ENV_MAX_SPEC_BYTES,
    limits.DEFAULT_MAX_SPEC_BYTES,
    "Largest spec file to read; the node and alias budgets follow it",
)
OUTPUT_LIMIT_OPTION = _option(
    "--max-output-bytes",
    limits.ENV_MAX_OUTPUT_BYTES,
    limits.DEFAULT_MAX_OUTPUT_BYTES,
    "Most output one spec may generate (a run: 4 times this)",
)
