"""Tests for durations, memory quantities and cpu amounts."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipespec.spec.units import (
    MAX_CPU,
    MAX_DURATION,
    MAX_QUANTITY,
    format_cpu,
    format_duration,
    format_quantity,
    parse_cpu,
    parse_duration,
    parse_quantity,
)

# --- durations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1d2h", 93600),
        ("1d1h1m1s", 90061),
        ("0h5m", 300),
        ("365d", MAX_DURATION),
        ("1s", 1),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["empty", "such as 90s or 2h"]),
        ("0s", ["longer than zero"]),
        ("0h0m", ["longer than zero"]),
        ("1.5h", ["fractional", "did you mean 1h30m?"]),
        ("h", ["needs a number", "such as 90s or 2h"]),
        ("10", ["unit is missing", "did you mean 10s?"]),
        ("10 s", ["spaces", "did you mean 10s?"]),
        ("1m1h", ["largest first", "did you mean 1h1m?"]),
        ("1h1h", ["largest first", "did you mean 2h?"]),
        ("-5m", ["positive"]),
        ("+5m", ["did you mean 5m?"]),
        ("1w", ["weeks", "did you mean 7d?"]),
        ("2H", ["'H' as 'h'", "did you mean 2h?"]),
        ("5 minutes", ["did you mean 5m?"]),
        ("1y", ["unknown unit 'y'", "s, m, h or d"]),
        ("366d", ["maximum is 365d"]),
        ("1h-5m", ["unexpected character '-'"]),
        ("9" * 5000 + "s", ["more than 30 digits"]),
        ("P1D", ["needs a number"]),
    ],
)
def test_parse_duration_rejects(text: str, fragments: list[str]) -> None:
    with pytest.raises(ValueError, match="invalid duration") as info:
        parse_duration(text)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_parse_duration_refuses_non_strings_with_value_error() -> None:
    with pytest.raises(ValueError, match="string"):
        parse_duration(10)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5400, "1h30m"),
        (90, "1m30s"),
        (86400, "1d"),
        (93600, "1d2h"),
        (1, "1s"),
        (90061, "1d1h1m1s"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0, -1, MAX_DURATION + 1, True])
def test_format_duration_rejects(seconds: int) -> None:
    with pytest.raises(ValueError, match="duration"):
        format_duration(seconds)


@given(st.integers(1, MAX_DURATION))
def test_duration_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(
    st.tuples(*(st.one_of(st.none(), st.integers(0, 400)) for _ in "dhms")).filter(
        lambda t: any(n is not None for n in t)
    )
)
def test_parse_duration_of_any_ordered_compound(counts: tuple[int | None, ...]) -> None:
    text = "".join(f"{n}{u}" for n, u in zip(counts, "dhms", strict=True) if n is not None)
    seconds = sum((n or 0) * size for n, size in zip(counts, (86400, 3600, 60, 1), strict=True))
    if 0 < seconds <= MAX_DURATION:
        assert parse_duration(text) == seconds
    else:
        with pytest.raises(ValueError, match="invalid duration"):
            parse_duration(text)


_unit_text = st.lists(
    st.sampled_from([*"0123456789.dhmswkMGTKi -+bB", "sec", "min", "Gi", "Mi", "e"]), max_size=12
).map("".join)


@settings(max_examples=300)
@given(st.one_of(st.text(), _unit_text))
def test_parsers_raise_only_value_error(text: str) -> None:
    for parse in (parse_duration, parse_quantity, parse_cpu):
        message = None
        try:
            parse(text)
        except ValueError as err:
            message = str(err)
        assert message is None or message.startswith("invalid ")


# --- memory -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("4Gi", 4 * 2**30),
        ("512Mi", 512 * 2**20),
        ("1.5Gi", 3 * 2**29),
        ("1Ki", 1024),
        ("2Ti", 2 * 2**40),
        ("1k", 1000),
        ("500M", 500 * 10**6),
        ("4G", 4 * 10**9),
        ("1T", 10**12),
        ("1.5k", 1500),
        ("1048576", 2**20),
    ],
)
def test_parse_quantity(text: str, size: int) -> None:
    assert parse_quantity(text) == size


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("4GB", ["unknown suffix 'GB'", "did you mean 4Gi?"]),
        ("4G B", ["spaces", "did you mean 4Gi?"]),
        ("4gb", ["did you mean 4Gi?"]),
        ("4gi", ["did you mean 4Gi?"]),
        ("4GiB", ["did you mean 4Gi?"]),
        ("4K", ["did you mean 4Ki?"]),
        ("4 Gi", ["spaces", "did you mean 4Gi?"]),
        ("100b", ["did you mean 100?"]),
        ("-1Gi", ["positive"]),
        ("0", ["more than zero"]),
        ("0Gi", ["more than zero"]),
        ("", ["empty", "such as 512Mi or 4Gi"]),
        ("1.3Ki", ["not a whole number"]),
        ("1Pi", ["unknown suffix 'Pi'", "Ki, Mi, Gi, Ti"]),
        ("1e9", ["not a quantity"]),
        ("Gi", ["not a quantity"]),
        ("16Ei", ["unknown suffix"]),
        ("9000000Ti", ["too large"]),
        ("9" * 5000, ["more than 30 digits"]),
    ],
)
def test_parse_quantity_rejects(text: str, fragments: list[str]) -> None:
    with pytest.raises(ValueError, match="invalid quantity") as info:
        parse_quantity(text)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("size", "text"),
    [(4 * 2**30, "4Gi"), (1536 * 2**20, "1536Mi"), (1000, "1000"), (2**40, "1Ti"), (3, "3")],
)
def test_format_quantity(size: int, text: str) -> None:
    assert format_quantity(size) == text


@pytest.mark.parametrize("size", [0, -1024, MAX_QUANTITY + 1, False])
def test_format_quantity_rejects(size: int) -> None:
    with pytest.raises(ValueError, match="memory quantity"):
        format_quantity(size)


@given(st.integers(1, MAX_QUANTITY))
def test_quantity_round_trip(size: int) -> None:
    assert parse_quantity(format_quantity(size)) == size


@given(st.integers(1, 2**20), st.sampled_from(["", "Ki", "Mi", "Gi", "Ti"]))
def test_quantity_canonical_text_round_trip(count: int, suffix: str) -> None:
    text = format_quantity(parse_quantity(f"{count}{suffix}"))
    assert parse_quantity(text) == parse_quantity(f"{count}{suffix}")
    assert format_quantity(parse_quantity(text)) == text


# --- cpu --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cores"),
    [
        (2, 2.0),
        (0.5, 0.5),
        ("500m", 0.5),
        ("2", 2.0),
        ("0.25", 0.25),
        ("1500m", 1.5),
        ("1m", 0.001),
        (0.1 * 3, 0.3),
        (MAX_CPU, float(MAX_CPU)),
    ],
)
def test_parse_cpu(value: int | float | str, cores: float) -> None:
    result = parse_cpu(value)
    assert isinstance(result, float)
    assert result == cores


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0, "more than zero"),
        (-1, "more than zero"),
        (-0.5, "more than zero"),
        ("0m", "more than zero"),
        (True, "boolean"),
        (False, "boolean"),
        (math.nan, "finite"),
        (math.inf, "finite"),
        (0.0004, "finer than 1m"),
        ("1.5m", "whole number"),
        ("500M", "did you mean 500m?"),
        ("2 cores", "did you mean 2?"),
        ("", "empty"),
        ("-1", "more than zero"),
        ("two", "not a cpu amount"),
        (MAX_CPU + 1, f"at most {MAX_CPU} cores"),
        (10**400, f"at most {MAX_CPU} cores"),
    ],
)
def test_parse_cpu_rejects(value: int | float | str, fragment: str) -> None:
    with pytest.raises(ValueError, match="invalid cpu") as info:
        parse_cpu(value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("cores", "text"), [(0.5, "500m"), (2.0, "2"), (2, "2"), (1.5, "1500m"), (0.001, "1m")]
)
def test_format_cpu(cores: float, text: str) -> None:
    assert format_cpu(cores) == text


@pytest.mark.parametrize("cores", [0.0, -1.0, 0.0001, math.nan])
def test_format_cpu_rejects(cores: float) -> None:
    with pytest.raises(ValueError, match="invalid cpu"):
        format_cpu(cores)


@given(st.integers(1, MAX_CPU * 1000))
def test_cpu_round_trip(millicores: int) -> None:
    cores = millicores / 1000
    text = format_cpu(cores)
    assert parse_cpu(text) == cores
    assert format_cpu(parse_cpu(text)) == text


@given(st.floats() | st.floats(min_value=1e300) | st.integers())
@example(1e308)
def test_parse_cpu_accepts_or_explains_any_number(value: float) -> None:
    """Every number ends in cores or a ValueError: 1e308 cores once overflowed to inf."""
    try:
        cores = parse_cpu(value)
    except ValueError as exc:
        message = str(exc)
        assert message.startswith("invalid cpu"), message
        return
    assert 0 < cores <= MAX_CPU
