"""`when:` conditions in SageMaker's condition types, checked by evaluating both sides: the
spec's meaning (Python on the AST's values) and the SageMaker form (a small evaluator of
its documented semantics) agree on random values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.backends.sagemaker.conditions import conditions
from pipespec.spec.conditions import parse_condition

ENV_KEYS = ("params.a", "params.b", "params.flag", "evaluate.metrics.auc")


def _value(node: Any, env: dict[str, Any]) -> Any:
    if isinstance(node, dict) and "Get" in node:
        return env["params." + node["Get"].removeprefix("Parameters.")]
    if isinstance(node, dict) and "Std:JsonGet" in node:
        return env["evaluate.metrics." + node["Std:JsonGet"]["Path"]]
    return node


def _holds(cond: dict[str, Any], env: dict[str, Any]) -> bool:
    kind = cond["Type"]
    if kind == "Not":
        return not _holds(cond["Condition"], env)
    if kind == "Or":
        return any(_holds(c, env) for c in cond["Conditions"])
    left, right = _value(cond["LeftValue"], env), _value(cond["RightValue"], env)
    return bool(
        {
            "Equals": left == right,
            "GreaterThan": left > right,
            "GreaterThanOrEqualTo": left >= right,
            "LessThan": left < right,
            "LessThanOrEqualTo": left <= right,
        }[kind]
    )


def _json_get(step: str, output: str, key: str | None) -> Any:
    path = {"Get": f"Steps.{step}.PropertyFiles.{output}"}
    return {"Std:JsonGet": {"PropertyFile": path, "Path": key}}


CASES = [
    "params.a >= 0.5",
    "params.a != params.b",
    "evaluate.metrics.auc >= params.a and not params.flag",
    "params.a < 1 or (params.b > 2 and params.flag)",
    "not (params.a == 1 and params.b == 2)",
    "params.flag",
]


def _spec_value(text: str, env: dict[str, Any]) -> bool:
    python = text.replace("params.", "env_").replace("evaluate.metrics.", "env_m_")
    names = {"env_" + k.split(".")[-1]: v for k, v in env.items() if k.startswith("params.")}
    names["env_m_auc"] = env["evaluate.metrics.auc"]
    return bool(eval(python, {}, names))  # test oracle only: the spec's own meaning


@pytest.mark.parametrize("text", CASES)
@settings(max_examples=60, deadline=None)
@given(
    a=st.sampled_from([0, 0.5, 1, 2.5]),
    b=st.sampled_from([0, 1, 2, 3]),
    flag=st.booleans(),
    auc=st.sampled_from([0.1, 0.5, 0.9]),
)
def test_sagemaker_conditions_mean_what_the_spec_says(
    text: str, a: float, b: int, flag: bool, auc: float
) -> None:
    env = {"params.a": a, "params.b": b, "params.flag": flag, "evaluate.metrics.auc": auc}
    found = conditions(parse_condition(text), _json_get)
    assert all(_holds(c, env) for c in found) == _spec_value(text, env)


def test_no_and_type_is_ever_written() -> None:
    found = conditions(parse_condition("not (params.a == 1 and params.b == 2)"), _json_get)
    assert "And" not in str(found)
