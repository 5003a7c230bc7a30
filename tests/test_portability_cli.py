"""`pipespec explain SPEC --target T` prints the portability report; `--strict` makes every
warning (an emulated feature among them) an error that stops the run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipespec.cli import main
from tests.conftest import ROOT

SHOWCASE = str(ROOT / "examples" / "showcase" / "pipeline.yaml")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_explain_target_prints_the_portability_table() -> None:
    code, out, _ = _run("explain", SHOWCASE, "--target", "airflow")
    assert code == 0
    assert "pipeline demand-forecast on airflow" in out
    for text in ("when: condition", "ShortCircuitOperator", "deploy to an endpoint", "emulated"):
        assert text in out


def test_explain_target_as_json_names_every_feature_with_its_steps() -> None:
    code, out, _ = _run("explain", SHOWCASE, "--target", "airflow", "--format", "json")
    assert code == 0
    report = json.loads(out)
    rows = {row["feature"]: row for row in report["features"]}
    assert report["target"] == "airflow"
    assert rows["condition"]["steps"] == ["deploy"] and rows["condition"]["support"] == "native"
    assert rows["deploy_endpoint"]["support"] == "native"  # KServe, applied by a pod
    assert rows["tune_own_command"]["support"] == "emulated"
    assert all(row["how"] for row in report["features"])


def test_explain_needs_a_step_or_a_target_and_knows_the_targets() -> None:
    assert _run("explain", SHOWCASE)[0] == 2
    assert _run("explain", SHOWCASE, "--step", "train", "--target", "airflow")[0] == 2
    code, _, err = _run("explain", SHOWCASE, "--target", "airflfow")
    assert code == 2 and "PS601" in err and "airflow" in err


def test_strict_turns_an_emulated_feature_into_an_error_and_writes_nothing(
    tmp_path: Path,
) -> None:
    # The showcase deploys to an endpoint, which Airflow only emulates (PS606).
    code, _, err = _run("compile", SHOWCASE, "--target", "airflow", "--out", str(tmp_path / "a"))
    assert code == 0 and "warning[PS606]" in err
    code, _, err = _run(
        "compile", SHOWCASE, "--target", "airflow", "--out", str(tmp_path / "b"), "--strict"
    )
    assert code == 1 and "error[PS606]" in err
    assert not (tmp_path / "b").exists()
    assert _run("check", SHOWCASE, "--target", "airflow", "--strict")[0] == 1
    # validate checks no target's portability: its own warnings (settings for a target
    # that is not installed, PS607) are what --strict makes errors.
    assert _run("validate", SHOWCASE, "--strict")[0] == 0
    typo = tmp_path / "typo.yaml"
    typo.write_text(Path(SHOWCASE).read_text(encoding="utf-8") + "  airflw: {}\n", encoding="utf-8")
    assert _run("validate", str(typo))[0] == 0
    assert _run("validate", str(typo), "--strict")[0] == 1
