"""Bounded loading: aliases cost what they produce, every input has a cap, caps fit use.

Each hostile input must end in its diagnostic quickly and with bounded memory; a big but
legitimate spec (10,000 steps, 2.6 MB) must load under the default limits.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generate import make_pipeline, spec_yaml
from pipespec import limits
from pipespec.spec.loader import LoadLimits, load_spec_text, read_spec_file


def _codes(diags: list) -> list[str]:  # type: ignore[type-arg]
    return [d.code for d in diags]


def test_many_aliases_load_in_linear_time() -> None:
    """20,000 aliases of a 7-node mapping in 45 KB (took over two minutes when each alias
    walked the whole source map)."""
    n = 20_000
    text = "x: &a {p: 1, q: [1, 2, 3]}\nl: [" + ",".join(["*a"] * n) + "]\n"
    start = time.perf_counter()
    loaded, diags = load_spec_text(text, "x.yaml")
    elapsed = time.perf_counter() - start
    assert loaded is not None and not diags
    assert len(loaded.data["l"]) == n and loaded.data["l"][-1] == {"p": 1, "q": [1, 2, 3]}
    assert elapsed < 5, f"{n} aliases took {elapsed:.1f}s"
    # A position inside the last copy still points at the anchored original.
    smap = loaded.source_map
    assert (smap.span(("l", n - 1, "q", 2)).line, smap.span(("l", n - 1, "q", 2)).col) == (1, 24)
    assert smap.span(("l", n - 1)).line == 2  # the copy itself: at its alias


def test_positions_resolve_through_nested_aliases() -> None:
    text = "a: &a {k: [v]}\nb: &b {m: *a}\nc: [*b]\n"
    loaded, diags = load_spec_text(text, "x.yaml")
    assert loaded is not None and not diags
    assert loaded.data["c"] == [{"m": {"k": ["v"]}}]
    span = loaded.source_map.span(("c", 0, "m", "k", 0))
    assert (span.line, span.col) == (1, 12)
    key = loaded.source_map.key_span(("c", 0, "m"))
    assert (key.line, key.col) == (2, 8)
    # A path that exists nowhere falls back to the nearest ancestor that does.
    assert loaded.source_map.span(("c", 0, "m", "nope")).line == 2  # at the alias *a


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 6))
def test_the_alias_text_budget_bounds_repeated_strings(width: int, copies: int) -> None:
    """Text repeated through aliases counts against a budget, reported at the alias."""
    lim = LoadLimits(max_bytes=10_000, max_expanded_chars=1_000)
    value = "y" * (width * 10)
    text = f"s: &s {value}\nl: [" + ", ".join(["*s"] * copies) + "]\n"
    loaded, diags = load_spec_text(text, "x.yaml", lim)
    total = len("s") + len(value) + len("l") + copies * len(value)
    if total <= lim.max_expanded_chars:
        assert loaded is not None and not diags
        return
    assert loaded is None and _codes(diags) == ["PS114"]
    d = diags[0]
    assert d.span is not None
    # At the first alias that crosses the budget.
    crossing = next(
        i for i in range(copies) if 2 + len(value) + (i + 1) * len(value) > lim.max_expanded_chars
    )
    assert (d.span.line, d.span.col) == (2, 5 + 4 * crossing)
    assert "*s" in d.message and d.hint and "--max-spec-bytes" in d.hint


def test_a_long_string_repeated_by_aliases_stops_at_the_default_budget() -> None:
    """A 78 KB spec whose 60 KB string is aliased 6,000 times (360 MB of text)."""
    text = "s: &s " + "x" * 60_000 + "\nl: [" + ",".join(["*s"] * 6_000) + "]\n"
    start = time.perf_counter()
    loaded, diags = load_spec_text(text, "x.yaml")
    assert loaded is None and _codes(diags) == ["PS114"]
    assert time.perf_counter() - start < 2


def test_aliases_cannot_nest_deeper_than_the_depth_limit() -> None:
    """Each alias may add its anchor's height: the depth limit holds after expansion."""
    deep = "[" * 10 + "]" * 10
    lines = [f"a0: &a0 {deep}"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} " + "[" * 9 + f"*a{i - 1}" + "]" * 9)
    loaded, diags = load_spec_text("\n".join(lines) + "\n", "x.yaml")
    assert loaded is None and _codes(diags) == ["PS107"]
    assert diags[0].span is not None and diags[0].span.line == 7


