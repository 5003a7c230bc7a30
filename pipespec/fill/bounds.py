"""Bounds on what an LLM server can make `pipespec fill` do: time, size and JSON depth.

`before_deadline` gives every request a wall-clock deadline that holds even when a server
trickles bytes (each read restarts the idle timeout, so timeouts alone never end it);
`read_capped` stops reading a body past a size; `too_deep` finds JSON nested deeper than
`json.loads` should recurse, in linear time.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MAX_RESPONSE_BYTES = 1024 * 1024
"""A server response larger than this is refused unread (PS513): an answer is a short script."""
MAX_JSON_DEPTH = 64
"""JSON nested deeper than this is refused (PS514) before `json.loads` could recurse."""


@dataclass(frozen=True)
class Failure:
    """Why one HTTP call gave no completion; `code` names a bound it hit, if any."""

    message: str
    code: str | None = None


class StreamError(Exception):
    """Stands for the transport's own errors while a body streams (httpx2's, via the SDK)."""


class StreamTimeout(StreamError):
    """The server sent nothing for a whole read timeout while a body streamed."""


def deadline_failure(total: float) -> Failure:
    """The request ran out of its wall-clock budget (PS515), saying how to raise it."""
    return Failure(
        f"the LLM request passed its deadline of {total:g} s (all attempts together); "
        "a slow server needs more: raise it with --deadline or fill.deadline",
        "PS515",
    )


class TooLarge(Exception):
    """A body passed its size limit."""


def capped(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """`chunks` as they come, until they pass `limit` bytes (then TooLarge; the rest is never
    read); the transport's errors become StreamTimeout or StreamError."""
    import httpx2

    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(limit)
            yield chunk
    except httpx2.TimeoutException as exc:
        raise StreamTimeout(exc) from exc
    except httpx2.HTTPError as exc:
        raise StreamError(exc) from exc


def read_capped(chunks: Iterator[bytes], limit: int) -> bytes | None:
    """The body, or None once it passes `limit` bytes (the rest is never read)."""
    try:
        return b"".join(capped(chunks, limit))
    except TooLarge:
        return None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def too_deep(text: str) -> bool:
    """Nested deeper than MAX_JSON_DEPTH, found in linear time and without recursion."""
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def before_deadline(deadline: float, total: float, call: Callable[[], T]) -> T | Failure:
    """`call()`, unless the request's deadline passes first.

    Read timeouts restart with every byte, so a server that trickles could hold a call for
    ever; the call runs in a daemon thread and is abandoned at the deadline (its socket
    closes with the client, or at exit: a daemon thread never holds the process).
    """
    expired = deadline_failure(total)
    if deadline - time.monotonic() <= 0:
        return expired
    box: list[T | BaseException] = []

    def target() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # handed to the caller's thread below
            box.append(exc)

    thread = threading.Thread(target=target, name="pipespec-llm-call", daemon=True)
    thread.start()
    thread.join(max(deadline - time.monotonic(), 0))
    if not box:
        return expired
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]
