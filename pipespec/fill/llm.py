"""The LLM provider of the fill pass: structured answers from any OpenAI-compatible server.

`run_requests` sends each `LLMRequest` through the `openai` SDK's Chat Completions API with a
strict JSON Schema as `response_format`, temperature 0, `max_tokens`, and token streaming
(`llm_stream.call`: an idle timeout between chunks, a deadline per request). An answer that
is not JSON, not an object, fails the schema, is rejected by the caller's validator or was
cut off at `max_tokens` is fed back to the model with the reasons, up to
`LLMConfig.max_attempts` times. 408/409/429/5xx and refused connections are retried
(`transport_retries`, honouring `Retry-After`); a timeout is not (see llm_stream). Whatever
still fails ends that request with an error in its `LLMResult`. Nothing a server does makes
`run_requests` raise: only programming errors do (an invalid config or JSON Schema,
duplicate keys, a validator or progress callback that raises).

`openai` and `jsonschema` are imported only when requests are about to be made, so importing
this module (as the CLI does) stays cheap.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from pipespec.fill.bounds import (
    MAX_JSON_DEPTH,
    MAX_RESPONSE_BYTES,
    Failure,
    before_deadline,
    too_deep,
)
from pipespec.fill.llm_feedback import (
    FEEDBACK_HEAD,
    FEEDBACK_TAIL,
    bullets,
    feedback,
    json_type,
    schema_problem,
)
from pipespec.fill.llm_stream import Completion, Usage, call, one_line

if TYPE_CHECKING:
    import openai
    from jsonschema.protocols import Validator as SchemaValidator
    from openai.types.chat import ChatCompletionMessageParam

__all__ = [
    "FEEDBACK_HEAD",
    "FEEDBACK_TAIL",
    "LLMConfig",
    "LLMRequest",
    "LLMResult",
    "ProgressCallback",
    "ProgressEvent",
    "ProgressState",
    "Usage",
    "Validator",
    "run_requests",
]

# Validators parse the answer's code with `ast`, and CPython 3.11's AST construction is not
# thread-safe (python/cpython#106905: "AST constructor recursion depth mismatch" when two
# threads parse at once); streamed answers often finish together. Checking takes
# milliseconds against the model's minutes, so the requests' threads take turns.
_ONE_VALIDATOR_AT_A_TIME = threading.Lock()


DEFAULT_TIMEOUT_S = 120.0
"""The longest silence allowed; a CPU model reads the whole prompt before its first token."""
DEFAULT_DEADLINE_S = 900.0
"""One request, all attempts together: two full-length answers of a CPU model at 2 tokens/s."""
DEFAULT_MAX_TOKENS = 700
"""Room for one transform body and its JSON; a model that writes more is told to be brief."""

ProgressState = Literal["waiting", "streaming", "checking", "rejected", "accepted", "failed"]


@dataclass(frozen=True)
class ProgressEvent:
    """Where one request stands. States, per attempt: `waiting` (sent, nothing back yet),
    `streaming` (tokens arriving), `checking` (the answer is being validated), then
    `rejected` (another attempt follows); the last event is `accepted` or `failed`."""

    key: str
    attempt: int  # the content attempt, from 1
    tokens: int  # completion tokens of this attempt so far: the server's count, else chunks
    elapsed_s: float  # since the request's first attempt started
    state: ProgressState

    @property
    def final(self) -> bool:
        return self.state in ("accepted", "failed")


ProgressCallback = Callable[[ProgressEvent], None]
"""Told every ProgressEvent; called from worker threads, one request's events in order."""


@dataclass(frozen=True)
class LLMConfig:
    """How to reach the model and how hard to try."""

    model: str
    base_url: str | None = None  # None: OPENAI_BASE_URL env or the SDK default
    api_key: str | None = None  # None: OPENAI_API_KEY env
    # The longest the server may stay silent: the connect, the wait for the first token and
    # each read of the stream. A model that keeps streaming tokens never trips it.
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_concurrency: int = 4
    max_attempts: int = 3  # per request, counting content retries
    transport_retries: int = 2  # retries of 408/409/429/5xx and refused connections
    # Wall clock for one request, all attempts and retries together (None: DEFAULT_DEADLINE_S,
    # or timeout_s per attempt when that is longer, as before the deadline had a setting).
    deadline_s: float | None = None
    max_tokens: int | None = DEFAULT_MAX_TOKENS  # per answer; None: the server's own limit
    max_response_bytes: int = MAX_RESPONSE_BYTES
    progress: ProgressCallback | None = field(default=None, compare=False, repr=False)
    # The interpreter that runs an accepted script once before it is locked (llm_steps,
    # trial_run.py); None: the one running pipespec.
    trial_python: str | None = None

    @property
    def request_deadline_s(self) -> float:
        if self.deadline_s is not None:
            return self.deadline_s
        return max(DEFAULT_DEADLINE_S, self.timeout_s * self.max_attempts)

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
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"LLMConfig.max_tokens must be >= 1, not {self.max_tokens}")
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
class LLMResult:
    """The outcome of one request: an accepted `value`, or an `error` saying why not."""

    key: str
    value: dict[str, Any] | None
    error: str | None  # first line: what happened; further lines: details
    attempts: int  # content attempts made (HTTP calls that were retried count once)
    usage: Usage = field(default_factory=Usage)
    model: str = ""  # the model the server reported (response.model), else config.model
    code: str | None = None  # the diagnostic code of a bound that ended it (PS504, PS513-PS515)


