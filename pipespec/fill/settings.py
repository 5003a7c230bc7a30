"""The LLM a fill run uses: from the command line, the spec's `fill:` block and the
environment (OPENAI_API_KEY, OPENAI_BASE_URL), in that order."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipespec.fill.llm import LLMConfig, ProgressCallback


@dataclass(frozen=True)
class LLMOverrides:
    """What the command line says; None: the spec's `fill:` block, then the default."""

    model: str | None = None
    base_url: str | None = None
    timeout_s: float | None = None  # --timeout: the longest silence
    deadline_s: float | None = None  # --deadline: one step's request, all attempts
    max_tokens: int | None = None  # --max-tokens
    progress: ProgressCallback | None = None  # told how each step's request stands
    # --trial-python: the interpreter of the trial runs. Never from the spec: a spec is
    # untrusted text, and this names a program to run.
    trial_python: str | None = None


def llm_config_for(
    spec: Any, overrides: LLMOverrides | None = None
) -> tuple[LLMConfig | None, str | None]:
    """(LLMConfig or None, a problem to report) from the CLI, the spec and the environment."""
    from pipespec.fill.llm import LLMConfig
    from pipespec.spec import units

    given = overrides or LLMOverrides()
    settings = spec.fill
    model = given.model or (settings.model if settings else None)
    if model is None:
        return None, None
    base_url = (
        given.base_url
        or (settings.base_url if settings else None)
        or os.environ.get("OPENAI_BASE_URL")
    )
    api_key = os.environ.get("OPENAI_API_KEY")
    if api_key is None:
        if base_url is None:
            return None, "OPENAI_API_KEY is not set (and no base URL names another server)"
        api_key = "unused"  # local OpenAI-compatible servers accept any key
    kwargs: dict[str, Any] = {"model": model, "base_url": base_url, "api_key": api_key}
    if given.timeout_s is not None:
        kwargs["timeout_s"] = given.timeout_s
    elif settings and settings.timeout:
        kwargs["timeout_s"] = float(units.parse_duration(settings.timeout))
    if given.deadline_s is not None:
        kwargs["deadline_s"] = given.deadline_s
    elif settings and settings.deadline:
        kwargs["deadline_s"] = float(units.parse_duration(settings.deadline))
    if given.max_tokens is not None:
        kwargs["max_tokens"] = given.max_tokens
    elif settings and settings.max_tokens:
        kwargs["max_tokens"] = settings.max_tokens
    if settings and settings.max_concurrency:
        kwargs["max_concurrency"] = settings.max_concurrency
    return LLMConfig(**kwargs, progress=given.progress, trial_python=given.trial_python), None
