"""compile and check as users run them: layout, drift detection, atomic writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipespec import output
from pipespec.cli import main
from pipespec.output import journal
from tests.conftest import ROOT
from tests.targets import TARGET_EXAMPLES


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("minimal", "showcase", "churn"):
        target = tmp_path / "examples" / name
        target.mkdir(parents=True)
        shutil.copy(ROOT / "examples" / name / "pipeline.yaml", target / "pipeline.yaml")
    # The showcase's drift check is pinned in its lock (compiles under CI=true read only
    # the lock); churn's copy has none on purpose (its tests fill it).
    lock = ROOT / "examples" / "showcase" / "pipeline.lock.json"
    shutil.copy(lock, tmp_path / "examples" / "showcase" / "pipeline.lock.json")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_compile_writes_the_documented_layout_and_check_passes(workdir: Path) -> None:
    code, out, _ = run("compile", "examples/minimal/pipeline.yaml", "--target", "airflow")
    assert code == 0, out
    generated = workdir / "examples" / "minimal" / "generated" / "airflow" / "minimal.py"
    assert generated.exists()
    assert "wrote examples/minimal/generated/airflow/minimal.py" in out
    code, out, _ = run("check", "examples/minimal/pipeline.yaml", "--target", "airflow")
    assert code == 0 and "up to date" in out


def test_check_reports_changed_missing_and_extra_files(workdir: Path) -> None:
    run("compile", "examples/minimal/pipeline.yaml", "--target", "airflow", "--out", "out")
    dag = workdir / "out" / "airflow" / "minimal.py"
    dag.write_text(dag.read_text().replace("count", "COUNT", 1))
    (workdir / "out" / "airflow" / "minimal.v2.py").write_text("# stale\n")
    code, out, err = run(
        "check", "examples/minimal/pipeline.yaml", "--target", "airflow", "--out", "out"
    )
    assert code == 1
    assert out.startswith("--- out/airflow/minimal.py (on disk)")
    assert "out/airflow/minimal.py is changed" in err
    assert "out/airflow/minimal.v2.py is extra" in err
    dag.unlink()
    code, _, err = run(
        "check", "examples/minimal/pipeline.yaml", "--target", "airflow", "--out", "out"
    )
    assert code == 1 and "out/airflow/minimal.py is missing" in err


def test_a_spec_error_writes_nothing(workdir: Path) -> None:
    run("compile", "examples/minimal/pipeline.yaml", "--target", "airflow", "--out", "out")
    before = (workdir / "out" / "airflow" / "minimal.py").read_text()
    spec = workdir / "examples" / "minimal" / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("download.data", "download.dat"))
    code, _, err = run(
        "compile",
        "examples/showcase/pipeline.yaml",
        "examples/minimal/pipeline.yaml",
        "--target",
        "airflow",
        "--out",
        "out",
    )
    assert code == 1 and "PS402" in err
    assert (workdir / "out" / "airflow" / "minimal.py").read_text() == before
    assert not (workdir / "out" / "airflow" / "demand-forecast.py").exists()


def test_a_fault_midway_leaves_previous_files_untouched(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workdir / "out"
    output.write_atomically(root, {"a/one.py": "old one\n", "a/two.py": "old two\n"})
    calls = {"n": 0}
    real = journal.replace

    def failing_replace(src: Path, dst: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (injected)")
        real(src, dst)

    monkeypatch.setattr(journal, "replace", failing_replace)
    with pytest.raises(output.OutputError, match="injected"):
        output.write_atomically(
            root, {"a/one.py": "new one\n", "a/two.py": "new two\n", "a/three.py": "new\n"}
        )
    assert (root / "a" / "one.py").read_text() == "old one\n"
    assert (root / "a" / "two.py").read_text() == "old two\n"
    assert not (root / "a" / "three.py").exists()
    assert sorted(p.name for p in root.iterdir()) == ["a"]  # no staging left behind


def test_check_reports_the_old_file_of_a_renamed_pipeline(workdir: Path) -> None:
    spec = workdir / "examples" / "minimal" / "pipeline.yaml"
    run("compile", "examples/minimal/pipeline.yaml", "--target", "airflow")
    spec.write_text(spec.read_text().replace("name: minimal", "name: smallest"))
    run("compile", "examples/minimal/pipeline.yaml", "--target", "airflow")
    generated = workdir / "examples" / "minimal" / "generated" / "airflow"
    (generated / "notes.txt").write_text("mine, not pipespec's\n")  # not reported
    code, _, err = run("check", "examples/minimal/pipeline.yaml", "--target", "airflow")
    assert code == 1
    assert "examples/minimal/generated/airflow/minimal.py is orphaned" in err
    assert "a renamed or removed pipeline?" in err
    assert "notes.txt" not in err and "smallest.py" not in err


@pytest.mark.parametrize("command", ["compile", "check"])
def test_a_directory_at_an_output_path_is_a_diagnostic(workdir: Path, command: str) -> None:
    dag = workdir / "out" / "airflow" / "minimal.py"
    dag.mkdir(parents=True)
    code, _, err = run(
        command, "examples/minimal/pipeline.yaml", "--target", "airflow", "--out", "out"
    )
    assert code == 2, err
    assert "error[PS611]: out/airflow/minimal.py is a directory" in err
    assert "Traceback" not in err and "PS900" not in err
    assert dag.is_dir() and list(dag.iterdir()) == []


def test_a_file_where_the_output_folder_goes_is_a_diagnostic(workdir: Path) -> None:
    (workdir / "out").mkdir()
    (workdir / "out" / "airflow").write_text("a file, not a folder\n")
    code, _, err = run(
        "compile", "examples/minimal/pipeline.yaml", "--target", "airflow", "--out", "out"
    )
    assert code == 2 and "error[PS611]: out/airflow is a file" in err


def test_a_non_utf8_output_file_is_a_diagnostic_and_compile_replaces_it(workdir: Path) -> None:
    dag = workdir / "out" / "airflow" / "minimal.py"
    dag.parent.mkdir(parents=True)
    dag.write_bytes(b"# ok\n\xff\xfe not utf-8\n")
    args = ("examples/minimal/pipeline.yaml", "--target", "airflow", "--out", "out")
    code, _, err = run("check", *args)
    assert code == 1, err
    assert "error[PS612]: out/airflow/minimal.py:2: is not UTF-8 text" in err
    assert "Traceback" not in err
    assert run("compile", *args)[0] == 0
    assert run("check", *args)[0] == 0


def test_incomplete_steps_are_reported_not_compiled(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    # The copy has no lock file: the catalog completes what it can, in memory; the two
    # steps described in prose need `pipespec fill`.
    code, _, err = run("compile", "examples/churn/pipeline.yaml", "--target", "airflow")
    assert code == 1
    assert err.count("error[PS500]") == 2
    assert "step 'clean' is incomplete" in err and "step 'features' is incomplete" in err
    assert "pipespec fill" in err
    assert not (workdir / "examples" / "churn" / "generated").exists()
    code, _, err = run("compile", "examples/churn/pipeline.yaml", "--target", "airflow", "--locked")
    assert code == 1 and err.count("error[PS501]") == 6  # the drift check is filled too


def test_unknown_target_is_a_usage_error(workdir: Path) -> None:
    code, _, err = run("compile", "examples/minimal/pipeline.yaml", "--target", "airflw")
    assert code == 2 and "did you mean 'airflow'?" in err


def test_compile_is_byte_identical_on_a_second_run(workdir: Path) -> None:
    run("compile", "examples/showcase/pipeline.yaml", "--target", "airflow", "--out", "a")
    run("compile", "examples/showcase/pipeline.yaml", "--target", "airflow", "--out", "b")
    first = (workdir / "a" / "airflow" / "demand-forecast.py").read_bytes()
    assert first == (workdir / "b" / "airflow" / "demand-forecast.py").read_bytes()


@pytest.mark.parametrize(("target", "example"), TARGET_EXAMPLES)
def test_committed_example_outputs_are_current(
    target: str, example: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pipespec check` passes on every example for every target (no file missing,
    changed, extra or orphaned); a failure prints the diff."""
    monkeypatch.chdir(ROOT)
    code, out, err = run("check", f"examples/{example}/pipeline.yaml", "--target", target)
    assert code == 0, out + err


def test_a_fault_in_a_mapped_step_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(
        "pipespec: 1\nname: p\nsecrets:\n  db: {airflow: {conn_id: db}}\nsteps:\n"
        "  fan:\n    kind: container\n    image: busybox\n    foreach: [a, b, c]\n"
        "    command: [echo, '${item}']\n    secrets: {DSN: db}\n"
    )
    code, _, err = run("compile", "p.yaml", "--target", "airflow")
    assert code == 1
    assert err.count("error[PS600]: secret 'db' has no `kubernetes:` mapping") == 1
    assert "p.yaml:6:3:" in err
