"""Which Airflow version and operator an example is compiled with, and the other variants.

An example's own variant is checked through ``examples/<name>/generated/`` by the tests
every target gets (tests/targets.py); the Airflow tests add the other variants only.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from pipespec import ir
from pipespec.backends.airflow.options import AirflowOptions
from tests.airflow.helpers import VARIANTS
from tests.conftest import ROOT
from tests.targets import EXAMPLES


def _variant(settings: Any) -> tuple[str, str]:
    options = AirflowOptions.model_validate(settings or {})
    return options.version, options.operator


def own_variant(pipeline: ir.Pipeline) -> tuple[str, str]:
    """The version and operator of the pipeline's own `targets.airflow` (or the defaults)."""
    return _variant(ir.thaw(pipeline.targets.get("airflow", {})))


def own_variant_of(example: str) -> tuple[str, str]:
    """The same, read from the example's YAML when tests are collected (no compile)."""
    text = (ROOT / "examples" / example / "pipeline.yaml").read_text(encoding="utf-8")
    data = YAML(typ="safe", pure=True).load(text)
    return _variant((data.get("targets") or {}).get("airflow"))


# (example, version, operator) for every variant that is not the example's own.
OTHER_VARIANTS = [
    (example, version, operator)
    for example in EXAMPLES
    for version, operator in VARIANTS
    if (version, operator) != own_variant_of(example)
]