Validator = Callable[[LLMRequest, dict[str, Any]], list[str]]
"""Checks a schema-valid answer beyond the schema; returns error messages, [] to accept.
Called by one request's thread at a time, never by two at once."""


def run_requests(
    config: LLMConfig,
    requests: Sequence[LLMRequest],
    validate: Validator,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, LLMResult], Usage]:
    """Answer every request; returns results keyed by `LLMRequest.key` and the total usage.

    Identical requests (same system, user, schema name and schema) are sent once; the other
    keys get a copy of the result under their own key (same value, attempts and usage), and
    the total counts the calls once. At most `config.max_concurrency` requests are in flight.
    `progress` (default: `config.progress`, which travels with the config through the fill
    pass) is told how each request stands, under every key that shares it.
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

    outcomes: list[LLMResult]
    try:
        client = _make_client(config)
    except _SetupError as exc:
        outcomes = [
            LLMResult(group[0].key, None, str(exc), 0, Usage(), config.model)
            for group in groups.values()
        ]
    else:
        with client:
            outcomes = _run_all(
                client, config, list(groups.values()), validate, progress or config.progress
            )

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
        # max_retries=0: llm_stream retries what is worth retrying; the SDK would also
        # retry timeouts, restarting a slow model's answer from zero.
        return openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
        )
    except openai.OpenAIError as exc:
        raise _SetupError(
            f"the LLM is unavailable: cannot set up the OpenAI client\n  {one_line(str(exc))}"
        ) from exc


def _run_all(
    client: openai.OpenAI,
    config: LLMConfig,
    groups: list[list[LLMRequest]],
    validate: Validator,
    progress: ProgressCallback | None,
) -> list[LLMResult]:
    workers = min(config.max_concurrency, len(groups))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipespec-llm")
    futures: list[Future[LLMResult]] = []
    try:
        futures = [
            pool.submit(
                _run_one,
                client,
                config,
                _Conversation(group[0], config, progress, [r.key for r in group]),
                validate,
            )
            for group in groups
        ]
        return [future.result() for future in futures]
    finally:
        # On an exception (a validator bug, Ctrl-C) do not start the requests still queued.
        pool.shutdown(wait=True, cancel_futures=True)


class _Conversation:
    """One request's attempts: the messages so far, the usage, the model, the progress."""

    def __init__(
        self,
        request: LLMRequest,
        config: LLMConfig,
        progress: ProgressCallback | None,
        keys: list[str],
    ) -> None:
        self.request = request
        self.messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ]
        self.usage = Usage()
        self.model = config.model
        self.attempts = 0
        self._progress = progress
        self._keys = keys
        self._started: float | None = None
        self._lock = threading.Lock()
        self._over = False

    def begin(self) -> None:
        if self._started is None:
            self._started = time.monotonic()
        self.attempts += 1
        self.report("waiting", 0)

    def streamed(self, tokens: int) -> None:
        self.report("streaming", tokens)

    def report(self, state: ProgressState, tokens: int) -> None:
        if self._progress is None:
            return
        # The lock keeps one request's events in order; `_over` drops what a call abandoned
        # at the deadline still reports from its thread after the request has ended.
        with self._lock:
            if self._over:
                return
            self._over = state in ("accepted", "failed")
            elapsed = time.monotonic() - (self._started or time.monotonic())
            for key in self._keys:
                self._progress(ProgressEvent(key, self.attempts, tokens, elapsed, state))

    def record(self, completion: Completion) -> None:
        self.usage += completion.usage
        self.model = completion.model or self.model

    def reject(self, content: str, feedback: str, tokens: int) -> None:
        self.messages.append({"role": "assistant", "content": content})
        self.messages.append({"role": "user", "content": feedback})
        self.report("rejected", tokens)

    def accept(self, value: dict[str, Any], tokens: int) -> LLMResult:
        self.report("accepted", tokens)
        return LLMResult(self.request.key, value, None, self.attempts, self.usage, self.model)

    def fail(self, message: str, code: str | None = None, tokens: int = 0) -> LLMResult:
        self.report("failed", tokens)
        return LLMResult(
            self.request.key, None, message, self.attempts, self.usage, self.model, code
        )


