"""The data emitters: whatever JSON-like data goes in reads back equal (JSON; YAML with
a YAML 1.1 reader, ruamel's safe loader in 1.1 mode and PyYAML when installed, and a
YAML 1.2 one), and the bytes depend only on the data (sorted keys)."""

from __future__ import annotations

import importlib
import json
import math
from io import StringIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from pipespec.backends.emit import to_json, to_yaml, yaml_scalar

# Strings that a careless emitter leaves plain and a YAML 1.1 or 1.2 reader then turns
# into a bool, null, int (octal, sexagesimal), float, merge key, or a different string.
TRICKY = [
    "no",
    "No",
    "NO",
    "off",
    "on",
    "On",
    "y",
    "Y",
    "n",
    "yes",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    " ",
    "12:30",
    "1:20:30",
    "0755",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1e3",
    "1E3",
    "-1.5",
    ".5",
    "+1",
    ".inf",
    "-.Inf",
    ".nan",
    "=",
    "<<",
    "- a",
    "a: b",
    "a #b",
    "#c",
    "[x]",
    "{x}",
    "*ref",
    "&anchor",
    "!tag",
    "%dir",
    "@at",
    "`tick",
    "|",
    ">",
    "'q'",
    '"dq"',
    "? k",
    "trailing ",
    " leading",
    "tab\tin",
    "line\nbreak",
    "cr\r",
    "\x85nel",
    "\u2028ls",
    "\u2029ps",
    "\ufeffbom",
    "nul\x00",
    "bell\x07",
    "é",
    "😀",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "---",
    "...",
    "a/b.c-d_e",
    "_x",
    "/path",
]


def _yaml11() -> list[Any]:
    """The YAML 1.1 readers available: ruamel's safe loader in 1.1 mode, and PyYAML
    (what Airflow, Kubeflow's SDK and most tools use) when it is installed."""
    readers: list[Any] = []

    def ruamel_11(text: str) -> Any:
        yaml = YAML(typ="safe", pure=True)
        yaml.version = (1, 1)
        return yaml.load(StringIO(text))

    readers.append(ruamel_11)
    try:
        # By name: PyYAML ships no type stubs, and pipespec does not depend on it.
        pyyaml = importlib.import_module("yaml")
    except ImportError:  # not a dependency of pipespec; ruamel covers YAML 1.1 then
        return readers
    readers.append(pyyaml.safe_load)
    return readers


def _yaml12(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(StringIO(text))


def _equal(a: Any, b: Any) -> bool:
    """Equality that also tells 1 from 1.0 and True from 1 (a type change is a bug)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


strings = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    # Floats whose shortest repr has no dot (1e+16): YAML 1.1 needs one.
    st.sampled_from([1e16, 1e-05, 5e-324, 1.7976931348623157e308, -0.0, 1e22]),
    strings,
)
data = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(strings, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data)
def test_yaml_reads_back_equal_in_yaml_1_1_and_1_2(value: Any) -> None:
    text = to_yaml(value)
    for read in [*_yaml11(), _yaml12]:
        assert _equal(value, read(text)), (read, text)


@settings(max_examples=300, deadline=None)
@given(data)
def test_json_reads_back_equal(value: Any) -> None:
    assert _equal(value, json.loads(to_json(value)))


@pytest.mark.parametrize("text", TRICKY)
def test_every_tricky_string_reads_back_as_itself(text: str) -> None:
    for read in [*_yaml11(), _yaml12]:
        assert read(to_yaml({text: text})) == {text: text}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no", '"no"'),
        ("12:30", '"12:30"'),
        ("0755", '"0755"'),
        ("1e3", '"1e3"'),
        (".inf", '".inf"'),
        ("name", "name"),
        (1e16, "1.0e+16"),
        (float("-inf"), "-.inf"),
    ],
)
def test_scalars_are_quoted_only_when_a_reader_could_misread_them(
    value: Any, expected: str
) -> None:
    assert yaml_scalar(value) == expected


def test_infinities_read_back_in_yaml() -> None:
    value = {"hi": float("inf"), "lo": float("-inf")}
    for read in [*_yaml11(), _yaml12]:
        assert read(to_yaml(value)) == value


def test_output_depends_only_on_the_data() -> None:
    a = {"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": None}}
    b = {"a": {"x": None, "y": [1, {"c": 3, "d": 2}]}, "b": 1}
    assert (
        to_yaml(a)
        == to_yaml(b)
        == ('a:\n  x: null\n  "y":\n    - 1\n    - c: 3\n      d: 2\nb: 1\n')
    )
    assert to_json(a) == to_json(b)
    assert to_json(a).endswith("}\n")


@pytest.mark.parametrize("bad", [{1: "int key"}, {"a": {1, 2}}, [object()], {"a": b"bytes"}])
def test_only_json_like_data_is_accepted(bad: Any) -> None:
    with pytest.raises(TypeError):
        to_yaml(bad)
    with pytest.raises(TypeError):
        to_json(bad)
