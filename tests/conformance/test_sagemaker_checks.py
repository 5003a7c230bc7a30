"""The SageMaker checker's own checks fail on a definition that is not the spec's pipeline:
a wait dropped or added, an entry of no spec step, a code file not written."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.checkers import Case
from tests.conformance.sagemaker_checks import (
    assert_code_written,
    assert_graph_matches,
    entries,
)
from tests.targets import compile_example, example_pipeline


@pytest.fixture(scope="module")
def churn() -> tuple[dict[str, str], str]:
    files = compile_example("sagemaker", "churn")
    (name,) = [n for n in files if n.endswith("churn-retrain.json")]
    return files, name


def _doc(churn: tuple[dict[str, str], str]) -> dict[str, Any]:
    files, name = churn
    return copy.deepcopy(json.loads(files[name]))


def _entry(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in entries(doc["Steps"]) if e["Name"] == name)


def test_the_churn_definition_passes(churn: tuple[dict[str, str], str]) -> None:
    assert_graph_matches(_doc(churn), example_pipeline("churn"))


def test_a_dropped_wait_is_caught(churn: tuple[dict[str, str], str]) -> None:
    doc = _doc(churn)
    monitor = _entry(doc, "monitor")
    monitor["DependsOn"] = [d for d in monitor["DependsOn"] if d != "deploy"]
    with pytest.raises(AssertionError, match="spec edges the definition lacks"):
        assert_graph_matches(doc, example_pipeline("churn"))


def test_an_extra_wait_is_caught(churn: tuple[dict[str, str], str]) -> None:
    doc = _doc(churn)
    _entry(doc, "clean").setdefault("DependsOn", []).append("train")
    with pytest.raises(AssertionError, match="waits the spec does not have"):
        assert_graph_matches(doc, example_pipeline("churn"))


def test_an_entry_of_no_spec_step_is_caught(churn: tuple[dict[str, str], str]) -> None:
    doc = _doc(churn)
    doc["Steps"].append({"Name": "stray", "Type": "Fail", "Arguments": {"ErrorMessage": ""}})
    with pytest.raises(AssertionError, match="belongs to no spec step"):
        assert_graph_matches(doc, example_pipeline("churn"))


def test_a_code_file_not_written_is_caught(
    churn: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    files, name = churn
    kept = dict(files)
    dropped = next(p for p in kept if "/code/" in p and p.endswith("/train.py"))
    del kept[dropped]
    case = Case("sagemaker", "churn", example_pipeline("churn"), kept, tmp_path)
    with pytest.raises(AssertionError, match="differ from the manifest"):
        assert_code_written(case, name)
