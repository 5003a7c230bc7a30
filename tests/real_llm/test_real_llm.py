"""`pipespec fill` against a real model (opt-in: `pytest -m real_llm`).

Needs an OpenAI-compatible server given by the environment, as
`eval "$(../shared/tools/real_llm.sh env)"` prints it (OPENAI_BASE_URL and MODEL; the
script builds and starts Qwen2.5-Coder-1.5B-Instruct behind llama.cpp). Deselected by
default and in CI (pyproject's addopts); selected without a server, it fails and says how
to start one. Prints the table docs/fill.md quotes (run with -s). Outside tests/fill, whose
conftest clears the OPENAI_* variables so that no other test can reach a real server.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.real_llm.cases import CASES
from tests.real_llm.harness import fill_case, table

pytestmark = pytest.mark.real_llm

DEADLINE = "10m"
DEADLINE_S = 600


def test_a_small_local_model_fills_prose_steps_that_run_and_do_what_they_say(
    tmp_path: Path,
) -> None:
    base_url, model = os.environ.get("OPENAI_BASE_URL"), os.environ.get("MODEL")
    if not (base_url and model):
        pytest.fail(
            'no LLM server: run `eval "$(../shared/tools/real_llm.sh env)"` after '
            "`../shared/tools/real_llm.sh start` (sets OPENAI_BASE_URL and MODEL)"
        )
    outcomes = [
        fill_case(case, tmp_path / case.step, model=model, base_url=base_url, deadline=DEADLINE)
        for case in CASES
    ]
    print(f"\nmodel {model} at {base_url}\n" + table(outcomes))
    for outcome in outcomes:
        if outcome.why:
            print(f"{outcome.step}: {outcome.why}")
    # A step may take its deadline plus the time to start and write, not more.
    assert all(o.seconds <= DEADLINE_S + 60 for o in outcomes), table(outcomes)
    good = [o for o in outcomes if o.filled and o.ran and o.correct]
    assert len(good) >= 5, table(outcomes)
