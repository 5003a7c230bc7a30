"""The LLM a fill run uses: from the command line, the spec's `fill:` block and the
environment (OPENAI_API_KEY, OPENAI_BASE_URL)."""

from __future__ import annotations

import os
from typing import Any


def llm_config_for(spec: Any, model: str | None, base_url: str | None) -> tuple[Any, str | None]:
    """(LLMConfig or None, a problem to report) from the CLI, the spec and the environment."""
    from pipespec.fill.llm import LLMConfig
    from pipespec.spec import units

    settings = spec.fill
    model = model or (settings.model if settings else None)
    if model is None:
        return None, None
    base_url = (
        base_url or (settings.base_url if settings else None) or os.environ.get("OPENAI_BASE_URL")
    )
    api_key = os.environ.get("OPENAI_API_KEY")
    if api_key is None:
        if base_url is None:
            return None, "OPENAI_API_KEY is not set (and no base URL names another server)"
        api_key = "unused"  # local OpenAI-compatible servers accept any key
    kwargs: dict[str, Any] = {"model": model, "base_url": base_url, "api_key": api_key}
    if settings and settings.timeout:
        kwargs["timeout_s"] = float(units.parse_duration(settings.timeout))
    if settings and settings.max_concurrency:
        kwargs["max_concurrency"] = settings.max_concurrency
    return LLMConfig(**kwargs), None
