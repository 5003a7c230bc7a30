"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for testing the LLM provider.

openai 3.x sends requests through httpx2, which respx and pytest-httpx cannot intercept, so
the tests run the real SDK against this loopback server instead:

    with FakeOpenAI(lambda body, index: Reply.answer({"image": "python:3.12"})) as fake:
        config = LLMConfig(model="m", base_url=fake.base_url, api_key="test")
        ...
        assert fake.calls == 1

The script is either a handler `(request_json, call_index) -> Reply` or a list of replies
(call `i` gets `replies[i]`, the last one repeating). The server records every request body,
its headers and arrival time, and the largest number of requests in flight at once.

A request with `"stream": true` gets its completion as Server-Sent Events, the way
llama.cpp's server and OpenAI send it: a role chunk, one chunk per piece of the content, a
chunk with the finish reason, a usage chunk when `stream_options.include_usage` asks for it,
then `data: [DONE]`. A Reply can pace the chunks (`chunk_every`), go silent part-way
(`stall_after`, `stall`), hang up part-way (`stop_after`), or ignore `stream` and answer one
JSON document (`stream=False`).
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    """What the server does with one request.

    By default a 200 chat.completion whose message has `content` (or `refusal`), streamed
    when the request asks for a stream. Set `body` to send that instead, verbatim, with
    `status`, `content_type` and `headers`.
    """

    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    content_type: str = "application/json"
    delay: float = 0.0  # seconds to wait before answering
    trickle: float = 0.0  # > 0: send the body one byte at a time, this many seconds apart
    prompt_tokens: int = 10
    completion_tokens: int = 5
    include_usage: bool = True
    model: str = "fake-model-2024"
    stream: bool | None = None  # None: stream when asked; False: one JSON document anyway
    chunks: int = 0  # content pieces when streaming; 0: about 8 characters each, at most 64
    chunk_every: float = 0.0  # seconds between two events of a stream
    stall_after: int | None = None  # after this many events, go silent for `stall` seconds
    stall: float = 0.0
    stop_after: int | None = None  # after this many events, hang up (no finish, no [DONE])

    @classmethod
    def answer(cls, value: object, **kwargs: Any) -> Reply:
        """A completion whose content is `value` as JSON."""
        return cls(content=json.dumps(value), **kwargs)

    @classmethod
    def text(cls, content: str, **kwargs: Any) -> Reply:
        """A completion whose content is `content` verbatim (JSON or not)."""
        return cls(content=content, **kwargs)

    @classmethod
    def refuse(cls, refusal: str = "I can't help with that.", **kwargs: Any) -> Reply:
        return cls(refusal=refusal, **kwargs)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "fake server error",
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        """An HTTP error with an OpenAI-style JSON error body."""
        body = json.dumps({"error": {"message": message, "type": "server_error", "code": None}})
        return cls(status=status, body=body, headers=dict(headers or {}), **kwargs)

    @classmethod
    def trickled(cls, value: object, every: float = 0.2, **kwargs: Any) -> Reply:
        """A good answer sent a byte at a time: never idle long enough for a read timeout."""
        return cls(content=json.dumps(value), trickle=every, **kwargs)

    @classmethod
    def streamed(cls, value: object, chunks: int = 8, every: float = 0.0, **kwargs: Any) -> Reply:
        """A good answer streamed in `chunks` content events, `every` seconds apart."""
        return cls(content=json.dumps(value), chunks=chunks, chunk_every=every, **kwargs)

    @classmethod
    def nested(cls, depth: int, where: str = "content", **kwargs: Any) -> Reply:
        """JSON nested `depth` arrays deep, as the answer's content or as the whole body."""
        deep = "[" * depth + "]" * depth
        if where == "body":
            return cls(body=deep, **kwargs)
        return cls(content=deep, **kwargs)

    @classmethod
    def huge(cls, size: int, **kwargs: Any) -> Reply:
        """A schema-shaped answer whose body is `size` characters long."""
        value: dict[str, Any] = {"image": None, "body": "x = 1\n" * (size // 6), "imports": []}
        return cls(content=json.dumps(value), **kwargs)

    @classmethod
    def html(
        cls, page: str = "<html><body>Welcome to nginx!</body></html>", **kwargs: Any
    ) -> Reply:
        """A web page with status 200, as a wrong base URL or a captive proxy gives."""
        return cls(body=page, content_type="text/html; charset=utf-8", **kwargs)


Handler = Callable[[dict[str, Any], int], Reply]


class FakeOpenAI:
    """Context manager: a ThreadingHTTPServer on an ephemeral loopback port."""

    def __init__(self, script: Handler | Sequence[Reply]) -> None:
        if callable(script):
            self._handler: Handler = script
        else:
            replies = list(script)
            if not replies:
                raise ValueError("FakeOpenAI needs at least one reply")
            self._handler = lambda _body, index: replies[min(index, len(replies) - 1)]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._requests: list[dict[str, Any]] = []
        self._headers: list[dict[str, str]] = []
        self._arrivals: list[float] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self.handler_errors: list[str] = []  # tracebacks of handlers that raised
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        server = _Server(("127.0.0.1", 0), _RequestHandler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    # --- what tests look at --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every chat request body received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def headers(self) -> list[dict[str, str]]:
        """The headers of every chat request (names lower-cased), in arrival order."""
        with self._lock:
            return list(self._headers)

    @property
    def arrivals(self) -> list[float]:
        """`time.monotonic()` at the arrival of every chat request."""
        with self._lock:
            return list(self._arrivals)

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    # --- serving ---------------------------------------------------------------------------

    def _serve(self, handler: _RequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        if handler.path.split("?")[0].rstrip("/") != CHAT_PATH:
            _send(handler, 404, "application/json", b'{"error": {"message": "not found"}}', {})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            _send(handler, 400, "application/json", b'{"error": {"message": "bad json"}}', {})
            return
        with self._lock:
            index = len(self._requests)
            self._requests.append(body)
            self._headers.append({k.lower(): v for k, v in handler.headers.items()})
            self._arrivals.append(time.monotonic())
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            try:
                reply = self._handler(body, index)
            except Exception:
                with self._lock:
                    self.handler_errors.append(traceback.format_exc())
                reply = Reply.error(599, "the fake server's handler raised")
            if reply.delay > 0 and self._stopping.wait(reply.delay):
                return  # shutting down: drop the connection
            self._answer(handler, reply, body, index)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(
        self, handler: _RequestHandler, reply: Reply, request: dict[str, Any], index: int
    ) -> None:
        length: int | None
        if reply.body is not None:
            data = reply.body.encode() if isinstance(reply.body, str) else reply.body
            pieces, content_type, length = [data], reply.content_type, len(data)
        elif request.get("stream") and reply.stream is not False:
            options = request.get("stream_options") or {}
            usage = bool(options.get("include_usage")) and reply.include_usage
            pieces, content_type, length = _events(reply, index, usage), "text/event-stream", None
        else:
            # A model takes as long to write an answer it sends whole as one it streams.
            generating = _generation_time(reply, len(_events(reply, index, False)))
            if generating > 0 and self._stopping.wait(generating):
                return
            data = json.dumps(_completion(reply, index)).encode()
            pieces, content_type, length = [data], reply.content_type, len(data)
        if reply.trickle > 0:  # a byte at a time, a pause before each
            whole = b"".join(pieces)
            pieces = [whole[i : i + 1] for i in range(len(whole))]
        if not _send(handler, reply.status, content_type, b"", reply.headers, length):
            return
        for i, piece in enumerate(pieces):
            if i == reply.stop_after:
                return  # hang up: HTTP/1.0, so the body just ends
            pause = reply.trickle if reply.trickle > 0 else (reply.chunk_every if i else 0.0)
            if i == reply.stall_after:
                pause += reply.stall
            if pause > 0 and self._stopping.wait(pause):
                return
            try:
                handler.wfile.write(piece)
                handler.wfile.flush()
            except OSError:
                return  # the client gave up (a timeout or deadline test)


def _events(reply: Reply, index: int, include_usage: bool) -> list[bytes]:
    """The completion as Server-Sent Events, one `data:` event per list item."""
    head = {
        "id": f"chatcmpl-fake-{index}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": reply.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": ""})]
    for name in ("content", "refusal"):
        text = getattr(reply, name)
        if text:
            events.extend(chunk({name: piece}) for piece in _split(text, reply.chunks))
    events.append(chunk({}, reply.finish_reason))
    if include_usage:
        events.append({**head, "choices": [], "usage": _usage(reply)})
    out = [f"data: {json.dumps(event)}\n\n".encode() for event in events]
    return [*out, b"data: [DONE]\n\n"]


def _generation_time(reply: Reply, events: int) -> float:
    """How long the stream of `events` would take: what a whole answer waits for."""
    stalled = reply.stall if reply.stall_after is not None and reply.stall_after < events else 0
    return reply.chunk_every * (events - 1) + stalled


def _split(text: str, chunks: int) -> list[str]:
    count = chunks if chunks > 0 else min(64, max(1, len(text) // 8))
    size = -(-len(text) // count)  # ceiling: `count` pieces at most
    return [text[i : i + size] for i in range(0, len(text), size)]


def _usage(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def _completion(reply: Reply, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f"chatcmpl-fake-{index}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": reply.content,
                    "refusal": reply.refusal,
                },
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
    }
    if reply.include_usage:
        out["usage"] = _usage(reply)
    return out


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    data: bytes,
    headers: Mapping[str, str],
    length: int | None = None,
) -> bool:
    """The status line, the headers and `data`; False when the client has gone.

    `length` is the Content-Length when more than `data` follows; None with empty `data`
    leaves it out (the body ends when the connection closes, as streams do)."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if data or length is not None:
            handler.send_header("Content-Length", str(len(data) if length is None else length))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        return False  # the client gave up (a timeout test)
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up is not a test failure


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at stop()

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        _send(self, 404, "application/json", b'{"error": {"message": "not found"}}', {})

    def log_message(self, format: str, *args: Any) -> None:
        pass
