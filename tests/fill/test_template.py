"""The script frame the LLM writes into: good answers run on real data (bad: test_policy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipespec.fill.policy import check_answer, check_script
from pipespec.fill.template import ScriptFrame, assemble
from tests.fill.churn_answers import CLEAN, FEATURES

FRAME = ScriptFrame(
    step_id="clean",
    description='Drop "duplicates"\nand impute',
    inputs=("data",),
    outputs=("data",),
    spec_file="pipeline.yaml",
    source="llm:test",
    prompt_version="fill-v1",
)


def test_a_good_body_passes_and_runs_on_real_data(tmp_path: Path) -> None:
    assert check_answer(FRAME, CLEAN["imports"], CLEAN["body"]) == []
    script = assemble(FRAME, CLEAN["imports"], CLEAN["body"])
    (tmp_path / "in.csv").write_text("customer_id,x,y\n1,1.0,a\n1,2.0,b\n2,,c\n3,5.0,d\n")
    path = tmp_path / "clean.py"
    path.write_text(script)
    subprocess.run(
        [
            sys.executable,
            str(path),
            "--input-data",
            str(tmp_path / "in.csv"),
            "--output-data",
            str(tmp_path / "out"),
        ],
        check=True,
    )
    rows = (tmp_path / "out" / "data.csv").read_text().splitlines()
    assert rows[0] == "customer_id,x,y"
    assert len(rows) == 4  # duplicate customer dropped
    assert rows[2] == "2,3.5,c"  # median of the remaining x values (2.0, 5.0)


def test_multi_output_body_splits_real_data(tmp_path: Path) -> None:
    frame = ScriptFrame(
        "features",
        "split",
        ("data",),
        ("test", "train", "validation"),
        "pipeline.yaml",
        "llm:test",
        "fill-v1",
    )
    assert check_answer(frame, FEATURES["imports"], FEATURES["body"]) == []
    script = assemble(frame, FEATURES["imports"], FEATURES["body"])
    lines = ["customer_id,plan,tenure,label"] + [
        f"{i},{'basic' if i % 2 else 'pro'},{i % 7},{i % 2}" for i in range(40)
    ]
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "features.py"
    path.write_text(script)
    args = [sys.executable, str(path), "--input-data", str(tmp_path / "in.csv")]
    for name in ("test", "train", "validation"):
        args += [f"--output-{name}", str(tmp_path / name)]
    subprocess.run(args, check=True)
    counts = {
        n: len((tmp_path / n / "data.csv").read_text().splitlines()) - 1
        for n in ("train", "validation", "test")
    }
    assert counts == {"train": 28, "validation": 6, "test": 6}


def test_description_cannot_break_out_of_the_frame() -> None:
    hostile = ScriptFrame(
        "clean",
        '"""\nimport os\nos.system("id")\n#',
        ("data",),
        ("data",),
        "x.yaml\nimport os",
        "llm:m\nimport os",
        "v1",
    )
    assert check_answer(hostile, [], "return inputs") == []
    script = assemble(hostile, [], "return inputs")
    assert check_script(script) == []
    assert "\nimport os" not in script
