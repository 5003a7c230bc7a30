"""pipespec's launcher on SageMaker, run for real in a subprocess: it unpacks a model
archive, reads reported values and parameters into argv and env, fetches secrets (a fake
boto3 here: no network), and hands over to the command with hostile text intact."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from pipespec.backends.sagemaker.launcher_program import LAUNCHER

FAKE_BOTO3 = """\
def client(service, region_name):
    assert service == "secretsmanager", service
    class Client:
        def get_secret_value(self, SecretId):
            return {"SecretString": "secret of " + SecretId + " in " + region_name}
    return Client()
"""
# Prints what the command received: argv and the env names the test asks about.
SHOW = "import json, os, sys; print(json.dumps([sys.argv[1:], {k: os.environ.get(k) for k in ('MODE', 'TOKEN', 'PIPESPEC_PARAM_day')}]))"  # noqa: E501
HOSTILE = 'it\'s $(rm -rf /) `x` "q"\nnew line'


def _launch(tmp_path: Path, plan: dict[str, Any], env: dict[str, str]) -> Any:
    (tmp_path / "boto3").mkdir(exist_ok=True)
    (tmp_path / "boto3" / "__init__.py").write_text(FAKE_BOTO3, encoding="utf-8")
    (tmp_path / "launch.py").write_text(LAUNCHER, encoding="utf-8")
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(tmp_path / "launch.py"), str(tmp_path / "plan.json")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", **env},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _plan(argv: list[list[dict[str, Any]]], **more: Any) -> dict[str, Any]:
    base = [[{"text": sys.executable}], [{"text": "-c"}], [{"text": SHOW}]]
    return {"argv": base + argv, "env": {}, "secrets": {}, "unpack": [], **more}


def test_values_params_and_text_reach_the_command_verbatim(tmp_path: Path) -> None:
    (tmp_path / "auc.json").write_text("0.91", encoding="utf-8")
    (tmp_path / "name.json").write_text(json.dumps(HOSTILE), encoding="utf-8")
    (tmp_path / "m.json").write_text('{"b": 2, "a": [1, true]}', encoding="utf-8")
    argv: list[list[dict[str, Any]]] = [
        [{"text": "--auc="}, {"file": str(tmp_path / "auc.json")}],
        [{"file": str(tmp_path / "name.json")}],
        [{"file": str(tmp_path / "m.json")}],
        [{"files": [str(tmp_path / "auc.json"), str(tmp_path / "name.json")]}],
        [{"text": HOSTILE}],
        [{"env": "PIPESPEC_PARAM_day"}],
    ]
    env = {"MODE": [{"text": "x-"}, {"env": "PIPESPEC_PARAM_day"}]}
    got = _launch(tmp_path, _plan(argv, env=env), {"PIPESPEC_PARAM_day": "2024-01-01"})
    assert got[0] == [
        "--auc=0.91",
        HOSTILE,
        '{"a":[1,true],"b":2}',
        json.dumps([0.91, HOSTILE], separators=(",", ":")),
        HOSTILE,
        "2024-01-01",
    ]
    assert got[1]["MODE"] == "x-2024-01-01"


def test_secrets_are_read_with_the_region_of_their_arn(tmp_path: Path) -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:warehouse"
    got = _launch(tmp_path, _plan([], secrets={"TOKEN": arn}), {})
    assert got[1]["TOKEN"] == f"secret of {arn} in eu-west-1"


def _archive(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_a_model_archive_is_unpacked_in_place_before_the_command(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    _archive(model / "model.tar.gz", {"model.json": b"{}", "sub/weights.bin": b"w"})
    check = "import json, os, sys; print(json.dumps(sorted(os.listdir(sys.argv[1]))))"
    plan = {
        "argv": [[{"text": sys.executable}], [{"text": "-c"}], [{"text": check}],
                 [{"text": str(model)}]],
        "env": {}, "secrets": {}, "unpack": [str(model)],
    }  # fmt: skip
    assert _launch(tmp_path, plan, {}) == ["model.json", "model.tar.gz", "sub"]


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/abs-escape.txt"])
def test_an_archive_member_outside_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    model = tmp_path / "model"
    model.mkdir()
    _archive(model / "model.tar.gz", {name: b"x"})
    (tmp_path / "launch.py").write_text(LAUNCHER, encoding="utf-8")
    plan = _plan([], unpack=[str(model)])
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(tmp_path / "launch.py"), str(tmp_path / "plan.json")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode != 0
    assert "refusing" in run.stderr
    assert not (tmp_path / "escape.txt").exists()
