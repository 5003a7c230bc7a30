"""The CI recipes users copy: the pre-commit hooks and the GitHub Actions workflow, run for real.

Each recipe is parsed (the hooks with pre-commit's own manifest schema) and its pipespec
commands are run in a subprocess on a copy of the examples: they pass on current output
and fail on stale output, with GitHub annotations that point at a file, line and column.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"
WORKFLOW = ROOT / "docs" / "ci" / "github-actions.yml"
ANNOTATION = re.compile(r"::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+,title=PS\d{3}::\S")
STALE_DAG = Path("examples/churn/generated/airflow/churn-retrain.py")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The examples in a fresh folder, compiled by this pipespec (so their output is current)."""
    shutil.copytree(
        ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    specs = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("examples/*/*.yaml"))
    done = _pipespec(tmp_path, ["compile", *specs])
    assert done.returncode == 0, done.stderr
    return tmp_path


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PIPESPEC_"))}
    return {**env, "CI": "true", **(extra or {})}  # as on a CI runner: locked, no LLM


def _pipespec(cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipespec", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def _hooks() -> list[dict[str, Any]]:
    from pre_commit.clientlib import load_manifest

    hooks: list[dict[str, Any]] = load_manifest(str(HOOKS))  # pre-commit's own schema
    return hooks


def test_the_hooks_fit_pre_commits_manifest_schema() -> None:
    hooks = {h["id"]: h for h in _hooks()}
    assert sorted(hooks) == ["pipespec-check", "pipespec-validate"]
    for hook_id, hook in hooks.items():
        assert hook["language"] == "python"
        assert shlex.split(hook["entry"]) == ["pipespec", hook_id.removeprefix("pipespec-")]


def test_the_hooks_pick_specs_and_nothing_else(project: Path) -> None:
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    specs = [f for f in files if f.endswith("/pipeline.yaml")]
    assert len(specs) >= 4
    for hook in _hooks():
        picked = [f for f in files if re.search(hook["files"], f)]
        assert picked == specs, hook["id"]
        assert re.search(hook["files"], "ml/churn.pipeline.yml")


def _run_hook(
    hook: dict[str, Any], cwd: Path, files: list[str]
) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(hook["entry"])
    assert argv[0] == "pipespec"
    return _pipespec(cwd, [*argv[1:], *hook["args"], *(files if hook["pass_filenames"] else [])])


def test_each_hook_passes_on_the_examples_and_check_fails_on_stale_output(project: Path) -> None:
    hooks = {h["id"]: h for h in _hooks()}
    specs = sorted(p.relative_to(project).as_posix() for p in project.glob("examples/*/*.yaml"))
    for hook in hooks.values():
        done = _run_hook(hook, project, specs)
        assert done.returncode == 0, f"{hook['id']}: {done.stdout}{done.stderr}"
    dag = project / STALE_DAG
    dag.write_text(dag.read_text() + "# edited by hand\n")
    done = _run_hook(hooks["pipespec-check"], project, specs)
    assert done.returncode == 1 and "is changed" in done.stderr
    assert _run_hook(hooks["pipespec-validate"], project, specs).returncode == 0
    (project / "examples" / "minimal" / "pipeline.yaml").write_text("pipespec: 1\nname: x\n")
    assert _run_hook(hooks["pipespec-validate"], project, specs).returncode == 1


def _workflow_commands() -> tuple[dict[str, str], list[str]]:
    doc = YAML(typ="safe").load(WORKFLOW.read_text())
    (job,) = doc["jobs"].values()
    commands: list[str] = []
    for step in job["steps"]:
        command = step.get("run")
        if command is None:
            assert step["uses"].startswith(("actions/checkout@", "actions/setup-python@"))
        elif command.startswith("pipespec "):
            commands.append(command)
        else:  # the install step needs the network: the test runs this checkout instead
            assert command.startswith("python -m pip install pipespec"), command
    assert commands
    return {k: str(v) for k, v in job.get("env", {}).items()}, commands


def _run_workflow(project: Path) -> list[subprocess.CompletedProcess[str]]:
    env, commands = _workflow_commands()
    # The `pipespec` the runner installs is this one: a shell function points there.
    shim = f'pipespec() {{ {shlex.quote(sys.executable)} -m pipespec "$@"; }}\n'
    return [
        subprocess.run(
            ["bash", "-e", "-c", shim + command],
            cwd=project,
            env=_env(env),
            capture_output=True,
            text=True,
            check=False,
        )
        for command in commands
    ]


def test_the_github_workflow_passes_on_the_examples(project: Path) -> None:
    for done in _run_workflow(project):
        assert done.returncode == 0, done.stdout + done.stderr
        for line in done.stderr.splitlines():  # the examples' warnings, as annotations
            assert ANNOTATION.match(line), line


def test_the_github_workflow_fails_on_stale_output_with_annotations(project: Path) -> None:
    dag = project / STALE_DAG
    dag.write_text(dag.read_text() + "# edited by hand\n")
    bad = project / "examples" / "minimal" / "pipeline.yaml"
    bad.write_text(bad.read_text().replace("inputs: {data: download.data}", "inputs: {data: x.y}"))
    (done,) = _run_workflow(project)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines and all(ANNOTATION.match(line) for line in lines), lines
    assert any(
        line.startswith("::error file=examples/minimal/pipeline.yaml,line=") for line in lines
    )
    # The spec error stops the run before drift is compared; fix it and the drift shows.
    bad.write_text((ROOT / "examples" / "minimal" / "pipeline.yaml").read_text())
    (done,) = _run_workflow(project)
    assert done.returncode == 1
    assert f"::error file={STALE_DAG.as_posix()},line=1,col=1,title=PS602::" in done.stderr
