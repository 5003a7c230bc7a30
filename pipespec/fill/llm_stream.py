"""One answer from an OpenAI-compatible server: the HTTP call, token streaming and its bounds.

`call` asks for a streamed chat completion (`stream=True`, usage in the last chunk) and reads
the Server-Sent Events as they come, so a slow model that keeps producing tokens never trips
the timeout: `LLMConfig.timeout_s` is the longest silence allowed (the connect, the wait for
the first byte and each read), and the request's deadline bounds the whole. A server that
ignores `stream` and answers one `application/json` chat.completion is read as before.

Retries: 408, 409, 429, 5xx and refused connections are retried here (honouring
`Retry-After`), up to `LLMConfig.transport_retries` times and never past the deadline; the
SDK's own retries are off because it would also retry timeouts, and a model that went silent
for a whole idle timeout on a CPU would only start generating from zero again. A timeout ends
the request. Every error comes back as a `Failure` naming what happened; nothing raises.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pipespec.fill.bounds import (
    MAX_JSON_DEPTH,
    Failure,
    StreamError,
    StreamTimeout,
    TooLarge,
    capped,
    deadline_failure,
    read_capped,
    too_deep,
)

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

    from pipespec.fill.llm import LLMConfig, LLMRequest

SNIPPET = 300  # characters of a server body or an error message quoted in an error
MAX_RETRY_WAIT_S = 60.0  # a server asking for a longer pause is not waited for
_RETRIED_STATUSES = (408, 409, 429)

TokenCallback = Callable[[int], None]
"""Told the completion tokens of the answer so far, as they stream in."""


@dataclass
class Usage:
    """Tokens and completions; `requests` counts HTTP calls that returned a completion."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    def __iadd__(self, other: Usage) -> Usage:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.requests += other.requests
        return self

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Completion:
    """What one call produced: the message, why it ended, the usage and the model's name."""

    content: str | None
    refusal: str | None
    finish_reason: str | None
    usage: Usage
    model: str | None
    tokens: int = 0  # completion tokens: the server's count, else the streamed deltas


def call(
    client: openai.OpenAI,
    config: LLMConfig,
    request: LLMRequest,
    messages: list[ChatCompletionMessageParam],
    deadline: float,
    on_tokens: TokenCallback,
) -> Completion | Failure:
    """One completion, retrying what a server may fix by itself (see the module's doc)."""
    retries = 0
    while True:
        outcome = _call_once(client, config, request, messages, deadline, on_tokens)
        if not isinstance(outcome, _Retryable):
            return outcome
        wait = outcome.wait if outcome.wait is not None else min(0.5 * 2**retries, 8.0)
        if (
            retries >= config.transport_retries
            or wait > MAX_RETRY_WAIT_S
            or time.monotonic() + wait >= deadline
        ):
            return outcome.failure(retries)
        time.sleep(wait)
        retries += 1


# --- internals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Retryable:
    """A failure another try may cure; `wait` is what the server asked for (seconds)."""

    head: str
    detail: str
    wait: float | None = None

    def failure(self, retries: int) -> Failure:
        after = f" (after {retries} retr{'ies' if retries != 1 else 'y'})" if retries else ""
        return Failure(f"{self.head}{after}\n  {self.detail}")


def _call_once(
    client: openai.OpenAI,
    config: LLMConfig,
    request: LLMRequest,
    messages: list[ChatCompletionMessageParam],
    deadline: float,
    on_tokens: TokenCallback,
) -> Completion | Failure | _Retryable:
    import openai

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return deadline_failure(config.request_deadline_s)
    # No read may outlast the deadline: a read timeout cut to what is left can only trip at
    # or after the deadline, so it reports the deadline (the thread in `before_deadline` is
    # the backstop for a server that trickles).
    timeout = min(config.timeout_s, remaining)
    cut_to_deadline = timeout < config.timeout_s
    try:
        with client.with_options(timeout=timeout).chat.completions.with_streaming_response.create(
            model=config.model,
            messages=list(messages),
            temperature=0,
            max_tokens=config.max_tokens if config.max_tokens is not None else openai.omit,
            stream=True,
            stream_options={"include_usage": True},
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.json_schema,
                    "strict": True,
                },
            },
        ) as raw:
            kind = raw.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "text/event-stream":
                return _read_stream(raw.iter_bytes(), config, deadline, on_tokens)
            return _read_whole(
                raw.iter_bytes(), config, str(client.base_url), raw.status_code, raw.headers
            )
    except (openai.APITimeoutError, StreamTimeout):
        if cut_to_deadline:
            return deadline_failure(config.request_deadline_s)
        return Failure(
            f"the LLM server at {client.base_url} sent nothing for {config.timeout_s:g} s "
            "(the idle timeout; not retried, a retry would start the answer again): "
            "a slow server needs more, raise it with --timeout or fill.timeout",
            "PS504",
        )
    except openai.APIConnectionError as exc:
        return _Retryable(
            f"cannot reach the LLM server at {client.base_url}", one_line(str(exc.__cause__ or exc))
        )
    except openai.APIStatusError as exc:
        return _status_failure(exc)
    except openai.OpenAIError as exc:
        return Failure(f"the LLM request failed: {type(exc).__name__}\n  {one_line(str(exc))}")
    except StreamError as exc:  # the body broke off (a reset) while streaming
        return Failure(f"the LLM server's response broke off\n  {one_line(repr(exc.args[0]))}")


