"""Messages that must not mislead: each hint names a fix that works for the case at hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipespec.api import analyze_file, build
from pipespec.diagnostics import Diagnostic
from pipespec.fill.engine import run_fill


def _spec(tmp_path: Path, steps: str) -> Path:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(f"pipespec: 1\nname: p\nsteps:\n{steps}")
    return spec


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("two", "write a whole number, such as 2"),
        ("'2'", "write 2 without quotes"),
        ("'2.5'", "write a whole number, such as 2"),
        ("'1_000'", "write a whole number, such as 2"),
        ("' 2'", "write a whole number, such as 2"),
    ],
)
def test_a_quoted_number_hint_drops_quotes_only_from_a_number(
    tmp_path: Path, written: str, hint: str
) -> None:
    spec = _spec(
        tmp_path, f"  a:\n    kind: container\n    image: busybox\n    retries: {written}\n"
    )
    (diag,) = analyze_file(spec).diagnostics
    assert (diag.code, diag.hint) == ("PS202", hint)


@pytest.mark.parametrize(
    ("written", "hint"),
    [("high", "write a number, such as 0.5"), ("'0.2'", "write 0.2 without quotes")],
)
def test_a_quoted_float_hint_drops_quotes_only_from_a_number(
    tmp_path: Path, written: str, hint: str
) -> None:
    spec = _spec(
        tmp_path,
        "  m:\n    kind: monitor\n    image: busybox\n    command: [m]\n"
        f"    drift: {{metric: psi, threshold: {written}}}\n",
    )
    (diag,) = analyze_file(spec).diagnostics
    assert (diag.code, diag.hint) == ("PS202", hint)


def _fill_diagnostics(spec: Path) -> list[Diagnostic]:
    analysis = analyze_file(spec)
    from pipespec.spec.loader import read_spec_file
    from pipespec.spec.validate import validate_spec

    assert analysis.ok, analysis.diagnostics
    loaded, _ = read_spec_file(spec, spec.name)
    assert loaded is not None
    vspec, _ = validate_spec(loaded)
    return run_fill(vspec, None).diagnostics


def test_a_step_with_a_script_but_no_image_is_not_called_prose(tmp_path: Path) -> None:
    (tmp_path / "clean.py").write_text("print('clean')\n")
    spec = _spec(
        tmp_path,
        "  clean:\n    kind: transform\n    description: drop duplicate rows\n"
        "    script: clean.py\n    inputs: {data: 's3://bucket/raw.csv'}\n",
    )
    diags = _fill_diagnostics(spec)
    assert [(d.code, d.span.line if d.span else 0) for d in diags] == [("PS500", 4)]
    assert "`image`" in diags[0].message
    assert diags[0].hint is not None and "image:" in diags[0].hint


def test_a_container_step_without_an_image_is_not_sent_to_fill(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "  hello:\n    kind: container\n    command: [echo, hi]\n")
    result = build([spec], ["airflow"], tmp_path / "out")
    (diag,) = result.diagnostics
    assert diag.code == "PS500"
    assert diag.hint is not None
    assert "run `pipespec fill`" not in diag.hint
    assert "`image:`" in diag.hint


def test_a_step_described_in_prose_still_points_at_fill(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        "  clean:\n    kind: transform\n    description: drop duplicate rows\n"
        "    inputs: {data: 's3://bucket/raw.csv'}\n",
    )
    result = build([spec], ["airflow"], tmp_path / "out")
    (diag,) = result.diagnostics
    assert diag.code == "PS500"
    assert diag.hint is not None and "pipespec fill" in diag.hint
