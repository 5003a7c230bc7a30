"""Cron schedules are checked for ranges (croniter), at the column of the field at fault."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipespec.spec.loader import load_spec_text
from pipespec.spec.validate import validate_spec

LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _diagnostics(schedule: str) -> list[tuple[int, int, str]]:
    text = (
        "pipespec: 1\nname: s\n"
        f"schedule: '{schedule}'\n"
        "steps:\n  a: {kind: container, image: busybox, command: [run]}\n"
    )
    loaded, _ = load_spec_text(text, "s.yaml")
    assert loaded is not None
    _, diags = validate_spec(loaded)
    return [(d.span.line, d.span.col, d.code) for d in diags if d.span]


@given(st.integers(0, 4), st.integers(0, 99))
def test_a_field_out_of_range_is_ps210_at_its_column(index: int, number: int) -> None:
    fields = ["*"] * 5
    fields[index] = str(number)
    low, high = LIMITS[index]
    got = _diagnostics(" ".join(fields))
    if low <= number <= high:
        assert got == []
    else:
        # `schedule: '` is 11 characters; each `* ` before the field is 2 more.
        assert got == [(3, 12 + 2 * index, "PS210")]


def test_names_and_steps_in_range_stay_valid() -> None:
    for ok in ("0 0 * * mon-fri", "*/15 6-18 1,15 jan-jun 0", "@daily", "59 23 31 12 7"):
        assert _diagnostics(ok) == [], ok