def _status_failure(exc: openai.APIStatusError) -> Failure | _Retryable:
    status = exc.status_code
    page = one_line(exc.response.text if exc.response is not None else "") or "(empty)"
    head = f"the LLM server answered HTTP {status}"
    if status in _RETRIED_STATUSES or status >= 500:
        return _Retryable(head, page, _retry_after(exc.response.headers))
    return Failure(f"{head}\n  {page}")


def _retry_after(headers: Any) -> float | None:
    """Seconds the server asked to wait (`retry-after-ms`, `Retry-After`), if it did."""
    millis = headers.get("retry-after-ms")
    try:
        if millis is not None:
            return max(float(millis) / 1000, 0.0)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def _too_large(config: LLMConfig) -> Failure:
    return Failure(
        f"the LLM server's response is over {config.max_response_bytes // 1024} KiB; "
        "an answer is one short script",
        "PS513",
    )


def _read_whole(
    chunks: Iterator[bytes], config: LLMConfig, base_url: str, status: int, headers: Any
) -> Completion | Failure:
    """A server that answered one document: a chat.completion, or something to explain."""
    body = read_capped(chunks, config.max_response_bytes)
    if body is None:
        return _too_large(config)
    text = body.decode("utf-8", errors="replace")
    content_type = headers.get("content-type", "")
    if "json" not in content_type.split(";")[0].lower():
        return Failure(
            f"the LLM server answered HTTP {status} with "
            f"{content_type or 'no content type'}, not a JSON chat completion "
            f"(is the base URL {base_url} right?)\n  {one_line(text) or '(empty)'}"
        )
    if too_deep(text):
        return Failure(f"the LLM server's response nests deeper than {MAX_JSON_DEPTH}", "PS514")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return Failure(
            f"the LLM server's response is not valid JSON ({exc})\n  {one_line(text) or '(empty)'}"
        )
    return _parse_completion(data)


def _parse_completion(data: object) -> Completion | Failure:
    """Read what we need from a chat.completion body, tolerating servers' variations."""
    if not isinstance(data, dict):
        return Failure(
            f"the LLM server's response is not a chat completion\n  {one_line(repr(data))}"
        )
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        if "error" in data:
            return _server_error(data["error"])
        return Failure(
            "the LLM server's response is not a chat completion (no choices)\n"
            f"  {one_line(json.dumps(data))}"
        )
    choice: dict[str, Any] = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        return Failure("the LLM server's response has no message in its first choice")
    usage = _read_usage(data.get("usage"))
    return Completion(
        content=_text(message.get("content")),
        refusal=_text(message.get("refusal")),
        finish_reason=_text(choice.get("finish_reason")),
        usage=usage,
        model=_text(data.get("model")) or None,
        tokens=usage.completion_tokens,
    )


def _server_error(error: object) -> Failure:
    return Failure(f"the LLM server reported an error\n  {one_line(json.dumps(error))}")


def _read_usage(raw: object) -> Usage:
    usage = Usage(requests=1)
    if isinstance(raw, dict):
        prompt = raw.get("prompt_tokens")
        completion = raw.get("completion_tokens")
        if isinstance(prompt, int) and not isinstance(prompt, bool):
            usage.prompt_tokens = max(prompt, 0)
        if isinstance(completion, int) and not isinstance(completion, bool):
            usage.completion_tokens = max(completion, 0)
    return usage


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


# --- token streaming ---------------------------------------------------------------------


