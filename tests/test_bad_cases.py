"""Bad specs as case files: every expected diagnostic is written beside its line.

A case line carries `# expect: PS402@20 PS310@39` (code @ column, on that line); faults that
cannot carry a comment (bad bytes, an empty file) sit in `<case>.expected` as `LINE:COL CODE`.
The run must report exactly the expected set: nothing missing, nothing extra.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipespec.api import analyze_file
from pipespec.diagnostics import render_human

CASES = Path(__file__).parent / "cases" / "bad"
_EXPECT = re.compile(r"# expect:((?:\s+PS\d{3}@\d+)+)")


def expected_diagnostics(case: Path) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    sidecar = case.with_suffix(".expected")
    if sidecar.exists():
        for line in sidecar.read_text().splitlines():
            where, code = line.split()
            line_text, col_text = where.split(":")
            out.append((int(line_text), int(col_text), code))
    raw = case.read_bytes().decode("utf-8", errors="replace")
    for lineno, line in enumerate(raw.splitlines(), start=1):
        m = _EXPECT.search(line)
        if m:
            for item in m.group(1).split():
                code, col = item.split("@")
                out.append((lineno, int(col), code))
    return sorted(out)


@pytest.mark.parametrize("case", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_case_reports_exactly_the_expected_diagnostics(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CASES)
    expected = expected_diagnostics(case)
    assert expected, f"{case.name} declares no expected diagnostics"
    analysis = analyze_file(Path(case.name))
    got = sorted((d.span.line, d.span.col, d.code) for d in analysis.diagnostics if d.span)
    assert all(d.span is not None for d in analysis.diagnostics)
    text = render_human(analysis.diagnostics, {})
    assert got == expected, text
    assert analysis.pipeline is None
    # Every rendered diagnostic starts with file:line:col.
    for d in analysis.diagnostics:
        where = f"{case.name}:{d.span.line}:{d.span.col}"  # type: ignore[union-attr]
        assert f"{where}: {d.severity.value}[{d.code}]" in text


def test_every_case_has_hints_where_a_fix_is_known() -> None:
    """Codes whose fix is always known must always come with a hint."""
    always_hinted = {"PS105", "PS107", "PS109", "PS110", "PS200", "PS206", "PS208"}
    always_hinted |= {"PS311", "PS312"}
    for case in sorted(CASES.glob("*.yaml")):
        for d in analyze_file(case).diagnostics:
            if d.code in always_hinted:
                assert d.hint, f"{case.name}: {d.code} {d.message} has no hint"
