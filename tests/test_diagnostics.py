"""Diagnostic codes are documented, and the renderers escape what they must."""

from __future__ import annotations

import re

from pipespec.diagnostics import (
    CODES,
    Diagnostic,
    DiagnosticSink,
    Span,
    render_github,
    render_human,
)
from tests.conftest import ROOT


def test_every_code_is_documented_and_nothing_else() -> None:
    doc = (ROOT / "docs" / "diagnostics.md").read_text()
    documented = set(re.findall(r"^\| `(PS\d{3})` \|", doc, flags=re.M))
    assert documented == set(CODES)


def test_undocumented_codes_are_refused() -> None:
    sink = DiagnosticSink()
    try:
        sink.error("PS999", "x", None)
    except ValueError:
        return
    raise AssertionError("PS999 was accepted")


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
