"""Any document, however wrong, ends in a result or diagnostics: never an exception.

Three sources of documents, each run through the whole front end (load, validate, fill
from the catalog and lock, graph checks, lowering, completeness, `explain`, the graph
renderings and the Airflow backend, whose files must compile as Python):

- generated documents near the spec's shape (real keys, wrong values, missing pieces);
- mutants of every example and every bad case: one value replaced by a hostile one
  (NUL, 2**63, .inf, a 5,000-digit integer, placeholders, self references...), a key
  dropped, renamed or copied, a line deleted or doubled;
- every input the fuzzing ever found, kept in tests/cases/fuzz/ (one file each).

A failure prints the document's text (hypothesis `note`): save it in tests/cases/fuzz/
under a name that says what it broke, then fix the fault. The default run keeps example
counts modest; `python -m pytest -m nightly tests/test_front_end_fuzz.py` runs many more.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from pipespec.api import Analysis, analyze_file, render_target
from pipespec.compiler.complete import check_complete
from pipespec.compiler.explain import explain_step
from pipespec.compiler.render_graph import render as render_graph
from pipespec.spec.loader import read_spec_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIRS = sorted(p.parent for p in (ROOT / "examples").glob("*/pipeline.yaml"))
BAD_CASES = sorted((ROOT / "tests" / "cases" / "bad").glob("*.yaml"))
FOUND = sorted((ROOT / "tests" / "cases" / "fuzz").glob("*.yaml"))
EXAMPLES = [d / "pipeline.yaml" for d in EXAMPLE_DIRS]
SEEDS: list[Path] = EXAMPLES + BAD_CASES + FOUND

_FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
}


# --- the oracle: the whole front end, no exception, no internal error --------------------


def run_front_end(spec: Path) -> None:
    for fill in (False, True):
        analysis = analyze_file(spec, fill=fill)
        assert analysis.pipeline is not None or analysis.diagnostics
        for d in analysis.diagnostics:
            assert d.code.startswith("PS") and d.message
            assert d.code != "PS900", d.message
        _downstream(analysis)


def _downstream(analysis: Analysis) -> None:
    if analysis.graph is not None:
        for fmt in ("mermaid", "dot", "json"):
            assert render_graph(analysis, fmt)
    pipeline = analysis.pipeline
    if pipeline is None:
        return
    for step in pipeline.steps:
        assert explain_step(step)
    if check_complete(pipeline):
        return
    rendered = render_target("airflow", pipeline)  # options, portability, then render
    for rel, text in rendered.files.items():
        if rel.endswith(".py"):
            compile(text, rel, "exec")  # what Airflow does first when it imports the DAG


# --- 1. generated documents near the spec's shape ---------------------------------------

KEYS = [
    "kind",
    "image",
    "command",
    "inputs",
    "outputs",
    "after",
    "when",
    "foreach",
    "resources",
    "env",
    "secrets",
    "script",
    "args",
    "retries",
    "timeout",
    "framework",
    "task",
    "hyperparameters",
    "endpoint",
    "drift",
    "source",
    "metrics",
    "description",
    "kindd",
    "search_space",
    "objective",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(
        [
            "train",
            "container",
            "a.data",
            "params.p",
            "${inputs.x}",
            "${item}",
            "2h",
            "4Gi",
            "x >= 1",
            "a.b.c > params.p",
            "busybox",
            "",
            "no",
            "[",
            "s1.data",
            "s2.model",
            "pipespec:train",
            "scripts/x.py",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*KEYS, "data", "x", "cpu", "memory"]), inner, max_size=4),
    ),
    max_leaves=12,
)
steps = st.dictionaries(
    st.sampled_from(["s1", "s2", "s3", "Bad", "s-4"]),
    st.one_of(
        st.dictionaries(st.sampled_from(KEYS), values, max_size=6).map(
            lambda d: {"kind": "container", **d}
        ),
        values,
    ),
    max_size=4,
)
documents = st.fixed_dictionaries(
    {
        "pipespec": st.sampled_from([1, 2, "1"]),
        "name": st.sampled_from(["p", "P q"]),
        "steps": steps,
    },
    optional={
        "params": st.dictionaries(st.sampled_from(["p", "q"]), values, max_size=2),
        "defaults": st.dictionaries(st.sampled_from(KEYS), values, max_size=3),
        "targets": values,
        "secrets": values,
    },
)


def _document_test(max_examples: int) -> Callable[..., None]:
    @settings(max_examples=max_examples, **_FUZZ_SETTINGS)
    @given(doc=documents)
    def check(tmp_path: Path, doc: dict[str, Any]) -> None:
        spec = tmp_path / "fuzz.yaml"
        spec.write_text(json.dumps(doc))  # JSON is YAML 1.2
        note(spec.read_text())
        run_front_end(spec)

    return check


test_any_document_yields_a_result_or_diagnostics = _document_test(300)
test_any_document_nightly = pytest.mark.nightly(_document_test(5000))


# --- 2. mutants of the examples and the bad cases ---------------------------------------


class Raw(str):
    """Text written into the YAML as it is (a number no Python int would print)."""


HOSTILE: list[Any] = [
    None,
    "",
    " ",
    "\x00",
    "a\x00item\x00b",
    "\x00hp:lr\x00",
    True,
    0,
    -1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
    Raw("9" * 5000),
    Raw("-" + "1" * 4301),
    "${item}",
    "${outputs.x}",
    "${inputs.data}",
    "${params.p}",
    "${params.nope}",
    "$${inputs.x}",
    "x" * 101,
    "{{ var.value.secret }}",
    "# -*- coding: utf-7 -*-",
    "a\nb",
    "\u202e",
    "params.p",
    "s3://bucket/key",
    "2h",
    "0s",
    "4Gi",
    "-1",
    [],
    {},
    [None],
    {"a": None},
    {"type": "float", "min": 0, "max": math.inf},
]
# Values of the type already there that the models accept: these reach lowering and render.
TRICKY_TEXT = [
    "{{ var.value.secret }}",
    "{% raw %}",
    "'\"\\",
    "$HOME ${HOME} $${inputs.x}",
    "# -*- coding: utf-7 -*-",
    "+AGEAYgBj-",
    "a\nb\r\nc",
    "\u2028\u2029\x85",
    "\u202e\u200b",
    "\x1b[31m::error::",
    "%s %(x)s {0} {x}",
    '"""; import os',
    "é" * 300,
    "x" * 5000,
]
TRICKY_NUMBERS = [0, 1, -1, 2**63 - 1, -(2**63), 1e308, 5e-324, -0.0, 0.1]
RENAMES = [*KEYS, "airflow", "tags", "version", "operator", "env", "default", "type", "x"]


