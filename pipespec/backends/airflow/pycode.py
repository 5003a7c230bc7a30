"""The DAG file's view model and the only ways a value reaches it as Python.

The renderer fills a ``DagView`` of plain values; the jinja2 template lays it out and
every value passes through the ``py`` filter: a proven Python literal, or ``Code`` that
the renderer assembled from literals and identifiers (``call`` below)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pipespec.backends.trials import SAMPLE_TRIALS
from pipespec.pysafe import Code, comment, py_ident, py_literal, python_header


@dataclass
class TaskView:
    var: str
    task_id: str
    operator: str
    kwargs: list[tuple[str, Any]]
    partial: bool = False
    expand: Any = None  # a Code expression for expand_kwargs(...)


@dataclass
class FunctionView:
    name: str
    params: Code
    body: Code


@dataclass
class DagView:
    header: list[str]
    version: str
    operator: str
    dag_kwargs: list[tuple[str, Any]]
    tasks: list[TaskView] = field(default_factory=list)
    functions: list[FunctionView] = field(default_factory=list)
    constants: list[tuple[str, Any]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    uses: set[str] = field(default_factory=set)


def call(func: str, *args: Any, **kwargs: Any) -> Code:
    """``func(args..., key=value...)`` with every argument a literal or pipespec's Code."""
    parts = [value_code(a) for a in args]
    parts += [f"{py_ident(k)}={value_code(v)}" for k, v in kwargs.items()]
    dotted = ".".join(py_ident(p) for p in func.split("."))
    return Code(f"{dotted}({', '.join(parts)})")


def value_code(value: Any) -> str:
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, list) and any(isinstance(v, Code) for v in value):
        return "[" + ", ".join(value_code(v) for v in value) + "]"
    return py_literal(value)


def dict_code(values: dict[str, Code]) -> Code:
    return Code("{" + ", ".join(f"{py_literal(k)}: {v}" for k, v in values.items()) + "}")


@cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipespec.backends.airflow", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["py"] = value_code
    env.filters["ident"] = py_ident
    env.filters["comment"] = comment
    env.filters["python_header"] = python_header
    # pipespec's own helper code, written once for the targets that share it.
    env.globals["sample_trials"] = Code(SAMPLE_TRIALS.rstrip("\n"))
    return env
