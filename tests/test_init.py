"""`pipespec init`: a starter spec that validates, compiles offline and checks clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipespec import starters
from pipespec.cli import main
from tests.conftest import ROOT


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")  # what a user's CI does: compile and check --locked
    return tmp_path


@pytest.mark.parametrize("example", starters.STARTERS)
def test_each_starter_validates_compiles_and_checks_offline(cwd: Path, example: str) -> None:
    code, out, err = run("init", "project", "--example", example)
    assert code == 0, err
    assert "wrote project/pipeline.yaml" in out
    spec = cwd / "project" / "pipeline.yaml"
    assert spec.read_text().splitlines()[0] == starters.SCHEMA_LINE
    schema = cwd / "project" / starters.SCHEMA_FILE
    assert schema.read_text() == run("schema")[1]  # the editor line points at a real copy
    for command in ("validate", "compile", "check"):
        args = [command, "project/pipeline.yaml"]
        code, out, err = run(*args, *(["--target", "airflow"] if command != "validate" else []))
        assert code == 0, f"{command}: {out}{err}"
    assert (cwd / "project" / "generated" / "airflow").is_dir()


def test_init_defaults_to_the_minimal_starter_in_the_current_folder(cwd: Path) -> None:
    code, out, err = run("init")
    assert code == 0, err
    assert "wrote pipeline.yaml" in out
    assert "name: minimal" in (cwd / "pipeline.yaml").read_text()


def test_init_refuses_to_overwrite_unless_forced(cwd: Path) -> None:
    (cwd / "pipeline.yaml").write_text("mine: 1\n")
    code, _, err = run("init", "--example", "churn")
    assert code == 2
    assert "error: pipeline.yaml exists; nothing was written" in err
    assert "--force" in err
    assert (cwd / "pipeline.yaml").read_text() == "mine: 1\n"
    assert not (cwd / "pipeline.lock.json").exists()  # all or nothing
    code, _, err = run("init", "--example", "churn", "--force")
    assert code == 0, err
    assert "name: churn-retrain" in (cwd / "pipeline.yaml").read_text()


def test_init_twice_is_a_no_op_and_a_folder_in_the_way_is_refused(cwd: Path) -> None:
    assert run("init", "p")[0] == 0
    code, out, err = run("init", "p")
    assert code == 0 and "wrote" not in out and "already holds" in out
    (cwd / "q" / "pipeline.yaml").mkdir(parents=True)
    code, _, err = run("init", "q", "--force")
    assert code == 2 and "q/pipeline.yaml exists and is not a file" in err


def test_an_empty_spec_points_at_init() -> None:
    code, _, err = run("validate", str(ROOT / "tests" / "cases" / "bad" / "empty.yaml"))
    assert code == 1 and "run `pipespec init` to write a starter spec" in err
    assert "examples/" not in err  # pip users have no examples folder


def test_starters_are_the_examples(update_golden: bool) -> None:
    """The packaged starters are copies of examples/ (`pytest --update-golden` syncs them)."""
    package = Path(starters.__file__).parent
    for example in starters.STARTERS:
        source = ROOT / "examples" / example
        wanted = sorted(
            p.relative_to(source).as_posix()
            for p in source.rglob("*")
            if p.is_file() and "generated" not in p.parts and "__pycache__" not in p.parts
        )
        if update_golden:
            shutil.rmtree(package / example, ignore_errors=True)
            for rel in wanted:
                (package / example / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / rel, package / example / rel)
        shipped = starters.packaged_files(example)
        assert sorted(shipped) == wanted, f"run `pytest {__file__} --update-golden`"
        for rel in wanted:
            assert shipped[rel] == (source / rel).read_text(), (
                f"pipespec/starters/{example}/{rel} differs from examples/{example}/{rel}: "
                "run `pytest tests/test_init.py --update-golden`"
            )