def to_yaml(value: Any) -> str:
    """Flow-style YAML 1.2 for any value here, infinities, NaN and NUL included."""
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are valid in a double-quoted YAML scalar
    if isinstance(value, list):
        return "[" + ", ".join(to_yaml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{to_yaml(str(k))}: {to_yaml(v)}" for k, v in value.items()) + "}"


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def _references(doc: dict[str, Any]) -> list[str]:
    """Strings that point into this document: its steps' outputs, metrics and params."""
    out: list[str] = []
    for sid, step in (doc.get("steps") or {}).items() if isinstance(doc.get("steps"), dict) else ():
        out += [f"{sid}.data", f"{sid}.model", f"{sid}.metrics.auc >= 0.5", f"${{{sid}}}"]
        if isinstance(step, dict) and isinstance(step.get("outputs"), dict):
            out += [f"{sid}.{name}" for name in step["outputs"]]
    params = doc.get("params")
    if isinstance(params, dict):
        out += [f"params.{name}" for name in params] + [f"${{params.{n}}}" for n in params]
    return out or ["a.data"]


def _mutate_data(doc: dict[str, Any], data: st.DataObject) -> None:
    paths = [p for p in _paths(doc) if p]
    if not paths:
        return
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths), label="path")
        parent, last = _parent(doc, path), path[-1]
        ops = ["retext", "replace", "reference", "drop", "rename", "copy"]
        op = data.draw(st.sampled_from(ops), label="op")
        current = parent[last]
        if op == "retext" and isinstance(current, str):
            text = data.draw(st.sampled_from(TRICKY_TEXT), label="text")
            parent[last] = data.draw(st.sampled_from([text, current + text, text + current]))
        elif op == "retext" and isinstance(current, (int, float)) and not isinstance(current, bool):
            parent[last] = data.draw(st.sampled_from(TRICKY_NUMBERS), label="number")
        elif op in ("retext", "replace"):
            # A copy: later mutations must not edit HOSTILE itself.
            parent[last] = copy.deepcopy(data.draw(st.sampled_from(HOSTILE), label="value"))
        elif op == "reference":
            parent[last] = data.draw(st.sampled_from(_references(doc)), label="ref")
        elif op == "drop":
            del parent[last]
        elif isinstance(parent, dict):
            new = data.draw(st.sampled_from([*RENAMES, *map(str, parent)]), label="key")
            parent[new] = copy.deepcopy(parent[last]) if op == "copy" else parent.pop(last)
        else:
            parent.append(copy.deepcopy(parent[last]))


