"""Any document, however wrong, ends in a result or diagnostics: never an exception.

Documents are drawn near the spec's shape (real keys, wrong values, missing pieces, typos)
so that the fuzzing reaches validation, the graph checks, fill and lowering.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipespec.compiler.driver import analyze_file

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


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(documents)
def test_any_document_yields_a_result_or_diagnostics(tmp_path: Path, doc: dict[str, Any]) -> None:
    spec = tmp_path / "fuzz.yaml"
    spec.write_text(json.dumps(doc))  # JSON is YAML 1.2
    for fill in (False, True):
        analysis = analyze_file(spec, fill=fill)
        assert analysis.pipeline is not None or analysis.diagnostics
        for d in analysis.diagnostics:
            assert d.code.startswith("PS") and d.message
