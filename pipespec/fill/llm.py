"""The LLM provider of the fill pass: structured answers from any OpenAI-compatible server.

`run_requests` sends each `LLMRequest` through the `openai` SDK's Chat Completions API with a
strict JSON Schema as `response_format`, temperature 0 and explicit timeouts. An answer that
is not JSON, not an object, fails the schema or is rejected by the caller's validator is fed
back to the model with the errors, up to `LLMConfig.max_attempts` times. Transport failures
(429, 5xx, connection errors, timeouts) are retried by the SDK itself (`transport_retries`,
honouring `Retry-After`); whatever still fails ends that request with an error in its
`LLMResult`. Nothing a server does makes `run_requests` raise: only programming errors do
(an invalid config or JSON Schema, duplicate keys, a validator that raises).

`openai` and `jsonschema` are imported only when requests are about to be made, so importing
this module (as the CLI does) stays cheap.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pipespec.fill.bounds import (
    MAX_JSON_DEPTH,
    MAX_RESPONSE_BYTES,
    Failure,
    StreamError,
    before_deadline,
    read_capped,
    too_deep,
)

if TYPE_CHECKING:
    import openai
    from jsonschema.protocols import Validator as SchemaValidator
    from openai.types.chat import ChatCompletionMessageParam

MAX_LISTED_ERRORS = 20
"""At most this many errors are listed in a feedback message or a final error."""

_SNIPPET = 300  # characters of a server body or an error message quoted in an error

FEEDBACK_HEAD = "Your previous answer was rejected:"
FEEDBACK_TAIL = "Answer again with JSON that satisfies the schema."


@dataclass(frozen=True)
class LLMConfig:
    """How to reach the model and how hard to try."""

    model: str
    base_url: str | None = None  # None: OPENAI_BASE_URL env or the SDK default
    api_key: str | None = None  # None: OPENAI_API_KEY env
    timeout_s: float = 60.0  # per HTTP request (each connect/read/write/pool phase)
    max_concurrency: int = 4
    max_attempts: int = 3  # per request, counting content retries
    transport_retries: int = 2  # SDK retries for 408/409/429/5xx/connection errors/timeouts
    # Wall clock for one request, all attempts and retries together (None: timeout_s per
    # attempt). `timeout_s` bounds each read, so a server trickling bytes never trips it.
    deadline_s: float | None = None
    max_response_bytes: int = MAX_RESPONSE_BYTES

    @property
    def request_deadline_s(self) -> float:
        return (
            self.deadline_s if self.deadline_s is not None else self.timeout_s * self.max_attempts
        )

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("LLMConfig.model must not be empty")
        if not self.timeout_s > 0:
            raise ValueError(f"LLMConfig.timeout_s must be > 0, not {self.timeout_s!r}")
        if self.max_concurrency < 1:
            raise ValueError(f"LLMConfig.max_concurrency must be >= 1, not {self.max_concurrency}")
        if self.max_attempts < 1:
            raise ValueError(f"LLMConfig.max_attempts must be >= 1, not {self.max_attempts}")
        if self.deadline_s is not None and not self.deadline_s > 0:
            raise ValueError(f"LLMConfig.deadline_s must be > 0, not {self.deadline_s!r}")
        if self.max_response_bytes < 1:
            raise ValueError("LLMConfig.max_response_bytes must be >= 1")
        if self.transport_retries < 0:
            raise ValueError(
                f"LLMConfig.transport_retries must be >= 0, not {self.transport_retries}"
            )


@dataclass(frozen=True)
class LLMRequest:
    """One question; `user` carries the spec text as data (the caller builds it)."""

    key: str  # caller's id (e.g. the step id); results come back keyed by it
    system: str
    user: str
    schema_name: str
    json_schema: dict[str, Any]  # strict JSON Schema (Draft 2020-12) for the answer


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
class LLMResult:
    """The outcome of one request: an accepted `value`, or an `error` saying why not."""

    key: str
    value: dict[str, Any] | None
    error: str | None  # first line: what happened; further lines: details
    attempts: int  # content attempts made (HTTP calls that the SDK retried count once)
    usage: Usage = field(default_factory=Usage)
    model: str = ""  # the model the server reported (response.model), else config.model
    code: str | None = None  # the diagnostic code of a bound that ended it (PS513-PS515)


Validator = Callable[[LLMRequest, dict[str, Any]], list[str]]
"""Checks a schema-valid answer beyond the schema; returns error messages, [] to accept."""


def run_requests(
    config: LLMConfig, requests: Sequence[LLMRequest], validate: Validator
) -> tuple[dict[str, LLMResult], Usage]:
    """Answer every request; returns results keyed by `LLMRequest.key` and the total usage.

    Identical requests (same system, user, schema name and schema) are sent once; the other
    keys get a copy of the result under their own key (same value, attempts and usage), and
    the total counts the calls once. At most `config.max_concurrency` requests are in flight.
    """
    from jsonschema import Draft202012Validator

    seen: set[str] = set()
    for request in requests:
        if request.key in seen:
            raise ValueError(f"duplicate LLMRequest key {request.key!r}")
        seen.add(request.key)
        Draft202012Validator.check_schema(request.json_schema)  # raises SchemaError
    if not requests:
        return {}, Usage()

    groups: dict[str, list[LLMRequest]] = {}
    for request in requests:
        groups.setdefault(_fingerprint(request), []).append(request)
    unique = [group[0] for group in groups.values()]

    outcomes: list[LLMResult]
    try:
        client = _make_client(config)
    except _SetupError as exc:
        outcomes = [
            LLMResult(request.key, None, str(exc), 0, Usage(), config.model) for request in unique
        ]
    else:
        with client:
            outcomes = _run_all(client, config, unique, validate)

    total = Usage()
    by_key: dict[str, LLMResult] = {}
    for group, outcome in zip(groups.values(), outcomes, strict=True):
        total += outcome.usage
        for request in group:
            by_key[request.key] = (
                outcome
                if request is group[0]
                else replace(
                    outcome,
                    key=request.key,
                    value=copy.deepcopy(outcome.value),
                    usage=replace(outcome.usage),
                )
            )
    return {request.key: by_key[request.key] for request in requests}, total


# --- internals ---------------------------------------------------------------------------


class _SetupError(Exception):
    """The client cannot be created (no openai package, no API key, ...)."""


@dataclass
class _Completion:
    content: str | None
    refusal: str | None
    finish_reason: str | None
    usage: Usage
    model: str | None


def _fingerprint(request: LLMRequest) -> str:
    return json.dumps(
        [request.system, request.user, request.schema_name, request.json_schema],
        sort_keys=True,
        separators=(",", ":"),
        default=repr,
    )


def _make_client(config: LLMConfig) -> openai.OpenAI:
    try:
        import openai
    except ImportError as exc:
        raise _SetupError(
            "the LLM is unavailable: the openai package is not installed (pip install openai)"
        ) from exc
    try:
        return openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=config.transport_retries,
        )
    except openai.OpenAIError as exc:
        raise _SetupError(
            f"the LLM is unavailable: cannot set up the OpenAI client\n  {_one_line(str(exc))}"
        ) from exc


def _run_all(
    client: openai.OpenAI,
    config: LLMConfig,
    requests: list[LLMRequest],
    validate: Validator,
) -> list[LLMResult]:
    workers = min(config.max_concurrency, len(requests))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipespec-llm")
    futures: list[Future[LLMResult]] = []
    try:
        futures = [pool.submit(_run_one, client, config, request, validate) for request in requests]
        return [future.result() for future in futures]
    finally:
        # On an exception (a validator bug, Ctrl-C) do not start the requests still queued.
        pool.shutdown(wait=True, cancel_futures=True)


def _run_one(
    client: openai.OpenAI, config: LLMConfig, request: LLMRequest, validate: Validator
) -> LLMResult:
    from jsonschema import Draft202012Validator

    schema_validator = Draft202012Validator(request.json_schema)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": request.system},
        {"role": "user", "content": request.user},
    ]
    usage = Usage()
    model = config.model
    errors: list[str] = []
    attempts = 0

    def fail(message: str, code: str | None = None) -> LLMResult:
        return LLMResult(request.key, None, message, attempts, usage, model, code)

    deadline = time.monotonic() + config.request_deadline_s
    while attempts < config.max_attempts:
        attempts += 1
        completion = before_deadline(
            deadline,
            config.request_deadline_s,
            lambda: _call(client, config, request, messages, deadline),
        )
        if isinstance(completion, Failure):
            return fail(completion.message, completion.code)
        if isinstance(completion, str):
            return fail(completion)
        usage += completion.usage
        model = completion.model or model
        if completion.refusal:
            return fail(f"the model refused to answer\n  {_one_line(completion.refusal)}")
        if completion.finish_reason == "length":
            return fail("the model's answer was cut off at its token limit (finish_reason=length)")
        if completion.finish_reason == "content_filter":
            return fail("the model's answer was withheld by a content filter")
        content = completion.content or ""
        value, errors = _check_answer(content, schema_validator, request, validate)
        if value is not None:
            return LLMResult(request.key, value, None, attempts, usage, model)
        messages.append({"role": "assistant", "content": content})
        messages.append({"role": "user", "content": _feedback(errors)})
    return fail(
        f"no acceptable answer after {attempts} attempt{'s' if attempts != 1 else ''}; "
        "the last one was rejected:\n" + _bullets(errors)
    )


def _call(
    client: openai.OpenAI,
    config: LLMConfig,
    request: LLMRequest,
    messages: list[ChatCompletionMessageParam],
    deadline: float,
) -> _Completion | Failure | str:
    """One HTTP call (plus the SDK's transport retries); a `str` is the error."""
    import openai

    retries = config.transport_retries
    after = f" (after {retries} retr{'ies' if retries != 1 else 'y'})" if retries else ""
    # No single read may outlast the deadline either (the thread in `_before` is the backstop).
    timeout = max(min(config.timeout_s, deadline - time.monotonic()), 0.001)
    try:
        with client.with_options(timeout=timeout).chat.completions.with_streaming_response.create(
            model=config.model,
            messages=list(messages),
            temperature=0,
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.json_schema,
                    "strict": True,
                },
            },
        ) as raw:
            content_type = raw.headers.get("content-type", "")
            status = raw.status_code
            body = read_capped(raw.iter_bytes(), config.max_response_bytes)
    except openai.APITimeoutError:
        return f"the LLM server at {client.base_url} did not answer within {timeout:g} s{after}"
    except openai.APIConnectionError as exc:
        cause = exc.__cause__ or exc
        return f"cannot reach the LLM server at {client.base_url}{after}\n  {_one_line(str(cause))}"
    except openai.APIStatusError as exc:
        status = exc.status_code
        retried = after if status in (408, 409, 429) or status >= 500 else ""
        page = exc.response.text if exc.response is not None else ""
        return f"the LLM server answered HTTP {status}{retried}\n  {_one_line(page) or '(empty)'}"
    except openai.OpenAIError as exc:
        return f"the LLM request failed: {type(exc).__name__}\n  {_one_line(str(exc))}"
    except StreamError as exc:  # the body broke off (reset, read timeout) while streaming
        return f"the LLM server's response broke off\n  {_one_line(repr(exc))}"

    if body is None:
        return Failure(
            f"the LLM server's response is over {config.max_response_bytes // 1024} KiB; "
            "an answer is one short script",
            "PS513",
        )
    text = body.decode("utf-8", errors="replace")
    if "json" not in content_type.split(";")[0].lower():
        return (
            f"the LLM server answered HTTP {status} with "
            f"{content_type or 'no content type'}, not a JSON chat completion "
            f"(is the base URL {client.base_url} right?)\n  {_one_line(text) or '(empty)'}"
        )
    if too_deep(text):
        return Failure(f"the LLM server's response nests deeper than {MAX_JSON_DEPTH}", "PS514")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return (
            f"the LLM server's response is not valid JSON ({exc})\n  {_one_line(text) or '(empty)'}"
        )
    return _parse_completion(data)


