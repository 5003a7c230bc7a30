"""The SageMaker benchmark's SDK program builds, in the sagemaker venv and offline, the
pipeline pipespec compiles for SageMaker from the same spec: no difference in the
conformance suite's normal form, the same steps and dependencies. One 10-step spec, the
program run once through the benchmark's driver; no timings asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_kfp, bench_sagemaker
from benchmarks import sagemaker_program as sp
from tests.conformance.venvs import ensure_venv

pytestmark = pytest.mark.conformance

N = 10


def test_sdk_program_builds_pipespecs_sagemaker_definition(tmp_path: Path) -> None:
    python = ensure_venv("sagemaker")
    spec = sp.write_spec(N, tmp_path / "specs")
    files = bench_kfp.compile_in_process(spec, "sagemaker")
    ours = tmp_path / "pipespec.json"
    ours.write_text(files[f"sagemaker/{spec.stem}.json"], encoding="utf-8")
    program = bench_sagemaker.write_program(N, tmp_path / "programs")
    sdk = tmp_path / "sdk.json"
    args = [f"--program={program}", "--repeats=1", f"--out={sdk}", "--imports", *sp.IMPORTS]
    report = bench_sagemaker.run_driver(python, args, timeout=300)

    assert len(report["samples"]) == 1
    assert report["network_attempts"] == []
    result = bench_sagemaker.equivalence(ours, sdk, full=True)
    assert result["differences"] == []
    assert result["normal_form_differences"] == 0
    # 10 steps: the foreach step three copies, the gated step inside one ConditionStep
    assert result["counts"] == result["sdk_counts"] == {"Condition": 1, "Processing": 12}
