"""What a spec, its file name or a generated file holds cannot forge lines in a CI log or
drive the terminal, in any output format of any command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipespec.cli import main

FORGED = "x\n::error file=ci.yml,line=1::forged\x1b[2J\u202e"
SPEC = """pipespec: 1
name: forged
steps:
  one:
    kind: container
    image: busybox
    command: [echo, hi]
    {key}: 1
"""


def _lines(*args: str) -> list[str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return (result.stdout + result.stderr).splitlines()


def _assert_inert(lines: list[str], fmt: str) -> None:
    for line in lines:
        assert line.isprintable(), line
        if fmt != "github":
            assert not line.lstrip().startswith("::"), line
    if fmt == "github":
        commands = [line for line in lines if line.startswith("::")]
        assert commands and all(line.startswith("::error file=") for line in commands)


@pytest.mark.parametrize("fmt", ["human", "github"])
def test_a_hostile_key_and_file_name_stay_on_their_line(tmp_path: Path, fmt: str) -> None:
    # A key the schema does not know (PS200) is quoted back in the message.
    spec = tmp_path / "::error file=x::\x1b[31mname.yaml"
    spec.write_text(SPEC.format(key='"' + FORGED.replace("\n", "\\n").replace("\x1b", "\\e") + '"'))
    lines = _lines("validate", "--format", fmt, str(spec))
    _assert_inert(lines, fmt)
    assert any("PS200" in line for line in lines)


def test_check_prints_the_diff_of_a_tampered_file_inertly(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC.replace("    {key}: 1\n", ""))
    assert CliRunner().invoke(main, ["compile", str(spec), "--target", "airflow"]).exit_code == 0
    (dag,) = (tmp_path / "generated" / "airflow").glob("*.py")
    dag.write_text(dag.read_text() + f"# {FORGED}\n")
    lines = _lines("check", str(spec), "--target", "airflow")
    _assert_inert(lines, "human")
    assert any("::error file=ci.yml" in line for line in lines)  # shown, escaped, mid-line


@pytest.mark.parametrize(
    "args",
    [
        ("explain", "{spec}", "--step", "one"),
        ("graph", "{spec}", "--format", "mermaid"),
        ("graph", "{spec}", "--format", "dot"),
        ("fill", "{spec}"),
        ("validate", "{spec}"),
    ],
    ids=lambda a: "-".join(a[:1] + a[2:]),
)
def test_every_command_prints_outside_text_inertly(tmp_path: Path, args: tuple[str, ...]) -> None:
    folder = tmp_path / "\x1b]0;title\x07dir"
    folder.mkdir()
    spec = folder / "pipeline.yaml"
    text = SPEC.replace("    {key}: 1\n", '    description: "a\\e[2Jb\\n::error x::y"\n')
    spec.write_text(text.replace("command: [echo, hi]", 'command: [echo, "\\e[31m"]'))
    lines = _lines(*(a.format(spec=spec) for a in args))
    _assert_inert(lines, "human")
    assert lines
