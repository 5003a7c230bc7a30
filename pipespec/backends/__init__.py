"""Backends: one subpackage per target, each turning the IR into files.

A backend is found by name through the ``pipespec.backends`` entry-point group (so a
third-party package can add a target) with the built-in ones registered here as well.
Backends never read YAML, call an LLM or write files: ``render`` returns
``{relative path: text}`` plus diagnostics, and the caller writes atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pipespec import ir
from pipespec.diagnostics import Diagnostic

BUILTIN = {
    "airflow": "pipespec.backends.airflow:AirflowBackend",
}


@dataclass
class RenderResult:
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class Backend(Protocol):
    name: str

    def render(self, pipeline: ir.Pipeline) -> RenderResult: ...


def available() -> dict[str, str]:
    """Target name -> 'module:attr', built-ins first, then installed plugins."""
    from importlib.metadata import entry_points

    found = dict(BUILTIN)
    for ep in entry_points(group="pipespec.backends"):
        found.setdefault(ep.name, ep.value)
    return found


def load(name: str) -> Backend:
    import importlib

    module_name, _, attr = available()[name].partition(":")
    backend: Backend = getattr(importlib.import_module(module_name), attr)()
    return backend
