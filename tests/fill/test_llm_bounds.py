"""Every LLM answer is bounded: in time (even when the server trickles), depth and size."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pipespec.fill.llm import LLMConfig, LLMResult, run_requests
from tests.fill.fake_openai import FakeOpenAI, Reply
from tests.fill.test_fill import fill, step_of
from tests.fill.test_llm import GOOD, accept, request


def run(fake: FakeOpenAI, **options: Any) -> tuple[LLMResult, float]:
    options.setdefault("transport_retries", 0)
    config = LLMConfig(model="m", base_url=fake.base_url, api_key="k", **options)
    started = time.monotonic()
    results, _ = run_requests(config, [request()], accept)
    return results["train"], time.monotonic() - started


def test_a_trickling_server_is_cut_off_at_the_deadline() -> None:
    # A byte every 0.1 s never trips the 5 s read timeout; only a wall-clock deadline ends it.
    with FakeOpenAI([Reply.trickled(GOOD, every=0.1)]) as fake:
        result, elapsed = run(fake, timeout_s=5.0, deadline_s=0.6)
    assert result.value is None and result.code == "PS515", result.error
    assert "deadline" in (result.error or "")
    assert elapsed < 1.5


def test_the_deadline_covers_every_attempt_and_retry() -> None:
    # Each reply is rejected after 0.3 s; three attempts would take 0.9 s: the deadline wins.
    with FakeOpenAI([Reply.text("not json", delay=0.3)]) as fake:
        result, elapsed = run(fake, timeout_s=5.0, deadline_s=0.5, max_attempts=3)
    assert result.code == "PS515" and elapsed < 1.2
    assert fake.calls <= 2


def test_the_default_deadline_is_15_minutes_or_the_old_timeout_times_attempts() -> None:
    assert LLMConfig(model="m").request_deadline_s == pytest.approx(15 * 60)
    assert LLMConfig(model="m", timeout_s=2.0).request_deadline_s == pytest.approx(15 * 60)
    # A spec that raised fill.timeout for a slow server before fill.deadline existed keeps
    # the deadline it had then (timeout x attempts).
    slow = LLMConfig(model="m", timeout_s=600.0, max_attempts=3)
    assert slow.request_deadline_s == pytest.approx(600.0 * 3)
    assert LLMConfig(model="m", deadline_s=30).request_deadline_s == 30
    with pytest.raises(ValueError, match="deadline_s"):
        LLMConfig(model="m", deadline_s=0)
    with pytest.raises(ValueError, match="max_tokens"):
        LLMConfig(model="m", max_tokens=0)


@pytest.mark.parametrize("where", ["content", "body"])
def test_deeply_nested_json_is_a_diagnostic_not_a_recursion_error(where: str) -> None:
    with FakeOpenAI([Reply.nested(200_000, where=where)]) as fake:
        result, elapsed = run(fake, max_attempts=1)
    assert result.value is None
    assert result.code == "PS514" or "PS514" in (result.error or ""), result.error
    assert "nest" in (result.error or "")
    assert elapsed < 2


def test_a_huge_answer_is_refused_without_reading_it_all() -> None:
    with FakeOpenAI([Reply.huge(10_000_000)]) as fake:
        result, elapsed = run(fake)
    assert result.value is None and result.code == "PS513", result.error
    assert elapsed < 2


def test_fill_ends_with_a_diagnostic_on_a_huge_or_deep_answer(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    folder = tmp_path / "churn"
    folder.mkdir()
    (folder / "pipeline.yaml").write_text((ROOT / "examples/churn/pipeline.yaml").read_text())

    def hostile(body: dict[str, Any], index: int) -> Reply:
        return Reply.huge(10_000_000) if step_of(body) == "clean" else Reply.nested(100_000)

    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with FakeOpenAI(hostile) as fake:
            code, _, err = fill("churn/pipeline.yaml", fake)
    finally:
        os.chdir(cwd)
    assert code == 1
    assert "error[PS513]: step 'clean'" in err, err
    assert "error[PS503]: step 'features'" in err and "PS514" in err, err
    assert not (folder / "scripts").exists()


def test_no_thread_outlives_a_deadline_once_the_server_is_gone() -> None:
    before = threading.active_count()
    with FakeOpenAI([Reply.trickled(GOOD, every=0.1)]) as fake:
        run(fake, deadline_s=0.3)
    time.sleep(0.3)
    assert threading.active_count() <= before
    json.dumps(GOOD)
