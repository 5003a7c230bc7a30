"""The output budget: no spec, however its foreach items, arguments and aliases combine,
renders more than the limit, and an oversized spec is refused before it is rendered."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipespec import limits
from pipespec.api import build
from pipespec.cli import main
from pipespec.compiler.budget import estimate_step


def fanout_spec(name: str, items: int, args: int, width: int) -> str:
    item_list = ", ".join(f"i{i}" for i in range(items))
    arg_list = ", ".join([f'"{"a" * width}"'] * args)
    return (
        f"pipespec: 1\nname: {name}\nsteps:\n  big:\n    kind: container\n"
        f"    image: busybox\n    foreach: [{item_list}]\n"
        f'    command: [echo, "${{item}}", {arg_list}]\n'
    )


def _write(folder: Path, name: str, text: str) -> Path:
    spec = folder / f"{name}.yaml"
    spec.write_text(text)
    return spec


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.integers(1, 40),
    args=st.integers(0, 6),
    width=st.integers(1, 400),
    limit=st.integers(8_000, 60_000),
)
def test_no_spec_renders_more_than_the_limit(
    tmp_path: Path, items: int, args: int, width: int, limit: int
) -> None:
    spec = _write(tmp_path, "fan", fanout_spec("fan", items, args, width))
    with limits.using(limits.RunLimits(max_output_bytes=limit)):
        result = build([spec], ["airflow"], tmp_path / "out")
    codes = [d.code for d in result.diagnostics if d.severity.value == "error"]
    size = sum(len(t.encode()) for files in result.outputs.values() for t in files.values())
    if codes:
        assert codes == ["PS603"] and size == 0
        d = result.diagnostics[-1]
        assert d.span is not None and (d.span.line, d.span.col) == (4, 3)
        assert d.hint is not None and "--max-output-bytes" in d.hint
    else:
        assert 0 < size <= limit


@settings(max_examples=15, deadline=None)
@given(items=st.integers(1, 30), args=st.integers(0, 5), width=st.integers(1, 300))
def test_the_estimate_is_a_lower_bound_of_the_rendered_size(
    items: int, args: int, width: int
) -> None:
    """So refusing on the estimate never refuses a spec that would have fit."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        spec = _write(Path(tmp), "fan", fanout_spec("fan", items, args, width))
        result = build([spec], ["airflow"], Path(tmp) / "out")
        assert result.ok
        (pipeline,) = [a.pipeline for a in result.analyses]
        assert pipeline is not None
        estimate = sum(estimate_step(s).total for s in pipeline.steps)
        rendered = sum(len(t.encode()) for f in result.outputs.values() for t in f.values())
        assert estimate <= rendered


def test_a_huge_fanout_is_refused_before_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """84 KB of spec, 5,000 items x 50 KB of arguments: a 250 MB DAG before the budget."""
    from pipespec import backends

    spec = _write(tmp_path, "fan", fanout_spec("fan", 5_000, 20, 2_500))
    assert spec.stat().st_size < 85_000

    def no_render(name: str) -> object:
        raise AssertionError("rendered a spec the estimate refuses")

    monkeypatch.setattr(backends, "load", no_render)
    result = build([spec], ["airflow"], tmp_path / "out")
    assert [d.code for d in result.diagnostics] == ["PS603"]
    assert "5000 foreach items" in result.diagnostics[0].message
    assert not any(result.outputs.values())


def test_a_run_is_bounded_in_total(tmp_path: Path) -> None:
    specs = [_write(tmp_path, f"p{i}", fanout_spec(f"p{i}", 10, 4, 200)) for i in range(6)]
    one = sum(
        len(t.encode())
        for f in build(specs[:1], ["airflow"], tmp_path / "o").outputs.values()
        for t in f.values()
    )
    # Each spec fits the per-spec limit; five of them pass the run's (4 x that).
    with limits.using(limits.RunLimits(max_output_bytes=one + 100)):
        result = build(specs, ["airflow"], tmp_path / "out")
    codes = [d.code for d in result.diagnostics]
    assert codes == ["PS604"]
    assert "p4.yaml" in result.diagnostics[0].message
    assert sum(len(f) for f in result.outputs.values()) == 4  # rendering stopped there


def test_the_cli_options_and_environment_set_the_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "fan", fanout_spec("fan", 20, 4, 300))
    runner = CliRunner()
    res = runner.invoke(main, ["compile", "fan.yaml", "--max-output-bytes", "16KiB"])
    assert res.exit_code == 1 and "error[PS603]" in res.stderr
    assert "the limit is 16 KiB per spec" in res.stderr
    assert not (tmp_path / "generated").exists()
    res = runner.invoke(main, ["compile", "fan.yaml"], env={limits.ENV_MAX_OUTPUT_BYTES: "16KiB"})
    assert res.exit_code == 1 and "error[PS603]" in res.stderr
    res = runner.invoke(main, ["compile", "fan.yaml"])
    assert res.exit_code == 0, res.stderr
    res = runner.invoke(main, ["check", "fan.yaml", "--max-output-bytes", "16KiB"])
    assert res.exit_code == 1 and "error[PS603]" in res.stderr
    # The spec size limit, on every command that reads specs.
    for command in (["validate"], ["graph"], ["compile"], ["check"], ["fill", "--dry-run"]):
        res = runner.invoke(main, [*command, "fan.yaml", "--max-spec-bytes", "100"])
        assert "error[PS103]" in res.stderr, (command, res.output)
    res = runner.invoke(main, ["explain", "fan.yaml", "--step", "big", "--max-spec-bytes", "100"])
    assert "error[PS103]" in res.stderr
    res = runner.invoke(main, ["validate", "fan.yaml"], env={limits.ENV_MAX_SPEC_BYTES: "1KiB"})
    assert res.exit_code == 1 and "the limit is 1 KiB" in res.stderr
    # A bad setting is a usage error (exit 2) that names the variable or option.
    res = runner.invoke(main, ["validate", "fan.yaml"], env={limits.ENV_MAX_SPEC_BYTES: "lots"})
    assert res.exit_code == 2 and limits.ENV_MAX_SPEC_BYTES in res.output
    res = runner.invoke(main, ["validate", "fan.yaml", "--max-spec-bytes", "2MB"])
    assert res.exit_code == 2 and "--max-spec-bytes" in res.output
    # The override ends with the command.
    assert limits.current() == limits.RunLimits()