def _run_one(
    client: openai.OpenAI, config: LLMConfig, talk: _Conversation, validate: Validator
) -> LLMResult:
    from jsonschema import Draft202012Validator

    request = talk.request
    schema_validator = Draft202012Validator(request.json_schema)
    errors: list[str] = []
    deadline = time.monotonic() + config.request_deadline_s
    while talk.attempts < config.max_attempts:
        talk.begin()
        completion = before_deadline(
            deadline,
            config.request_deadline_s,
            lambda: call(client, config, request, talk.messages, deadline, talk.streamed),
        )
        if isinstance(completion, Failure):
            return talk.fail(completion.message, completion.code)
        talk.record(completion)
        tokens = completion.tokens
        content = completion.content or ""
        if completion.refusal:
            return talk.fail(f"the model refused to answer\n  {one_line(completion.refusal)}")
        if completion.finish_reason == "content_filter":
            return talk.fail("the model's answer was withheld by a content filter")
        if completion.finish_reason == "length":
            # Cut off: no answer to check, but a model told to be brief usually manages.
            limit = _limit(config, tokens)
            if talk.attempts >= config.max_attempts:
                return talk.fail(_cut_off_error(limit), "PS504", tokens)
            talk.reject(content, _cut_off_feedback(limit), tokens)
            continue
        talk.report("checking", tokens)
        value, errors = _check_answer(content, schema_validator, request, validate)
        if value is not None:
            return talk.accept(value, tokens)
        talk.reject(content, feedback(errors), tokens)
    return talk.fail(
        f"no acceptable answer after {talk.attempts} attempt{'s' if talk.attempts != 1 else ''}; "
        "the last one was rejected:\n" + bullets(errors)
    )


def _limit(config: LLMConfig, tokens: int) -> str:
    if tokens:
        return f"{tokens} tokens"
    if config.max_tokens is not None:
        return f"{config.max_tokens} tokens"
    return "the server's token limit"


def _cut_off_feedback(limit: str) -> str:
    return (
        f"Your previous answer was cut off at {limit}, before it was complete. Write a "
        "shorter body: no comments, no docstrings, no explanations, only the code the "
        f"description needs. {FEEDBACK_TAIL}"
    )


def _cut_off_error(limit: str) -> str:
    return (
        f"the model's answer was cut off at {limit} (finish_reason=length) on its last "
        "attempt: raise the limit with --max-tokens or fill.max_tokens"
    )


_FENCE = re.compile(r"\A\s*```[A-Za-z]*[ \t]*\n(?P<inside>.*)\n[ \t]*```\s*\Z", re.DOTALL)


def _unfenced(content: str) -> str:
    """The JSON inside a Markdown code fence, the one harmless deviation tolerated: servers
    that do not enforce the schema let small models wrap their answer in ```json ... ```."""
    found = _FENCE.match(content)
    return found["inside"] if found else content


def _check_answer(
    content: str,
    schema_validator: SchemaValidator,
    request: LLMRequest,
    validate: Validator,
) -> tuple[dict[str, Any] | None, list[str]]:
    """The accepted answer and [], or None and why it was rejected."""
    if not content.strip():
        return None, ["the answer was empty"]
    content = _unfenced(content)
    if too_deep(content):
        return None, [f"PS514: the answer nests deeper than {MAX_JSON_DEPTH} levels"]
    try:
        value = json.loads(content)
    except ValueError as exc:
        return None, [f"the answer is not valid JSON: {exc}"]
    if not isinstance(value, dict):
        return None, [f"the answer must be a JSON object, not {json_type(value)}"]
    schema_errors = sorted(
        schema_validator.iter_errors(value),
        key=lambda error: [str(part) for part in error.absolute_path],
    )
    if schema_errors:
        return None, [schema_problem(error) for error in schema_errors]
    with _ONE_VALIDATOR_AT_A_TIME:
        problems = validate(request, value)
    if problems:
        return None, list(problems)
    return value, []
