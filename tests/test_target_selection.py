"""`--target all` (the default) compiles every installed target a spec can be compiled
for: a target that needs settings the spec does not give (SageMaker's role and region) is
skipped with a note (PS618), while naming it outright makes the missing settings errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pipespec.cli import main

SPEC = """\
pipespec: 1
name: tiny
steps:
  hello: {kind: container, image: "busybox:1.36", command: [echo, hi]}
"""
AWS = 'targets:\n  sagemaker: {role_arn: "arn:aws:iam::123456789012:role/p", region: eu-west-1}\n'


def _compile(tmp_path: Path, text: str, *target: str) -> tuple[int, str, set[str]]:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["compile", str(spec), "--out", str(out), *(("--target", *target) if target else ())]
    result = CliRunner().invoke(main, args)
    written = {p.parent.name for p in out.rglob("*") if p.is_file()} if out.exists() else set()
    return result.exit_code, result.stdout + result.stderr, written


def test_all_skips_a_target_the_spec_has_no_settings_for(tmp_path: Path) -> None:
    code, out, written = _compile(tmp_path, SPEC)
    assert code == 0, out
    assert "note[PS618]: not compiled for sagemaker: it needs role_arn and region" in out
    assert written == {"airflow", "kubeflow", "vertex"}


def test_all_compiles_it_once_the_spec_has_its_block(tmp_path: Path) -> None:
    code, out, written = _compile(tmp_path, SPEC + AWS)
    assert code == 0, out
    assert "PS618" not in out
    assert "sagemaker" in written


def test_naming_it_makes_the_missing_settings_errors(tmp_path: Path) -> None:
    code, out, written = _compile(tmp_path, SPEC, "sagemaker")
    assert code == 1
    assert out.count("error[PS201]") == 2 and "PS618" not in out
    assert not written


def test_a_bad_block_is_an_error_with_all_too(tmp_path: Path) -> None:
    bad = SPEC + "targets:\n  sagemaker: {region: eu-west-1}\n"
    code, out, _ = _compile(tmp_path, bad)
    assert code == 1
    assert "error[PS201]: missing required key 'role_arn'" in out