def _read_stream(
    chunks: Iterator[bytes], config: LLMConfig, deadline: float, on_tokens: TokenCallback
) -> Completion | Failure:
    """Assemble a completion from `chat.completion.chunk` events as they arrive."""
    events = _EventReader()
    answer = _Assembly()
    try:
        for chunk in capped(chunks, config.max_response_bytes):
            for name, data in events.feed(chunk):
                problem = answer.add(name, data)
                if problem is not None:
                    return problem
                if answer.finished:
                    return answer.completion()
            if answer.tokens_changed():
                on_tokens(answer.tokens)
            if time.monotonic() > deadline:  # a trickle that never goes quiet for long
                return deadline_failure(config.request_deadline_s)
        for name, data in events.flush():
            problem = answer.add(name, data)
            if problem is not None:
                return problem
    except TooLarge:
        return _too_large(config)
    if answer.finished or answer.finish_reason is not None:
        return answer.completion()
    if not answer.chunks:
        return Failure("the LLM server's event stream held no chat completion chunk")
    return Failure(
        "the LLM server's response broke off: the stream ended before the answer did\n"
        f"  {one_line(''.join(answer.content)) or '(no content)'}"
    )


class _EventReader:
    """Server-Sent Events from a byte stream: `(event name, data)` per complete event."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # the start of a line not yet ended
        self._name = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> Iterator[tuple[str, str]]:
        if b"\n" not in chunk:
            self._pending.append(chunk)  # joined once the line ends: no quadratic copies
            return
        *lines, rest = (b"".join(self._pending) + chunk).split(b"\n")
        self._pending = [rest] if rest else []
        for line in lines:
            yield from self._line(line.rstrip(b"\r").decode("utf-8", errors="replace"))

    def flush(self) -> Iterator[tuple[str, str]]:
        """What a stream that ended without a blank line still held."""
        tail = b"".join(self._pending).rstrip(b"\r").decode("utf-8", errors="replace")
        self._pending = []
        if tail:
            yield from self._line(tail)
        yield from self._line("")

    def _line(self, line: str) -> Iterator[tuple[str, str]]:
        if not line:
            if self._data:
                yield self._name, "\n".join(self._data)
            self._name, self._data = "", []
            return
        if line.startswith(":"):
            return  # a comment: servers send them to keep the connection alive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._name = value


@dataclass
class _Assembly:
    """The answer so far, from the chunks of a streamed chat completion."""

    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    model: str | None = None
    usage: Usage | None = None
    chunks: int = 0
    deltas: int = 0  # chunks that carried text: about one token each
    finished: bool = False  # `data: [DONE]`
    _reported: int = 0

    @property
    def tokens(self) -> int:
        counted = self.usage.completion_tokens if self.usage is not None else 0
        return max(counted, self.deltas)

    def tokens_changed(self) -> bool:
        changed = self.tokens != self._reported
        self._reported = self.tokens
        return changed

    def add(self, name: str, data: str) -> Failure | None:
        if data.strip() == "[DONE]":
            self.finished = True
            return None
        if too_deep(data):
            return Failure(f"the LLM server's response nests deeper than {MAX_JSON_DEPTH}", "PS514")
        try:
            event = json.loads(data)
        except ValueError:
            return Failure(f"the LLM server sent an event that is not JSON\n  {one_line(data)}")
        if not isinstance(event, dict):
            return Failure(f"the LLM server sent an event that is not a chunk\n  {one_line(data)}")
        if name == "error" or "error" in event:
            return _server_error(event.get("error", event))
        self.chunks += 1
        self.model = _text(event.get("model")) or self.model
        if isinstance(event.get("usage"), dict):
            self.usage = _read_usage(event["usage"])
        choices = event.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            self._choice(choices[0])
        return None

    def _choice(self, choice: dict[str, Any]) -> None:
        # `delta` in chunks; a server that sends the whole message as one event uses `message`
        delta = choice.get("delta", choice.get("message"))
        if isinstance(delta, dict):
            text, refusal = _text(delta.get("content")), _text(delta.get("refusal"))
            if text:
                self.content.append(text)
            if refusal:
                self.refusal.append(refusal)
            self.deltas += 1 if text or refusal else 0
        self.finish_reason = _text(choice.get("finish_reason")) or self.finish_reason

    def completion(self) -> Completion:
        return Completion(
            content="".join(self.content) if self.content else None,
            refusal="".join(self.refusal) if self.refusal else None,
            finish_reason=self.finish_reason,
            usage=self.usage or Usage(requests=1),
            model=self.model,
            tokens=self.tokens,
        )


def one_line(text: str) -> str:
    """Whitespace collapsed, cut to a readable length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 3] + "..."
