"""`pipespec fill --timeout/--deadline/--max-tokens` and the spec's `fill:` block reach the
requests: the command line wins over the spec, the spec over the defaults."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipespec.fill.llm import LLMConfig
from pipespec.fill.settings import LLMOverrides, llm_config_for
from pipespec.spec.models import FillSettings
from tests.fill.fake_openai import FakeOpenAI, Reply
from tests.fill.test_fill import answer_by_step, fill, step_of
from tests.fill.test_fill import run as cli


def with_fill_block(folder: Path, block: str) -> None:
    spec = folder / "pipeline.yaml"
    text = spec.read_text()
    assert "fill:\n  model: gpt-4.1-mini\n" in text
    spec.write_text(text.replace("fill:\n  model: gpt-4.1-mini\n", block))


def test_max_tokens_from_the_command_line_then_the_spec_then_the_default(churn: Path) -> None:
    with FakeOpenAI(answer_by_step) as fake:
        code, _, err = fill("churn/pipeline.yaml", fake, "--max-tokens", "333", "--dry-run")
        assert code == 0, err
        with_fill_block(churn, "fill:\n  model: gpt-4.1-mini\n  max_tokens: 444\n")
        code, _, err = fill("churn/pipeline.yaml", fake, "--dry-run")
        assert code == 0, err
        with_fill_block(churn, "fill:\n  model: gpt-4.1-mini\n")
    assert [body["max_tokens"] for body in fake.requests] == [333, 333, 444, 444]


def test_a_deadline_from_the_command_line_ends_a_slow_step_with_ps515(churn: Path) -> None:
    def slow_clean(body: dict[str, Any], index: int) -> Reply:
        if step_of(body) == "clean":
            return Reply.streamed({"body": "x"}, chunks=100, every=0.05)
        return answer_by_step(body, index)

    with FakeOpenAI(slow_clean) as fake:
        code, _, err = fill("churn/pipeline.yaml", fake, "--deadline", "0.5", "--timeout", "30s")
    assert code == 1
    assert "error[PS515]: step 'clean'" in err, err
    assert "deadline of 0.5 s" in err and "--deadline or fill.deadline" in err
    assert not (churn / "pipeline.lock.json").exists()


def test_the_spec_timeout_is_the_idle_timeout(churn: Path) -> None:
    with_fill_block(churn, "fill:\n  model: gpt-4.1-mini\n  timeout: 1s\n")

    def silent_clean(body: dict[str, Any], index: int) -> Reply:
        if step_of(body) == "clean":
            return Reply.streamed({"body": "x"}, chunks=4, stall_after=2, stall=5.0)
        return answer_by_step(body, index)

    with FakeOpenAI(silent_clean) as fake:
        code, _, err = fill("churn/pipeline.yaml", fake)
        clean_calls = sum(step_of(body) == "clean" for body in fake.requests)
    assert code == 1
    assert "error[PS504]: step 'clean'" in err, err
    assert "sent nothing for 1 s (the idle timeout" in err
    assert clean_calls == 1  # not retried


@pytest.mark.parametrize(
    ("option", "value"),
    [("--timeout", "soon"), ("--timeout", "0"), ("--deadline", "-5"), ("--max-tokens", "3")],
)
def test_a_bad_option_value_is_a_usage_error(churn: Path, option: str, value: str) -> None:
    code, _, err = cli("fill", "churn/pipeline.yaml", option, value)
    assert code == 2
    assert f"Invalid value for '{option}'" in err
    assert "Traceback" not in err


def test_overrides_win_over_the_spec_which_wins_over_the_defaults() -> None:
    spec = SimpleNamespace(
        fill=FillSettings(
            model="spec-model",
            base_url="http://spec.invalid/v1",
            timeout="90s",
            deadline="20m",
            max_tokens=500,
        )
    )
    from_spec, problem = llm_config_for(spec)
    assert problem is None and from_spec is not None
    assert (from_spec.timeout_s, from_spec.deadline_s, from_spec.max_tokens) == (90, 1200, 500)

    given = LLMOverrides(timeout_s=5.0, deadline_s=60.0, max_tokens=64, progress=print)
    overridden, _ = llm_config_for(spec, given)
    assert overridden is not None
    assert (overridden.timeout_s, overridden.deadline_s, overridden.max_tokens) == (5, 60, 64)
    assert overridden.progress is print

    bare = SimpleNamespace(fill=FillSettings(model="m", base_url="http://x.invalid/v1"))
    defaults, _ = llm_config_for(bare)
    assert defaults == LLMConfig(model="m", base_url="http://x.invalid/v1", api_key="unused")
    assert defaults.timeout_s == 120
    assert defaults.request_deadline_s == 900
    assert defaults.max_tokens == 700
