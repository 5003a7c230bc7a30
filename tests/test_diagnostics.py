"""Diagnostic codes are documented, and the renderers escape what they must."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.diagnostics import (
    CODES,
    Diagnostic,
    Severity,
    Span,
    printable,
    render_github,
    render_human,
)
from tests.conftest import ROOT


def test_every_code_is_documented_and_nothing_else() -> None:
    doc = (ROOT / "docs" / "diagnostics.md").read_text()
    documented = set(re.findall(r"^\| `(PS\d{3})` \|", doc, flags=re.M))
    assert documented == set(CODES)


def test_an_undocumented_code_cannot_be_emitted() -> None:
    """Every diagnostic is checked where it is made, whichever stage makes it."""
    with pytest.raises(ValueError, match="undocumented diagnostic code PS999"):
        Diagnostic("PS999", "x")
    with pytest.raises(ValueError, match="undocumented diagnostic code PS600x"):
        Diagnostic("PS600x", "x", Span("s.yaml", 1, 1), severity=Severity.WARNING)


def test_every_code_the_package_names_is_documented() -> None:
    """A code written in a path no test reaches is caught too: each ``"PSnnn"`` literal in
    pipespec/ is in the table."""
    named = {
        code
        for path in (ROOT / "pipespec").rglob("*.py")
        for code in re.findall(r"[\"'](PS\d{3})[\"']", path.read_text(encoding="utf-8"))
    }
    assert named, "the scan found no codes: the pattern is wrong"
    assert named - set(CODES) == set()


def test_github_annotations_escape_newlines_and_separators() -> None:
    d = Diagnostic("PS104", "bad\nthing 100%", Span("a,b:c.yaml", 3, 4), hint="fix")
    out = render_github([d])
    assert (
        out
        == "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=PS104::bad%0Athing 100%25 (hint: fix)\n"
    )


def test_code_frame_points_at_the_column() -> None:
    d = Diagnostic("PS402", "no output", Span("s.yaml", 2, 7, 2, 10))
    text = render_human([d], {"s.yaml": "a: 1\nbb:   xyz\n"})
    assert "2 | bb:   xyz\n  |       ^^^" in text


# --- what a spec can put in a diagnostic cannot drive a terminal or forge a CI log line -----

_nasty = st.lists(
    st.one_of(
        st.sampled_from(["\n", "\r", "\x1b[2J", "\x1b]0;x\x07", "\u202e", "\u2028", "\x85", "::"]),
        st.characters(),
    ),
    max_size=15,
).map("".join)


def _diagnostics(texts: list[str]) -> list[Diagnostic]:
    file, message, hint, note = texts
    span = Span(file, 2, 3)
    return [
        Diagnostic("PS200", message, span, "h" + hint, related=((Span(file, 1, 1), note),)),
        Diagnostic("PS600", message, None, "h" + hint, Severity.WARNING),
    ]


def _inert_line(line: str) -> bool:
    return line.isprintable() and not line.lstrip().startswith("::")


@settings(max_examples=300, deadline=None)
@given(st.lists(_nasty, min_size=4, max_size=4), _nasty)
def test_human_output_keeps_its_shape_whatever_the_text(texts: list[str], source: str) -> None:
    diagnostics = _diagnostics(texts)
    out = render_human(diagnostics, {texts[0]: f"a: 1\n{source}x: 2\n"})
    lines = out.splitlines()
    assert all(_inert_line(line) for line in lines), out
    # Two blocks: header, three-line code frame, note, hint; then header and hint.
    assert len(lines) == 6 + 1 + 2
    assert lines[0].endswith(f"error[PS200]: {printable(texts[1])}")


@settings(max_examples=300, deadline=None)
@given(st.lists(_nasty, min_size=4, max_size=4))
def test_github_output_is_one_command_per_diagnostic(texts: list[str]) -> None:
    lines = render_github(_diagnostics(texts)).split("\n")
    assert lines.pop() == ""
    assert len(lines) == 2
    assert lines[0].startswith("::error file=") and lines[1].startswith("::warning title=")
    assert all(line.isprintable() for line in lines)


def test_a_newline_in_a_value_cannot_forge_a_workflow_command() -> None:
    d = Diagnostic(
        "PS203", "bad value 'x\n::error file=ci.yml::forged\x1b[2J'", Span("s.yaml", 1, 1)
    )
    out = render_human([d])
    assert "\n::error" not in out and "\x1b" not in out
    assert "x\\n::error file=ci.yml::forged\\x1b[2J" in out
    # A file name is printed at the start of a line: it cannot start one like a command.
    assert render_human([Diagnostic("PS100", "m", Span("::error x", 1, 1))]).startswith(
        "./::error x:1:1: "
    )


def test_the_caret_follows_escaped_text() -> None:
    d = Diagnostic("PS200", "m", Span("s.yaml", 1, 4, 1, 5))
    out = render_human([d], {"s.yaml": "\u202e: v\n"}).splitlines()
    assert out[2] == "1 | \\u202e: v"
    assert out[3] == "  |         ^"


def test_a_long_source_line_is_framed_around_the_column() -> None:
    source = "k: [" + ", ".join(f"v{i}" for i in range(5000)) + "]\n"
    col = source.index("v4000") + 1
    out = render_human(
        [Diagnostic("PS200", "m", Span("s.yaml", 1, col, 1, col + 5))], {"s.yaml": source}
    )
    frame, caret = out.splitlines()[2:4]
    assert len(frame) < 140 and frame.startswith("1 | ...") and frame.endswith("...")
    assert frame[caret.index("^") : caret.index("^") + 5] == "v4000"