def test_dev_zero_is_read_up_to_the_cap_only() -> None:
    zero = Path("/dev/zero")
    start = time.perf_counter()
    loaded, diags = read_spec_file(zero, "zero.yaml", LoadLimits(max_bytes=1 << 20))
    assert loaded is None and _codes(diags) == ["PS103"]
    assert "more than 1048576 bytes" in diags[0].message
    assert time.perf_counter() - start < 2


def _feed(fifo: Path, data: bytes, *, forever: bool) -> threading.Thread:
    def write() -> None:
        try:
            with fifo.open("wb") as f:
                f.write(data)
                while forever:
                    f.write(data)
        except BrokenPipeError:
            pass  # the reader stopped at its cap: what the test wants

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def _read_within(path: Path, seconds: float, lim: LoadLimits | None = None) -> tuple:  # type: ignore[type-arg]
    """read_spec_file in a thread, so a read that never ends fails the test, not hangs it."""
    result: list[tuple] = []  # type: ignore[type-arg]
    reader = threading.Thread(
        target=lambda: result.append(read_spec_file(path, "spec.yaml", lim)), daemon=True
    )
    reader.start()
    reader.join(timeout=seconds)
    assert result, f"reading {path} did not end within {seconds}s"
    return result[0]


def test_an_endless_fifo_stops_at_the_cap(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    writer = _feed(fifo, b"a: " + b"x" * 65_536 + b"\n", forever=True)
    loaded, diags = _read_within(fifo, 20, LoadLimits(max_bytes=1 << 20))
    assert loaded is None and _codes(diags) == ["PS103"]
    writer.join(timeout=10)
    assert not writer.is_alive()


def test_a_fifo_with_a_small_spec_loads(tmp_path: Path) -> None:
    """Process substitution (`pipespec validate <(gen)`) keeps working."""
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    writer = _feed(fifo, b"pipespec: 1\nname: p\n", forever=False)
    loaded, diags = _read_within(fifo, 20)
    writer.join(timeout=10)
    assert loaded is not None and not diags and loaded.data == {"pipespec": 1, "name": "p"}


def test_a_ten_thousand_step_spec_loads_under_the_default_limits() -> None:
    text = spec_yaml(make_pipeline(10_000))
    assert len(text.encode()) > 2 * 1024 * 1024  # what the old 2 MiB cap refused
    loaded, diags = load_spec_text(text, "bench.yaml")
    assert loaded is not None and not diags
    assert len(loaded.data["steps"]) == 10_000


def test_the_limits_follow_the_byte_cap() -> None:
    lim = LoadLimits.for_bytes(64 << 20)
    assert lim.max_nodes == (64 << 20) // limits.BYTES_PER_NODE
    assert lim.max_expanded_chars == limits.EXPANSION_FACTOR * (64 << 20)
    assert limits.RunLimits(max_spec_bytes=64 << 20).load == lim


@pytest.mark.parametrize(
    ("text", "size"),
    [("16777216", 16 << 20), ("16MiB", 16 << 20), ("16m", 16 << 20), (" 512 KiB ", 512 << 10)],
)
def test_sizes_parse(text: str, size: int) -> None:
    assert limits.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1", "16MB", "lots", "1.5MiB"])
def test_bad_sizes_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="MiB"):
        limits.parse_size(text)


def test_the_environment_sets_the_limits(tmp_path: Path) -> None:
    env = {limits.ENV_MAX_SPEC_BYTES: "100", limits.ENV_MAX_OUTPUT_BYTES: "2KiB"}
    got = limits.from_env(env)
    assert got == limits.RunLimits(max_spec_bytes=100, max_output_bytes=2048)
    with pytest.raises(ValueError, match=limits.ENV_MAX_SPEC_BYTES):
        limits.from_env({limits.ENV_MAX_SPEC_BYTES: "big"})
    spec = tmp_path / "s.yaml"
    spec.write_text("a: " + "x" * 200 + "\n")
    with limits.using(got):
        _, diags = read_spec_file(spec)
    assert _codes(diags) == ["PS103"]
    loaded, _ = read_spec_file(spec)
    assert loaded is not None