def _parse_completion(data: object) -> _Completion | str:
    """Read what we need from a chat.completion body, tolerating servers' variations."""
    if not isinstance(data, dict):
        return f"the LLM server's response is not a chat completion\n  {_one_line(repr(data))}"
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        if "error" in data:
            return f"the LLM server reported an error\n  {_one_line(json.dumps(data['error']))}"
        return (
            "the LLM server's response is not a chat completion (no choices)\n"
            f"  {_one_line(json.dumps(data))}"
        )
    choice: dict[str, Any] = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        return "the LLM server's response has no message in its first choice"
    content = message.get("content")
    refusal = message.get("refusal")
    finish_reason = choice.get("finish_reason")
    model = data.get("model")
    return _Completion(
        content=content if isinstance(content, str) else None,
        refusal=refusal if isinstance(refusal, str) else None,
        finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        usage=_read_usage(data.get("usage")),
        model=model if isinstance(model, str) and model else None,
    )


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


def _check_answer(
    content: str,
    schema_validator: SchemaValidator,
    request: LLMRequest,
    validate: Validator,
) -> tuple[dict[str, Any] | None, list[str]]:
    """The accepted answer and [], or None and why it was rejected."""
    if not content.strip():
        return None, ["the answer was empty"]
    if too_deep(content):
        return None, [f"PS514: the answer nests deeper than {MAX_JSON_DEPTH} levels"]
    try:
        value = json.loads(content)
    except ValueError as exc:
        return None, [f"the answer is not valid JSON: {exc}"]
    if not isinstance(value, dict):
        return None, [f"the answer must be a JSON object, not {_json_type(value)}"]
    schema_errors = sorted(
        schema_validator.iter_errors(value),
        key=lambda error: [str(part) for part in error.absolute_path],
    )
    if schema_errors:
        return None, [
            f"at {_pointer(list(error.absolute_path))}: {_one_line(error.message)}"
            for error in schema_errors
        ]
    problems = validate(request, value)
    if problems:
        return None, list(problems)
    return value, []


def _feedback(errors: list[str]) -> str:
    return f"{FEEDBACK_HEAD}\n{_bullets(errors)}\n{FEEDBACK_TAIL}"


def _bullets(errors: list[str]) -> str:
    lines = [f"  - {error}" for error in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        lines.append(f"  - ... and {len(errors) - MAX_LISTED_ERRORS} more")
    return "\n".join(lines)


def _pointer(path: list[str | int]) -> str:
    if not path:
        return "the top level"
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _one_line(text: str) -> str:
    """Whitespace collapsed, cut to a readable length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 3] + "..."
