"""YAML 1.2 syntax the C parser gets wrong, and syntax errors people make (tabs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.api import analyze_file
from pipespec.diagnostics import render_human
from pipespec.spec.loader import load_spec_text

SPEC = """pipespec: 1
name: colons
steps:
  train:
    kind: container
    image: busybox:1.36
    command: [python, "-m", train]
    env: {IMAGE: busybox:1.36, METRIC: validation:aucpr, URL: http://host:8080/x}
  sweep: {kind: container, image: registry:5000/team/img:2.0, command: [echo, a:b]}
"""


def test_colons_in_flow_plain_scalars_are_yaml_12(tmp_path: Path) -> None:
    spec = tmp_path / "colons.yaml"
    spec.write_text(SPEC)
    analysis = analyze_file(spec)
    assert analysis.ok, render_human(analysis.diagnostics, {})
    assert analysis.loaded is not None
    data = analysis.loaded.data
    assert data["steps"]["train"]["env"] == {
        "IMAGE": "busybox:1.36",
        "METRIC": "validation:aucpr",
        "URL": "http://host:8080/x",
    }
    assert data["steps"]["sweep"]["image"] == "registry:5000/team/img:2.0"
    assert data["steps"]["sweep"]["command"] == ["echo", "a:b"]
    # Positions come from the YAML 1.2 parser that read the file.
    span = analysis.loaded.source_map.span(("steps", "train", "env", "METRIC"))
    assert (span.line, span.col) == (8, SPEC.splitlines()[7].index("validation:") + 1)


_head = st.sampled_from("abcxyz019")
_body = st.text(alphabet="abcz019.:/_-", max_size=12)


@settings(max_examples=150, deadline=None)
@given(key=st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), head=_head, body=_body)
def test_any_plain_scalar_with_inner_colons_reads_as_written(
    key: str, head: str, body: str
) -> None:
    """A ':' not followed by a space or a flow indicator belongs to the scalar (YAML 1.2)."""
    value = head + body.rstrip(":") + "z"
    text = f"m: {{{key}: {value}, other: 1}}\nl: [{value}, {value}]\n"
    loaded, diags = load_spec_text(text, "x.yaml")
    assert not diags and loaded is not None
    assert loaded.data["m"] == {key: value, "other": 1}
    assert loaded.data["l"] == [loaded.data["m"][key]] * 2


def test_a_colon_space_in_a_flow_scalar_asks_for_quotes() -> None:
    _, diags = load_spec_text("a: [echo, {x: y: z}]\n", "x.yaml")
    assert [d.code for d in diags] == ["PS104"]
    assert diags[0].hint is not None and "quote" in diags[0].hint


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("a:\n\tb: 1\n", 2, 1),  # a tab as the indentation
        ("a:\n  b: 1\n  \tc: 2\n", 3, 3),  # a tab after spaces
        ("steps:\n  t:\n\t  kind: container\n", 3, 1),
    ],
)
def test_a_tab_in_indentation_gets_a_code_frame_and_a_hint(
    tmp_path: Path, text: str, line: int, col: int
) -> None:
    spec = tmp_path / "tabs.yaml"
    spec.write_text(text)
    analysis = analyze_file(spec)
    (d,) = analysis.diagnostics
    assert d.code == "PS104" and d.span is not None
    assert (d.span.line, d.span.col) == (line, col)
    assert "tab" in d.message and d.hint is not None and "spaces" in d.hint
    assert analysis.text == text  # kept although the YAML did not load
    frame = render_human(analysis.diagnostics, {analysis.file: text})
    assert f"{line} | " in frame and "^" in frame
