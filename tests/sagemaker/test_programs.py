"""``UNPACK_SH`` run for real with ``sh`` and ``tar``: each folder's model archive is
extracted in place, then the command runs with its argv verbatim (quotes, ``$(...)``,
newlines); a missing archive stops it before the command."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from pipespec.backends.sagemaker.programs import MAX_ITEM, UNPACK_SH, unpack_entrypoint

HOSTILE = ["it's", '$(touch pwned) `touch pwned2` "q"', "new\nline", "", "*"]
SHOW = "import json, sys; print(json.dumps(sys.argv[1:]))"


def _archive(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    with tarfile.open(folder / "model.tar.gz", "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _run(tmp_path: Path, folders: list[str]) -> subprocess.CompletedProcess[str]:
    argv = [*unpack_entrypoint(folders), sys.executable, "-c", SHOW, *HOSTILE]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)


def test_the_program_is_one_line_within_sagemakers_bound() -> None:
    assert "\n" not in UNPACK_SH and len(UNPACK_SH) <= MAX_ITEM


def test_each_model_is_unpacked_in_place_then_the_command_runs_verbatim(tmp_path: Path) -> None:
    _archive(tmp_path / "in" / "model", {"model.joblib": "weights", "sub/meta.json": "{}"})
    _archive(tmp_path / "in" / "other model", {"other.bin": "more"})
    run = _run(tmp_path, [str(tmp_path / "in" / "model"), str(tmp_path / "in" / "other model")])
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == HOSTILE
    assert (tmp_path / "in" / "model" / "model.joblib").read_text() == "weights"
    assert (tmp_path / "in" / "model" / "sub" / "meta.json").read_text() == "{}"
    assert (tmp_path / "in" / "other model" / "other.bin").read_text() == "more"
    assert not list(tmp_path.rglob("pwned*"))


def test_no_folder_runs_the_command_alone(tmp_path: Path) -> None:
    run = _run(tmp_path, [])
    assert run.returncode == 0 and json.loads(run.stdout) == HOSTILE


def test_a_missing_archive_fails_before_the_command(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    run = _run(tmp_path, [str(tmp_path / "empty")])
    assert run.returncode != 0 and run.stdout == ""