def _mutate_text(text: str, data: st.DataObject) -> str:
    lines = text.splitlines()
    if not lines:
        return text
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    op = data.draw(st.sampled_from(["delete", "double", "indent", "token"]), label="text op")
    if op == "delete":
        del lines[i]
    elif op == "double":
        lines.insert(i, lines[i])
    elif op == "indent":
        lines[i] = "  " + lines[i]
    else:
        token = data.draw(st.sampled_from(HOSTILE), label="token")
        lines[i] = lines[i].rstrip() + " " + to_yaml(token)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of the examples (scripts and lock files beside them): mutants reach fill."""
    root = tmp_path_factory.mktemp("fuzz")
    for folder in EXAMPLE_DIRS:
        shutil.copytree(folder, root / folder.name, ignore=shutil.ignore_patterns("generated"))
    (root / "cases").mkdir()
    return root


@functools.cache
def _seed(seed: Path) -> tuple[str, str | None]:
    """A seed's text and its data as JSON, read once: files edited during a run (others
    work in this tree) must not change what a replayed example draws."""
    text = seed.read_bytes().decode("utf-8", errors="replace")
    loaded, _ = read_spec_file(seed, seed.name)
    tree = json.dumps(loaded.data, default=str) if loaded is not None else None
    return text, tree


def _mutant_spec(workspace: Path, seed: Path, data: st.DataObject) -> Path:
    folder = workspace / seed.parent.name if seed.parent in EXAMPLE_DIRS else workspace / "cases"
    spec = folder / "mutant.yaml"
    if seed.parent in EXAMPLE_DIRS:
        # The lock file is found by the spec's name: keep the example's.
        spec = folder / "pipeline.yaml"
    raw, tree = _seed(seed)
    if tree is not None and data.draw(st.booleans(), label="data level"):
        doc = json.loads(tree)
        _mutate_data(doc, data)
        text = to_yaml(doc) + "\n"
    else:
        text = _mutate_text(raw, data)
    spec.write_text(text, encoding="utf-8")
    note(text if len(text) < 20_000 else text[:20_000] + "...")
    return spec


def _mutation_test(max_examples: int) -> Callable[..., None]:
    @settings(max_examples=max_examples, **_FUZZ_SETTINGS)
    # Half the seeds are examples: they are valid, so their mutants reach the backend.
    @given(seed=st.sampled_from(EXAMPLES) | st.sampled_from(SEEDS), data=st.data())
    def check(workspace: Path, seed: Path, data: st.DataObject) -> None:
        note(f"seed: {seed.relative_to(ROOT)}")
        run_front_end(_mutant_spec(workspace, seed, data))

    return check


test_mutants_of_examples_and_bad_cases = _mutation_test(200)
test_mutants_of_examples_and_bad_cases_nightly = pytest.mark.nightly(_mutation_test(5000))


# --- 3. every input the fuzzing found ----------------------------------------------------


@pytest.mark.parametrize("found", FOUND, ids=lambda p: p.stem)
def test_found_input_yields_diagnostics_or_files(found: Path, tmp_path: Path) -> None:
    spec = tmp_path / found.name
    shutil.copyfile(found, spec)
    run_front_end(spec)


def test_the_found_inputs_are_kept() -> None:
    """The regression corpus exists and the mutation seeds include it."""
    assert FOUND, "tests/cases/fuzz/ holds every input the fuzzing found"
    assert set(FOUND) <= set(SEEDS)
