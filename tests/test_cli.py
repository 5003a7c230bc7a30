"""The command line as users run it: exit codes, output formats, and a lean start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pipespec.cli import main
from tests.conftest import EXAMPLES, ROOT

BAD = ROOT / "tests" / "cases" / "bad"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_examples_exit_zero() -> None:
    code, out, _ = run("validate", *map(str, EXAMPLES))
    assert code == 0
    assert out.count(": ok (") == len(EXAMPLES)


def test_validate_reports_every_error_with_position_and_exit_one() -> None:
    code, _, err = run("validate", str(BAD / "references.yaml"))
    assert code == 1
    assert err.count("error[") == 12
    assert "references.yaml:15:20: error[PS402]: step 'ingest' has no output 'rwa'" in err
    assert "= hint: did you mean 'ingest.raw'?" in err
    assert "^^^^^^^^^^" in err  # the caret under the offending text


def test_json_format_is_machine_readable() -> None:
    code, out, _ = run("validate", "--format", "json", str(BAD / "cycle.yaml"))
    assert code == 1
    (diag,) = json.loads(out)
    assert diag["code"] == "PS400" and diag["line"] == 8 and len(diag["related"]) == 3


def test_github_format_annotates_files() -> None:
    code, _, err = run("validate", "--format", "github", str(BAD / "conditions.yaml"))
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith("::error file=")
    assert ",line=16,col=48,title=PS300::" in first


def test_missing_file_is_an_environment_error() -> None:
    code, _, err = run("validate", "no/such/spec.yaml")
    assert code == 2
    assert "PS100" in err


def test_usage_error_exits_two() -> None:
    code, _, _ = run("validate")
    assert code == 2


def test_graph_formats() -> None:
    spec = str(ROOT / "examples" / "churn" / "pipeline.yaml")
    code, out, _ = run("graph", spec)
    assert code == 0 and out.startswith("flowchart TD") and "-->|when|" in out
    code, out, _ = run("graph", "--format", "json", spec)
    doc = json.loads(out)
    assert {"from": "evaluate", "to": "deploy", "why": "condition"} in doc["edges"]
    code, out, _ = run("graph", "--format", "dot", spec)
    assert code == 0 and '"deploy" -> "monitor" [style=dashed];' in out


def test_graph_of_a_bad_spec_fails() -> None:
    code, out, err = run("graph", str(BAD / "cycle.yaml"))
    assert code == 1 and out == "" and "PS400" in err


def test_schema_prints_the_authoring_schema() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert json.loads(out)["$id"].endswith("pipespec.schema.json")


def _modules_after(args: list[str]) -> set[str]:
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['pipespec', *{args!r}]\n"
        "try:\n"
        "    runpy.run_module('pipespec', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return set(proc.stderr.split())


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(["--help"])
    assert "click" in loaded
    for heavy in ("openai", "networkx", "jsonschema", "pydantic", "jinja2", "ruamel", "croniter"):
        assert heavy not in loaded, heavy


def test_validate_never_imports_openai_or_jsonschema() -> None:
    loaded = _modules_after(["validate", str(EXAMPLES[0])])
    assert "networkx" in loaded  # proof the probe ran the command
    assert "openai" not in loaded and "jsonschema" not in loaded


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```bash\n")[1:]]
    install_and_run, test_command = blocks[0], blocks[1]
    assert "pipespec " in install_and_run
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_compile_from_the_lock_never_imports_openai(tmp_path: Path) -> None:
    args = ["compile", "examples/churn/pipeline.yaml", "--target", "airflow", "--locked"]
    loaded = _modules_after([*args, "--out", str(tmp_path)])
    assert "jinja2" in loaded  # proof the probe rendered
    assert "openai" not in loaded
    assert (tmp_path / "airflow" / "churn-retrain.py").exists()
