"""The LLM provider against a real loopback server, through the real openai SDK."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from pipespec.fill.llm import (
    FEEDBACK_HEAD,
    FEEDBACK_TAIL,
    LLMConfig,
    LLMRequest,
    LLMResult,
    Usage,
    run_requests,
)
from tests.fill.fake_openai import FakeOpenAI, Reply

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": {"type": "string"},
        "cpu": {"type": "integer", "minimum": 1},
    },
    "required": ["image", "cpu"],
    "additionalProperties": False,
}
GOOD = {"image": "python:3.12-slim", "cpu": 2}


def request(key: str = "train", user: str = "step: train") -> LLMRequest:
    return LLMRequest(
        key=key,
        system="You complete ML pipeline steps.",
        user=user,
        schema_name="train_step",
        json_schema=SCHEMA,
    )


def accept(_request: LLMRequest, _value: dict[str, Any]) -> list[str]:
    return []


def run(
    fake: FakeOpenAI,
    requests: list[LLMRequest],
    validate: Any = accept,
    **options: Any,
) -> tuple[dict[str, LLMResult], Usage]:
    options.setdefault("transport_retries", 0)
    options.setdefault("timeout_s", 5.0)
    config = LLMConfig(model="test-model", base_url=fake.base_url, api_key="sk-test", **options)
    results, usage = run_requests(config, requests, validate)
    assert not fake.handler_errors, fake.handler_errors
    assert list(results) == [r.key for r in requests]
    return results, usage


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [None, False], ids=["streamed", "server-ignores-stream"])
def test_good_answer_and_request_shape(stream: bool | None) -> None:
    with FakeOpenAI([Reply.answer(GOOD, stream=stream)]) as fake:
        results, usage = run(fake, [request()])
    result = results["train"]
    assert result.value == GOOD
    assert result.error is None
    assert result.attempts == 1
    assert result.model == "fake-model-2024"  # what the server reported
    assert usage == Usage(prompt_tokens=10, completion_tokens=5, requests=1)
    [body] = fake.requests
    assert body["model"] == "test-model"
    assert body["temperature"] == 0
    assert body["max_tokens"] == 700  # the server's own cap would be 1,024 or none at all
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "You complete ML pipeline steps."},
        {"role": "user", "content": "step: train"},
    ]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "train_step", "schema": SCHEMA, "strict": True},
    }
    assert fake.headers[0]["authorization"] == "Bearer sk-test"


def test_schema_invalid_then_corrected() -> None:
    first = json.dumps({"image": "python:3.12"})  # no cpu
    with FakeOpenAI([Reply.text(first), Reply.answer(GOOD)]) as fake:
        results, usage = run(fake, [request()])
    assert results["train"].value == GOOD
    assert results["train"].attempts == 2
    assert usage.requests == 2
    second = fake.requests[1]["messages"]
    assert second[:2] == fake.requests[0]["messages"]
    assert second[2] == {"role": "assistant", "content": first}
    feedback = second[3]
    assert feedback["role"] == "user"
    assert feedback["content"].startswith(FEEDBACK_HEAD)
    assert "'cpu' is a required property" in feedback["content"]
    assert feedback["content"].endswith(FEEDBACK_TAIL)


def test_schema_error_names_the_path() -> None:
    bad = json.dumps({"image": "x", "cpu": 0})
    with FakeOpenAI([Reply.text(bad), Reply.answer(GOOD)]) as fake:
        results, _ = run(fake, [request()])
    assert results["train"].value == GOOD
    assert "at /cpu: 0 is less than the minimum of 1" in fake.requests[1]["messages"][3]["content"]


def test_validator_rejects_then_accepts() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def validate(req: LLMRequest, value: dict[str, Any]) -> list[str]:
        seen.append((req.key, value))
        return [] if value["image"].startswith("python:") else ["image must be a python image"]

    wrong = {"image": "ubuntu:24.04", "cpu": 1}
    with FakeOpenAI([Reply.answer(wrong), Reply.answer(GOOD)]) as fake:
        results, _ = run(fake, [request()], validate)
    assert results["train"].value == GOOD
    assert results["train"].attempts == 2
    assert seen == [("train", wrong), ("train", GOOD)]
    feedback = fake.requests[1]["messages"][3]["content"]
    assert "  - image must be a python image" in feedback
    assert fake.requests[1]["messages"][2]["content"] == json.dumps(wrong)


@pytest.mark.parametrize(
    "content", ["Sure! Here is the step: image python", "[1, 2]", "", '{"image": "x", "cpu": 1']
)
def test_garbage_three_times_is_an_error(content: str) -> None:
    with FakeOpenAI([Reply.text(content)]) as fake:
        results, usage = run(fake, [request()], max_attempts=3)
    result = results["train"]
    assert result.value is None
    assert result.attempts == 3
    assert fake.calls == 3
    assert usage.requests == 3
    assert result.error is not None
    assert result.error.startswith("no acceptable answer after 3 attempts")
    # every retry carries the whole conversation so far
    assert len(fake.requests[2]["messages"]) == 6


def test_refusal_ends_without_retry() -> None:
    with FakeOpenAI([Reply.refuse("I can't help with that."), Reply.answer(GOOD)]) as fake:
        results, usage = run(fake, [request()])
    result = results["train"]
    assert result.value is None
    assert result.error == "the model refused to answer\n  I can't help with that."
    assert result.attempts == 1
    assert fake.calls == 1
    assert usage.requests == 1


def test_a_cut_off_answer_is_fed_back_then_accepted() -> None:
    cut = Reply.text('{"image": "pyth', finish_reason="length", completion_tokens=700)
    with FakeOpenAI([cut, Reply.answer(GOOD)]) as fake:
        results, usage = run(fake, [request()])
    result = results["train"]
    assert result.value == GOOD
    assert result.attempts == 2
    assert usage.requests == 2
    second = fake.requests[1]["messages"]
    assert second[2] == {"role": "assistant", "content": '{"image": "pyth'}
    feedback = second[3]["content"]
    assert feedback.startswith("Your previous answer was cut off at 700 tokens")
    assert "shorter body" in feedback and "no comments" in feedback


def test_a_cut_off_on_the_last_attempt_is_an_error() -> None:
    with FakeOpenAI([Reply.text('{"image": "pyth', finish_reason="length")]) as fake:
        results, _ = run(fake, [request()], max_attempts=2, max_tokens=64)
    result = results["train"]
    assert result.value is None
    assert result.code == "PS504"  # a bound, not a rejected answer (PS503)
    assert result.error is not None
    assert "finish_reason=length" in result.error
    assert "--max-tokens or fill.max_tokens" in result.error
    assert fake.calls == 2
    assert [body["max_tokens"] for body in fake.requests] == [64, 64]


# --- transport -----------------------------------------------------------------------------


def test_http_500_retried_by_the_sdk_then_error() -> None:
    # retry-after-ms keeps the SDK's backoff short; the SDK honours it like Retry-After
    reply = Reply.error(500, "boom", headers={"retry-after-ms": "20"})
    with FakeOpenAI([reply]) as fake:
        results, usage = run(fake, [request()], transport_retries=2)
    result = results["train"]
    assert fake.calls == 3  # 1 + 2 transport retries
    assert result.value is None
    assert result.attempts == 1  # transport retries are not content attempts
    assert result.error is not None
    first, detail = result.error.split("\n")
    assert first == "the LLM server answered HTTP 500 (after 2 retries)"
    assert '"message": "boom"' in detail
    assert usage == Usage()


def test_http_500_once_then_success() -> None:
    with FakeOpenAI([Reply.error(500), Reply.answer(GOOD)]) as fake:
        results, usage = run(fake, [request()], transport_retries=1)
    assert results["train"].value == GOOD
    assert results["train"].attempts == 1
    assert fake.calls == 2
    assert usage.requests == 1


def test_http_400_is_not_retried() -> None:
    with FakeOpenAI([Reply.error(400, "response_format not supported")]) as fake:
        results, _ = run(fake, [request()], transport_retries=2)
    assert fake.calls == 1
    error = results["train"].error
    assert error is not None
    assert error.startswith("the LLM server answered HTTP 400\n")
    assert "response_format not supported" in error


def test_429_retry_after_is_honoured() -> None:
    replies = [Reply.error(429, "slow down", headers={"Retry-After": "1"}), Reply.answer(GOOD)]
    with FakeOpenAI(replies) as fake:
        results, _ = run(fake, [request()], transport_retries=1)
    assert results["train"].value == GOOD
    assert fake.calls == 2
    first, second = fake.arrivals
    assert second - first >= 0.95  # the SDK's own backoff would be <= 0.5 s


def test_a_timeout_is_an_error_and_never_retried() -> None:
    # Retrying would make a slow model start its answer from zero: neither the transport
    # retries nor the content attempts may send the request again.
    with FakeOpenAI([Reply.answer(GOOD, delay=2.0)]) as fake:
        started = time.monotonic()
        results, _ = run(fake, [request()], timeout_s=0.5, transport_retries=2, max_attempts=3)
        elapsed = time.monotonic() - started
    result = results["train"]
    assert result.value is None
    assert result.code == "PS504"
    assert result.error is not None
    assert "sent nothing for 0.5 s (the idle timeout" in result.error
    assert "--timeout or fill.timeout" in result.error
    assert fake.calls == 1
    assert result.attempts == 1
    assert elapsed < 1.8


def test_connection_refused_is_retried_then_an_error() -> None:
    config = LLMConfig(
        model="m", base_url=f"http://127.0.0.1:{closed_port()}/v1", api_key="k", transport_retries=1
    )
    results, usage = run_requests(config, [request()], accept)
    error = results["train"].error
    assert error is not None
    assert error.startswith("cannot reach the LLM server at http://127.0.0.1:")
    assert "(after 1 retry)" in error.split("\n")[0]
    assert usage == Usage()


def test_connection_refused_is_an_error() -> None:
    config = LLMConfig(
        model="m", base_url=f"http://127.0.0.1:{closed_port()}/v1", api_key="k", transport_retries=0
    )
    results, usage = run_requests(config, [request()], accept)
    error = results["train"].error
    assert error is not None
    assert error.startswith("cannot reach the LLM server at http://127.0.0.1:")
    assert usage == Usage()


def test_html_page_with_status_200() -> None:
    with FakeOpenAI([Reply.html()]) as fake:
        results, usage = run(fake, [request()])
    error = results["train"].error
    assert error is not None
    assert "HTTP 200 with text/html" in error
    assert "Welcome to nginx!" in error
    assert fake.calls == 1
    assert usage == Usage()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"error": {"message": "model not loaded"}}', "reported an error"),
        ('{"object": "list", "data": []}', "not a chat completion"),
        ("[]", "not a chat completion"),
    ],
)
def test_unusable_json_body_with_status_200(body: str, expected: str) -> None:
    with FakeOpenAI([Reply(body=body)]) as fake:
        results, _ = run(fake, [request()])
    error = results["train"].error
    assert error is not None
    assert expected in error.split("\n")[0]
    assert fake.calls == 1


def test_missing_api_key_is_an_error_not_a_crash() -> None:
    with FakeOpenAI([Reply.answer(GOOD)]) as fake:
        config = LLMConfig(model="m", base_url=fake.base_url)
        results, _ = run_requests(config, [request("a"), request("b", "other")], accept)
    assert fake.calls == 0
    for result in results.values():
        assert result.value is None
        assert result.error is not None
        assert result.error.startswith("the LLM is unavailable")


def test_environment_supplies_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI([Reply.answer(GOOD)]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        results, _ = run_requests(LLMConfig(model="m"), [request()], accept)
    assert results["train"].value == GOOD
    assert fake.headers[0]["authorization"] == "Bearer sk-from-env"


# --- many requests -------------------------------------------------------------------------


def test_bounded_concurrency() -> None:
    def answer(body: dict[str, Any], _index: int) -> Reply:
        step = body["messages"][1]["content"]
        return Reply.answer({"image": step, "cpu": 1}, delay=0.3)

    requests = [request(f"s{i}", f"step-{i}") for i in range(6)]
    with FakeOpenAI(answer) as fake:
        results, usage = run(fake, requests, max_concurrency=2)
    assert fake.max_in_flight == 2
    assert fake.calls == 6
    assert {key: r.value for key, r in results.items()} == {
        f"s{i}": {"image": f"step-{i}", "cpu": 1} for i in range(6)
    }
    assert usage.requests == 6


def test_identical_requests_are_sent_once() -> None:
    with FakeOpenAI([Reply.answer(GOOD)]) as fake:
        results, usage = run(fake, [request("a"), request("b"), request("c", "different")])
    assert fake.calls == 2
    assert results["a"].value == results["b"].value == results["c"].value == GOOD
    assert (results["a"].key, results["b"].key) == ("a", "b")
    assert results["a"].value is not results["b"].value  # copies, not shared objects
    assert usage.requests == 2


def test_usage_totals() -> None:
    def answer(body: dict[str, Any], _index: int) -> Reply:
        if body["messages"][1]["content"] == "no-usage":
            return Reply.answer(GOOD, include_usage=False)
        if len(body["messages"]) == 2 and body["messages"][1]["content"] == "retry":
            return Reply.text("nope", prompt_tokens=100, completion_tokens=1)
        return Reply.answer(GOOD, prompt_tokens=7, completion_tokens=3)

    requests = [request("plain", "plain"), request("retry", "retry"), request("bare", "no-usage")]
    with FakeOpenAI(answer) as fake:
        results, usage = run(fake, requests)
    assert results["plain"].usage == Usage(7, 3, 1)
    assert results["retry"].usage == Usage(107, 4, 2)
    assert results["bare"].usage == Usage(0, 0, 1)
    assert usage == Usage(prompt_tokens=114, completion_tokens=7, requests=4)
    assert usage.total_tokens == 121


def test_mixed_outcomes_do_not_disturb_each_other() -> None:
    def answer(body: dict[str, Any], _index: int) -> Reply:
        step = body["messages"][1]["content"]
        return {
            "ok": Reply.answer(GOOD),
            "refuse": Reply.refuse(),
            "fail": Reply.error(503),
        }[step]

    requests = [request(name, name) for name in ("ok", "refuse", "fail")]
    with FakeOpenAI(answer) as fake:
        results, _ = run(fake, requests)
    assert results["ok"].value == GOOD
    assert results["refuse"].error is not None
    assert results["fail"].error is not None
    assert "HTTP 503" in results["fail"].error


def test_no_requests_makes_no_client() -> None:
    assert run_requests(LLMConfig(model="m"), [], accept) == ({}, Usage())


def test_programming_errors_raise() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        run_requests(LLMConfig(model="m", api_key="k"), [request("a"), request("a")], accept)
    with pytest.raises(ValueError, match="max_concurrency"):
        LLMConfig(model="m", max_concurrency=0)

    def broken(_req: LLMRequest, _value: dict[str, Any]) -> list[str]:
        raise RuntimeError("validator bug")

    with FakeOpenAI([Reply.answer(GOOD)]) as fake, pytest.raises(RuntimeError, match="bug"):
        run(fake, [request()], broken)


# --- imports -------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_openai() -> None:
    code = (
        "import sys, pipespec.fill.llm\n"
        "heavy = sorted(m for m in ('openai', 'httpx2', 'jsonschema') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_threads_are_not_left_behind() -> None:
    before = threading.active_count()
    with FakeOpenAI([Reply.answer(GOOD)]) as fake:
        run(fake, [request(f"k{i}", f"u{i}") for i in range(3)])
    time.sleep(0.1)
    assert threading.active_count() <= before


@pytest.mark.parametrize("wrap", ["```json\n{}\n```", "```\n{}\n```\n", "  ```JSON \n{}\n  ```  "])
def test_an_answer_in_a_markdown_fence_is_read_inside_it(wrap: str) -> None:
    """Servers that do not enforce the schema let small models fence their JSON."""
    with FakeOpenAI([Reply.text(wrap.format(json.dumps(GOOD)))]) as fake:
        results, _ = run(fake, [request()])
    assert results["train"].value == GOOD and fake.calls == 1


def test_text_around_a_fence_is_still_rejected() -> None:
    fenced = f"Here it is:\n```json\n{json.dumps(GOOD)}\n```"
    with FakeOpenAI([Reply.text(fenced), Reply.answer(GOOD)]) as fake:
        results, _ = run(fake, [request()])
    assert results["train"].value == GOOD and fake.calls == 2
