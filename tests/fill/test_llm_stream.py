"""Token streaming: the idle timeout between chunks, the deadline, broken streams, progress.

A CPU model answers at a few tokens a second: a 200-token answer takes minutes. Each test
scales that down (chunks a tenth of a second apart, timeouts of half a second) and runs the
real openai SDK against the loopback fake server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from pipespec.fill.llm import LLMConfig, LLMResult, ProgressEvent, Usage, run_requests
from tests.fill.fake_openai import FakeOpenAI, Reply
from tests.fill.test_llm import GOOD, accept, request


def run(fake: FakeOpenAI, progress: Any = None, **options: Any) -> tuple[LLMResult, Usage, float]:
    options.setdefault("transport_retries", 0)
    config = LLMConfig(model="m", base_url=fake.base_url, api_key="k", **options)
    started = time.monotonic()
    results, usage = run_requests(config, [request()], accept, progress)
    assert not fake.handler_errors, fake.handler_errors
    return results["train"], usage, time.monotonic() - started


def test_a_slow_but_steady_stream_outlasts_the_idle_timeout() -> None:
    # 8 chunks 0.15 s apart: 1.05 s in all, twice the idle timeout, never 0.5 s silent.
    with FakeOpenAI([Reply.streamed(GOOD, chunks=8, every=0.15)]) as fake:
        result, usage, elapsed = run(fake, timeout_s=0.5)
    assert result.value == GOOD, result.error
    assert fake.calls == 1
    assert usage == Usage(prompt_tokens=10, completion_tokens=5, requests=1)
    assert elapsed > 0.5  # it did outlast the timeout


def test_a_stall_longer_than_the_idle_timeout_fails_without_a_retry() -> None:
    stalls = Reply.streamed(GOOD, chunks=8, stall_after=3, stall=5.0)
    with FakeOpenAI([stalls, Reply.answer(GOOD)]) as fake:
        result, _, elapsed = run(fake, timeout_s=0.4, transport_retries=2, max_attempts=3)
    assert result.value is None
    assert result.code == "PS504"
    assert "sent nothing for 0.4 s (the idle timeout" in (result.error or ""), result.error
    assert fake.calls == 1  # neither a transport retry nor another attempt
    assert elapsed < 3


def test_the_deadline_ends_a_long_trickle_of_chunks() -> None:
    # Never silent for long, so only the deadline can end it.
    with FakeOpenAI([Reply.streamed(GOOD, chunks=60, every=0.05)]) as fake:
        result, _, elapsed = run(fake, timeout_s=5.0, deadline_s=0.6, max_attempts=3)
    assert result.value is None
    assert result.code == "PS515"
    assert "deadline of 0.6 s" in (result.error or "")
    assert "--deadline or fill.deadline" in (result.error or "")
    assert fake.calls == 1
    assert elapsed < 1.5


def test_the_idle_timeout_is_cut_to_the_deadline_and_says_deadline() -> None:
    # Silent from the start, with less time left than the idle timeout: the deadline trips.
    with FakeOpenAI([Reply.answer(GOOD, delay=3.0)]) as fake:
        result, _, elapsed = run(fake, timeout_s=5.0, deadline_s=0.5)
    assert result.code == "PS515", result.error
    assert elapsed < 1.5


def test_max_tokens_is_sent_as_configured_or_left_out() -> None:
    with FakeOpenAI([Reply.answer(GOOD)]) as fake:
        run(fake, max_tokens=321)
        run(fake, max_tokens=None)
    assert fake.requests[0]["max_tokens"] == 321
    assert "max_tokens" not in fake.requests[1]


def test_a_cut_off_stream_without_usage_counts_its_chunks() -> None:
    cut = Reply.text('{"image": "python:3', finish_reason="length", chunks=4, include_usage=False)
    with FakeOpenAI([cut, Reply.answer(GOOD)]) as fake:
        result, _, _ = run(fake)
    assert result.value == GOOD
    feedback = fake.requests[1]["messages"][3]["content"]
    assert feedback.startswith("Your previous answer was cut off at 4 tokens")


def test_a_server_that_ignores_stream_answers_plain_json() -> None:
    with FakeOpenAI([Reply.answer(GOOD, stream=False, completion_tokens=9)]) as fake:
        events: list[ProgressEvent] = []
        result, usage, _ = run(fake, events.append)
    assert result.value == GOOD
    assert usage.completion_tokens == 9
    assert fake.requests[0]["stream"] is True
    assert events[-1].state == "accepted" and events[-1].tokens == 9


def test_a_stream_that_hangs_up_part_way_is_an_error() -> None:
    with FakeOpenAI([Reply.streamed(GOOD, chunks=8, stop_after=4)]) as fake:
        result, usage, _ = run(fake, max_attempts=3)
    assert result.value is None
    assert result.error is not None
    assert result.error.startswith("the LLM server's response broke off")
    assert fake.calls == 1
    assert usage == Usage()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('data: {"error": {"message": "context size exceeded"}}\n\n', "reported an error"),
        ('event: error\ndata: {"message": "slot unavailable"}\n\n', "reported an error"),
        ("data: {oops\n\n", "an event that is not JSON"),
        ("data: [1, 2]\n\n", "an event that is not a chunk"),
        (": keep-alive\n\n", "held no chat completion chunk"),
        ("data: " + "[" * 100 + "]" * 100 + "\n\n", "nests deeper than 64"),
    ],
)
def test_unusable_event_streams(body: str, expected: str) -> None:
    with FakeOpenAI([Reply(body=body, content_type="text/event-stream")]) as fake:
        result, _, _ = run(fake)
    assert result.value is None
    assert expected in (result.error or "").split("\n")[0], result.error
    assert fake.calls == 1


def test_events_split_anywhere_with_crlf_comments_and_multi_line_data() -> None:
    # Sent a byte at a time: every event, line and line ending arrives in pieces.
    content = '{"image": "python:3.12-slim", "cpu": 2}'
    body = (
        ": a comment a server sends to keep the connection alive\r\n"
        'data: {"model": "streamer", "choices": [{"index": 0,\r\n'
        'data: "delta": {"content": ' + _quoted(content[:10]) + "}}]}\r\n\r\n"
        'data: {"choices": [{"delta": {"content": ' + _quoted(content[10:]) + "}}]}\n\n"
        'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n'
        'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}\n\n'
        "data: [DONE]\n\n"
    )
    reply = Reply(body=body, content_type="text/event-stream; charset=utf-8", trickle=0.0005)
    with FakeOpenAI([reply]) as fake:
        result, usage, _ = run(fake)
    assert result.value == GOOD, result.error
    assert result.model == "streamer"
    assert usage == Usage(prompt_tokens=3, completion_tokens=2, requests=1)


def test_a_stream_without_done_ends_at_its_finish_reason() -> None:
    body = (
        'data: {"choices": [{"delta": {"content": ' + _quoted('{"image": "x", "cpu": 1}') + "}}]}"
        '\n\ndata: {"choices": [{"delta": {}, "finish_reason": "stop"}]}'  # no blank line
    )
    with FakeOpenAI([Reply(body=body, content_type="text/event-stream")]) as fake:
        result, _, _ = run(fake)
    assert result.value == {"image": "x", "cpu": 1}, result.error


def test_a_huge_stream_is_refused_without_reading_it_all() -> None:
    with FakeOpenAI([Reply.huge(10_000_000, chunks=200)]) as fake:
        result, _, elapsed = run(fake)
    assert result.code == "PS513", result.error
    assert elapsed < 3


def test_a_streamed_refusal_ends_the_request() -> None:
    with FakeOpenAI([Reply.refuse("No.", chunks=2), Reply.answer(GOOD)]) as fake:
        result, _, _ = run(fake)
    assert result.error == "the model refused to answer\n  No."
    assert fake.calls == 1


# --- progress ------------------------------------------------------------------------------


def test_progress_events_come_in_order_with_growing_token_counts() -> None:
    replies = [
        Reply.text('{"image": 1}', chunks=3, chunk_every=0.02, completion_tokens=3),
        Reply.streamed(GOOD, chunks=5, every=0.02, completion_tokens=6),
    ]
    events: list[ProgressEvent] = []
    with FakeOpenAI(replies) as fake:
        result, _, _ = run(fake, events.append)
    assert result.value == GOOD
    assert {event.key for event in events} == {"train"}
    states = [(event.attempt, event.state) for event in events]
    first = [state for attempt, state in states if attempt == 1]
    second = [state for attempt, state in states if attempt == 2]
    assert _squeeze(first) == ["waiting", "streaming", "checking", "rejected"]
    assert _squeeze(second) == ["waiting", "streaming", "checking", "accepted"]
    tokens = [event.tokens for event in events if event.attempt == 2]
    assert tokens[0] == 0
    assert tokens == sorted(tokens)  # never going back
    assert tokens[-1] == 6  # the server's count at the end
    streaming = [e.tokens for e in events if e.attempt == 2 and e.state == "streaming"]
    assert len(set(streaming)) >= 3  # reported as the chunks came, not once at the end
    elapsed = [event.elapsed_s for event in events]
    assert elapsed == sorted(elapsed)
    assert events[-1].final and sum(event.final for event in events) == 1


def test_progress_reports_a_failure_once_and_under_every_shared_key() -> None:
    events: list[ProgressEvent] = []
    lock = threading.Lock()

    def record(event: ProgressEvent) -> None:
        with lock:
            events.append(event)

    with FakeOpenAI([Reply.streamed(GOOD, chunks=50, every=0.05)]) as fake:
        # The callback travels in the config, as it does through the fill pass.
        config = LLMConfig(
            model="m", base_url=fake.base_url, api_key="k", deadline_s=0.4, progress=record
        )
        results, _ = run_requests(config, [request("a"), request("b")], accept)
        time.sleep(0.2)  # what the abandoned call might still report
    assert results["a"].code == results["b"].code == "PS515"
    for key in ("a", "b"):
        mine = [event for event in events if event.key == key]
        assert mine[0].state == "waiting"
        assert mine[-1].state == "failed"
        assert [event.final for event in mine].count(True) == 1


def _squeeze(states: Sequence[str]) -> list[str]:
    """Runs of one state as one."""
    return [state for i, state in enumerate(states) if i == 0 or states[i - 1] != state]


def _quoted(text: str) -> str:
    import json

    return json.dumps(text)


def test_validators_never_run_at_once() -> None:
    # Two answers that finish together: their checks (ast.parse in the fill pass, which
    # CPython 3.11 cannot run in two threads at once) must take turns.
    inside = 0
    most = 0
    lock = threading.Lock()

    def slow_check(_request: Any, _value: dict[str, Any]) -> list[str]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.1)
        with lock:
            inside -= 1
        return []

    with FakeOpenAI([Reply.streamed(GOOD, chunks=2)]) as fake:
        config = LLMConfig(model="m", base_url=fake.base_url, api_key="k", max_concurrency=3)
        requests = [request(f"s{i}", f"step {i}") for i in range(3)]
        results, _ = run_requests(config, requests, slow_check)
    assert all(result.value == GOOD for result in results.values())
    assert most == 1
