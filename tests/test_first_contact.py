"""What a new user meets first: the help, the docs, compile-then-check, and a missing lock."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipespec import backends
from pipespec.cli import main
from tests.conftest import ROOT

PLANNED = ("kubeflow", "sagemaker", "vertex")  # once planned: named only when installed


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


def test_help_names_the_installed_targets_only(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run("--help")
    assert code == 0
    installed = sorted(backends.available())
    assert f"Targets: {', '.join(installed)}." in out
    for name in PLANNED:
        if name not in installed:
            assert name not in out.lower(), name
    # Derived from the registry: a plugin target shows up without editing the help.
    monkeypatch.setattr(
        backends, "available", lambda: {**backends.BUILTIN, "zzplugin": "plugin:Backend"}
    )
    assert "Targets: airflow, kubeflow, sagemaker, vertex, zzplugin." in run("--help")[1]


def test_a_step_running_a_script_compiles_on_airflow_as_documented(cwd: Path) -> None:
    (cwd / "scripts").mkdir()
    (cwd / "scripts" / "hello.py").write_text("print('hello')\n")
    (cwd / "pipeline.yaml").write_text(
        "pipespec: 1\nname: scripted\nsteps:\n  hello:\n    kind: container\n"
        "    image: python:3.12-slim\n    script: scripts/hello.py\n    args: [--x, '1']\n"
    )
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow")
    assert code == 0 and "error" not in err, err
    doc = (ROOT / "docs" / "targets" / "airflow.md").read_text()
    section = doc.split("## Diagnostics this target adds", 1)[1]
    errors = [line for line in section.splitlines() if line.startswith("- error:")]
    assert errors and not any("script" in line for line in errors)
    assert "`python -c <source> <args>`" in doc


def _init_churn(cwd: Path) -> None:
    assert run("init", "--example", "churn")[0] == 0


def test_compile_then_check_prints_each_warning_once(cwd: Path) -> None:
    _init_churn(cwd)
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow")
    assert code == 0, err
    warned = err.count("warning[")
    assert warned > 0  # the churn example has Airflow warnings (PS606)
    code, out, err = run("check", "pipeline.yaml", "--target", "airflow")
    assert code == 0, err
    assert "warning[" not in err
    assert f"{warned} warning(s), not repeated: `pipespec compile` prints them" in err
    assert out == "generated files are up to date\n"
    # A failing check shows everything: the user may not have compiled.
    dag = cwd / "generated" / "airflow" / "churn-retrain.py"
    dag.write_text(dag.read_text() + "# edited\n")
    code, _, err = run("check", "pipeline.yaml", "--target", "airflow")
    assert code == 1 and err.count("warning[") == warned and "error[PS602]" in err


@pytest.mark.parametrize("stale", [False, True])
def test_check_prints_one_json_document(cwd: Path, stale: bool) -> None:
    _init_churn(cwd)
    assert run("compile", "pipeline.yaml", "--target", "airflow")[0] == 0
    if stale:
        dag = cwd / "generated" / "airflow" / "churn-retrain.py"
        dag.write_text(dag.read_text() + "# edited\n")
    code, out, _ = run("check", "pipeline.yaml", "--target", "airflow", "--format", "json")
    assert code == (1 if stale else 0)
    codes = [d["code"] for d in json.loads(out)]  # one document: warnings and drift
    # The starter's warnings (its SQL ingest's image, PS438) and the drift, one document.
    assert "PS438" in codes and ("PS602" in codes) == stale


def test_check_without_a_lock_says_to_run_fill_once(cwd: Path) -> None:
    """The README's compile-then-check on a spec the catalog completes, before any fill."""
    assert run("init", "--example", "tuning")[0] == 0
    (cwd / "pipeline.lock.json").unlink()
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow")
    assert code == 0, err  # locally the catalog fills in memory
    code, _, err = run("check", "pipeline.yaml", "--target", "airflow")
    assert code == 1
    hints = re.findall(r"= hint: (.*)", err)
    assert hints and all(
        h.startswith("run `pipespec fill pipeline.yaml` once and commit the lock file")
        for h in hints
    ), hints
    assert run("fill", "pipeline.yaml")[0] == 0  # the catalog alone: no LLM
    assert run("check", "pipeline.yaml", "--target", "airflow")[0] == 0
