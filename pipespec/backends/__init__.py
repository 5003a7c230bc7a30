"""Backends: one subpackage per target, each turning the IR into files.

A backend is found by name through the ``pipespec.backends`` entry-point group (so a
third-party package can add a target) with the built-in ones registered here as well.
Backends never read YAML, call an LLM or write files: ``render`` returns
``{relative path: text}`` plus diagnostics, and the caller writes atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from pipespec.diagnostics import Diagnostic

if TYPE_CHECKING:
    from pipespec.backends.base import Backend

BUILTIN = {
    "airflow": "pipespec.backends.airflow:AirflowBackend",
    "kubeflow": "pipespec.backends.kubeflow:KubeflowBackend",
    "sagemaker": "pipespec.backends.sagemaker:SagemakerBackend",
    "vertex": "pipespec.backends.vertex:VertexBackend",
}


@dataclass
class RenderResult:
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class BackendError(Exception):
    """An installed target that cannot be used: its module does not import, or what its
    entry point names is not a ``pipespec.backends.base.Backend`` subclass."""


def available() -> dict[str, str]:
    """Target name -> 'module:attr', built-ins first, then installed plugins."""
    found = dict(BUILTIN)
    for name, value in _plugins():
        found.setdefault(name, value)
    return found


@cache
def _plugins() -> tuple[tuple[str, str], ...]:
    """The installed `pipespec.backends` entry points, read once per process: scanning
    every installed distribution's metadata costs ~10 ms, and a compile asks several times."""
    from importlib.metadata import entry_points

    return tuple((ep.name, ep.value) for ep in entry_points(group="pipespec.backends"))


def backend_class(name: str) -> type[Backend]:
    """The class target ``name`` names (read without making it); BackendError when the
    plugin is broken, so a bad plugin is a diagnostic that names it, not a crash."""
    import importlib

    from pipespec.backends.base import Backend

    ref = available()[name]
    module_name, _, attr = ref.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # whatever a third-party module raises on import
        raise BackendError(
            f"target '{name}' ({ref}) could not be loaded: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(found, type) and issubclass(found, Backend)):
        raise BackendError(f"target '{name}' ({ref}) is not a pipespec.backends.base.Backend")
    return found


def load(name: str) -> Backend:
    """An instance of target ``name``'s backend (BackendError: see ``backend_class``)."""
    cls = backend_class(name)
    try:
        return cls()
    except Exception as exc:
        raise BackendError(f"target '{name}' could not be created: {exc}") from exc
