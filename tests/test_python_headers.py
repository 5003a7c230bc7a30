"""No outside text can change how Python decodes a file pipespec writes.

Python reads a PEP 263 coding declaration (``# coding: utf-7``) from the first two lines of
a source file; a declaration planted there by a spec path, a spec string or a model name
would re-decode the whole file, and text that is harmless in UTF-8 would become code. Every
generated Python file (each Airflow DAG variant and the LLM script frame) must open with
pipespec's fixed preamble, decode as UTF-8, and keep its code structure whatever the
outside text holds, coding declarations in every codec Python knows included.
"""

from __future__ import annotations

import ast
import encodings.aliases
import io
import tempfile
import tokenize
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.api import analyze_file
from pipespec.fill.template import ScriptFrame, assemble
from pipespec.pysafe import PYTHON_PREAMBLE
from tests.airflow.helpers import VARIANTS, render
from tests.airflow.test_safety import HOSTILE, spec_text

CODECS = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()))
COOKIE_FORMS = (
    "coding:{}",
    "coding={}",
    "-*- coding: {} -*-",
    "vim: set fileencoding={} :",
    "x\n# coding: {}\n",
)
cookies = st.builds(str.format, st.sampled_from(COOKIE_FORMS), st.sampled_from(CODECS))
# A string that is harmless in UTF-8 but runs code when read as UTF-7.
UTF7_PAYLOAD = "+AAo-import os+ADs-os.system(+ACI-id+ACI-)+AAo-"


def _encoding(text: str) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(text.encode("utf-8")).readline)
    return encoding


def _skeleton(text: str) -> str:
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = "<const>"
    return ast.dump(tree, include_attributes=False)


def _assert_inert(text: str, benign: str) -> None:
    assert tuple(text.splitlines()[:2]) == PYTHON_PREAMBLE
    assert _encoding(text) == "utf-8"
    assert _skeleton(text) == _skeleton(benign)


def _dag(folder: Path, spec_name: str, strings: list[str], variant: tuple[str, str]) -> str:
    spec = folder / spec_name
    spec.write_text(spec_text(strings), encoding="utf-8")
    analysis = analyze_file(spec)
    assert analysis.pipeline is not None, analysis.diagnostics
    return render(analysis.pipeline, *variant)


def _hostile(cookie: str) -> list[str]:
    # At most 100 characters: one of them is an Airflow tag, which may be no longer.
    return [f"{cookie} {UTF7_PAYLOAD} {h}"[:100] if h.strip() else h for h in HOSTILE]


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_utf7_cookie_in_the_spec_path_and_strings_stays_inert(
    tmp_path: Path, variant: tuple[str, str]
) -> None:
    benign = _dag(tmp_path, "benign.yaml", [f"b{i}" for i in range(len(HOSTILE))], variant)
    name = f"x coding:utf-7 -*- coding: utf-7 -*- {UTF7_PAYLOAD}.yaml"
    _assert_inert(_dag(tmp_path, name, _hostile("coding:utf-7"), variant), benign)


@settings(max_examples=40, deadline=None)
@given(cookie=cookies, variant=st.sampled_from(VARIANTS))
def test_no_coding_declaration_reaches_a_dag(cookie: str, variant: tuple[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        benign = _dag(folder, "benign.yaml", [f"b{i}" for i in range(len(HOSTILE))], variant)
        name = cookie.replace("/", "_").replace("\n", " ")[:120] + ".yaml"
        _assert_inert(_dag(folder, name, _hostile(cookie), variant), benign)


def _script(spec_file: str, source: str, description: str, prompt: str) -> str:
    frame = ScriptFrame("clean", description, ("data",), ("data",), spec_file, source, prompt)
    return assemble(frame, ["import numpy as np"], 'return {"data": inputs["data"]}')


@settings(max_examples=200, deadline=None)
@given(
    cookie=cookies,
    other=st.text(max_size=30),
    where=st.sampled_from(["spec_file", "source", "description", "prompt"]),
)
def test_no_coding_declaration_reaches_an_llm_script(cookie: str, other: str, where: str) -> None:
    """The model name a server reports travels into the script's header comment."""
    fields = {"spec_file": "pipeline.yaml", "source": "llm:m", "description": "d", "prompt": "p"}
    benign = _script(**fields)
    fields[where] = f"{cookie}{other}{UTF7_PAYLOAD}"
    _assert_inert(_script(**fields), benign)


def test_the_attack_is_real_without_the_preamble() -> None:
    """What the preamble prevents: a cookie on line 1 re-decodes the file as UTF-7."""
    text = f"# from x coding:utf-7 .yaml\nx = '{UTF7_PAYLOAD}'\n"
    assert _encoding(text) == "utf-7"
    assert "import os" in text.encode("utf-8").decode("utf-7")
