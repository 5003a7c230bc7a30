"""A failed `pipespec fill` writes nothing: the old lock and scripts stay whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fill.churn_answers import ANSWERS, MODEL
from tests.fill.fake_openai import FakeOpenAI, Reply
from tests.fill.test_fill import answer_by_step, fill, step_of


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "pipeline.yaml"
    }


def test_a_fill_where_one_step_fails_keeps_the_old_lock_and_scripts(churn: Path) -> None:
    with FakeOpenAI(answer_by_step) as fake:
        code, _, err = fill("churn/pipeline.yaml", fake)
    assert code == 0, err
    before = _files(churn)
    assert "pipeline.lock.json" in before and "scripts/clean.py" in before
    # Both prose steps change, so both go back to the model; one of them fails for good.
    spec = churn / "pipeline.yaml"
    text = spec.read_text().replace("impute missing numeric", "impute all missing")
    spec.write_text(text.replace("One-hot encode categoricals", "One-hot encode all categoricals"))

    def features_only(body: dict[str, Any], index: int) -> Reply:
        if step_of(body) == "clean":
            return Reply.error(500, headers={"retry-after-ms": "1"})
        return Reply.answer(ANSWERS[step_of(body)], model=MODEL)

    with FakeOpenAI(features_only) as fake:
        code, out, err = fill("churn/pipeline.yaml", fake)
    assert code == 1
    assert "step 'clean': the LLM gave no usable answer" in err
    assert "nothing written" in out
    assert _files(churn) == before  # lock and both scripts byte-identical, nothing new
