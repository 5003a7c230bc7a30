"""Conformance checkers by target: how each target's output is loaded by the target's own
tooling and compared with the spec.

tests/conformance/test_targets.py runs the checker of every target in
``backends.available()`` on every example; a target without a checker fails there. A new
backend registers its checker with ``@checker("<name>")`` in a module imported below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipespec import ir


@dataclass(frozen=True)
class Case:
    """One row: a target's files for one example, as `pipespec compile --locked` makes them."""

    target: str
    example: str
    pipeline: ir.Pipeline
    files: dict[str, str]  # relative path under generated/ -> text
    tmp_path: Path  # scratch space for this row


Checker = Callable[[Case], None]
CHECKERS: dict[str, Checker] = {}


def checker(target: str) -> Callable[[Checker], Checker]:
    def register(func: Checker) -> Checker:
        assert target not in CHECKERS, f"two conformance checkers for {target}"
        CHECKERS[target] = func
        return func

    return register


def load_checkers() -> dict[str, Checker]:
    """Every registered checker (importing a module registers its checkers)."""
    from tests.conformance import (  # noqa: F401
        airflow_checks,
        kubeflow_checks,
        sagemaker_checks,
        vertex_checks,
    )

    return CHECKERS
