"""The `pipespec fill` command's LLM options.

``--timeout``, ``--deadline`` and ``--max-tokens`` override the spec's ``fill:`` block.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_SECONDS = re.compile(r"\d+(\.\d+)?")


def parse_seconds(value: str) -> float:
    """Seconds from ``90``, ``2.5``, ``90s``, ``15m`` or ``1h30m`` (click reports a ValueError)."""
    from pipespec.spec import units

    text = value.strip()
    if _SECONDS.fullmatch(text):
        seconds = float(text)
        if seconds <= 0:
            raise ValueError("a duration must be longer than zero")
        return seconds
    return float(units.parse_duration(text))


def llm_options(command: F) -> F:
    """``--timeout``, ``--deadline`` and ``--max-tokens``, as the command's keyword arguments
    ``timeout_s``, ``deadline_s`` and ``max_tokens`` (None when not given)."""
    options = [
        click.option(
            "--timeout",
            "timeout_s",
            type=parse_seconds,
            metavar="DURATION",
            default=None,
            help="The longest the LLM server may stay silent: the connect, the wait for the "
            "first token, each pause in the stream (default: the spec's fill.timeout, else "
            "120s). A server that keeps streaming never trips it.",
        ),
        click.option(
            "--deadline",
            "deadline_s",
            type=parse_seconds,
            metavar="DURATION",
            default=None,
            help="The longest one step's LLM request may take, all attempts together "
            "(default: the spec's fill.deadline, else 15m, or 3 x the timeout when longer).",
        ),
        click.option(
            "--max-tokens",
            "max_tokens",
            type=click.IntRange(16, 32768),
            default=None,
            help="The most tokens one answer may have (default: the spec's fill.max_tokens, "
            "else 700); a cut-off answer is sent back to be written shorter.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command
