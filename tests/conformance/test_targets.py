"""Every target's output for every example passes that target's conformance checker
(tests/conformance/checkers.py): a new backend adds rows here, and fails them until it
registers a checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.checkers import Case, load_checkers
from tests.conftest import ROOT
from tests.targets import TARGET_EXAMPLES, compile_example, example_pipeline

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize(("target", "example"), TARGET_EXAMPLES)
def test_example_output_conforms(
    target: str, example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    checkers = load_checkers()
    assert target in checkers, (
        f"target '{target}' has no conformance checker: register one with "
        "@checker in a module that tests/conformance/checkers.py imports"
    )
    files = compile_example(target, example)
    checkers[target](Case(target, example, example_pipeline(example), files, tmp_path))
