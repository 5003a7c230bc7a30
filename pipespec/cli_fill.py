"""The `pipespec fill` command's LLM options and its live progress on a terminal.

``--timeout``, ``--deadline`` and ``--max-tokens`` override the spec's ``fill:`` block.
While the LLM answers, a terminal (stderr) shows one live line per step: its attempt, the
tokens streamed so far and the time it has taken, redrawn a few times a second, and a line
that stays once the step is done. When stderr is not a terminal, or under CI, nothing extra
is printed: stdout and the exit code are the same either way.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from pipespec.fill.llm import ProgressCallback, ProgressEvent

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
        click.option(
            "--trial-python",
            "trial_python",
            type=click.Path(exists=True, dir_okay=False, executable=True, path_type=Path),
            default=None,
            help="The Python that runs each LLM-written script once, on synthetic rows, "
            "before it is locked; it needs pandas and the libraries the script imports "
            "(default: the Python running pipespec). Command line only: a spec never names "
            "a program to run.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def wants_progress(stream: IO[str]) -> bool:
    """Live lines only for a person at a terminal: not in CI, not into a file or a pipe."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def live_progress(stream: IO[str] | None = None) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing on `stream` (default stderr), or None when not wanted."""
    out = sys.stderr if stream is None else stream
    if not wants_progress(out):
        yield None
        return
    from rich.console import Console

    board = ProgressBoard(Console(file=out, force_terminal=True, highlight=False))
    with board:
        yield board.update


class ProgressBoard:
    """One line per step whose request is running; a line that stays when it ends."""

    def __init__(self, console: Console, refresh_per_second: float = 4) -> None:
        self._console = console
        self._refresh = refresh_per_second
        self._lock = threading.Lock()
        self._running: dict[str, tuple[ProgressEvent, float]] = {}  # key -> (event, seen at)
        self._live: Live | None = None

    def __enter__(self) -> ProgressBoard:
        from rich.live import Live

        # No redirection: the command's own output is printed after the board is gone.
        self._live = Live(
            console=self._console,
            get_renderable=self._render,
            refresh_per_second=self._refresh,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def update(self, event: ProgressEvent) -> None:
        """The ProgressCallback: cheap, thread-safe; drawing happens on the refresh."""
        with self._lock:
            if not event.final:
                self._running[event.key] = (event, time.monotonic())
                return
            self._running.pop(event.key, None)
        self._console.print(self._done_line(event), markup=False, highlight=False)

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        now = time.monotonic()
        with self._lock:
            lines = [
                Text(self._running_line(event, event.elapsed_s + now - seen), no_wrap=True)
                for event, seen in self._running.values()
            ]
        return Group(*lines)

    @staticmethod
    def _running_line(event: ProgressEvent, elapsed: float) -> str:
        tokens = f"{event.tokens} token{'s' if event.tokens != 1 else ''}"
        doing = {
            "waiting": "waiting for the first token",
            "streaming": tokens,
            "checking": f"{tokens}, checking the answer",
            "rejected": "answer rejected, asking again",
        }.get(event.state, event.state)
        return f"  {event.key}: attempt {event.attempt}, {doing} ({_clock(elapsed)})"

    @staticmethod
    def _done_line(event: ProgressEvent) -> str:
        attempts = f"{event.attempt} attempt{'s' if event.attempt != 1 else ''}"
        how = "answered" if event.state == "accepted" else "no usable answer"
        return f"  {event.key}: {how} after {attempts} ({_clock(event.elapsed_s)})"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
