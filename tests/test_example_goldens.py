"""Every target's output for every example is its committed golden.

``examples/<name>/generated/<target>/`` are the goldens (the files users see, no second
copy); ``pytest --update-golden`` rewrites them through `pipespec compile --locked`.
Targets' other settings (Airflow 2, the local operator...) have goldens of their own in
``tests/golden/<target>/``, checked by the target's tests.
"""

from __future__ import annotations

import difflib

import pytest

from tests.conftest import ROOT
from tests.targets import (
    TARGET_EXAMPLES,
    committed_files,
    compile_example,
    recompile_example,
)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(("target", "example"), TARGET_EXAMPLES)
def test_example_output_is_its_golden(target: str, example: str, update_golden: bool) -> None:
    if update_golden:
        recompile_example(target, example)
    files = compile_example(target, example)
    committed = committed_files(target, example)
    hint = "`pytest tests/test_example_goldens.py --update-golden`, then review the diff"
    assert sorted(committed) == sorted(files), f"files differ from the compiler's: {hint}"
    for rel, text in sorted(files.items()):
        if committed[rel] != text:
            diff = difflib.unified_diff(
                committed[rel].splitlines(), text.splitlines(), rel, "compiled", lineterm=""
            )
            raise AssertionError(f"{rel} differs ({hint}):\n" + "\n".join(list(diff)[:40]))
