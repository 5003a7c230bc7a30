"""The standard scripts' contract (pipespec/fill/catalog/contracts.py) is the one source of
docs/catalog.md and agrees with the scripts' own argparse definitions and METRICS tables."""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import pytest

from pipespec.fill.catalog.contracts import BEGIN, CONTRACTS, END, TASK_METRICS, render_markdown
from pipespec.fill.scripts import STANDARD_SCRIPTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "catalog.md"
REGENERATE = (
    "regenerate: python -c 'from pipespec.fill.catalog.contracts import write_doc; write_doc()'"
)


def _source(file: str) -> str:
    scripts = resources.files("pipespec.fill.catalog").joinpath("scripts")
    return scripts.joinpath(file).read_text(encoding="utf-8")


def _argparse(file: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Canonical flag -> (every spelling, argparse `required=True`) from add_argument calls."""
    found: dict[str, tuple[tuple[str, ...], bool]] = {}
    for node in ast.walk(ast.parse(_source(file))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
        ):
            continue
        flags = tuple(a.value for a in node.args if isinstance(a, ast.Constant))
        required = any(
            k.arg == "required" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        found[str(flags[0])] = (tuple(str(f) for f in flags), required)
    return found


def _constant(file: str, name: str) -> object:
    for node in ast.parse(_source(file)).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return None


def _metrics_table(file: str) -> dict[str, tuple[str, ...]] | None:
    value = _constant(file, "METRICS")
    assert value is None or isinstance(value, dict)
    return value


def test_every_standard_script_has_a_contract() -> None:
    assert set(CONTRACTS) == set(STANDARD_SCRIPTS)
    for name, c in CONTRACTS.items():
        assert c.name == name
        assert c.file == STANDARD_SCRIPTS[name]


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_contract_arguments_match_the_scripts_argparse(name: str) -> None:
    c = CONTRACTS[name]
    parsed = _argparse(c.file)
    assert {a.flag: a.spellings for a in c.arguments} == {k: v[0] for k, v in parsed.items()}
    for flag, (_, required) in parsed.items():
        arg = c.argument(flag)
        assert arg is not None
        # argparse-required is required in the contract; the contract may add the
        # arguments a script checks after parsing (SageMaker's environment may set them).
        assert arg.required or not required, f"{name}: {flag} is required by argparse"
    accepts_extra = "parse_known_args" in _source(c.file)
    assert c.accepts_extra == accepts_extra


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_contract_metric_keys_match_the_scripts_metrics_table(name: str) -> None:
    c = CONTRACTS[name]
    table = _metrics_table(c.file)
    if c.metrics_flag is None:
        assert not c.metrics and not c.metric_keys
        return
    if c.metric_keys:  # the same keys whatever the task: the script's METRIC_KEYS
        assert not c.metrics and table is None
        assert c.metric_keys == _constant(c.file, "METRIC_KEYS")
        return
    assert table is not None, f"{c.file} has no METRICS table"
    assert dict(c.metrics) == table
    assert dict(TASK_METRICS) == table


def test_catalog_doc_is_generated_from_the_contracts() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    generated = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"
    assert generated == render_markdown(), REGENERATE
