"""The loader: YAML 1.2 scalars, positions, and hostile input that must end in diagnostics."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.spec.loader import LoadLimits, load_spec_bytes, load_spec_text


def test_yaml_12_scalars_are_not_yaml_11() -> None:
    loaded, diags = load_spec_text(
        "a: no\nb: yes\nc: on\nd: 0o17\ne: 017\nf: 1_000\ng: ~\nh: 2.5\ni: 'true'\nj: TRUE\n",
        "x.yaml",
    )
    assert not diags and loaded is not None
    assert loaded.data == {
        "a": "no",
        "b": "yes",
        "c": "on",
        "d": 15,
        "e": 17,
        "f": "1_000",
        "g": None,
        "h": 2.5,
        "i": "true",
        "j": True,
    }


def test_positions_of_keys_and_values_are_one_based() -> None:
    loaded, _ = load_spec_text("top:\n  inner: [a, 'b']\n", "x.yaml")
    assert loaded is not None
    smap = loaded.source_map
    assert (smap.key_span(("top", "inner")).line, smap.key_span(("top", "inner")).col) == (2, 3)
    item = smap.info(("top", "inner", 1))
    assert item is not None and (item.span.line, item.span.col, item.style) == (2, 14, "'")


def test_aliases_expand_and_point_at_the_anchor() -> None:
    loaded, diags = load_spec_text("a: &x {k: 1}\nb: *x\n", "x.yaml")
    assert not diags and loaded is not None
    assert loaded.data == {"a": {"k": 1}, "b": {"k": 1}}
    assert loaded.data["a"] is not loaded.data["b"]
    assert loaded.source_map.span(("b", "k")).line == 1


def test_billion_laughs_stops_at_the_node_budget() -> None:
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    loaded, diags = load_spec_text("\n".join(lines), "x.yaml", LoadLimits(max_nodes=10_000))
    assert loaded is None
    assert [d.code for d in diags] == ["PS106"]


def test_recursive_alias_is_an_error() -> None:
    _, diags = load_spec_text("a: &a [1, *a]\n", "x.yaml")
    assert [d.code for d in diags] in (["PS106"], ["PS104"])


def test_size_cap() -> None:
    _, diags = load_spec_bytes(b"a: " + b"x" * 100, "x.yaml", LoadLimits(max_bytes=50))
    assert [d.code for d in diags] == ["PS103"]


def test_bom_is_accepted() -> None:
    loaded, diags = load_spec_bytes(b"\xef\xbb\xbfa: 1\n", "x.yaml")
    assert loaded is not None and loaded.data == {"a": 1} and not diags


def test_tags_other_than_core_are_rejected() -> None:
    for doc in (
        "a: !!binary aGk=\n",
        "a: !local x\n",
        "a: !!set {x}\n",
        "a: !!timestamp 2001-01-01\n",
    ):
        _, diags = load_spec_text(doc, "x.yaml")
        assert [d.code for d in diags] == ["PS109"], doc


def test_core_tags_are_accepted_and_checked() -> None:
    loaded, diags = load_spec_text("a: !!str 3\nb: !!int '7'\nc: !!float 1\n", "x.yaml")
    assert loaded is not None and not diags
    assert loaded.data == {"a": "3", "b": 7, "c": 1}
    _, diags = load_spec_text("a: !!int x\n", "x.yaml")
    assert [d.code for d in diags] == ["PS109"]


yaml_alphabet = st.sampled_from(
    [*list("abc:-[]{},&*!|>'\"#%@` \n\t?0123456789.~"), "é", "\x00", "\ufeff", "<<"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(yaml_alphabet, max_size=80).map("".join))
def test_random_yaml_text_yields_a_result_or_diagnostics(text: str) -> None:
    loaded, diags = load_spec_text(text, "fuzz.yaml", LoadLimits(max_nodes=5_000, max_depth=16))
    assert loaded is not None or diags
    for d in diags:
        assert d.span is not None and d.span.line >= 1 and d.span.col >= 1
    if loaded is not None:
        assert isinstance(loaded.data, dict)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_yield_a_result_or_diagnostics(raw: bytes) -> None:
    loaded, diags = load_spec_bytes(raw, "fuzz.yaml")
    assert loaded is not None or diags
