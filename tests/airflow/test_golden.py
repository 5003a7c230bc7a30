"""Golden DAG files per example, Airflow version and operator (--update-golden rewrites).

The variant an example is compiled with (its own `targets.airflow`) has its golden in
``examples/<name>/generated/airflow/`` (tests/test_example_goldens.py checks it for every
target); the other variants' goldens are in ``tests/golden/airflow/``, one per file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipespec import ir
from pipespec.backends.layout import output_path
from pipespec.pysafe import PYTHON_PREAMBLE
from tests.airflow.helpers import COMPLETE_EXAMPLES, VARIANTS, example_spec, pipeline_of, render
from tests.airflow.variants import own_variant
from tests.conftest import ROOT
from tests.targets import recompile_example

GOLDEN = ROOT / "tests" / "golden" / "airflow"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def golden_path(example: str, pipeline: ir.Pipeline, version: str, operator: str) -> Path:
    if (version, operator) == own_variant(pipeline):
        return (
            ROOT / "examples" / example / "generated" / output_path("airflow", pipeline.name, "py")
        )
    return GOLDEN / f"{example}.airflow{version}-{operator}.py"


@pytest.mark.parametrize(("version", "operator"), VARIANTS)
@pytest.mark.parametrize("example", COMPLETE_EXAMPLES)
def test_golden(example: str, version: str, operator: str, update_golden: bool) -> None:
    pipeline = pipeline_of(example_spec(example))
    text = render(pipeline, version, operator)
    golden = golden_path(example, pipeline, version, operator)
    if update_golden and golden.is_relative_to(GOLDEN):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    elif update_golden:  # the example's own output: written as users write it
        recompile_example("airflow", example)
    assert golden.exists(), "run pytest --update-golden to create it, then review it"
    assert text == golden.read_text(), f"{golden.name} differs: --update-golden, review"


def test_no_golden_copies_an_example_output() -> None:
    """tests/golden/airflow holds exactly the variants that are not an example's own."""
    paths = {
        golden_path(example, pipeline, version, operator)
        for example in COMPLETE_EXAMPLES
        for pipeline in [pipeline_of(example_spec(example))]
        for version, operator in VARIANTS
    }
    assert set(GOLDEN.iterdir()) == {p for p in paths if p.is_relative_to(GOLDEN)}


def test_output_is_identical_under_other_hash_seeds() -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tests.airflow.helpers import pipeline_of, render, example_spec\n"
        "sys.stdout.write(render(pipeline_of(example_spec('showcase')), '3', 'kubernetes'))\n"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 1


def test_generated_header_names_the_spec_and_has_no_absolute_paths() -> None:
    text = render(pipeline_of(example_spec("minimal")), "3", "kubernetes")
    lines = text.splitlines()
    # No outside text in the two lines Python reads a coding declaration from.
    assert tuple(lines[:2]) == PYTHON_PREAMBLE
    assert "from the spec ../../pipeline.yaml (relative to" in lines[2]
    assert str(ROOT) not in text
    assert "Path" not in text


def _compile_from(cwd: Path, spec: Path, out: Path) -> bytes:
    argv = [sys.executable, "-m", "pipespec", "compile", str(spec), "--target", "airflow"]
    proc = subprocess.run(
        [*argv, "--out", str(out)],
        capture_output=True,
        cwd=cwd,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    (dag,) = (cwd / out / "airflow").glob("*.py")
    return dag.read_bytes()


def test_output_is_the_same_from_any_working_directory(tmp_path: Path) -> None:
    """The spec path in the header and doc_md is relative to the output, not the cwd."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "minimal", project / "pipelines")
    spec = project / "pipelines" / "pipeline.yaml"
    out = project / "pipelines" / "generated"
    (project / "elsewhere").mkdir()
    seen = {
        _compile_from(project, spec.relative_to(project), out.relative_to(project)),
        _compile_from(project / "pipelines", Path("pipeline.yaml"), Path("generated")),
        _compile_from(project / "elsewhere", spec, out),
        _compile_from(tmp_path, Path("project/pipelines/pipeline.yaml"), out),
    }
    assert len(seen) == 1
    assert b"../../pipeline.yaml" in seen.pop()


def test_what_airflow_cannot_express_is_said_not_dropped() -> None:
    """The capability table speaks (PS606, at each step), not hand-written checks."""
    from pipespec.api import render_target

    result = render_target("airflow", pipeline_of(example_spec("showcase")))
    said = {(d.span.line if d.span else 0, d.message.split(";")[0]) for d in result.diagnostics}
    assert (51, "step 'tune' uses tune with the step's own command") in said
    # Their own commands get no hyperparameters and do the ingest themselves.
    assert (65, "step 'train' uses hyperparameters of a step that runs its own command") in said
    assert (31, "step 'ingest' uses ingest source of a step that runs its own command") in said
    # Its schedule is the pipeline's: it runs in every run, which is its schedule.
    assert not any("its own schedule" in m for _, m in said)
    assert all(d.code == "PS606" and d.severity.value == "warning" for d in result.diagnostics)
    # The deploy (no command: KServe) and the drift check (pipespec's) are Airflow's own.
    assert not any((line in (80, 85) and "drift" in m) or "deploy" in m for line, m in said)
    train = next(d for d in result.diagnostics if "hyperparameters of a step" in d.message)
    assert "sagemaker" in (train.hint or "")  # a target that passes them natively
    assert result.files  # warnings only: the DAG is rendered
